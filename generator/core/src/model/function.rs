//! Functions in the validated model: memory, timeout, environment, the buckets and secrets a
//! function reads or writes, its S3 triggers (which may not overlap) and its alarm.

use std::collections::{BTreeMap, BTreeSet};

use super::{AlarmSpec, Key, KeyKind, Names, TableSpec, Validator};
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest::{self, Architecture, S3Event, StartingPosition};

/// Environment variable names Lambda reserves (plus every `AWS_*` and `LAMBDA_*` name).
const RESERVED_ENV: &[&str] = &[
    "CORS_ORIGIN",
    "CORS_ORIGINS",
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "TZ",
    "LANG",
    "PATH",
    "LD_LIBRARY_PATH",
];

/// Crates the generated functions workspace depends on: a function (whose crate is named after
/// its key) may not take one of these names.
const CRATE_NAMES_IN_USE: &[&str] = &[
    "aws-lambda-events",
    "aws_lambda_events",
    "lambda-runtime",
    "lambda_runtime",
    "serde-json",
    "serde_json",
    "tokio",
    "std",
    "core",
    "alloc",
    "test",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    pub description: Option<String>,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub architecture: Architecture,
    /// The user's variables only; bucket names are added by the function construct.
    pub environment: BTreeMap<String, String>,
    pub log_retention_days: u32,
    /// Buckets read and written.
    pub reads: BTreeSet<Key>,
    pub writes: BTreeSet<Key>,
    /// Tables read and written (`table:<key>` in `reads` / `writes`).
    pub table_reads: BTreeSet<Key>,
    pub table_writes: BTreeSet<Key>,
    pub s3_triggers: Vec<S3TriggerSpec>,
    pub dynamodb_triggers: Vec<DynamodbTriggerSpec>,
    /// Managed policies attached to the role.
    pub policies: BTreeSet<Key>,
    pub alarm: AlarmSpec,
    /// Secrets the function may read.
    pub secrets: BTreeSet<Key>,
}

impl FunctionSpec {
    /// Every bucket the function touches, each once.
    pub fn buckets(&self) -> BTreeSet<&Key> {
        self.reads.iter().chain(&self.writes).collect()
    }

    /// Every table the function touches, each once.
    pub fn tables(&self) -> BTreeSet<&Key> {
        self.table_reads.iter().chain(&self.table_writes).collect()
    }

    /// Whether failed events have a dead-letter queue to go to: S3 invokes asynchronously
    /// and a stream mapping drops a batch after its retries; both keep it there instead.
    pub fn has_dead_letter_queue(&self) -> bool {
        !self.s3_triggers.is_empty() || !self.dynamodb_triggers.is_empty()
    }

    /// The environment variable through which a table's name reaches the function.
    pub fn table_env_var(table: &Key) -> String {
        format!("{}_TABLE", table.upper_snake())
    }

    /// The environment variable through which a secret's ARN reaches the function.
    pub fn secret_env_var(secret: &Key) -> String {
        format!("{}_SECRET_ARN", secret.upper_snake())
    }

    /// The environment variable through which a bucket's name reaches the function.
    pub fn bucket_env_var(bucket: &Key) -> String {
        format!("{}_BUCKET", bucket.upper_snake())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3TriggerSpec {
    pub bucket: Key,
    pub events: BTreeSet<S3Event>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamodbTriggerSpec {
    pub table: Key,
    pub batch_size: u32,
    pub starting_position: StartingPosition,
    pub retry_attempts: u32,
}

/// What every function's validation needs from the rest of the manifest.
#[derive(Clone, Copy)]
struct FunctionShared<'m> {
    buckets: &'m BTreeMap<String, manifest::Bucket>,
    tables: &'m BTreeMap<Key, TableSpec>,
    names: &'m Names,
    default_alarm: AlarmSpec,
}

impl Validator<'_> {
    /// The declared functions, their S3 triggers checked against each other (the generated
    /// authorizer is added by `model`).
    pub(super) fn functions(
        &mut self,
        functions: &BTreeMap<String, manifest::Function>,
        buckets: &BTreeMap<String, manifest::Bucket>,
        tables: &BTreeMap<Key, TableSpec>,
        names: &Names,
        default_alarm: AlarmSpec,
    ) -> BTreeMap<Key, FunctionSpec> {
        let functions: BTreeMap<Key, FunctionSpec> = functions
            .iter()
            .map(|(key, f)| {
                let path = format!("functions.{key}");
                let k = self.key(&path, key, KeyKind::Function);
                let shared = FunctionShared {
                    buckets,
                    tables,
                    names,
                    default_alarm,
                };
                let spec = self.function(&path, &k, f, &shared);
                (k, spec)
            })
            .collect();
        self.check_trigger_overlaps(&functions);
        functions
    }

    fn function(
        &mut self,
        path: &str,
        key: &Key,
        f: &manifest::Function,
        shared: &FunctionShared,
    ) -> FunctionSpec {
        let FunctionShared {
            buckets,
            tables,
            names,
            default_alarm,
        } = *shared;
        if CRATE_NAMES_IN_USE.contains(&key.as_str()) {
            self.key_error(
                Diagnostic::new(
                    path,
                    format!("`{key}` is the name of a crate every function depends on"),
                )
                .hint(format!(
                    "the function's Rust crate is named after its key; try `{key}-fn`"
                )),
            );
        }
        if !(128..=10240).contains(&f.memory) {
            self.error(
                Diagnostic::new(
                    format!("{path}.memory"),
                    format!("{} MB is out of range", f.memory),
                )
                .expected("an integer from 128 to 10240 (MB)")
                .hint(
                    "Lambda allocates CPU in proportion to memory; 128 suits most Rust functions",
                ),
            );
        }
        if !(1..=900).contains(&f.timeout) {
            self.error(
                Diagnostic::new(
                    format!("{path}.timeout"),
                    format!("{} seconds is out of range", f.timeout),
                )
                .expected("an integer from 1 to 900 (seconds)")
                .hint("Lambda stops any invocation after 15 minutes; split longer work into steps"),
            );
        }
        self.retention(&format!("{path}.log_retention_days"), f.log_retention_days);
        let (reads, table_reads) =
            self.data_refs(&format!("{path}.reads"), &f.reads, buckets, names);
        let (writes, table_writes) =
            self.data_refs(&format!("{path}.writes"), &f.writes, buckets, names);
        let secrets = self.secret_refs(&format!("{path}.secrets"), &f.secrets, names);
        let injected: BTreeSet<String> = reads
            .iter()
            .chain(&writes)
            .map(FunctionSpec::bucket_env_var)
            .chain(secrets.iter().map(FunctionSpec::secret_env_var))
            .chain(
                table_reads
                    .iter()
                    .chain(&table_writes)
                    .map(FunctionSpec::table_env_var),
            )
            .collect();
        self.environment(&format!("{path}.environment"), &f.environment, &injected);
        let mut dynamodb_triggers: Vec<DynamodbTriggerSpec> = Vec::new();
        for (i, trigger) in f.triggers.iter().enumerate() {
            let manifest::Trigger::Dynamodb(t) = trigger else {
                continue;
            };
            let tpath = format!("{path}.triggers[{i}].dynamodb");
            let Some(table) = self.table_ref(&format!("{tpath}.table"), &t.table, &names.tables)
            else {
                continue;
            };
            if tables.get(&table).is_some_and(|spec| spec.stream.is_none()) {
                self.error(
                    Diagnostic::new(
                        format!("{tpath}.table"),
                        format!("table `{table}` has no stream"),
                    )
                    .expected("a table with `stream:` set")
                    .hint(format!(
                        "add `stream: new_image` (or `new_and_old`, `old_image`, `keys_only`) to `tables.{table}`"
                    )),
                );
            }
            if !(1..=10_000).contains(&t.batch_size) {
                self.error(
                    Diagnostic::new(
                        format!("{tpath}.batch_size"),
                        format!("{} records", t.batch_size),
                    )
                    .expected("1 to 10000 records per batch (Lambda's limit for streams)"),
                );
            }
            if t.retry_attempts > 10_000 {
                self.error(
                    Diagnostic::new(
                        format!("{tpath}.retry_attempts"),
                        format!("{} retries", t.retry_attempts),
                    )
                    .expected("0 to 10000 (Lambda's limit)"),
                );
            }
            if let Some(earlier) = dynamodb_triggers.iter().position(|d| d.table == table) {
                self.error(
                    Diagnostic::new(
                        format!("{tpath}.table"),
                        format!("table `{table}` already triggers this function"),
                    )
                    .expected("one stream trigger per table")
                    .hint(format!("merge it with the trigger at position {earlier}")),
                );
                continue;
            }
            dynamodb_triggers.push(DynamodbTriggerSpec {
                table,
                batch_size: t.batch_size,
                starting_position: t.starting_position,
                retry_attempts: t.retry_attempts,
            });
        }
        let s3_triggers = f
            .triggers
            .iter()
            .enumerate()
            .filter_map(|(i, trigger)| {
                let manifest::Trigger::S3(t) = trigger else {
                    return None;
                };
                let tpath = format!("{path}.triggers[{i}].s3");
                let bucket = self.bucket_ref(&format!("{tpath}.bucket"), &t.bucket, buckets);
                if t.events.is_empty() {
                    self.error(
                        Diagnostic::new(format!("{tpath}.events"), "no events")
                            .expected("`created`, `removed` or both"),
                    );
                }
                for (field, value) in [("prefix", &t.prefix), ("suffix", &t.suffix)] {
                    if value.as_deref() == Some("") {
                        self.error(
                            Diagnostic::new(format!("{tpath}.{field}"), "empty filter")
                                .hint(format!("leave `{field}` out to match every object")),
                        );
                    }
                }
                Some(S3TriggerSpec {
                    bucket: bucket?,
                    events: t.events.iter().copied().collect(),
                    prefix: t.prefix.clone(),
                    suffix: t.suffix.clone(),
                })
            })
            .collect();
        FunctionSpec {
            description: f.description.clone(),
            memory_mb: f.memory,
            timeout_seconds: f.timeout,
            architecture: f.architecture,
            environment: f.environment.clone(),
            log_retention_days: f.log_retention_days,
            reads,
            writes,
            table_reads,
            table_writes,
            s3_triggers,
            dynamodb_triggers,
            policies: self.policy_refs(&format!("{path}.policies"), &f.policies, names),
            secrets,
            alarm: {
                let o = f.alarm.clone().unwrap_or_default();
                let alarm = AlarmSpec {
                    threshold: o.threshold.unwrap_or(default_alarm.threshold),
                    period_seconds: o.period_seconds.unwrap_or(default_alarm.period_seconds),
                    evaluation_periods: o
                        .evaluation_periods
                        .unwrap_or(default_alarm.evaluation_periods),
                };
                if f.alarm.is_some() {
                    self.check_alarm(&format!("{path}.alarm"), alarm);
                }
                alarm
            },
        }
    }

    /// `reads` / `writes`: buckets by key (or `bucket:<key>`) and tables as `table:<key>`.
    fn data_refs(
        &mut self,
        path: &str,
        items: &[String],
        buckets: &BTreeMap<String, manifest::Bucket>,
        names: &Names,
    ) -> (BTreeSet<Key>, BTreeSet<Key>) {
        let (mut bucket_keys, mut table_keys) = (BTreeSet::new(), BTreeSet::new());
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            if let Some(table) = item.strip_prefix("table:") {
                table_keys.extend(self.table_ref(&ipath, table, &names.tables));
            } else if let Some(bucket) = item.strip_prefix("bucket:") {
                bucket_keys.extend(self.bucket_ref(&ipath, bucket, buckets));
            } else if let Some((kind, _)) = item.split_once(':') {
                self.error(
                    Diagnostic::new(
                        &ipath,
                        format!("`{kind}:` is not something a function reads or writes"),
                    )
                    .expected("a bucket key (`upload` or `bucket:upload`) or `table:<key>`")
                    .maybe_hint(
                        did_you_mean_hint(kind, ["table", "bucket"])
                            .map(|h| format!("{h} (write the kind, a colon, then the key)")),
                    ),
                );
            } else if names.tables.contains(item) && !buckets.contains_key(item) {
                self.error(
                    Diagnostic::new(
                        &ipath,
                        format!("no bucket `{item}` is declared; `{item}` is a table"),
                    )
                    .expected("a bucket key, or `table:<key>` for a table")
                    .hint(format!("write `table:{item}`")),
                );
            } else {
                bucket_keys.extend(self.bucket_ref(&ipath, item, buckets));
            }
        }
        (bucket_keys, table_keys)
    }

    fn environment(
        &mut self,
        path: &str,
        env: &BTreeMap<String, String>,
        injected: &BTreeSet<String>,
    ) {
        let mut size = 0;
        for (name, value) in env {
            size += name.len() + value.len();
            let vpath = format!("{path}.{name}");
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.key_error(
                    Diagnostic::new(
                        &vpath,
                        format!("`{name}` is not a valid environment variable name"),
                    )
                    .expected("letters, digits and underscores, starting with a letter"),
                );
            } else if name.starts_with("AWS_")
                || name.starts_with("LAMBDA_")
                || RESERVED_ENV.contains(&name.as_str())
            {
                self.key_error(
                    Diagnostic::new(&vpath, format!("`{name}` is reserved by Lambda")).hint(
                        "Lambda sets AWS_*, LAMBDA_* and runtime variables itself; rename yours",
                    ),
                );
            } else if injected.contains(name) {
                self.key_error(
                    Diagnostic::new(&vpath, format!("`{name}` is set by stackgen (a bucket's or table's name from `reads`/`writes`, or a secret's ARN)"))
                        .hint("remove it, or rename yours"),
                );
            }
        }
        if size > 4096 {
            self.error(
                Diagnostic::new(path, format!("the variables take {size} bytes"))
                    .expected("at most 4096 bytes of names and values (Lambda's limit)")
                    .hint("keep large configuration in S3 or SSM Parameter Store"),
            );
        }
    }

    /// S3 refuses two notifications on one bucket whose events and key filters overlap
    /// ("Configurations overlap"); catch it here rather than mid-deploy.
    fn check_trigger_overlaps(&mut self, functions: &BTreeMap<Key, FunctionSpec>) {
        let triggers: Vec<(&Key, usize, &S3TriggerSpec)> = functions
            .iter()
            .flat_map(|(k, f)| {
                f.s3_triggers
                    .iter()
                    .enumerate()
                    .map(move |(i, t)| (k, i, t))
            })
            .collect();
        let overlaps =
            |a: &Option<String>, b: &Option<String>, f: fn(&str, &str) -> bool| match (a, b) {
                (Some(a), Some(b)) => f(a, b) || f(b, a),
                _ => true,
            };
        for (n, (fa, ia, a)) in triggers.iter().enumerate() {
            for (fb, ib, b) in &triggers[n + 1..] {
                if a.bucket == b.bucket
                    && !a.events.is_disjoint(&b.events)
                    && overlaps(&a.prefix, &b.prefix, |x, y| x.starts_with(y))
                    && overlaps(&a.suffix, &b.suffix, |x, y| x.ends_with(y))
                {
                    let (first, second) = self.in_file_order(
                        format!("functions.{fa}.triggers[{ia}].s3"),
                        format!("functions.{fb}.triggers[{ib}].s3"),
                    );
                    self.error(
                        Diagnostic::new(
                            second,
                            format!("this trigger overlaps `{first}` on bucket `{}`: an object can match both", a.bucket),
                        )
                        .expected("triggers on one bucket with different events or non-overlapping prefix/suffix filters")
                        .hint("S3 rejects overlapping notification configurations; narrow one trigger's prefix or suffix"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::tests::{BASE, check};

    #[test]
    fn limits_are_checked_and_all_reported() {
        let errs = check(&format!(
            "{BASE}functions:\n  t:\n    memory: 64\n    timeout: 901\n    log_retention_days: 31\n"
        ))
        .unwrap_err();
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "functions.t.memory",
                "functions.t.timeout",
                "functions.t.log_retention_days"
            ]
        );
        assert_eq!(errs[2].hint.as_deref(), Some("the nearest is 30"));
    }

    #[test]
    fn reserved_and_injected_environment_names() {
        let errs = check(&format!("{BASE}functions:\n  t:\n    reads: [upload]\n    environment:\n      AWS_REGION: x\n      UPLOAD_BUCKET: y\n      ok_name: z\n")).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].message.contains("reserved"));
        assert!(errs[1].message.contains("set by stackgen"));
    }

    #[test]
    fn overlapping_triggers_are_refused() {
        let text = format!(
            "{BASE}functions:\n  a:\n    triggers: [{{s3: {{bucket: upload, prefix: in/}}}}]\n  b:\n    triggers: [{{s3: {{bucket: upload, prefix: in/videos/}}}}]\n  c:\n    triggers: [{{s3: {{bucket: upload, prefix: other/}}}}]\n"
        );
        let errs = check(&text).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].path, "functions.b.triggers[0].s3");
    }
}
