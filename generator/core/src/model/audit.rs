//! The audit trail in the validated model: which buckets' data events it records, management
//! events, and delivery to CloudWatch Logs.

use std::collections::{BTreeMap, BTreeSet};

use super::{Key, LOG_BUCKET_KEY, Validator};
use crate::diag::Diagnostic;
use crate::manifest;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSpec {
    pub buckets: BTreeSet<Key>,
    pub management_events: bool,
    /// Retention (days) of the trail's CloudWatch Logs group, when it delivers there.
    pub cloudwatch_logs_retention: Option<u32>,
}

impl Validator<'_> {
    pub(super) fn audit(
        &mut self,
        a: &manifest::Audit,
        buckets: &BTreeMap<String, manifest::Bucket>,
    ) -> AuditSpec {
        let mut keys = BTreeSet::new();
        for (i, name) in a.buckets.iter().enumerate() {
            let path = format!("audit.buckets[{i}]");
            if name == LOG_BUCKET_KEY {
                self.error(
                    Diagnostic::new(&path, "the log bucket cannot be audited by its own trail")
                        .expected("a data bucket from `buckets:`")
                        .hint("the trail writes into the log bucket: recording those writes would write more, forever"),
                );
            } else if let Some(key) = self.bucket_ref(&path, name, buckets) {
                keys.insert(key);
            }
        }
        if !a.management_events && a.buckets.is_empty() {
            self.key_error(
                Diagnostic::new("audit", "the trail would record nothing")
                    .hint("name `buckets` for data events, or leave `management_events` on"),
            );
        }
        let retention = a.cloudwatch_logs.as_ref().map(|l| {
            self.retention("audit.cloudwatch_logs.retention_days", l.retention_days);
            l.retention_days
        });
        AuditSpec {
            buckets: keys,
            management_events: a.management_events,
            cloudwatch_logs_retention: retention,
        }
    }
}
