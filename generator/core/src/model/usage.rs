//! Usage assumptions, with every default filled in, for the cost estimate.

use std::collections::BTreeMap;

use super::{FunctionSpec, Key, TableSpec, Validator};
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest;

pub const DEFAULT_INVOCATIONS: u64 = 100_000;
pub const DEFAULT_DURATION_MS: u64 = 100;
pub const DEFAULT_FUNCTION_LOG_GB: f64 = 0.1;
pub const DEFAULT_STORED_GB: f64 = 1.0;
pub const DEFAULT_PUTS: u64 = 10_000;
pub const DEFAULT_GETS: u64 = 100_000;
pub const DEFAULT_TABLE_READS: u64 = 1_000_000;
pub const DEFAULT_TABLE_WRITES: u64 = 100_000;
pub const DEFAULT_API_REQUESTS: u64 = 1_000_000;
pub const DEFAULT_TRAIL_LOG_GB: f64 = 1.0;
pub const DEFAULT_ALERT_NOTIFICATIONS: u64 = 30;

#[derive(Clone, Debug, PartialEq)]
pub struct UsageSpec {
    /// One entry per declared function.
    pub functions: BTreeMap<Key, FunctionUsageSpec>,
    /// One entry per declared data bucket.
    pub buckets: BTreeMap<Key, BucketUsageSpec>,
    /// One entry per declared table.
    pub tables: BTreeMap<Key, TableUsageSpec>,
    pub log_bucket_stored_gb: f64,
    pub api_requests: u64,
    /// `None`: derived from the audited buckets' requests.
    pub trail_data_events: Option<u64>,
    pub trail_log_gb: f64,
    pub alert_notifications: u64,
    pub free_tier: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FunctionUsageSpec {
    pub invocations: u64,
    pub duration_ms: u64,
    pub log_gb: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketUsageSpec {
    pub stored_gb: f64,
    pub puts: u64,
    pub gets: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TableUsageSpec {
    pub stored_gb: f64,
    pub reads: u64,
    pub writes: u64,
}

impl Validator<'_> {
    pub(super) fn usage(
        &mut self,
        usage: &manifest::Usage,
        functions: &BTreeMap<Key, FunctionSpec>,
        buckets: &BTreeMap<String, manifest::Bucket>,
        tables: &BTreeMap<Key, TableSpec>,
    ) -> UsageSpec {
        let function_keys: Vec<&str> = functions.keys().map(Key::as_str).collect();
        for key in usage.functions.keys() {
            if !function_keys.contains(&key.as_str()) {
                self.key_error(
                    Diagnostic::new(
                        format!("usage.functions.{key}"),
                        format!("no function `{key}` is declared"),
                    )
                    .expected("the key of a function under `functions:`")
                    .maybe_hint(did_you_mean_hint(key, function_keys.iter().copied())),
                );
            }
        }
        for key in usage.buckets.keys() {
            if !buckets.contains_key(key) {
                self.key_error(
                    Diagnostic::new(
                        format!("usage.buckets.{key}"),
                        format!("no bucket `{key}` is declared"),
                    )
                    .expected("the key of a bucket under `buckets:`")
                    .maybe_hint(did_you_mean_hint(key, buckets.keys().map(String::as_str))),
                );
            }
        }
        let table_keys: Vec<&str> = tables.keys().map(Key::as_str).collect();
        for key in usage.tables.keys() {
            if !table_keys.contains(&key.as_str()) {
                self.key_error(
                    Diagnostic::new(
                        format!("usage.tables.{key}"),
                        format!("no table `{key}` is declared"),
                    )
                    .expected("the key of a table under `tables:`")
                    .maybe_hint(did_you_mean_hint(key, table_keys.iter().copied())),
                );
            }
        }
        let tables = tables
            .keys()
            .map(|key| {
                let given = usage.tables.get(key.as_str()).cloned().unwrap_or_default();
                let usage = TableUsageSpec {
                    stored_gb: self.gigabytes(
                        &format!("usage.tables.{key}.stored_gb"),
                        given.stored_gb,
                        DEFAULT_STORED_GB,
                    ),
                    reads: given.reads_per_month.unwrap_or(DEFAULT_TABLE_READS),
                    writes: given.writes_per_month.unwrap_or(DEFAULT_TABLE_WRITES),
                };
                (key.clone(), usage)
            })
            .collect();
        let functions = functions
            .iter()
            .map(|(key, spec)| {
                let given = usage
                    .functions
                    .get(key.as_str())
                    .cloned()
                    .unwrap_or_default();
                let path = format!("usage.functions.{key}");
                let duration_ms = given
                    .average_duration_ms
                    .unwrap_or(DEFAULT_DURATION_MS.min(u64::from(spec.timeout_seconds) * 1000));
                if duration_ms > u64::from(spec.timeout_seconds) * 1000 {
                    self.error(
                        Diagnostic::new(
                            format!("{path}.average_duration_ms"),
                            format!(
                                "{duration_ms} ms is longer than the function's timeout ({} s)",
                                spec.timeout_seconds
                            ),
                        )
                        .expected(format!(
                            "at most {} ms",
                            u64::from(spec.timeout_seconds) * 1000
                        ))
                        .hint("raise `timeout` or lower the assumed duration"),
                    );
                }
                let log_gb = self.gigabytes(
                    &format!("{path}.log_gb_per_month"),
                    given.log_gb_per_month,
                    DEFAULT_FUNCTION_LOG_GB,
                );
                let invocations = given.invocations_per_month.unwrap_or(DEFAULT_INVOCATIONS);
                (
                    key.clone(),
                    FunctionUsageSpec {
                        invocations,
                        duration_ms,
                        log_gb,
                    },
                )
            })
            .collect();
        let buckets = buckets
            .keys()
            .filter_map(|key| {
                let k = Key::parse(key).ok()?;
                let given = usage.buckets.get(key).cloned().unwrap_or_default();
                let path = format!("usage.buckets.{key}");
                Some((
                    k,
                    BucketUsageSpec {
                        stored_gb: self.gigabytes(
                            &format!("{path}.stored_gb"),
                            given.stored_gb,
                            DEFAULT_STORED_GB,
                        ),
                        puts: given.put_requests_per_month.unwrap_or(DEFAULT_PUTS),
                        gets: given.get_requests_per_month.unwrap_or(DEFAULT_GETS),
                    },
                ))
            })
            .collect();
        UsageSpec {
            functions,
            buckets,
            tables,
            log_bucket_stored_gb: self.gigabytes(
                "usage.log_bucket_stored_gb",
                usage.log_bucket_stored_gb,
                DEFAULT_STORED_GB,
            ),
            api_requests: usage.api_requests_per_month.unwrap_or(DEFAULT_API_REQUESTS),
            trail_data_events: usage.trail_data_events_per_month,
            trail_log_gb: self.gigabytes(
                "usage.trail_log_gb_per_month",
                usage.trail_log_gb_per_month,
                DEFAULT_TRAIL_LOG_GB,
            ),
            alert_notifications: usage
                .alert_notifications_per_month
                .unwrap_or(DEFAULT_ALERT_NOTIFICATIONS),
            free_tier: usage.free_tier,
        }
    }

    fn gigabytes(&mut self, path: &str, given: Option<f64>, default: f64) -> f64 {
        match given {
            Some(gb) if !gb.is_finite() || gb < 0.0 => {
                self.error(
                    Diagnostic::new(path, format!("{gb} GB"))
                        .expected("a number of gigabytes, 0 or more"),
                );
                default
            }
            Some(gb) => gb,
            None => default,
        }
    }
}
