//! Audit construct: a CloudTrail trail delivering to the project's log bucket under
//! `cloudtrail/`, with log file validation, S3 data events for chosen buckets (advanced event
//! selectors), management events on or off, and optional CloudWatch Logs delivery.

use super::policy::{PolicyLimit, PolicyRecord, regional_arn};
use super::{Stack, ids};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{LogicalId, Output, Pseudo, Resource, Sub, Value};
use crate::map;
use crate::model::AuditSpec;

/// Key prefix of the trail's files in the log bucket.
pub const TRAIL_PREFIX: &str = "cloudtrail";

fn trail_name(stack: &Stack) -> String {
    stack.model.naming.trail().into_string()
}

/// `arn:…:cloudtrail:<region>:<account>:trail/<name>`: known before the trail exists, so the
/// bucket policy can name it without a reference (which would be a cycle).
fn trail_arn(stack: &Stack) -> Sub {
    regional_arn("cloudtrail", &format!("trail/{}", trail_name(stack)))
}

/// What the log bucket's policy must allow CloudTrail (only this trail, by `aws:SourceArn`).
pub(crate) fn log_bucket_statements(stack: &Stack, bucket: &LogicalId) -> Vec<Statement> {
    let cloudtrail = || Principal::Service("cloudtrail.amazonaws.com".into());
    vec![
        Statement::allow(&["s3:GetBucketAcl"])
            .sid("CloudTrailAclCheck")
            .principal(cloudtrail())
            .resource(Value::get_att(bucket, "Arn"))
            .condition("StringEquals", "aws:SourceArn", trail_arn(stack)),
        Statement::allow(&["s3:PutObject"])
            .sid("CloudTrailWrite")
            .principal(cloudtrail())
            .resource(
                Sub::new()
                    .get_att(bucket, "Arn")
                    .lit(format!("/{TRAIL_PREFIX}/AWSLogs/"))
                    .pseudo(Pseudo::AccountId)
                    .lit("/*"),
            )
            .condition("StringEquals", "aws:SourceArn", trail_arn(stack))
            .condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
    ]
}

pub(crate) fn synthesize(stack: &mut Stack) {
    if let Some(audit) = &stack.model.audit {
        trail(stack, audit);
    }
}

fn trail(stack: &mut Stack, audit: &AuditSpec) {
    let name = trail_name(stack);
    let trail_id = LogicalId::from_path(&["audit", "Trail"]);
    let mut selectors = Vec::new();
    if audit.management_events {
        selectors.push(map! {
            "Name" => "Management events",
            "FieldSelectors" => vec![map! { "Field" => "eventCategory", "Equals" => vec!["Management"] }],
        });
    }
    for bucket in &audit.buckets {
        selectors.push(map! {
            "Name" => format!("S3 data events of {bucket}"),
            "FieldSelectors" => vec![
                map! { "Field" => "eventCategory", "Equals" => vec!["Data"] },
                map! { "Field" => "resources.type", "Equals" => vec!["AWS::S3::Object"] },
                // The trailing slash: objects of this bucket, not of `<name>-other`.
                map! { "Field" => "resources.ARN", "StartsWith" => vec![Value::from(stack.bucket_arn(bucket.as_str(), "/"))] },
            ],
        });
    }
    let mut trail = Resource::new("AWS::CloudTrail::Trail")
        .prop("TrailName", name.as_str())
        .prop("IsLogging", true)
        .prop("EnableLogFileValidation", true)
        .prop("S3BucketName", Value::reference(&ids::log_bucket()))
        .prop("S3KeyPrefix", TRAIL_PREFIX)
        // Management events matter in every region (and IAM's global ones).
        .prop("IsMultiRegionTrail", audit.management_events)
        .prop("IncludeGlobalServiceEvents", audit.management_events)
        .prop("AdvancedEventSelectors", Value::List(selectors))
        // CreateTrail checks the bucket policy: it must exist first.
        .depends_on(&ids::log_bucket_policy());
    let mut skips = vec![serde_json::json!({
        "id": "CKV_AWS_35",
        "comment": "Trail files are encrypted with SSE-S3 in the log bucket; a KMS key is not created by default"
    })];
    if !audit.management_events {
        skips.push(serde_json::json!({
            "id": "CKV_AWS_67",
            "comment": "audit.management_events is off: this trail records S3 data events of the app's buckets only"
        }));
    }
    if let Some(retention) = audit.cloudwatch_logs_retention {
        let group_id = LogicalId::from_path(&["audit", "LogGroup"]);
        let role_id = LogicalId::from_path(&["audit", "LogsRole"]);
        let group_name = stack.model.naming.trail_log_group().into_string();
        stack.add_log_group(&group_id, &group_name, retention);
        let trust = PolicyDocument::new(vec![
            Statement::allow(&["sts:AssumeRole"])
                .principal(Principal::Service("cloudtrail.amazonaws.com".into()))
                .condition("StringEquals", "aws:SourceArn", trail_arn(stack)),
        ]);
        let delivery = PolicyDocument::new(vec![
            Statement::allow(&["logs:CreateLogStream", "logs:PutLogEvents"])
                .sid("DeliverTrailEvents")
                .resource(Value::get_att(&group_id, "Arn")),
        ]);
        stack.template.add(
            role_id.clone(),
            Resource::new("AWS::IAM::Role")
                .prop("Description", format!("Lets the trail {name} write to its log group"))
                .prop("AssumeRolePolicyDocument", trust.to_value())
                .prop("Policies", vec![map! { "PolicyName" => "deliver-to-log-group", "PolicyDocument" => delivery.to_value() }]),
        );
        for (suffix, document, is_trust) in [
            ("trail-logs-trust", trust, true),
            ("trail-logs", delivery, false),
        ] {
            stack.record_policy(PolicyRecord {
                name: suffix.into(),
                manifest_path: "audit.cloudwatch_logs".into(),
                limit: if is_trust {
                    PolicyLimit::None
                } else {
                    PolicyLimit::RoleInline
                },
                trust: is_trust,
                document,
            });
        }
        trail = trail
            .prop(
                "CloudWatchLogsLogGroupArn",
                Value::get_att(&group_id, "Arn"),
            )
            .prop("CloudWatchLogsRoleArn", Value::get_att(&role_id, "Arn"));
    }
    if let Some(tags) = stack.tags() {
        trail = trail.prop("Tags", tags);
    }
    trail
        .metadata
        .insert("checkov".into(), serde_json::json!({ "skip": skips }));
    stack.template.add(trail_id.clone(), trail);
    stack.template.add_output(
        LogicalId::from_path(&["audit", "TrailArn"]),
        Output {
            description: "ARN of the audit trail".into(),
            value: Value::get_att(&trail_id, "Arn"),
        },
    );
}
