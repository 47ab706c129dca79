//! Free Tier allowances, as explicit negative lines against the app's monthly totals.

use super::{FreeTier, RegionPrices, Sheet};

/// Adds one credit line per allowance the app uses, priced at `p` (the app's region).
pub(super) fn credit(sheet: &mut Sheet, ft: &FreeTier, p: &RegionPrices) {
    let t = &sheet.totals;
    let credit = |used: f64, free: f64, unit_price: f64| -(used.min(free)) * unit_price;
    let average_gbs_price = if t.lambda_gb_seconds > 0.0 {
        t.lambda_gb_seconds_usd / t.lambda_gb_seconds
    } else {
        0.0
    };
    let credits = [
        (
            "Lambda",
            "requests",
            credit(
                t.lambda_requests,
                ft.lambda_requests,
                p.lambda_per_million_requests / 1e6,
            ),
        ),
        (
            "Lambda",
            "compute",
            credit(t.lambda_gb_seconds, ft.lambda_gb_seconds, average_gbs_price),
        ),
        (
            "S3",
            "storage",
            credit(t.s3_stored_gb, ft.s3_storage_gb, p.s3_standard_per_gb_month),
        ),
        (
            "S3",
            "PUT requests",
            credit(
                t.s3_puts,
                ft.s3_put_requests,
                p.s3_per_1000_put_requests / 1000.0,
            ),
        ),
        (
            "S3",
            "GET requests",
            credit(
                t.s3_gets,
                ft.s3_get_requests,
                p.s3_per_1000_get_requests / 1000.0,
            ),
        ),
        (
            "CloudWatch",
            "alarms",
            credit(t.alarms, ft.cloudwatch_alarms, p.cloudwatch_per_alarm_month),
        ),
        (
            "CloudWatch",
            "custom metrics",
            credit(
                t.metrics,
                ft.cloudwatch_custom_metrics,
                p.cloudwatch_per_custom_metric_month,
            ),
        ),
        (
            "CloudWatch",
            "log ingestion",
            credit(
                t.logs_ingested_gb,
                ft.cloudwatch_logs_ingested_gb,
                p.cloudwatch_logs_per_gb_ingested,
            ),
        ),
        (
            "CloudWatch",
            "log storage",
            credit(
                t.logs_stored_gb,
                ft.cloudwatch_logs_stored_gb,
                p.cloudwatch_logs_per_gb_month_stored,
            ),
        ),
        (
            "SNS",
            "email notifications",
            credit(
                t.email_deliveries,
                ft.sns_email_notifications,
                p.sns_per_100000_email_notifications / 100_000.0,
            ),
        ),
    ];
    for (service, item, usd) in credits {
        if usd != 0.0 {
            sheet.line(
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
