//! Buckets in the validated model: data buckets (S3's naming rules, fixed or derived names,
//! resource policies), the project's log bucket, and references to buckets.

use std::collections::BTreeMap;

use super::{Key, KeyKind, Names, StatementSpec, Validator, policy};
use crate::cfn::RemovalPolicy;
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest;

/// Bucket key reserved for the project's log bucket (its physical name uses it).
pub const LOG_BUCKET_KEY: &str = "logs";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketName {
    /// `<project>-<key>-<account id>-<region>`: unique per account and region, readable, and
    /// known before the bucket exists (so ARNs need no reference to the bucket resource; that
    /// is what lets a bucket notify a function that reads from it without a cycle).
    Derived,
    Fixed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketSpec {
    pub name: BucketName,
    pub versioning: bool,
    pub removal: RemovalPolicy,
    pub expire_after_days: Option<u32>,
    /// Extra resource-policy statements.
    pub policy: Vec<StatementSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogBucketSpec {
    pub expire_after_days: u32,
}

impl Validator<'_> {
    pub(super) fn buckets(
        &mut self,
        buckets: &BTreeMap<String, manifest::Bucket>,
        names: &Names,
    ) -> BTreeMap<Key, BucketSpec> {
        let mut fixed_names: BTreeMap<&str, &str> = BTreeMap::new();
        let mut out = BTreeMap::new();
        for (key, b) in buckets {
            let path = format!("buckets.{key}");
            let k = self.key(&path, key, KeyKind::Bucket);
            if key == LOG_BUCKET_KEY {
                self.key_error(
                    Diagnostic::new(
                        &path,
                        "the bucket key `logs` is reserved for the project's log bucket",
                    )
                    .hint("choose another key; the log bucket is configured under `log_bucket:`"),
                );
            }
            let name = match &b.name {
                Some(name) => {
                    self.bucket_name(&format!("{path}.name"), name);
                    if let Some(other) = fixed_names.insert(name, key) {
                        // Blame whichever comes later in the file.
                        let (first, second) = self
                            .in_file_order(format!("buckets.{other}.name"), format!("{path}.name"));
                        let first_bucket = first.trim_end_matches(".name").to_owned();
                        self.error(
                            Diagnostic::new(
                                second,
                                format!("bucket name `{name}` is already used by `{first_bucket}`"),
                            )
                            .expected("a different physical name for each bucket"),
                        );
                    }
                    BucketName::Fixed(name.clone())
                }
                // Its length is checked with every other name (`Naming::problems`).
                None => BucketName::Derived,
            };
            if b.expire_after_days == Some(0) {
                self.error(
                    Diagnostic::new(format!("{path}.expire_after_days"), "0 days")
                        .expected("at least 1 day, or leave it out to keep objects"),
                );
            }
            out.insert(
                k,
                BucketSpec {
                    name,
                    versioning: b.versioning,
                    removal: if b.retain {
                        RemovalPolicy::Retain
                    } else {
                        RemovalPolicy::Delete
                    },
                    expire_after_days: b.expire_after_days,
                    policy: self.statements(
                        &format!("{path}.policy"),
                        &b.policy,
                        names,
                        policy::Place::BucketPolicy(key),
                    ),
                },
            );
        }
        out
    }

    /// S3's bucket naming rules.
    fn bucket_name(&mut self, path: &str, name: &str) {
        let chars_ok = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        let ends_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        let looks_like_ip =
            name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
        let problem = if !(3..=63).contains(&name.len()) {
            Some(format!("`{name}` is {} characters long", name.len()))
        } else if !chars_ok || !ends_ok {
            Some(format!("`{name}` is not a valid S3 bucket name"))
        } else if name.contains("..") || name.contains(".-") || name.contains("-.") {
            Some(format!(
                "`{name}` has adjacent dots or a dot next to a hyphen"
            ))
        } else if looks_like_ip {
            Some(format!("`{name}` looks like an IP address"))
        } else if name.starts_with("xn--")
            || name.starts_with("sthree-")
            || name.ends_with("-s3alias")
            || name.ends_with("--ol-s3")
        {
            Some(format!("`{name}` uses a prefix or suffix S3 reserves"))
        } else {
            None
        };
        if let Some(problem) = problem {
            self.error(
                Diagnostic::new(path, problem)
                    .expected("3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit")
                    .hint("S3 bucket names are global: prefer leaving `name` out so stackgen derives a unique one"),
            );
        }
    }

    /// The project's log bucket, when anything logs to it (`needed`).
    pub(super) fn log_bucket(
        &mut self,
        log_bucket: &manifest::LogBucket,
        needed: bool,
    ) -> Option<LogBucketSpec> {
        let spec = needed.then_some(LogBucketSpec {
            expire_after_days: log_bucket.expire_after_days,
        });
        if log_bucket.expire_after_days == 0 {
            self.error(
                Diagnostic::new("log_bucket.expire_after_days", "0 days")
                    .expected("at least 1 day"),
            );
        }
        spec
    }

    pub(super) fn bucket_ref(
        &mut self,
        path: &str,
        text: &str,
        buckets: &BTreeMap<String, manifest::Bucket>,
    ) -> Option<Key> {
        if buckets.contains_key(text) {
            return Key::parse(text).ok();
        }
        let known: Vec<&str> = buckets.keys().map(String::as_str).collect();
        let hint = did_you_mean_hint(text, known.iter().copied()).or_else(|| {
            Some(if known.is_empty() {
                "declare it under `buckets:` first".to_owned()
            } else {
                format!("declared buckets: {}", known.join(", "))
            })
        });
        self.error(
            Diagnostic::new(path, format!("no bucket `{text}` is declared"))
                .expected("the key of a bucket under `buckets:`")
                .maybe_hint(hint),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::Position;
    use crate::model::tests::{BASE, check};

    #[test]
    fn dangling_bucket_reference_suggests_and_points_at_item() {
        let errs = check(&format!("{BASE}functions:\n  t:\n    reads: [uplaod]\n")).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "functions.t.reads[0]");
        assert_eq!(errs[0].hint.as_deref(), Some("did you mean `upload`?"));
        assert_eq!(
            errs[0].position,
            Some(Position {
                line: 7,
                column: 13
            })
        );
    }

    #[test]
    fn derived_bucket_names_must_fit() {
        let errs = check("name: a-rather-long-project\nregion: ap-southeast-4\nbuckets:\n  transcoded-videos: {}\n").unwrap_err();
        assert!(
            errs[0].message.contains("would be 67 characters"),
            "{errs:?}"
        );
    }

    #[test]
    fn logs_key_is_reserved() {
        let errs = check("name: demo\nregion: us-east-1\nbuckets:\n  logs: {}\n").unwrap_err();
        assert!(errs[0].message.contains("reserved"));
    }
}
