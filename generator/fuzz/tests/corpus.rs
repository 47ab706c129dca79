//! The fuzz oracle over the committed manifests (the fuzzers' seed corpus, and every input a
//! fuzzer found, which lands as a tests/manifests/invalid case): each keeps every invariant.

use std::path::Path;

use stackgen_fuzz::{Verdict, check};

#[test]
fn every_committed_manifest_keeps_the_invariants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut seen = 0;
    let mut accepted = 0;
    for dir in ["tests/manifests/valid", "tests/manifests/invalid"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            match check(&data) {
                Ok(Verdict::Accepted(_)) => accepted += 1,
                Ok(_) => {}
                Err(violation) => panic!("{}: {violation}", path.display()),
            }
            seen += 1;
        }
    }
    assert!(seen > 60, "only {seen} manifests found");
    assert!(accepted >= 5, "only {accepted} of them accepted");
}
