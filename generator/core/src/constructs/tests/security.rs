//! Security, logging and alerting: encryption, TLS, least privilege, alarms, audit, IAM.

use super::{example, synth};
use serde_json::{Value as J, json};

fn resource<'a>(t: &'a J, prefix: &str) -> &'a J {
    let (_, r) = t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no resource {prefix}*"));
    r
}

#[test]
fn function_error_alarm_fires_at_3_errors_in_5_minutes_and_emails() {
    let t = example();
    let alarm = &resource(&t, "FunctionTranscodeErrorsAlarm")["Properties"];
    assert_eq!(alarm["Namespace"], "AWS/Lambda");
    assert_eq!(alarm["MetricName"], "Errors");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "FunctionName", "Value": {"Ref": "FunctionTranscodeAE472074"}}])
    );
    assert_eq!(
        (
            alarm["Threshold"].as_i64(),
            alarm["Period"].as_i64(),
            alarm["EvaluationPeriods"].as_i64()
        ),
        (Some(3), Some(300), Some(1))
    );
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(alarm["TreatMissingData"], "notBreaching");
    assert_eq!(
        alarm["AlarmActions"],
        json!([{"Ref": "AlertsTopic9BD10FB4"}])
    );
    assert_eq!(alarm["OKActions"], alarm["AlarmActions"]);
}

#[test]
fn abnormal_terminations_are_counted_from_the_function_log_group() {
    let t = example();
    let filter = &resource(&t, "FunctionTranscodeAbnormalTerminationsFilter")["Properties"];
    assert_eq!(
        filter["LogGroupName"],
        json!({"Ref": "FunctionTranscodeLogGroupFE7A33B9"})
    );
    assert_eq!(
        filter["FilterPattern"],
        crate::constructs::alarms::ABNORMAL_TERMINATION_PATTERN
    );
    let transformation = &filter["MetricTransformations"][0];
    let alarm = &resource(&t, "FunctionTranscodeAbnormalTerminationsAlarm")["Properties"];
    assert_eq!(alarm["Namespace"], transformation["MetricNamespace"]);
    assert_eq!(alarm["MetricName"], transformation["MetricName"]);
}

#[test]
fn topic_policy_lets_only_this_accounts_alarms_publish() {
    let t = example();
    let statement =
        &resource(&t, "AlertsTopicPolicy")["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        statement["Principal"],
        json!({"Service": "cloudwatch.amazonaws.com"})
    );
    assert_eq!(statement["Action"], "sns:Publish");
    assert_eq!(
        statement["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    assert_eq!(
        statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    );
    assert!(
        resource(&t, "AlertsTopic9BD")["Properties"]
            .get("KmsMasterKeyId")
            .is_none()
    );
}

#[test]
fn trail_records_upload_data_events_into_the_log_bucket_after_its_policy() {
    let t = example();
    let trail = resource(&t, "AuditTrail");
    let p = &trail["Properties"];
    assert_eq!(p["EnableLogFileValidation"], true);
    assert_eq!(p["IsLogging"], true);
    assert_eq!(p["S3BucketName"], json!({"Ref": "LogsBucketEC8DE5BC"}));
    assert_eq!(trail["DependsOn"], json!(["LogsPolicy76E4CB11"]));
    let selectors = p["AdvancedEventSelectors"].as_array().unwrap();
    assert_eq!(selectors.len(), 2, "management + one data bucket");
    let arn = &selectors[1]["FieldSelectors"][2];
    assert_eq!(
        arn["StartsWith"][0]["Fn::Sub"],
        "arn:${AWS::Partition}:s3:::video24-upload-${AWS::AccountId}-${AWS::Region}/"
    );
    let text = p["AdvancedEventSelectors"].to_string();
    assert!(
        !text.contains("video24-logs"),
        "never the trail's own bucket"
    );
    // The log bucket lets exactly this trail in.
    let statements = resource(&t, "LogsPolicy")["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let write = statements
        .iter()
        .find(|s| s["Sid"] == "CloudTrailWrite")
        .unwrap();
    assert_eq!(
        write["Condition"]["StringEquals"]["s3:x-amz-acl"],
        "bucket-owner-full-control"
    );
    assert_eq!(
        write["Condition"]["StringEquals"]["aws:SourceArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/video24-audit"
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Sid"] == "CloudTrailAclCheck" && s["Action"] == "s3:GetBucketAcl")
    );
}

#[test]
fn groups_require_mfa_and_users_get_no_credentials() {
    let t = example();
    let mfa = &resource(&t, "IamRequireMfa")["Properties"];
    assert_eq!(
        mfa["Groups"],
        json!([{"Ref": "IamGroupDevelopers5B2EE23E"}, {"Ref": "IamGroupOpsE1ABBF9A"}])
    );
    let types: Vec<&str> = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|r| r["Type"].as_str())
        .collect();
    assert!(
        !types.contains(&"AWS::IAM::AccessKey")
            && !types.contains(&"AWS::IAM::UserToGroupAddition")
    );
    let alice = &resource(&t, "IamUserAlice")["Properties"];
    assert_eq!(
        alice["Groups"],
        json!([{"Ref": "IamGroupDevelopers5B2EE23E"}])
    );
    assert!(alice.get("LoginProfile").is_none());
    // The ops group is limited to the office network, AWS services acting for it excepted.
    let deny =
        &resource(&t, "IamGroupOps")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Condition"]["NotIpAddress"]["aws:SourceIp"],
        json!(["203.0.113.0/24"])
    );
    assert_eq!(deny["Condition"]["Bool"]["aws:ViaAWSService"], "false");
}

#[test]
fn billing_alarm_outside_us_east_1_gets_its_own_stack_and_topic() {
    let manifest = "name: demo\nregion: eu-west-1\nbuckets:\n  b: {}\nalerts:\n  emails: [a@example.com]\nbilling:\n  monthly_limit_usd: 75\n";
    let templates = synth(manifest);
    assert_eq!(templates.len(), 2);
    assert!(!templates[0].to_string().contains("AWS/Billing"));
    let billing = &templates[1];
    let alarm = &resource(billing, "BillingAlarm")["Properties"];
    assert_eq!(alarm["Namespace"], "AWS/Billing");
    assert_eq!(alarm["MetricName"], "EstimatedCharges");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "Currency", "Value": "USD"}])
    );
    assert_eq!(
        (alarm["Period"].as_i64(), alarm["Threshold"].as_i64()),
        (Some(21600), Some(75))
    );
    assert_eq!(alarm["AlarmActions"], json!([{"Ref": topic_id(billing)}]));
    assert!(
        resource(billing, "BillingAlertsSubscription")["Properties"]["Endpoint"] == "a@example.com"
    );
}

fn topic_id(t: &J) -> String {
    let resources = t["Resources"].as_object().unwrap();
    resources
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::SNS::Topic")
        .unwrap()
        .0
        .clone()
}
