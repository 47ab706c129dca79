//! The monthly cost estimate (`gen cost`): usage assumptions from the manifest × AWS's public
//! prices (`generator/data/prices.json`), over the resources of the synthesized templates, so
//! there is no second source of truth for what the app contains.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cfn::Value;
use crate::graph::StackNode as Synthesized;
use crate::manifest::Architecture;
use crate::model::{LOG_BUCKET_KEY, Model};

const PRICES_JSON: &str = include_str!("../../data/prices.json");

/// AWS's prices, as read from its public price pages on `read_on`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    pub currency: String,
    pub read_on: String,
    pub sources: BTreeMap<String, String>,
    pub free_tier: FreeTier,
    pub regions: BTreeMap<String, RegionPrices>,
}

/// Monthly Free Tier allowances.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeTier {
    pub lambda_requests: f64,
    pub lambda_gb_seconds: f64,
    pub s3_storage_gb: f64,
    pub s3_put_requests: f64,
    pub s3_get_requests: f64,
    pub api_gateway_rest_requests: f64,
    pub cloudwatch_alarms: f64,
    pub cloudwatch_custom_metrics: f64,
    pub cloudwatch_logs_ingested_gb: f64,
    pub cloudwatch_logs_stored_gb: f64,
    pub sns_email_notifications: f64,
    pub sqs_requests: f64,
    #[serde(default)]
    pub notes: Option<String>,
}

/// One region's prices (USD), first tier where AWS tiers them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionPrices {
    pub lambda_per_million_requests: f64,
    pub lambda_per_gb_second_x86_64: f64,
    pub lambda_per_gb_second_arm64: f64,
    pub s3_standard_per_gb_month: f64,
    pub s3_per_1000_put_requests: f64,
    pub s3_per_1000_get_requests: f64,
    pub api_gateway_rest_per_million_requests: f64,
    pub cloudwatch_per_alarm_month: f64,
    pub cloudwatch_per_custom_metric_month: f64,
    pub cloudwatch_logs_per_gb_ingested: f64,
    pub cloudwatch_logs_per_gb_month_stored: f64,
    pub cloudtrail_per_100000_data_events: f64,
    pub cloudtrail_per_100000_management_events_extra_copy: f64,
    pub sns_per_100000_email_notifications: f64,
    pub secrets_manager_per_secret_month: f64,
    pub secrets_manager_per_10000_api_calls: f64,
    pub sqs_per_million_requests: f64,
    #[serde(default)]
    pub notes: Option<String>,
}

impl PriceTable {
    /// The table shipped with stackgen (checked by a test to parse).
    pub fn builtin() -> PriceTable {
        serde_json::from_str(PRICES_JSON).expect("generator/data/prices.json is valid (tested)")
    }
}

/// One line of the estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    pub service: &'static str,
    pub resource: String,
    pub item: String,
    pub quantity: f64,
    pub unit: &'static str,
    pub usd: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub project: String,
    pub region: String,
    pub currency: String,
    pub prices_read_on: String,
    pub free_tier: bool,
    pub lines: Vec<Line>,
    pub total_usd: f64,
    /// Cost traps found in this app.
    pub warnings: Vec<String>,
    /// Assumptions worth knowing.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CostError {
    #[error("no prices for region `{region}`; regions with prices: {}", .known.join(", "))]
    UnknownRegion { region: String, known: Vec<String> },
}

/// CloudWatch Logs keeps log data this many months at steady state.
fn months_kept(retention_days: u32) -> f64 {
    f64::from(retention_days) / 30.0
}

pub fn estimate(
    model: &Model,
    templates: &[Synthesized],
    table: &PriceTable,
) -> Result<Estimate, CostError> {
    let prices_for = |region: &str| {
        table
            .regions
            .get(region)
            .ok_or_else(|| CostError::UnknownRegion {
                region: region.to_owned(),
                known: table.regions.keys().cloned().collect(),
            })
    };
    let p = prices_for(&model.region)?;
    let usage = &model.usage;
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut line = |service: &'static str,
                    resource: &str,
                    item: String,
                    quantity: f64,
                    unit: &'static str,
                    usd: f64| {
        lines.push(Line {
            service,
            resource: resource.to_owned(),
            item,
            quantity,
            unit,
            usd,
        });
    };

    // Lambda, and each function's logs.
    let (mut requests, mut gb_seconds, mut gb_seconds_usd) = (0.0, 0.0, 0.0);
    let mut logs_ingested = 0.0;
    let mut logs_stored = 0.0;
    for (key, f) in &model.functions {
        let u = usage.functions[key];
        let invocations = u.invocations as f64;
        let seconds = invocations * u.duration_ms as f64 / 1000.0;
        let gbs = seconds * f64::from(f.memory_mb) / 1024.0;
        let (arch, per_gbs) = match f.architecture {
            Architecture::X86_64 => ("x86_64", p.lambda_per_gb_second_x86_64),
            Architecture::Arm64 => ("arm64", p.lambda_per_gb_second_arm64),
        };
        line(
            "Lambda",
            key.as_str(),
            "requests".into(),
            invocations,
            "request",
            invocations / 1e6 * p.lambda_per_million_requests,
        );
        line(
            "Lambda",
            key.as_str(),
            format!(
                "compute ({} MB, {arch}, {} ms avg)",
                f.memory_mb, u.duration_ms
            ),
            gbs,
            "GB-s",
            gbs * per_gbs,
        );
        requests += invocations;
        gb_seconds += gbs;
        gb_seconds_usd += gbs * per_gbs;
        let stored = u.log_gb * months_kept(f.log_retention_days);
        line(
            "CloudWatch",
            key.as_str(),
            "log ingestion".into(),
            u.log_gb,
            "GB",
            u.log_gb * p.cloudwatch_logs_per_gb_ingested,
        );
        line(
            "CloudWatch",
            key.as_str(),
            format!("log storage ({}-day retention)", f.log_retention_days),
            stored,
            "GB-month",
            stored * p.cloudwatch_logs_per_gb_month_stored,
        );
        logs_ingested += u.log_gb;
        logs_stored += stored;
        if f.log_retention_days > 365 {
            warnings.push(format!(
                "function `{key}` keeps logs {} days: stored logs grow to {stored:.1} GB ({}/month) at steady state",
                f.log_retention_days,
                money(stored * p.cloudwatch_logs_per_gb_month_stored)
            ));
        }
    }

    // S3.
    let (mut stored_gb, mut puts, mut gets) = (0.0, 0.0, 0.0);
    for (key, b) in &usage.buckets {
        line(
            "S3",
            key.as_str(),
            "Standard storage".into(),
            b.stored_gb,
            "GB-month",
            b.stored_gb * p.s3_standard_per_gb_month,
        );
        line(
            "S3",
            key.as_str(),
            "PUT, COPY, POST, LIST requests".into(),
            b.puts as f64,
            "request",
            b.puts as f64 / 1000.0 * p.s3_per_1000_put_requests,
        );
        line(
            "S3",
            key.as_str(),
            "GET requests".into(),
            b.gets as f64,
            "request",
            b.gets as f64 / 1000.0 * p.s3_per_1000_get_requests,
        );
        stored_gb += b.stored_gb;
        puts += b.puts as f64;
        gets += b.gets as f64;
    }
    if model.log_bucket.is_some() {
        let gb = usage.log_bucket_stored_gb;
        line(
            "S3",
            LOG_BUCKET_KEY,
            "Standard storage (access logs, trail files)".into(),
            gb,
            "GB-month",
            gb * p.s3_standard_per_gb_month,
        );
        stored_gb += gb;
    }

    // What the templates contain: alarms, custom metrics, topics (priced in each stack's region).
    let (mut alarms, mut metrics) = (0.0, 0.0);
    let mut email_deliveries = 0.0;
    for synthesized in templates {
        let rp = prices_for(&synthesized.region)?;
        for resource in synthesized.template.resources.values() {
            let name = |key: &str| match resource.properties.get(key) {
                Some(Value::Str(s)) => s.clone(),
                _ => String::new(),
            };
            match resource.resource_type {
                "AWS::CloudWatch::Alarm" => {
                    line(
                        "CloudWatch",
                        &name("AlarmName"),
                        "standard alarm".into(),
                        1.0,
                        "alarm",
                        rp.cloudwatch_per_alarm_month,
                    );
                    alarms += 1.0;
                }
                "AWS::Logs::MetricFilter" => {
                    let metric = match resource.properties.get("MetricTransformations") {
                        Some(Value::List(items)) => match items.first() {
                            Some(Value::Map(m)) => match m.get("MetricName") {
                                Some(Value::Str(s)) => s.clone(),
                                _ => String::new(),
                            },
                            _ => String::new(),
                        },
                        _ => String::new(),
                    };
                    line(
                        "CloudWatch",
                        &metric,
                        "custom metric".into(),
                        1.0,
                        "metric",
                        rp.cloudwatch_per_custom_metric_month,
                    );
                    metrics += 1.0;
                }
                "AWS::SNS::Topic" => {
                    let subscribers = model.alerts.as_ref().map_or(0, |a| a.emails.len()) as f64;
                    // The billing topic hears about the bill at most a few times a month.
                    let notifications = if synthesized.region == model.region
                        && name("TopicName").ends_with("-alerts")
                    {
                        usage.alert_notifications as f64
                    } else {
                        1.0
                    };
                    let deliveries = notifications * subscribers;
                    line(
                        "SNS",
                        &name("TopicName"),
                        "email notifications".into(),
                        deliveries,
                        "email",
                        deliveries / 100_000.0 * rp.sns_per_100000_email_notifications,
                    );
                    email_deliveries += deliveries;
                }
                _ => {}
            }
        }
    }

    // API Gateway (REST).
    if model.api.is_some() {
        let requests = usage.api_requests as f64;
        line(
            "API Gateway",
            "api",
            "REST requests".into(),
            requests,
            "request",
            requests / 1e6 * p.api_gateway_rest_per_million_requests,
        );
    }

    // Secrets Manager: created secrets, and reads (the generated code caches a value for five
    // minutes, so one warm instance reads each secret at most 8,640 times a month).
    for (key, secret) in &model.secrets {
        if matches!(secret.source, crate::model::SecretSource::Created { .. }) {
            line(
                "Secrets Manager",
                key.as_str(),
                "secret".into(),
                1.0,
                "secret",
                p.secrets_manager_per_secret_month,
            );
        }
    }
    for (key, f) in &model.functions {
        if f.secrets.is_empty() {
            continue;
        }
        let reads = (usage.functions[key].invocations.min(8_640) * f.secrets.len() as u64) as f64;
        line(
            "Secrets Manager",
            key.as_str(),
            "GetSecretValue calls (5-minute cache)".into(),
            reads,
            "call",
            reads / 10_000.0 * p.secrets_manager_per_10000_api_calls,
        );
    }

    // CloudTrail.
    if let Some(audit) = &model.audit {
        match usage.trail_data_events {
            Some(events) => {
                line(
                    "CloudTrail",
                    "trail",
                    "S3 data events".into(),
                    events as f64,
                    "event",
                    events as f64 / 100_000.0 * p.cloudtrail_per_100000_data_events,
                );
            }
            None => {
                for bucket in &audit.buckets {
                    let b = usage.buckets[bucket];
                    let events = (b.puts + b.gets) as f64;
                    line(
                        "CloudTrail",
                        bucket.as_str(),
                        "S3 data events (its PUT + GET requests)".into(),
                        events,
                        "event",
                        events / 100_000.0 * p.cloudtrail_per_100000_data_events,
                    );
                    if events > 1_000_000.0 {
                        warnings.push(format!(
                            "auditing bucket `{bucket}` records {} data events a month ({}/month): a busy bucket multiplies this; audit fewer buckets if you can",
                            count(events),
                            money(events / 100_000.0 * p.cloudtrail_per_100000_data_events)
                        ));
                    }
                }
            }
        }
        if audit.management_events {
            line(
                "CloudTrail",
                "trail",
                "management events (the account's first copy is free)".into(),
                0.0,
                "event",
                0.0,
            );
            notes.push(format!(
                "management events are free only for the account's first trail copying them; if another trail already does, this one costs {} per 100,000",
                money(p.cloudtrail_per_100000_management_events_extra_copy)
            ));
        }
        if let Some(retention) = audit.cloudwatch_logs_retention {
            let gb = usage.trail_log_gb;
            let stored = gb * months_kept(retention);
            line(
                "CloudWatch",
                "trail",
                "log ingestion".into(),
                gb,
                "GB",
                gb * p.cloudwatch_logs_per_gb_ingested,
            );
            line(
                "CloudWatch",
                "trail",
                format!("log storage ({retention}-day retention)"),
                stored,
                "GB-month",
                stored * p.cloudwatch_logs_per_gb_month_stored,
            );
            logs_ingested += gb;
            logs_stored += stored;
        }
    }

    if usage.free_tier {
        let ft = &table.free_tier;
        let credit = |used: f64, free: f64, unit_price: f64| -(used.min(free)) * unit_price;
        let average_gbs_price = if gb_seconds > 0.0 {
            gb_seconds_usd / gb_seconds
        } else {
            0.0
        };
        let credits = [
            (
                "Lambda",
                "requests",
                credit(
                    requests,
                    ft.lambda_requests,
                    p.lambda_per_million_requests / 1e6,
                ),
            ),
            (
                "Lambda",
                "compute",
                credit(gb_seconds, ft.lambda_gb_seconds, average_gbs_price),
            ),
            (
                "S3",
                "storage",
                credit(stored_gb, ft.s3_storage_gb, p.s3_standard_per_gb_month),
            ),
            (
                "S3",
                "PUT requests",
                credit(
                    puts,
                    ft.s3_put_requests,
                    p.s3_per_1000_put_requests / 1000.0,
                ),
            ),
            (
                "S3",
                "GET requests",
                credit(
                    gets,
                    ft.s3_get_requests,
                    p.s3_per_1000_get_requests / 1000.0,
                ),
            ),
            (
                "CloudWatch",
                "alarms",
                credit(alarms, ft.cloudwatch_alarms, p.cloudwatch_per_alarm_month),
            ),
            (
                "CloudWatch",
                "custom metrics",
                credit(
                    metrics,
                    ft.cloudwatch_custom_metrics,
                    p.cloudwatch_per_custom_metric_month,
                ),
            ),
            (
                "CloudWatch",
                "log ingestion",
                credit(
                    logs_ingested,
                    ft.cloudwatch_logs_ingested_gb,
                    p.cloudwatch_logs_per_gb_ingested,
                ),
            ),
            (
                "CloudWatch",
                "log storage",
                credit(
                    logs_stored,
                    ft.cloudwatch_logs_stored_gb,
                    p.cloudwatch_logs_per_gb_month_stored,
                ),
            ),
            (
                "SNS",
                "email notifications",
                credit(
                    email_deliveries,
                    ft.sns_email_notifications,
                    p.sns_per_100000_email_notifications / 100_000.0,
                ),
            ),
        ];
        for (service, item, usd) in credits {
            if usd != 0.0 {
                line(
                    service,
                    "free tier",
                    format!("{item} allowance"),
                    0.0,
                    "",
                    usd,
                );
            }
        }
    }
    // Grouped by service, then resource; items keep their natural order.
    lines.sort_by(|a, b| {
        a.service
            .cmp(b.service)
            .then_with(|| a.resource.cmp(&b.resource))
    });
    let total_usd = lines.iter().map(|l| l.usd).sum::<f64>().max(0.0);
    Ok(Estimate {
        project: model.project.to_string(),
        region: model.region.clone(),
        currency: table.currency.clone(),
        prices_read_on: table.read_on.clone(),
        free_tier: usage.free_tier,
        lines,
        total_usd,
        warnings,
        notes,
    })
}

/// `$1,234.56`
pub fn money(usd: f64) -> String {
    let cents = (usd * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.abs();
    format!("{sign}${}.{:02}", count((cents / 100) as f64), cents % 100)
}

/// `1,234,567` for whole numbers, `12.5` otherwise.
pub fn count(n: f64) -> String {
    if n.fract() != 0.0 {
        let text = format!("{n:.3}");
        return text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    let digits = format!("{}", n as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Estimate {
    /// The estimate as an aligned text table.
    pub fn render(&self) -> String {
        let mut rows: Vec<[String; 5]> = vec![[
            "service".into(),
            "resource".into(),
            "item".into(),
            "quantity".into(),
            "per month".into(),
        ]];
        for l in &self.lines {
            let quantity = match l.unit {
                "" => String::new(),
                // Countable units read as plurals except for exactly one.
                "request" | "event" | "email" | "alarm" | "metric" | "secret" | "call"
                    if l.quantity != 1.0 =>
                {
                    format!("{} {}s", count(l.quantity), l.unit)
                }
                unit => format!("{} {unit}", count(l.quantity)),
            };
            rows.push([
                l.service.into(),
                l.resource.clone(),
                l.item.clone(),
                quantity,
                money(l.usd),
            ]);
        }
        let widths: Vec<usize> = (0..5)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Monthly estimate for {} in {} ({}, prices read {}; free tier {})",
            self.project,
            self.region,
            self.currency,
            self.prices_read_on,
            if self.free_tier {
                "applied"
            } else {
                "not applied"
            }
        );
        for row in &rows {
            let _ = writeln!(
                out,
                "  {:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4]
            );
        }
        let mut by_service: BTreeMap<&str, f64> = BTreeMap::new();
        for l in &self.lines {
            *by_service.entry(l.service).or_default() += l.usd;
        }
        let _ = writeln!(out);
        let width = by_service.keys().map(|s| s.len()).max().unwrap_or(5).max(5);
        for (service, usd) in &by_service {
            let _ = writeln!(out, "  {service:<width$} {:>12}", money(*usd));
        }
        let _ = writeln!(out, "  {:<width$} {:>12}", "total", money(self.total_usd));
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate_of(manifest: &str) -> Result<Estimate, CostError> {
        let model = crate::load(manifest).expect("valid manifest");
        let templates = crate::constructs::synthesize(&model).unwrap();
        estimate(&model, templates.stacks(), &PriceTable::builtin())
    }

    const SCENARIO: &str = "name: costcase
region: us-east-1
buckets:
  media: {}
functions:
  resize:
    memory: 512
    timeout: 10
    reads: [media]
    log_retention_days: 30
alerts:
  emails: [a@example.com, b@example.com]
usage:
  functions:
    resize: {invocations_per_month: 3000000, average_duration_ms: 250, log_gb_per_month: 2}
  buckets:
    media: {stored_gb: 100, put_requests_per_month: 50000, get_requests_per_month: 2000000}
  log_bucket_stored_gb: 4
  alert_notifications_per_month: 10
";

    fn usd(e: &Estimate, service: &str, resource: &str, item_prefix: &str) -> f64 {
        e.lines
            .iter()
            .find(|l| {
                l.service == service && l.resource == resource && l.item.starts_with(item_prefix)
            })
            .unwrap_or_else(|| panic!("no line {service} {resource} {item_prefix}"))
            .usd
    }

    #[test]
    fn builtin_prices_parse_and_cover_every_region_fully() {
        let table = PriceTable::builtin();
        assert!(table.regions.contains_key("us-east-1"));
        assert_eq!(table.currency, "USD");
        for (region, p) in &table.regions {
            assert!(
                p.lambda_per_million_requests > 0.0 && p.s3_standard_per_gb_month > 0.0,
                "{region}"
            );
        }
    }

    /// us-east-1 prices, from generator/data/prices.json (read 2026-11-24).
    #[test]
    fn hand_computed_scenario_matches_to_the_cent() {
        let e = estimate_of(SCENARIO).unwrap();
        let cents = |x: f64| (x * 100.0).round() / 100.0;
        // 3,000,000 requests / 1M × $0.20
        assert_eq!(cents(usd(&e, "Lambda", "resize", "requests")), 0.60);
        // 3,000,000 × 0.250 s × 0.5 GB = 375,000 GB-s × $0.0000166667 = $6.2500125
        assert_eq!(cents(usd(&e, "Lambda", "resize", "compute")), 6.25);
        // 2 GB ingested × $0.50; stored 2 GB × 30/30 months × $0.03
        assert_eq!(
            cents(usd(&e, "CloudWatch", "resize", "log ingestion")),
            1.00
        );
        assert_eq!(cents(usd(&e, "CloudWatch", "resize", "log storage")), 0.06);
        // 100 GB × $0.023; 50,000 / 1,000 × $0.005; 2,000,000 / 1,000 × $0.0004
        assert_eq!(cents(usd(&e, "S3", "media", "Standard storage")), 2.30);
        assert_eq!(cents(usd(&e, "S3", "media", "PUT")), 0.25);
        assert_eq!(cents(usd(&e, "S3", "media", "GET")), 0.80);
        // Log bucket: 4 GB × $0.023 = $0.092
        assert_eq!(cents(usd(&e, "S3", "logs", "Standard storage")), 0.09);
        // 2 alarms (errors, abnormal terminations) × $0.10; 1 custom metric × $0.30
        assert_eq!(
            e.lines
                .iter()
                .filter(|l| l.item == "standard alarm")
                .count(),
            2
        );
        assert_eq!(
            cents(usd(
                &e,
                "CloudWatch",
                "resize/AbnormalTerminations",
                "custom metric"
            )),
            0.30
        );
        // 10 notifications × 2 addresses = 20 emails / 100,000 × $2.00 = $0.0004
        assert_eq!(
            usd(&e, "SNS", "costcase-alerts", "email"),
            20.0 / 100_000.0 * 2.0
        );
        // 0.60 + 6.2500125 + 1.00 + 0.06 + 2.30 + 0.25 + 0.80 + 0.092 + 0.20 + 0.30 + 0.0004
        assert_eq!(money(e.total_usd), "$11.85");
        assert!((e.total_usd - 11.852_412_5).abs() < 1e-9, "{}", e.total_usd);
    }

    #[test]
    fn a_usage_change_moves_exactly_the_lines_it_drives() {
        let before = estimate_of(SCENARIO).unwrap();
        let after = estimate_of(&SCENARIO.replace(
            "invocations_per_month: 3000000",
            "invocations_per_month: 6000000",
        ))
        .unwrap();
        let changed: Vec<(&str, &str)> = before
            .lines
            .iter()
            .zip(&after.lines)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| (a.service, a.item.as_str()))
            .collect();
        assert_eq!(
            changed,
            [
                ("Lambda", "requests"),
                ("Lambda", "compute (512 MB, x86_64, 250 ms avg)")
            ]
        );
        assert_eq!(before.lines.len(), after.lines.len());
    }

    #[test]
    fn adding_a_function_adds_its_lines_and_changes_no_other() {
        let before = estimate_of(SCENARIO).unwrap();
        let with = SCENARIO.replace("alerts:", "  thumbs:\n    memory: 256\nalerts:");
        let after = estimate_of(&with).unwrap();
        let added: Vec<String> = after
            .lines
            .iter()
            .filter(|l| !before.lines.contains(l))
            .map(|l| format!("{} {} {}", l.service, l.resource, l.item))
            .collect();
        assert_eq!(
            added,
            [
                "CloudWatch costcase-thumbs-abnormal-terminations standard alarm",
                "CloudWatch costcase-thumbs-errors standard alarm",
                "CloudWatch thumbs log ingestion",
                "CloudWatch thumbs log storage (30-day retention)",
                "CloudWatch thumbs/AbnormalTerminations custom metric",
                "Lambda thumbs requests",
                "Lambda thumbs compute (256 MB, x86_64, 100 ms avg)",
            ]
        );
        assert!(
            before.lines.iter().all(|l| after.lines.contains(l)),
            "no existing line changes"
        );
    }

    #[test]
    fn free_tier_is_an_explicit_credit() {
        let off = estimate_of(SCENARIO).unwrap();
        let on = estimate_of(&format!("{SCENARIO}  free_tier: true\n")).unwrap();
        let credits: f64 = on
            .lines
            .iter()
            .filter(|l| l.resource == "free tier")
            .map(|l| l.usd)
            .sum();
        assert!(credits < 0.0);
        assert!((on.total_usd - (off.total_usd + credits)).abs() < 1e-9);
        // 1M free requests of 3M: $0.20 back.
        assert_eq!(usd(&on, "Lambda", "free tier", "requests"), -0.20);
    }

    #[test]
    fn unknown_region_lists_the_regions_with_prices() {
        let err = estimate_of(&SCENARIO.replace("us-east-1", "ap-south-1")).unwrap_err();
        let CostError::UnknownRegion { region, known } = err.clone();
        assert_eq!(region, "ap-south-1");
        assert!(known.contains(&"us-east-1".to_owned()));
        assert!(
            err.to_string()
                .starts_with("no prices for region `ap-south-1`; regions with prices: ")
        );
    }

    #[test]
    fn busy_audited_bucket_is_a_warned_cost_trap() {
        let manifest = format!("{SCENARIO}audit:\n  buckets: [media]\n");
        let e = estimate_of(&manifest).unwrap();
        // 50,000 + 2,000,000 events / 100,000 × $0.10
        assert!((usd(&e, "CloudTrail", "media", "S3 data events") - 2.05).abs() < 1e-9);
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("auditing bucket `media` records 2,050,000 data events")),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn money_and_counts_read_well() {
        assert_eq!(money(1234.567), "$1,234.57");
        assert_eq!(money(0.004), "$0.00");
        assert_eq!(money(-0.2), "-$0.20");
        assert_eq!(count(1_000_000.0), "1,000,000");
        assert_eq!(count(0.1), "0.1");
    }
}
