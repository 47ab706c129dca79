//! The estimate's tests: hand-computed prices, and that pricing follows the templates.

use super::*;
use crate::constructs::ids;

fn estimate_of(manifest: &str) -> Result<Estimate, CostError> {
    let model = crate::load(manifest).expect("valid manifest");
    let templates = crate::constructs::synthesize(&model).unwrap().into_stacks();
    estimate(&model, &templates, &PriceTable::builtin())
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
        .find(|l| l.service == service && l.resource == resource && l.item.starts_with(item_prefix))
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

/// Every manifest the repository keeps as valid, with the example (in its region and in one
/// where billing gets its own template).
fn manifests() -> Vec<(&'static str, String)> {
    let valid = [
        (
            "api_public",
            include_str!("../../../../tests/manifests/valid/api_public.yaml"),
        ),
        (
            "buckets_only",
            include_str!("../../../../tests/manifests/valid/buckets_only.yaml"),
        ),
        (
            "functions_without_buckets",
            include_str!("../../../../tests/manifests/valid/functions_without_buckets.yaml"),
        ),
        (
            "s3_triggers",
            include_str!("../../../../tests/manifests/valid/s3_triggers.yaml"),
        ),
        (
            "security_eu",
            include_str!("../../../../tests/manifests/valid/security_eu.yaml"),
        ),
    ];
    let mut all: Vec<(&str, String)> = valid.iter().map(|(n, m)| (*n, (*m).to_owned())).collect();
    all.push(("example", crate::example::unstaged()));
    all.push(("example (staged)", crate::example::MANIFEST.to_owned()));
    all.push((
        "example in eu-west-1",
        crate::example::unstaged().replace("region: us-east-1", "region: eu-west-1"),
    ));
    all.push(("scenario", SCENARIO.to_owned()));
    all
}

#[test]
fn every_resource_type_synthesized_is_priced_or_listed_free() {
    use super::price::{FREE, PRICED};
    let mut listed: Vec<&str> = PRICED.iter().map(|(t, _)| *t).collect();
    listed.extend(FREE.iter().map(|(t, _)| *t));
    let distinct: std::collections::BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(distinct.len(), listed.len(), "a type is listed twice");
    for (name, manifest) in manifests() {
        let model = crate::load(&manifest).expect(name);
        let templates = crate::constructs::synthesize(&model).unwrap().into_stacks();
        for synthesized in &templates {
            for (id, resource) in &synthesized.template.resources {
                assert!(
                    distinct.contains(resource.resource_type),
                    "{name}: {id} is a {} that is neither priced nor listed free",
                    resource.resource_type
                );
            }
        }
        // Nothing left out in silence either (where the region has prices).
        let table = PriceTable::builtin();
        if table.regions.contains_key(&model.region) {
            let e = estimate(&model, &templates, &table).unwrap();
            assert!(
                e.notes.iter().all(|n| !n.starts_with("not priced")),
                "{name}: {:?}",
                e.notes
            );
        }
    }
}

/// The templates of a manifest, changed by `edit` before they are priced.
fn estimate_edited(
    manifest: &str,
    edit: impl FnOnce(&mut [StackNode]),
) -> Result<Estimate, CostError> {
    let model = crate::load(manifest).expect("valid manifest");
    let mut templates = crate::constructs::synthesize(&model).unwrap().into_stacks();
    edit(&mut templates);
    estimate(&model, &templates, &PriceTable::builtin())
}

fn resources_of<'a>(
    s: &'a mut StackNode,
    resource_type: &str,
) -> impl Iterator<Item = &'a mut crate::cfn::Resource> {
    let resource_type = resource_type.to_owned();
    s.template
        .resources
        .values_mut()
        .filter(move |r| r.resource_type == resource_type)
}

fn line<'a>(e: &'a Estimate, service: &str, resource: &str) -> Vec<(&'a str, f64)> {
    e.lines
        .iter()
        .filter(|l| l.service == service && l.resource == resource)
        .map(|l| (l.item.as_str(), l.quantity))
        .collect()
}

#[test]
fn the_billing_topic_is_found_through_its_alarm_not_its_name() {
    // Outside us-east-1 the billing alarm has its own template and topic; the main topic gets
    // the function alarms. Neither topic's name says which is which any more.
    let manifest =
        SCENARIO.replace("us-east-1", "eu-west-1") + "billing:\n  monthly_limit_usd: 20\n";
    let e = estimate_edited(&manifest, |templates| {
        for (s, name) in templates.iter_mut().zip(["pager", "ops-alerts"]) {
            for topic in resources_of(s, "AWS::SNS::Topic") {
                topic.properties.insert("TopicName".into(), name.into());
            }
        }
    })
    .unwrap();
    // 10 alert notifications × 2 addresses; the bill: once a month × 2 addresses.
    assert_eq!(line(&e, "SNS", "pager"), [("email notifications", 20.0)]);
    assert_eq!(
        line(&e, "SNS", "ops-alerts"),
        [("email notifications", 2.0)]
    );
}

#[test]
fn function_and_log_lines_follow_the_template() {
    let resize = crate::model::Key::parse_generated("resize");
    let e = estimate_edited(SCENARIO, |templates| {
        let t = &mut templates[0].template.resources;
        let function = t.get_mut(&ids::function(&resize)).unwrap();
        function
            .properties
            .insert("MemorySize".into(), 2048u32.into());
        function
            .properties
            .insert("Architectures".into(), vec!["arm64"].into());
        let group = t.get_mut(&ids::function_log_group(&resize)).unwrap();
        group
            .properties
            .insert("RetentionInDays".into(), 90u32.into());
    })
    .unwrap();
    assert_eq!(
        line(&e, "Lambda", "resize"),
        [
            ("requests", 3_000_000.0),
            ("compute (2048 MB, arm64, 250 ms avg)", 1_500_000.0)
        ]
    );
    assert_eq!(
        line(&e, "CloudWatch", "resize"),
        [
            ("log ingestion", 2.0),
            ("log storage (90-day retention)", 6.0)
        ]
    );

    // The log group is the function's because the function logs into it: without that
    // reference it stands for nothing, and says so.
    let e = estimate_edited(SCENARIO, |templates| {
        let t = &mut templates[0].template.resources;
        let function = t.get_mut(&ids::function(&resize)).unwrap();
        function.properties.remove("LoggingConfig");
    })
    .unwrap();
    assert!(line(&e, "CloudWatch", "resize").is_empty());
    let group = ids::function_log_group(&resize);
    assert_eq!(
        e.notes,
        [format!(
            "not priced: {group} (AWS::Logs::LogGroup): no manifest key with usage assumptions stands for it"
        )]
    );
}

#[test]
fn a_resource_type_without_a_price_is_a_visible_gap() {
    let e = estimate_edited(SCENARIO, |templates| {
        templates[0].template.resources.insert(
            crate::cfn::LogicalId::from_raw("Stream"),
            crate::cfn::Resource::new("AWS::Kinesis::Stream"),
        );
    })
    .unwrap();
    assert_eq!(
        e.notes,
        ["not priced: Stream (AWS::Kinesis::Stream): stackgen has no price for this resource type"]
    );
    assert_eq!(e.total_usd, estimate_of(SCENARIO).unwrap().total_usd);
}

#[test]
fn a_topics_emails_come_from_the_alarms_that_notify_it() {
    // No function: the billing alarm is the only alarm. In us-east-1 it notifies the alerts
    // topic; elsewhere its own topic, and the alerts topic hears from no alarm at all.
    let manifest = "name: bill\nregion: us-east-1\nbuckets:\n  b: {}\nalerts:\n  emails: [a@example.com, b@example.com]\nbilling:\n  monthly_limit_usd: 20\n";
    let e = estimate_of(manifest).unwrap();
    assert_eq!(
        line(&e, "SNS", "bill-alerts"),
        [("email notifications", 2.0)]
    );
    let e = estimate_of(&manifest.replace("us-east-1", "eu-west-1")).unwrap();
    assert_eq!(
        line(&e, "SNS", "bill-alerts"),
        [("email notifications", 0.0)]
    );
    assert_eq!(
        line(&e, "SNS", "bill-billing-alerts"),
        [("email notifications", 2.0)]
    );
}

#[test]
fn a_trail_without_data_selectors_records_no_data_events() {
    let audit = "audit:\n  management_events: true\n";
    let with_figure = format!("{SCENARIO}  trail_data_events_per_month: 500000\n{audit}");
    let e = estimate_of(&with_figure).unwrap();
    assert_eq!(
        line(&e, "CloudTrail", "trail"),
        [("management events (the account's first copy is free)", 0.0)]
    );
    // With a data selector the figure is the whole trail's.
    let audited = with_figure.replace(
        audit,
        "audit:\n  buckets: [media]\n  management_events: false\n",
    );
    let e = estimate_of(&audited).unwrap();
    assert_eq!(
        line(&e, "CloudTrail", "trail"),
        [("S3 data events", 500_000.0)]
    );
}

#[test]
fn a_table_pays_for_requests_or_capacity_storage_and_backups() {
    let manifest = "name: shop\nregion: us-east-1\ntables:\n  orders:\n    partition_key: {name: id, type: string}\n    indexes:\n      by-status:\n        partition_key: {name: status, type: string}\n  scratch:\n    partition_key: {name: id, type: string}\n    billing: {provisioned: {read: 10, write: 4}}\n    point_in_time_recovery: false\nusage:\n  tables:\n    orders:\n      stored_gb: 10\n      reads_per_month: 2000000\n      writes_per_month: 100000\n";
    let e = estimate_of(manifest).unwrap();
    // us-east-1: $0.125 per million reads, $0.625 per million writes (each also writes the
    // index), $0.25 and $0.20 per GB-month of storage and backups.
    assert_eq!(
        line(&e, "DynamoDB", "orders"),
        [
            ("on-demand reads", 2_000_000.0),
            ("on-demand writes (each also writes its index)", 200_000.0),
            ("storage", 10.0),
            ("point-in-time recovery", 10.0),
        ]
    );
    // 730 hours of 10 RCU and 4 WCU; the default 1 GB stored; no backups.
    assert_eq!(
        line(&e, "DynamoDB", "scratch"),
        [
            ("provisioned reads (10 RCU)", 7300.0),
            ("provisioned writes (4 WCU)", 2920.0),
            ("storage", 1.0),
        ]
    );
    let dynamodb: f64 = e
        .lines
        .iter()
        .filter(|l| l.service == "DynamoDB")
        .map(|l| l.usd)
        .sum();
    let expected = 2.0 * 0.125
        + 0.2 * 0.625
        + 10.0 * 0.25
        + 10.0 * 0.20
        + 7300.0 * 0.00013
        + 2920.0 * 0.00065
        + 0.25;
    assert!(
        (dynamodb - expected).abs() < 1e-9,
        "{dynamodb} vs {expected}"
    );
}
