//! A generated manifest of `functions` functions, large enough to need nested stacks: shared
//! buckets, alerts, secrets, a managed policy on some roles, an API behind the JWT authorizer
//! with a route on every fifth function, S3 triggers on every third, and a hosted site.
//! `skip` leaves functions out (to test removal); `extra` adds functions by key.

use std::fmt::Write as _;

pub fn split_manifest(functions: usize, skip: &[usize], extra: &[&str]) -> String {
    let mut s = String::from(
        "name: bigapp\n\
         description: A large app split into nested stacks\n\
         region: eu-west-1\n\
         tags:\n  app: bigapp\n\
         buckets:\n  uploads:\n    versioning: true\n  results: {}\n\
         log_bucket:\n  expire_after_days: 90\n\
         secrets:\n  db:\n    description: Database credentials\n    username: app\n\
         alerts:\n  emails: [ops@example.com]\n\
         auth:\n  provider: auth0\n  domain: bigapp.eu.auth0.com\n  client_id: 9wDmZ2kq4Tj7EXAMPLEclientId0\n  audience: https://api.bigapp.example\n\
         site:\n  title: Big app\n  port: 8100\n\
         iam:\n  policies:\n    read-results:\n      description: Read the results\n      statements:\n        - sid: ReadResults\n          actions: [s3:GetObject]\n          resources: [bucket:results/*]\n\
         functions:\n",
    );
    let mut routes = String::new();
    let keys = (0..functions)
        .filter(|i| !skip.contains(i))
        .map(|i| (format!("fn-{i:04}"), i))
        .chain(extra.iter().map(|k| ((*k).to_owned(), 1)));
    for (key, i) in keys {
        writeln!(s, "  {key}:\n    description: Generated function {key}").unwrap();
        writeln!(s, "    memory: {}", [128, 256, 512][i % 3]).unwrap();
        s.push_str("    reads: [uploads]\n");
        if i % 2 == 0 {
            s.push_str("    writes: [results]\n");
        }
        if i % 3 == 0 {
            writeln!(
                s,
                "    triggers:\n      - s3:\n          bucket: uploads\n          events: [created]\n          suffix: .{key}"
            )
            .unwrap();
        }
        if i % 7 == 0 {
            s.push_str("    secrets: [db]\n");
        }
        if i % 11 == 0 {
            s.push_str("    policies: [read-results]\n");
        }
        if i % 5 == 0 {
            writeln!(routes, "    GET /items/{key}:\n      function: {key}").unwrap();
        }
    }
    s.push_str("api:\n  routes:\n");
    s.push_str(&routes);
    s
}
