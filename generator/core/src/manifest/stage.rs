//! Stages: one manifest, several environments of the app (dev, prod, …) deployed side by side.
//!
//! A stage may change the *values* of what the base manifest declares (memory, timeouts,
//! environment, alarm settings, alert addresses, limits, Auth0 settings, …), never its *shape*:
//! it cannot add or remove a function, bucket, route or section, so every stage is the same
//! app at another size. The override types below hold exactly what a stage may change (so the
//! schema tells editors, and a typo or a shape change is a parse error at its position);
//! [`apply`] merges them onto a copy of the base, refusing overrides of entries the base does
//! not have.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    AlarmOverride, BucketUsage, FunctionUsage, KEY_PATTERN, Manifest, TableBilling, TableUsage,
};
use crate::diag::{Diagnostic, did_you_mean_hint};

/// The 12 digits of an AWS account ID.
pub const ACCOUNT_PATTERN: &str = "^[0-9]{12}$";

/// One environment of the app.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The region this stage deploys to; default: the manifest's `region`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"))]
    pub region: Option<String>,

    /// The AWS account (12 digits, quoted: `"123456789012"`) this stage belongs to.
    /// `gen deploy`, `gen diff` and `gen destroy` ask AWS whose the credentials are and
    /// refuse, before building anything, when they belong to another account.
    #[serde(default)]
    #[schemars(regex(pattern = ACCOUNT_PATTERN))]
    pub account: Option<String>,

    /// Protect this stage's data: its stacks get termination protection and a stack policy
    /// that refuses to replace or delete buckets, tables, log groups, secrets and queues, its
    /// tables deletion protection, and `gen destroy` refuses the stage. Turn it off (and
    /// deploy) to lift it deliberately.
    #[serde(default)]
    pub protect: bool,

    /// The stage `gen build` and `gen cost` use without `--stage` (the site's `config.js`
    /// points at it). Default: the first stage by name.
    #[serde(default)]
    pub default: bool,

    /// Keep the names the project had before it had stages: stack `<project>` and physical
    /// names `<project>-<key>`, so a project already deployed adopts stages without replacing
    /// (or orphaning) its buckets. At most one stage may keep them.
    #[serde(default)]
    pub keep_names: bool,

    /// Values that differ in this stage, in the manifest's own shape (only what a stage may
    /// change is accepted).
    #[serde(default)]
    pub overrides: Overrides,
}

/// What a stage may change. Each map is keyed like the base manifest's and may only name
/// entries the base declares.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Tags added or changed in this stage.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Settings of the base's buckets, by key.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub buckets: BTreeMap<String, BucketOverride>,
    /// The log bucket's settings.
    #[serde(default)]
    pub log_bucket: Option<LogBucketOverride>,
    /// Settings of the base's tables, by key.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub tables: BTreeMap<String, TableOverride>,
    /// Settings of the base's functions, by key.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub functions: BTreeMap<String, FunctionOverride>,
    /// Alert addresses and default alarm settings.
    #[serde(default)]
    pub alerts: Option<AlertsOverride>,
    /// The billing alarm's limit.
    #[serde(default)]
    pub billing: Option<BillingOverride>,
    /// The trail's switches.
    #[serde(default)]
    pub audit: Option<AuditOverride>,
    /// The Auth0 tenant and application of this stage.
    #[serde(default)]
    pub auth: Option<AuthOverride>,
    /// The API's CORS origin and rate limits.
    #[serde(default)]
    pub api: Option<ApiOverride>,
    /// Usage assumptions of this stage, for `gen cost --stage`.
    #[serde(default)]
    pub usage: Option<UsageOverride>,
    /// Whether and where this stage hosts the website (e.g. prod on its own domain).
    #[serde(default)]
    pub site: Option<SiteOverride>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteOverride {
    /// Host the site on CloudFront in this stage.
    #[serde(default)]
    pub hosting: Option<bool>,
    /// This stage's own domain for the site.
    #[serde(default)]
    pub domain: Option<String>,
    /// The ACM certificate (us-east-1) of this stage's domain.
    #[serde(default)]
    pub certificate_arn: Option<String>,
    /// This stage's CloudFront price class.
    #[serde(default)]
    pub price_class: Option<super::PriceClass>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketOverride {
    /// Keep every version of every object.
    #[serde(default)]
    pub versioning: Option<bool>,
    /// Keep the bucket when the stack is deleted.
    #[serde(default)]
    pub retain: Option<bool>,
    /// Delete objects this many days after they were written.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub expire_after_days: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableOverride {
    /// `on_demand` or provisioned capacity in this stage.
    #[serde(default)]
    pub billing: Option<TableBilling>,
    /// Keep the table when the stack is deleted.
    #[serde(default)]
    pub retain: Option<bool>,
    /// Continuous backups in this stage.
    #[serde(default)]
    pub point_in_time_recovery: Option<bool>,
    /// Refuse `DeleteTable` in this stage.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBucketOverride {
    /// Days access logs (and trail files) are kept.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub expire_after_days: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionOverride {
    /// Memory in MB, 128 to 10240.
    #[serde(default)]
    #[schemars(range(min = 128, max = 10240))]
    pub memory: Option<u32>,
    /// Timeout in seconds, 1 to 900.
    #[serde(default)]
    #[schemars(range(min = 1, max = 900))]
    pub timeout: Option<u32>,
    /// Environment variables set or changed in this stage (merged over the base's).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Days the function's logs are kept.
    #[serde(default)]
    pub log_retention_days: Option<u32>,
    /// This function's alarm settings in this stage.
    #[serde(default)]
    pub alarm: Option<AlarmOverride>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsOverride {
    /// Who gets this stage's alarms (replaces the base's list).
    #[serde(default)]
    pub emails: Option<Vec<String>>,
    /// Default alarm settings of this stage's functions.
    #[serde(default)]
    pub function_alarms: Option<AlarmOverride>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingOverride {
    /// The monthly limit in USD.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub monthly_limit_usd: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditOverride {
    /// Record management events too.
    #[serde(default)]
    pub management_events: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthOverride {
    /// The Auth0 tenant's domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// The Auth0 application's client ID.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The Auth0 API's identifier.
    #[serde(default)]
    pub audience: Option<String>,
    /// Seconds API Gateway caches the authorizer's answer per token.
    #[serde(default)]
    pub cache_ttl_seconds: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiOverride {
    /// The website origin allowed to call the API.
    #[serde(default)]
    pub cors_origin: Option<String>,
    /// Requests per second, steady state.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Requests in a burst.
    #[serde(default)]
    pub burst_limit: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageOverride {
    /// Per function (by key of the base's functions).
    #[serde(default)]
    pub functions: BTreeMap<String, FunctionUsage>,
    /// Per bucket (by key of the base's buckets).
    #[serde(default)]
    pub buckets: BTreeMap<String, BucketUsage>,
    /// Per table (by key of the base's tables).
    #[serde(default)]
    pub tables: BTreeMap<String, TableUsage>,
    #[serde(default)]
    pub log_bucket_stored_gb: Option<f64>,
    #[serde(default)]
    pub api_requests_per_month: Option<u64>,
    #[serde(default)]
    pub trail_data_events_per_month: Option<u64>,
    #[serde(default)]
    pub trail_log_gb_per_month: Option<f64>,
    #[serde(default)]
    pub alert_notifications_per_month: Option<u64>,
    #[serde(default)]
    pub free_tier: Option<bool>,
}

/// The manifest path of stage `stage`'s overrides.
pub fn overrides_path(stage: &str) -> String {
    format!("stages.{stage}.overrides")
}

/// `base` with stage `stage`'s overrides applied. An override of an entry or section the base
/// does not declare is an error at its path (every such error is reported).
pub fn apply(
    base: &Manifest,
    stage: &str,
    overrides: &Overrides,
) -> Result<Manifest, Vec<Diagnostic>> {
    let at = overrides_path(stage);
    let mut errors = Vec::new();
    let mut merged = base.clone();
    merged.stages.clear();
    let o = overrides;

    merged.tags.extend(o.tags.clone());
    for (key, b) in &o.buckets {
        let Some(bucket) = entry(
            &mut merged.buckets,
            key,
            &at,
            "buckets",
            "bucket",
            &mut errors,
        ) else {
            continue;
        };
        set(&mut bucket.versioning, b.versioning);
        set(&mut bucket.retain, b.retain);
        if b.expire_after_days.is_some() {
            bucket.expire_after_days = b.expire_after_days;
        }
    }
    for (key, t) in &o.tables {
        let Some(table) = entry(&mut merged.tables, key, &at, "tables", "table", &mut errors)
        else {
            continue;
        };
        set(&mut table.billing, t.billing.clone());
        set(&mut table.retain, t.retain);
        set(&mut table.point_in_time_recovery, t.point_in_time_recovery);
        some(&mut table.deletion_protection, t.deletion_protection);
    }
    if let Some(l) = &o.log_bucket {
        set(
            &mut merged.log_bucket.expire_after_days,
            l.expire_after_days,
        );
    }
    for (key, f) in &o.functions {
        let Some(function) = entry(
            &mut merged.functions,
            key,
            &at,
            "functions",
            "function",
            &mut errors,
        ) else {
            continue;
        };
        set(&mut function.memory, f.memory);
        set(&mut function.timeout, f.timeout);
        set(&mut function.log_retention_days, f.log_retention_days);
        function.environment.extend(f.environment.clone());
        if let Some(alarm) = &f.alarm {
            merge_alarm(function.alarm.get_or_insert_with(Default::default), alarm);
        }
    }
    if let Some(a) = &o.alerts
        && let Some(alerts) = section(&mut merged.alerts, &at, "alerts", &mut errors)
    {
        if let Some(emails) = &a.emails {
            alerts.emails = emails.clone();
        }
        if let Some(defaults) = &a.function_alarms {
            set(&mut alerts.function_alarms.threshold, defaults.threshold);
            set(
                &mut alerts.function_alarms.period_seconds,
                defaults.period_seconds,
            );
            set(
                &mut alerts.function_alarms.evaluation_periods,
                defaults.evaluation_periods,
            );
        }
    }
    if let Some(b) = &o.billing
        && let Some(billing) = section(&mut merged.billing, &at, "billing", &mut errors)
    {
        set(&mut billing.monthly_limit_usd, b.monthly_limit_usd);
    }
    if let Some(a) = &o.audit
        && let Some(audit) = section(&mut merged.audit, &at, "audit", &mut errors)
    {
        set(&mut audit.management_events, a.management_events);
    }
    if let Some(a) = &o.auth
        && let Some(auth) = section(&mut merged.auth, &at, "auth", &mut errors)
    {
        set_text(&mut auth.domain, &a.domain);
        set_text(&mut auth.client_id, &a.client_id);
        set_text(&mut auth.audience, &a.audience);
        set(&mut auth.cache_ttl_seconds, a.cache_ttl_seconds);
    }
    if let Some(a) = &o.api
        && let Some(api) = section(&mut merged.api, &at, "api", &mut errors)
    {
        if a.cors_origin.is_some() {
            api.cors_origin = a.cors_origin.clone();
        }
        set(&mut api.rate_limit, a.rate_limit);
        set(&mut api.burst_limit, a.burst_limit);
    }
    if let Some(o) = &o.site
        && let Some(site) = section(&mut merged.site, &at, "site", &mut errors)
    {
        set(&mut site.hosting, o.hosting);
        some(&mut site.domain, o.domain.clone());
        some(&mut site.certificate_arn, o.certificate_arn.clone());
        set(&mut site.price_class, o.price_class);
    }
    if let Some(u) = &o.usage {
        let usage = &mut merged.usage;
        let functions = base.functions.keys().cloned().collect::<Vec<_>>();
        for (key, f) in &u.functions {
            if !known(
                key,
                &functions,
                &format!("{at}.usage.functions"),
                "function",
                &mut errors,
            ) {
                continue;
            }
            let target = usage.functions.entry(key.clone()).or_default();
            some(&mut target.invocations_per_month, f.invocations_per_month);
            some(&mut target.average_duration_ms, f.average_duration_ms);
            some(&mut target.log_gb_per_month, f.log_gb_per_month);
        }
        let buckets = base.buckets.keys().cloned().collect::<Vec<_>>();
        for (key, b) in &u.buckets {
            if !known(
                key,
                &buckets,
                &format!("{at}.usage.buckets"),
                "bucket",
                &mut errors,
            ) {
                continue;
            }
            let target = usage.buckets.entry(key.clone()).or_default();
            some(&mut target.stored_gb, b.stored_gb);
            some(&mut target.put_requests_per_month, b.put_requests_per_month);
            some(&mut target.get_requests_per_month, b.get_requests_per_month);
        }
        let tables = base.tables.keys().cloned().collect::<Vec<_>>();
        for (key, t) in &u.tables {
            if !known(
                key,
                &tables,
                &format!("{at}.usage.tables"),
                "table",
                &mut errors,
            ) {
                continue;
            }
            let target = usage.tables.entry(key.clone()).or_default();
            some(&mut target.stored_gb, t.stored_gb);
            some(&mut target.reads_per_month, t.reads_per_month);
            some(&mut target.writes_per_month, t.writes_per_month);
        }
        some(&mut usage.log_bucket_stored_gb, u.log_bucket_stored_gb);
        some(&mut usage.api_requests_per_month, u.api_requests_per_month);
        some(
            &mut usage.trail_data_events_per_month,
            u.trail_data_events_per_month,
        );
        some(&mut usage.trail_log_gb_per_month, u.trail_log_gb_per_month);
        some(
            &mut usage.alert_notifications_per_month,
            u.alert_notifications_per_month,
        );
        set(&mut usage.free_tier, u.free_tier);
    }
    if errors.is_empty() {
        Ok(merged)
    } else {
        Err(errors)
    }
}

pub(crate) const SHAPE_HINT: &str =
    "stages differ in size and settings, not in shape: declare it in the base manifest";

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

fn set_text(target: &mut String, value: &Option<String>) {
    if let Some(value) = value {
        target.clone_from(value);
    }
}

fn some<T>(target: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *target = value;
    }
}

fn merge_alarm(target: &mut AlarmOverride, over: &AlarmOverride) {
    some(&mut target.threshold, over.threshold);
    some(&mut target.period_seconds, over.period_seconds);
    some(&mut target.evaluation_periods, over.evaluation_periods);
}

/// Whether `key` is one of `declared`; else an error at `<at>.<key>`.
fn known(
    key: &str,
    declared: &[String],
    at: &str,
    noun: &str,
    errors: &mut Vec<Diagnostic>,
) -> bool {
    if declared.iter().any(|d| d == key) {
        return true;
    }
    let hint = did_you_mean_hint(key, declared.iter().map(String::as_str))
        .unwrap_or_else(|| SHAPE_HINT.to_owned());
    errors.push(
        Diagnostic::new(
            format!("{at}.{key}"),
            format!("the base manifest has no {noun} `{key}`"),
        )
        .expected(format!("the key of a {noun} the base manifest declares"))
        .hint(hint),
    );
    false
}

/// The base's entry `key` of `map` (a section such as `functions`), or an error.
fn entry<'m, T>(
    map: &'m mut BTreeMap<String, T>,
    key: &str,
    at: &str,
    section: &str,
    noun: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<&'m mut T> {
    let declared: Vec<String> = map.keys().cloned().collect();
    if known(key, &declared, &format!("{at}.{section}"), noun, errors) {
        map.get_mut(key)
    } else {
        None
    }
}

/// The base's optional section, or an error when the base has none.
fn section<'m, T>(
    section: &'m mut Option<T>,
    at: &str,
    name: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<&'m mut T> {
    if section.is_none() {
        errors.push(
            Diagnostic::new(
                format!("{at}.{name}"),
                format!("the base manifest has no `{name}:` section"),
            )
            .expected("overrides of what the base manifest declares")
            .hint(SHAPE_HINT),
        );
    }
    section.as_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name: demo
region: us-east-1
functions:
  worker:
    memory: 256
    environment: {MODE: slow, KEEP: yes}
    alarm: {threshold: 5}
alerts:
  emails: [dev@example.com]
usage:
  functions:
    worker: {invocations_per_month: 10, average_duration_ms: 50}
stages:
  prod:
    overrides:
      functions:
        worker:
          memory: 2048
          environment: {MODE: fast}
          alarm: {period_seconds: 60}
      alerts:
        emails: [oncall@example.com]
      usage:
        functions:
          worker: {invocations_per_month: 1000}
";

    fn merged(text: &str, stage: &str) -> Result<Manifest, Vec<Diagnostic>> {
        let (manifest, _) = crate::manifest::parse(text).expect("parses");
        apply(&manifest, stage, &manifest.stages[stage].overrides)
    }

    #[test]
    fn values_are_merged_onto_the_base_and_nothing_else_moves() {
        let m = merged(BASE, "prod").unwrap();
        let worker = &m.functions["worker"];
        assert_eq!(worker.memory, 2048);
        // Maps merge key by key; the base's other keys stay.
        assert_eq!(worker.environment["MODE"], "fast");
        assert_eq!(worker.environment["KEEP"], "yes");
        // Alarm fields merge one by one.
        let alarm = worker.alarm.as_ref().unwrap();
        assert_eq!((alarm.threshold, alarm.period_seconds), (Some(5), Some(60)));
        // Lists are replaced whole.
        assert_eq!(m.alerts.as_ref().unwrap().emails, ["oncall@example.com"]);
        let usage = &m.usage.functions["worker"];
        assert_eq!(
            (usage.invocations_per_month, usage.average_duration_ms),
            (Some(1000), Some(50))
        );
        assert!(
            m.stages.is_empty(),
            "a stage's manifest has no stages of its own"
        );
        assert_eq!(m.functions.len(), 1);
    }

    #[test]
    fn overrides_of_what_the_base_lacks_are_refused_each_at_its_path() {
        let text = BASE.replace(
            "        worker:\n          memory: 2048",
            "        wroker:\n          memory: 2048",
        ) + "      billing: {monthly_limit_usd: 9}\n";
        let errors = merged(&text, "prod").unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "stages.prod.overrides.functions.wroker",
                "stages.prod.overrides.billing"
            ]
        );
        assert_eq!(errors[0].hint.as_deref(), Some("did you mean `worker`?"));
        assert_eq!(errors[1].hint.as_deref(), Some(SHAPE_HINT));
    }
}
