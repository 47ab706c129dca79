//! Alerts in the validated model: who is emailed (and the topic's KMS key), the alarm settings
//! every function's error alarm uses, and the billing alarm.

use std::collections::BTreeSet;

use super::Validator;
use crate::diag::Diagnostic;
use crate::manifest;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertsSpec {
    /// Sorted, without duplicates.
    pub emails: Vec<String>,
    pub kms_key_arn: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlarmSpec {
    pub threshold: u32,
    pub period_seconds: u32,
    pub evaluation_periods: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingSpec {
    pub monthly_limit_usd: u32,
}

impl Validator<'_> {
    pub(super) fn alerts(&mut self, alerts: Option<&manifest::Alerts>) -> Option<AlertsSpec> {
        let alerts = alerts?;
        if alerts.emails.is_empty() {
            self.error(
                Diagnostic::new("alerts.emails", "no addresses")
                    .expected("at least one email address"),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, email) in alerts.emails.iter().enumerate() {
            let path = format!("alerts.emails[{i}]");
            let valid = match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !email.contains(char::is_whitespace)
                }
                None => false,
            };
            if !valid {
                self.error(
                    Diagnostic::new(&path, format!("`{email}` is not an email address"))
                        .expected("an address such as ops@example.com"),
                );
            }
            if !seen.insert(email.to_ascii_lowercase()) {
                self.error(Diagnostic::new(&path, format!("`{email}` is listed twice")));
            }
        }
        let mut emails: Vec<String> = alerts.emails.clone();
        emails.sort();
        emails.dedup();
        if let Some(arn) = &alerts.kms_key_arn {
            self.kms_key(arn);
        }
        Some(AlertsSpec {
            emails,
            kms_key_arn: alerts.kms_key_arn.clone(),
        })
    }

    fn kms_key(&mut self, arn: &str) {
        let path = "alerts.kms_key_arn";
        if arn.contains("alias/aws/sns") {
            self.error(
                Diagnostic::new(path, "the AWS managed key `alias/aws/sns` cannot be used for alarms")
                    .hint("CloudWatch cannot use that key, so alarms could never publish; leave `kms_key_arn` out (SNS still encrypts in transit) or give a customer managed key that allows cloudwatch.amazonaws.com"),
            );
            return;
        }
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "kms"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"))
            && parts[5].len() > 6;
        if !valid {
            self.error(
                Diagnostic::new(path, format!("`{arn}` is not a KMS key ARN"))
                    .expected("arn:aws:kms:<region>:<account id>:key/<key id> (or :alias/<name>)"),
            );
        }
    }

    /// The alarm a function gets unless it overrides it (`alerts.function_alarms`).
    pub(super) fn default_alarm(&mut self, alerts: Option<&manifest::Alerts>) -> AlarmSpec {
        let alarm_defaults = alerts
            .map(|a| a.function_alarms.clone())
            .unwrap_or_default();
        self.alarm_settings("alerts.function_alarms", &alarm_defaults)
    }

    fn alarm_settings(&mut self, path: &str, a: &manifest::AlarmSettings) -> AlarmSpec {
        let spec = AlarmSpec {
            threshold: a.threshold,
            period_seconds: a.period_seconds,
            evaluation_periods: a.evaluation_periods,
        };
        self.check_alarm(path, spec);
        spec
    }

    /// CloudWatch's rules for an alarm's period and evaluation window.
    pub(super) fn check_alarm(&mut self, path: &str, a: AlarmSpec) {
        if a.threshold == 0 {
            self.error(
                Diagnostic::new(
                    format!("{path}.threshold"),
                    "a threshold of 0 would always fire",
                )
                .expected("at least 1"),
            );
        }
        let p = a.period_seconds;
        if !(p == 10 || p == 30 || (p >= 60 && p.is_multiple_of(60))) {
            self.error(
                Diagnostic::new(format!("{path}.period_seconds"), format!("{p} seconds"))
                    .expected("10, 30 or a multiple of 60 (CloudWatch's alarm periods)")
                    .hint(format!(
                        "the nearest is {}",
                        if p < 20 {
                            10
                        } else if p < 45 {
                            30
                        } else {
                            (p + 30) / 60 * 60
                        }
                    )),
            );
        }
        if a.evaluation_periods == 0 {
            self.error(
                Diagnostic::new(format!("{path}.evaluation_periods"), "0 periods")
                    .expected("at least 1"),
            );
        } else if u64::from(p) * u64::from(a.evaluation_periods) > 86_400 {
            self.error(
                Diagnostic::new(
                    format!("{path}.evaluation_periods"),
                    format!(
                        "{} periods of {p} s span more than a day",
                        a.evaluation_periods
                    ),
                )
                .expected("period_seconds × evaluation_periods ≤ 86400 (CloudWatch's limit)"),
            );
        }
    }

    /// The billing alarm: it emails the alert addresses, so it needs `alerts:`.
    pub(super) fn billing(
        &mut self,
        b: &manifest::Billing,
        alerts: Option<&AlertsSpec>,
    ) -> BillingSpec {
        if b.monthly_limit_usd == 0 {
            self.error(
                Diagnostic::new("billing.monthly_limit_usd", "a limit of 0 USD")
                    .expected("at least 1 (US dollars per month)"),
            );
        }
        if alerts.is_none() {
            self.key_error(
                Diagnostic::new("billing", "a billing alarm with nobody to tell")
                    .hint("add `alerts: { emails: [you@example.com] }`"),
            );
        }
        BillingSpec {
            monthly_limit_usd: b.monthly_limit_usd,
        }
    }
}
