//! One pricing function per resource type. Every type a template can hold is either priced
//! here ([`PRICED`]) or listed in [`FREE`] with the reason it costs nothing; any other type is
//! reported as not priced, never skipped in silence.

use super::graph::{Graph, Subject, at, field, int, list, text};
use super::render::{count, money};
use super::{RegionPrices, Sheet};
use crate::cfn::{LogicalId, Resource, Value};
use crate::model::UsageSpec;

/// How the estimate names the trail (`audit`) and the REST API (`api`).
const TRAIL: &str = "trail";
const API: &str = "api";

/// What a pricing function reads: the template's references, the manifest's usage
/// assumptions, and the prices of the template's region.
pub(super) struct Cx<'a> {
    pub graph: &'a Graph<'a>,
    pub usage: &'a UsageSpec,
    pub prices: &'a RegionPrices,
}

type Price = fn(&Cx, &LogicalId, &Resource, &mut Sheet);

/// The priced types, in the order they are priced: secrets before the functions reading them
/// and function logs before the trail's, so equal lines and warnings read in manifest order.
pub(super) const PRICED: &[(&str, Price)] = &[
    ("AWS::SecretsManager::Secret", secret),
    ("AWS::Lambda::Function", function),
    ("AWS::Logs::LogGroup", log_group),
    ("AWS::S3::Bucket", bucket),
    ("AWS::DynamoDB::Table", table),
    ("AWS::CloudWatch::Alarm", alarm),
    ("AWS::Logs::MetricFilter", metric_filter),
    ("AWS::SNS::Topic", topic),
    ("AWS::ApiGateway::RestApi", rest_api),
    ("AWS::CloudTrail::Trail", trail),
];

/// Types that cost nothing by themselves, and why.
pub(super) const FREE: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "IAM is free"),
    ("AWS::IAM::Group", "IAM is free"),
    ("AWS::IAM::User", "IAM is free"),
    ("AWS::IAM::ManagedPolicy", "IAM is free"),
    (
        "AWS::Lambda::Permission",
        "part of the function's resource policy",
    ),
    ("AWS::S3::BucketPolicy", "part of the bucket"),
    (
        "AWS::Lambda::EventSourceMapping",
        "Lambda's reads of a DynamoDB stream are free; its invocations are priced on the function",
    ),
    (
        "AWS::CloudFront::Distribution",
        "no monthly charge; its always-free tier covers 1 TB out and 10 million requests a month (a busier site pays per GB and request, not estimated)",
    ),
    (
        "AWS::CloudFront::OriginAccessControl",
        "part of the distribution",
    ),
    (
        "AWS::CloudFront::ResponseHeadersPolicy",
        "part of the distribution",
    ),
    ("AWS::SNS::TopicPolicy", "part of the topic"),
    (
        "AWS::SNS::Subscription",
        "its deliveries are priced on its topic",
    ),
    (
        "AWS::ApiGateway::Resource",
        "requests are priced on the REST API",
    ),
    (
        "AWS::ApiGateway::Method",
        "requests are priced on the REST API",
    ),
    (
        "AWS::ApiGateway::Authorizer",
        "its invocations are priced on its function",
    ),
    (
        "AWS::ApiGateway::Deployment",
        "requests are priced on the REST API",
    ),
    (
        "AWS::ApiGateway::Stage",
        "requests are priced on the REST API",
    ),
    (
        "AWS::ApiGateway::GatewayResponse",
        "requests are priced on the REST API",
    ),
    (
        "AWS::SQS::Queue",
        "a dead-letter queue: no requests until an event has failed every retry",
    ),
];

/// Prices every resource of one template.
pub(super) fn template(cx: &Cx, sheet: &mut Sheet) {
    for (resource_type, price) in PRICED {
        for (id, resource) in cx.graph.of_type(resource_type) {
            price(cx, id, resource, sheet);
        }
    }
    for (id, resource) in &cx.graph.template.resources {
        let t = resource.resource_type;
        if !PRICED.iter().any(|(p, _)| *p == t) && !FREE.iter().any(|(f, _)| *f == t) {
            sheet.unpriced(id, resource, "stackgen has no price for this resource type");
        }
    }
}

/// What a generated site with its vendored bundles stores, rounded up.
const SITE_STORED_GB: f64 = 0.01;

const NO_USAGE: &str = "no manifest key with usage assumptions stands for it";

/// A secret created in the template: the monthly charge per secret.
fn secret(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let Some(Subject::Secret(key)) = cx.graph.subject(id) else {
        return sheet.unpriced(id, resource, NO_USAGE);
    };
    let usd = cx.prices.secrets_manager_per_secret_month;
    sheet.line(
        "Secrets Manager",
        key.as_str(),
        "secret",
        1.0,
        "secret",
        usd,
    );
}

/// Requests and compute at the template's memory and architecture, and reads of the secrets
/// its role may read (the generated code caches a value for five minutes, so one warm
/// instance reads each secret at most 8,640 times a month).
fn function(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let Some(Subject::Function(key)) = cx.graph.subject(id) else {
        return sheet.unpriced(id, resource, NO_USAGE);
    };
    let Some(u) = cx.usage.functions.get(key) else {
        return sheet.unpriced(id, resource, NO_USAGE);
    };
    let p = cx.prices;
    // Lambda's defaults when the template leaves them out.
    let memory_mb = int(at(resource, &["MemorySize"])).unwrap_or(128);
    let arch = text(list(at(resource, &["Architectures"])).first()).unwrap_or("x86_64");
    let per_gbs = match arch {
        "arm64" => p.lambda_per_gb_second_arm64,
        _ => p.lambda_per_gb_second_x86_64,
    };
    let invocations = u.invocations as f64;
    let seconds = invocations * u.duration_ms as f64 / 1000.0;
    let gbs = seconds * memory_mb as f64 / 1024.0;
    let requests_usd = invocations / 1e6 * p.lambda_per_million_requests;
    sheet.line(
        "Lambda",
        key.as_str(),
        "requests",
        invocations,
        "request",
        requests_usd,
    );
    let compute = format!("compute ({memory_mb} MB, {arch}, {} ms avg)", u.duration_ms);
    sheet.line("Lambda", key.as_str(), compute, gbs, "GB-s", gbs * per_gbs);
    let t = &mut sheet.totals;
    t.lambda_requests += invocations;
    t.lambda_gb_seconds += gbs;
    t.lambda_gb_seconds_usd += gbs * per_gbs;

    let secrets = cx.graph.secrets_read_by(resource);
    if secrets > 0 {
        let reads = (u.invocations.min(8_640) * secrets as u64) as f64;
        let usd = reads / 10_000.0 * p.secrets_manager_per_10000_api_calls;
        let item = "GetSecretValue calls (5-minute cache)";
        sheet.line("Secrets Manager", key.as_str(), item, reads, "call", usd);
    }
}

/// Ingestion and steady-state storage at the group's retention, with the usage of whatever
/// writes into it.
fn log_group(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let Some(retention) =
        int(at(resource, &["RetentionInDays"])).and_then(|d| u32::try_from(d).ok())
    else {
        return sheet.unpriced(id, resource, "no retention: stored logs grow without bound");
    };
    let subject = cx.graph.subject(id);
    let (name, gb) = match subject {
        Some(Subject::Function(key)) => match cx.usage.functions.get(key) {
            Some(u) => (key.as_str(), u.log_gb),
            None => return sheet.unpriced(id, resource, NO_USAGE),
        },
        Some(Subject::Trail) => (TRAIL, cx.usage.trail_log_gb),
        // The manifest has no usage figure for access logs: not priced (yet).
        Some(Subject::Api) => return,
        _ => return sheet.unpriced(id, resource, NO_USAGE),
    };
    let p = cx.prices;
    let stored = gb * months_kept(retention);
    let stored_usd = stored * p.cloudwatch_logs_per_gb_month_stored;
    let ingested_usd = gb * p.cloudwatch_logs_per_gb_ingested;
    sheet.line("CloudWatch", name, "log ingestion", gb, "GB", ingested_usd);
    let item = format!("log storage ({retention}-day retention)");
    sheet.line("CloudWatch", name, item, stored, "GB-month", stored_usd);
    sheet.totals.logs_ingested_gb += gb;
    sheet.totals.logs_stored_gb += stored;
    if retention > 365 && matches!(subject, Some(Subject::Function(_))) {
        sheet.warnings.push(format!(
            "function `{name}` keeps logs {retention} days: stored logs grow to {stored:.1} GB ({}/month) at steady state",
            money(stored_usd)
        ));
    }
}

/// Hours in AWS's billing month.
const HOURS_PER_MONTH: f64 = 730.0;

/// A table: requests (on demand: each write also writes every global secondary index) or
/// provisioned capacity by the hour, storage, and continuous backups of that storage.
fn table(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let Some(Subject::Table(key)) = cx.graph.subject(id) else {
        return sheet.unpriced(id, resource, NO_USAGE);
    };
    let Some(u) = cx.usage.tables.get(key) else {
        return sheet.unpriced(id, resource, NO_USAGE);
    };
    let p = cx.prices;
    let name = key.as_str();
    let indexes = list(at(resource, &["GlobalSecondaryIndexes"]));
    if text(at(resource, &["BillingMode"])) == Some("PROVISIONED") {
        let capacity = |what: &str| {
            let own = int(at(resource, &["ProvisionedThroughput", what])).unwrap_or(0);
            let of_indexes: i64 = indexes
                .iter()
                .filter_map(|index| int(field(field(Some(index), "ProvisionedThroughput"), what)))
                .sum();
            (own + of_indexes) as f64
        };
        let (rcu, wcu) = (
            capacity("ReadCapacityUnits"),
            capacity("WriteCapacityUnits"),
        );
        let rcu_hours = rcu * HOURS_PER_MONTH;
        let wcu_hours = wcu * HOURS_PER_MONTH;
        let with = if indexes.is_empty() {
            ""
        } else {
            ", with indexes"
        };
        let item = format!("provisioned reads ({rcu} RCU{with})");
        let usd = rcu_hours * p.dynamodb_per_rcu_hour;
        sheet.line("DynamoDB", name, item, rcu_hours, "RCU-hour", usd);
        let item = format!("provisioned writes ({wcu} WCU{with})");
        let usd = wcu_hours * p.dynamodb_per_wcu_hour;
        sheet.line("DynamoDB", name, item, wcu_hours, "WCU-hour", usd);
    } else {
        let reads = u.reads as f64;
        let usd = reads / 1e6 * p.dynamodb_per_million_read_request_units;
        sheet.line("DynamoDB", name, "on-demand reads", reads, "request", usd);
        let writes = u.writes as f64 * (1 + indexes.len()) as f64;
        let item = if indexes.is_empty() {
            "on-demand writes".to_owned()
        } else {
            match indexes.len() {
                1 => "on-demand writes (each also writes its index)".to_owned(),
                n => format!("on-demand writes (each also writes its {n} indexes)"),
            }
        };
        let usd = writes / 1e6 * p.dynamodb_per_million_write_request_units;
        sheet.line("DynamoDB", name, item, writes, "request", usd);
    }
    let gb = u.stored_gb;
    let usd = gb * p.dynamodb_per_gb_month_stored;
    sheet.line("DynamoDB", name, "storage", gb, "GB-month", usd);
    let pitr = at(
        resource,
        &[
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ],
    );
    if matches!(pitr, Some(Value::Bool(true))) {
        let usd = gb * p.dynamodb_pitr_per_gb_month;
        let item = "point-in-time recovery";
        sheet.line("DynamoDB", name, item, gb, "GB-month", usd);
    }
}

/// CloudWatch Logs keeps log data this many months at steady state.
fn months_kept(retention_days: u32) -> f64 {
    f64::from(retention_days) / 30.0
}

/// Storage and requests of a data bucket; storage of the log bucket.
fn bucket(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let p = cx.prices;
    match cx.graph.subject(id) {
        Some(Subject::Bucket(key)) => {
            let Some(b) = cx.usage.buckets.get(key) else {
                return sheet.unpriced(id, resource, NO_USAGE);
            };
            let (puts, gets) = (b.puts as f64, b.gets as f64);
            let key = key.as_str();
            let storage_usd = b.stored_gb * p.s3_standard_per_gb_month;
            sheet.line(
                "S3",
                key,
                "Standard storage",
                b.stored_gb,
                "GB-month",
                storage_usd,
            );
            let puts_usd = puts / 1000.0 * p.s3_per_1000_put_requests;
            let item = "PUT, COPY, POST, LIST requests";
            sheet.line("S3", key, item, puts, "request", puts_usd);
            let gets_usd = gets / 1000.0 * p.s3_per_1000_get_requests;
            sheet.line("S3", key, "GET requests", gets, "request", gets_usd);
            sheet.totals.s3_stored_gb += b.stored_gb;
            sheet.totals.s3_puts += puts;
            sheet.totals.s3_gets += gets;
        }
        Some(Subject::SiteBucket) => {
            // A static site's files; CloudFront's cache answers most requests.
            let gb = SITE_STORED_GB;
            let usd = gb * p.s3_standard_per_gb_month;
            let item = "Standard storage (the site's files, about 10 MB)";
            sheet.line("S3", "site", item, gb, "GB-month", usd);
            sheet.totals.s3_stored_gb += gb;
        }
        Some(Subject::LogBucket) => {
            let gb = cx.usage.log_bucket_stored_gb;
            let item = "Standard storage (access logs, trail files)";
            let usd = gb * p.s3_standard_per_gb_month;
            sheet.line(
                "S3",
                crate::model::LOG_BUCKET_KEY,
                item,
                gb,
                "GB-month",
                usd,
            );
            sheet.totals.s3_stored_gb += gb;
        }
        _ => sheet.unpriced(id, resource, NO_USAGE),
    }
}

fn alarm(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let name = text(at(resource, &["AlarmName"])).unwrap_or(id.as_str());
    let usd = cx.prices.cloudwatch_per_alarm_month;
    sheet.line("CloudWatch", name, "standard alarm", 1.0, "alarm", usd);
    sheet.totals.alarms += 1.0;
}

/// Each metric the filter publishes is a custom metric.
fn metric_filter(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    for metric in list(at(resource, &["MetricTransformations"])) {
        let name = text(field(Some(metric), "MetricName")).unwrap_or(id.as_str());
        let usd = cx.prices.cloudwatch_per_custom_metric_month;
        sheet.line("CloudWatch", name, "custom metric", 1.0, "metric", usd);
        sheet.totals.metrics += 1.0;
    }
}

/// Emails: its email subscriptions × the notifications of the alarms whose actions name it.
/// The app's alarms together send the manifest's figure; a topic only the billing alarm
/// notifies hears about the bill at most a few times a month; no alarm, no notification.
fn topic(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let alarms = cx.graph.alarms_notifying(id);
    let notifications = if alarms.is_empty() {
        0.0
    } else if alarms.iter().all(|&billing| billing) {
        1.0
    } else {
        cx.usage.alert_notifications as f64
    };
    let deliveries = notifications * cx.graph.email_subscriptions(id) as f64;
    let name = text(at(resource, &["TopicName"])).unwrap_or(id.as_str());
    let usd = deliveries / 100_000.0 * cx.prices.sns_per_100000_email_notifications;
    sheet.line("SNS", name, "email notifications", deliveries, "email", usd);
    sheet.totals.email_deliveries += deliveries;
}

fn rest_api(cx: &Cx, _: &LogicalId, _: &Resource, sheet: &mut Sheet) {
    let requests = cx.usage.api_requests as f64;
    let usd = requests / 1e6 * cx.prices.api_gateway_rest_per_million_requests;
    sheet.line(
        "API Gateway",
        API,
        "REST requests",
        requests,
        "request",
        usd,
    );
}

/// Data events of the buckets its selectors cover (their requests, or the manifest's figure
/// for the whole trail, if it records any), and management events when a selector records them.
fn trail(cx: &Cx, id: &LogicalId, resource: &Resource, sheet: &mut Sheet) {
    let p = cx.prices;
    let selectors = list(at(resource, &["AdvancedEventSelectors"]));
    let records_data = selectors.iter().any(|s| !s3_object_prefixes(s).is_empty());
    match cx.usage.trail_data_events {
        Some(_) if !records_data => {}
        Some(events) => {
            let events = events as f64;
            let usd = events / 100_000.0 * p.cloudtrail_per_100000_data_events;
            sheet.line("CloudTrail", TRAIL, "S3 data events", events, "event", usd);
        }
        None => {
            for prefix in selectors.iter().flat_map(s3_object_prefixes) {
                let bucket = cx.graph.bucket_with_objects(prefix);
                let usage = match bucket.and_then(|b| cx.graph.subject(b)) {
                    Some(Subject::Bucket(key)) => cx.usage.buckets.get(key).map(|b| (key, b)),
                    _ => None,
                };
                let Some((key, b)) = usage else {
                    sheet.unpriced(
                        id,
                        resource,
                        "a selector covers objects of no bucket of the app",
                    );
                    continue;
                };
                // Every request to an audited bucket's objects is a data event.
                let events = (b.puts + b.gets) as f64;
                let usd = events / 100_000.0 * p.cloudtrail_per_100000_data_events;
                let item = "S3 data events (its PUT + GET requests)";
                sheet.line("CloudTrail", key.as_str(), item, events, "event", usd);
                if events > 1_000_000.0 {
                    sheet.warnings.push(format!(
                        "auditing bucket `{key}` records {} data events a month ({}/month): a busy bucket multiplies this; audit fewer buckets if you can",
                        count(events),
                        money(usd)
                    ));
                }
            }
        }
    }
    if selectors
        .iter()
        .any(|s| selects(s, "eventCategory", "Equals", "Management"))
    {
        let item = "management events (the account's first copy is free)";
        sheet.line("CloudTrail", TRAIL, item, 0.0, "event", 0.0);
        sheet.notes.push(format!(
            "management events are free only for the account's first trail copying them; if another trail already does, this one costs {} per 100,000",
            money(p.cloudtrail_per_100000_management_events_extra_copy)
        ));
    }
}

/// The object ARN prefixes of an S3 data event selector (none for any other selector).
fn s3_object_prefixes(selector: &Value) -> &[Value] {
    if selects(selector, "eventCategory", "Equals", "Data")
        && selects(selector, "resources.type", "Equals", "AWS::S3::Object")
    {
        field_selector(selector, "resources.ARN", "StartsWith")
    } else {
        &[]
    }
}

/// True when the selector's `field` condition `operator` lists `value`.
fn selects(selector: &Value, name: &str, operator: &str, value: &str) -> bool {
    field_selector(selector, name, operator)
        .iter()
        .any(|v| text(Some(v)) == Some(value))
}

/// The values of one field condition of an advanced event selector.
fn field_selector<'v>(selector: &'v Value, name: &str, operator: &str) -> &'v [Value] {
    list(field(Some(selector), "FieldSelectors"))
        .iter()
        .find(|f| text(field(Some(f), "Field")) == Some(name))
        .map_or(&[], |f| list(field(Some(f), operator)))
}
