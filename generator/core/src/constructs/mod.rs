//! Constructs: one module per concept (bucket, function, …). Each turns part of the validated
//! model into resources of one template, with IDs derived from manifest keys.

mod alarms;
mod alerts;
mod api;
mod audit;
mod billing;
mod bucket;
mod checkov;
pub(crate) mod function;
mod iam;
pub mod policy;
pub(crate) mod secrets;
pub mod toolkit;

use std::collections::BTreeMap;

use crate::cfn::{
    LogicalId, Parameter, ParameterType, RemovalPolicy, Resource, Sub, Template, TemplateError,
    Value,
};
use crate::graph::{StackGraph, StackNode, StackRole};
use crate::model::{BucketName, Key, LOG_BUCKET_KEY, Model};
use crate::naming::Naming;
use policy::PolicyRecord;

/// Where the main template goes, and the us-east-1 billing template when the app lives
/// elsewhere (billing metrics exist only in us-east-1).
pub const MAIN_TEMPLATE: &str = "infra/template.json";
pub const BILLING_TEMPLATE: &str = "infra/billing-us-east-1.template.json";

/// Builds every template of the app from the model.
pub fn synthesize(model: &Model) -> Result<StackGraph, TemplateError> {
    let mut stack = Stack::new(model, model.description.clone(), &model.region);
    if !model.functions.is_empty() {
        stack.template.add_parameter(
            ids::assets_bucket(),
            Parameter {
                parameter_type: ParameterType::String,
                description: "S3 bucket holding the functions' code (gen deploy sets it)".into(),
                allowed_pattern: Some("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$".into()),
                constraint_description: Some("an S3 bucket name".into()),
            },
        );
    }
    if let Some(log_bucket) = &model.log_bucket {
        bucket::log_bucket(&mut stack, log_bucket);
    }
    for (key, spec) in &model.buckets {
        bucket::bucket(&mut stack, key, spec);
    }
    if let Some(alerts) = &model.alerts {
        alerts::alerts(&mut stack, alerts, "alerts");
    }
    for (key, spec) in &model.secrets {
        secrets::secret(&mut stack, key, spec);
    }
    for (key, spec) in &model.functions {
        function::function(&mut stack, key, spec);
        alarms::function_alarms(&mut stack, key, spec);
    }
    if let Some(spec) = &model.api {
        api::api(&mut stack, spec, model.auth.as_ref());
    }
    if let Some(audit) = &model.audit {
        audit::trail(&mut stack, audit);
    }
    iam::identities(&mut stack, &model.iam);
    let mut stacks = Vec::new();
    if let Some(billing) = &model.billing {
        if model.region == "us-east-1" {
            billing::alarm(&mut stack, billing);
        } else {
            stacks.push(billing::separate_stack(model, billing));
        }
    }
    stacks.push(stack.finish(StackRole::App, MAIN_TEMPLATE));
    StackGraph::new(stacks)
}

/// What constructs share while building one template.
pub(crate) struct Stack<'a> {
    pub model: &'a Model,
    pub template: Template,
    pub region: String,
    pub policies: Vec<PolicyRecord>,
    pub known: BTreeMap<String, Sub>,
}

impl<'a> Stack<'a> {
    pub fn new(model: &'a Model, description: String, region: &str) -> Stack<'a> {
        Stack {
            model,
            template: Template::new(description),
            region: region.to_owned(),
            policies: Vec::new(),
            known: BTreeMap::new(),
        }
    }

    /// The stack's node in the graph (which links and checks it).
    pub fn finish(self, role: StackRole, path: &str) -> StackNode {
        StackNode {
            name: self.model.naming.stack(role.clone()).into_string(),
            role,
            region: self.region,
            template_path: path.to_owned(),
            template: self.template,
            policies: self.policies,
            known: self.known,
        }
    }

    /// The app's naming rule (every physical name comes from it), borrowed from the model
    /// rather than from the stack under construction.
    pub fn naming(&self) -> &'a Naming {
        &self.model.naming
    }

    /// Records what `Ref id` (attribute None) or `GetAtt id.attr` stands for.
    pub fn know(&mut self, id: &LogicalId, attribute: Option<&str>, value: Sub) {
        let key = match attribute {
            Some(attribute) => format!("{id}.{attribute}"),
            None => id.to_string(),
        };
        self.known.insert(key, value);
    }

    /// A log group with a retention, kept when the stack goes (logs are evidence), tagged,
    /// and known by name and ARN for standalone policies.
    pub fn add_log_group(&mut self, id: &LogicalId, name: &str, retention_days: u32) {
        let mut group = Resource::new("AWS::Logs::LogGroup")
            .prop("LogGroupName", name)
            .prop("RetentionInDays", retention_days)
            .removal(RemovalPolicy::Retain);
        if let Some(tags) = self.tags() {
            group = group.prop("Tags", tags);
        }
        group.metadata.insert(
            "checkov".into(),
            checkov::skip(&[(
                "CKV_AWS_158",
                "CloudWatch Logs encrypts log data at rest by default; a customer KMS key is opt-in",
            )]),
        );
        self.template.add(id.clone(), group);
        self.know(id, None, Sub::new().lit(name));
        self.know(
            id,
            Some("Arn"),
            policy::regional_arn("logs", &format!("log-group:{name}:*")),
        );
    }

    /// The alarm with alarm and OK actions to the alerts topic, when the app has one.
    pub fn notify(&self, alarm: Resource) -> Resource {
        if self.model.alerts.is_none() {
            return alarm;
        }
        let topic = Value::reference(&ids::alerts_topic());
        alarm
            .prop("AlarmActions", vec![topic.clone()])
            .prop("OKActions", vec![topic])
    }

    /// Records a policy document for `policies/` and the size check.
    pub fn record_policy(&mut self, record: PolicyRecord) {
        self.policies.push(record);
    }

    /// `arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:<name>`
    pub fn function_arn(&self, key: &Key) -> Sub {
        policy::regional_arn(
            "lambda",
            &format!("function:{}", self.model.naming.function(key)),
        )
    }
    /// The model's tags as CloudFormation's `[{Key, Value}]` list, or None when there are none.
    pub fn tags(&self) -> Option<Value> {
        (!self.model.tags.is_empty()).then(|| {
            Value::List(
                self.model
                    .tags
                    .iter()
                    .map(|(k, v)| crate::map! { "Key" => k.as_str(), "Value" => v.as_str() })
                    .collect(),
            )
        })
    }

    /// The physical name of a bucket (`key` = [`LOG_BUCKET_KEY`] for the log bucket), as a
    /// value computable without referring to the bucket resource.
    pub fn bucket_name(&self, key: &str) -> Sub {
        let fixed = self
            .model
            .buckets
            .iter()
            .find_map(|(k, spec)| match &spec.name {
                BucketName::Fixed(name) if k.as_str() == key => Some(name.clone()),
                _ => None,
            });
        match fixed {
            Some(name) => Sub::new().lit(name),
            None => self.model.naming.bucket(key),
        }
    }

    /// `arn:${AWS::Partition}:s3:::<name><suffix>` built from the name, not from a reference:
    /// the function ↔ bucket notification cycle never forms.
    pub fn bucket_arn(&self, key: &str, suffix: &str) -> Sub {
        let name = self.bucket_name(key);
        let mut arn = Sub::arn("s3").lit("::");
        arn = arn.append(name);
        if suffix.is_empty() {
            arn
        } else {
            arn.lit(suffix)
        }
    }
}

/// Logical IDs, in one place so that cross-construct references cannot drift.
pub(crate) mod ids {
    use super::*;

    pub fn assets_bucket() -> LogicalId {
        LogicalId::from_path(&["assets-bucket"])
    }
    pub fn log_bucket() -> LogicalId {
        LogicalId::from_path(&[LOG_BUCKET_KEY, "Bucket"])
    }
    pub fn log_bucket_policy() -> LogicalId {
        LogicalId::from_path(&[LOG_BUCKET_KEY, "Policy"])
    }
    pub fn bucket(key: &Key) -> LogicalId {
        LogicalId::from_path(&["bucket", key.as_str()])
    }
    pub fn bucket_policy(key: &Key) -> LogicalId {
        LogicalId::from_path(&["bucket", key.as_str(), "Policy"])
    }
    pub fn function(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str()])
    }
    pub fn function_role(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), "Role"])
    }
    pub fn function_log_group(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), "LogGroup"])
    }
    pub fn function_code_key(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), "CodeKey"])
    }
    pub fn s3_permission(function: &Key, bucket: &Key) -> LogicalId {
        LogicalId::from_path(&[
            "function",
            function.as_str(),
            "S3Permission",
            bucket.as_str(),
        ])
    }
    pub fn alerts_topic() -> LogicalId {
        LogicalId::from_path(&["alerts", "Topic"])
    }
    pub fn function_alarm(key: &Key, which: &str) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), which])
    }
    pub fn managed_policy(key: &Key) -> LogicalId {
        LogicalId::from_path(&["iam", "policy", key.as_str()])
    }
    pub fn require_mfa_policy() -> LogicalId {
        LogicalId::from_path(&["iam", "RequireMfa"])
    }
    pub fn group(key: &Key) -> LogicalId {
        LogicalId::from_path(&["iam", "group", key.as_str()])
    }
    pub fn user(name: &str) -> LogicalId {
        LogicalId::from_path(&["iam", "user", name])
    }
    /// The output holding the API's base URL: gen deploy reads it for the site's config.js.
    pub fn api_url() -> LogicalId {
        LogicalId::from_path(&["api", "Url"])
    }
}

#[cfg(test)]
mod test_support {
    use serde_json::Value as J;

    /// Every template a manifest synthesizes, as JSON (main first).
    pub fn synth(manifest: &str) -> Vec<J> {
        let model = crate::load(manifest).expect("valid manifest");
        super::synthesize(&model)
            .expect("synthesizes")
            .into_stacks()
            .into_iter()
            .map(|s| s.template.to_json())
            .collect()
    }

    /// The example's main template as JSON.
    pub fn example() -> J {
        synth(crate::example::MANIFEST).remove(0)
    }

    /// The template's resources of one type, by logical ID.
    pub fn of_type<'a>(t: &'a J, resource_type: &str) -> Vec<(&'a String, &'a J)> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == resource_type)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{example, of_type};
    use serde_json::{Value as J, json};

    fn statements(document: &J) -> Vec<&J> {
        document["Statement"].as_array().unwrap().iter().collect()
    }

    #[test]
    fn every_bucket_denies_plain_http_on_bucket_and_objects() {
        let t = example();
        let buckets = of_type(&t, "AWS::S3::Bucket");
        assert_eq!(buckets.len(), 3);
        for (id, _) in &buckets {
            let policy = of_type(&t, "AWS::S3::BucketPolicy")
                .into_iter()
                .find(|(_, p)| p["Properties"]["Bucket"]["Ref"] == id.as_str())
                .unwrap_or_else(|| panic!("{id} has no bucket policy"));
            let deny = statements(&policy.1["Properties"]["PolicyDocument"])
                .into_iter()
                .find(|s| s["Sid"] == "DenyInsecureTransport")
                .unwrap();
            assert_eq!(deny["Effect"], "Deny");
            assert_eq!(
                deny["Condition"],
                json!({"Bool": {"aws:SecureTransport": "false"}})
            );
            assert_eq!(
                deny["Resource"],
                json!([{"Fn::GetAtt": [id, "Arn"]}, {"Fn::Sub": format!("${{{id}.Arn}}/*")}])
            );
        }
    }

    #[test]
    fn data_buckets_are_private_encrypted_logged_and_retained() {
        let t = example();
        for (id, bucket) in of_type(&t, "AWS::S3::Bucket") {
            let p = &bucket["Properties"];
            assert_eq!(
                p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                    ["SSEAlgorithm"],
                "AES256",
                "{id}"
            );
            assert!(
                p["PublicAccessBlockConfiguration"]
                    .as_object()
                    .unwrap()
                    .values()
                    .all(|v| v == true),
                "{id}"
            );
            assert_eq!(
                p["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
                "BucketOwnerEnforced"
            );
            assert_eq!(bucket["DeletionPolicy"], "Retain");
            assert_eq!(bucket["UpdateReplacePolicy"], "Retain");
            if !id.starts_with("Logs") {
                let prefix = p["LoggingConfiguration"]["LogFilePrefix"].as_str().unwrap();
                assert!(prefix.starts_with("s3-access/") && prefix.ends_with('/'));
            }
        }
    }

    #[test]
    fn log_bucket_accepts_access_logs_only_from_each_source_bucket_under_its_prefix() {
        let t = example();
        let (_, policy) = of_type(&t, "AWS::S3::BucketPolicy")
            .into_iter()
            .find(|(id, _)| id.starts_with("LogsPolicy"))
            .unwrap();
        let logging: Vec<&J> = statements(&policy["Properties"]["PolicyDocument"])
            .into_iter()
            .filter(|s| s["Principal"]["Service"] == "logging.s3.amazonaws.com")
            .collect();
        assert_eq!(logging.len(), 2, "one per data bucket");
        for s in logging {
            assert_eq!(s["Action"], "s3:PutObject");
            let key = if s["Sid"] == "ServerAccessLogsUpload" {
                "upload"
            } else {
                "transcoded"
            };
            assert_eq!(
                s["Resource"]["Fn::Sub"],
                format!("${{LogsBucketEC8DE5BC.Arn}}/s3-access/{key}/*")
            );
            assert_eq!(
                s["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"],
                format!(
                    "arn:${{AWS::Partition}}:s3:::video24-{key}-${{AWS::AccountId}}-${{AWS::Region}}"
                )
            );
            assert_eq!(
                s["Condition"]["StringEquals"]["aws:SourceAccount"],
                json!({"Ref": "AWS::AccountId"})
            );
        }
    }

    #[test]
    fn function_role_is_least_privilege() {
        let t = example();
        let (_, role) = of_type(&t, "AWS::IAM::Role")
            .into_iter()
            .find(|(id, _)| id.starts_with("FunctionTranscodeRole"))
            .unwrap();
        let document = &role["Properties"]["Policies"][0]["PolicyDocument"];
        let granted: Vec<(String, String)> = statements(document)
            .into_iter()
            .flat_map(|s| {
                let actions: Vec<String> = match &s["Action"] {
                    J::String(a) => vec![a.clone()],
                    J::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                    _ => panic!(),
                };
                let resource = serde_json::to_string(&s["Resource"]).unwrap();
                actions.into_iter().map(move |a| (a, resource.clone()))
            })
            .collect();
        let bucket = |key: &str, suffix: &str| {
            format!(
                r#"{{"Fn::Sub":"arn:${{AWS::Partition}}:s3:::video24-{key}-${{AWS::AccountId}}-${{AWS::Region}}{suffix}"}}"#
            )
        };
        let log_group = r#"{"Fn::GetAtt":["FunctionTranscodeLogGroupFE7A33B9","Arn"]}"#.to_owned();
        assert_eq!(
            granted,
            vec![
                ("logs:CreateLogStream".into(), log_group.clone()),
                ("logs:PutLogEvents".into(), log_group),
                (
                    "sqs:SendMessage".into(),
                    r#"{"Fn::GetAtt":["FunctionTranscodeDeadLetterQueue3235CE65","Arn"]}"#.into()
                ),
                ("s3:ListBucket".into(), bucket("upload", "")),
                ("s3:GetObject".into(), bucket("upload", "/*")),
                ("s3:PutObject".into(), bucket("transcoded", "/*")),
            ]
        );
        assert_eq!(
            role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json!({"Service": "lambda.amazonaws.com"})
        );
    }

    #[test]
    fn function_runs_rust_on_al2023_with_its_own_log_group() {
        let t = example();
        let function = &t["Resources"]["FunctionTranscodeAE472074"];
        let p = &function["Properties"];
        assert_eq!(
            (p["Runtime"].as_str(), p["Handler"].as_str()),
            (Some("provided.al2023"), Some("bootstrap"))
        );
        assert_eq!(p["FunctionName"], "video24-transcode");
        assert_eq!(
            p["LoggingConfig"]["LogGroup"],
            json!({"Ref": "FunctionTranscodeLogGroupFE7A33B9"})
        );
        let group = &t["Resources"]["FunctionTranscodeLogGroupFE7A33B9"];
        assert_eq!(
            group["Properties"]["LogGroupName"],
            "/aws/lambda/video24-transcode"
        );
        assert_eq!(group["Properties"]["RetentionInDays"], 30);
        assert_eq!(
            p["Environment"]["Variables"]["UPLOAD_BUCKET"]["Fn::Sub"],
            "video24-upload-${AWS::AccountId}-${AWS::Region}"
        );
    }

    #[test]
    fn s3_trigger_permission_is_scoped_and_the_bucket_waits_for_it() {
        let t = example();
        let (permission_id, permission) = of_type(&t, "AWS::Lambda::Permission").pop().unwrap();
        let p = &permission["Properties"];
        assert_eq!(p["Principal"], "s3.amazonaws.com");
        assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
        assert_eq!(
            p["SourceArn"]["Fn::Sub"],
            "arn:${AWS::Partition}:s3:::video24-upload-${AWS::AccountId}-${AWS::Region}"
        );
        let upload = &t["Resources"]["BucketUpload27410616"];
        assert!(
            upload["DependsOn"]
                .as_array()
                .unwrap()
                .contains(&json!(permission_id))
        );
        let notification =
            &upload["Properties"]["NotificationConfiguration"]["LambdaConfigurations"][0];
        assert_eq!(notification["Event"], "s3:ObjectCreated:*");
        assert_eq!(
            notification["Filter"]["S3Key"]["Rules"],
            json!([{"Name": "suffix", "Value": ".mp4"}])
        );
    }

    #[test]
    fn no_hard_coded_partition() {
        let text = example().to_string();
        assert!(
            !text.contains("arn:aws:"),
            "ARNs must use ${{AWS::Partition}}"
        );
    }
}

#[cfg(test)]
mod security_tests {
    use super::test_support::{example, synth};
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
            super::alarms::ABNORMAL_TERMINATION_PATTERN
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
        let deny = &resource(&t, "IamGroupOps")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            [0];
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
            resource(billing, "BillingAlertsSubscription")["Properties"]["Endpoint"]
                == "a@example.com"
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
}

#[cfg(test)]
mod api_tests {
    use super::test_support::{example, of_type as by_type};
    use serde_json::{Value as J, json};

    #[test]
    fn protected_route_goes_through_the_token_authorizer() {
        let t = example();
        let (authorizer_id, authorizer) = by_type(&t, "AWS::ApiGateway::Authorizer").pop().unwrap();
        let a = &authorizer["Properties"];
        assert_eq!(a["Type"], "TOKEN");
        assert_eq!(a["IdentitySource"], "method.request.header.Authorization");
        assert_eq!(a["AuthorizerResultTtlInSeconds"], 300);
        assert!(
            a["AuthorizerUri"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .contains("${FunctionAuthorizer")
        );
        let get = by_type(&t, "AWS::ApiGateway::Method")
            .into_iter()
            .find(|(_, m)| m["Properties"]["HttpMethod"] == "GET")
            .unwrap()
            .1;
        assert_eq!(get["Properties"]["AuthorizationType"], "CUSTOM");
        assert_eq!(
            get["Properties"]["AuthorizerId"],
            json!({"Ref": authorizer_id})
        );
        assert_eq!(get["Properties"]["Integration"]["Type"], "AWS_PROXY");
        // The authorizer function gets the issuer with its trailing slash.
        let env = &t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(id, _)| {
                id.starts_with("FunctionAuthorizer") && id.len() == "FunctionAuthorizer".len() + 8
            })
            .unwrap()
            .1["Properties"]["Environment"]["Variables"];
        assert_eq!(env["AUTH_ISSUER"], "https://dev-24hourvideo.us.auth0.com/");
        assert_eq!(
            env["AUTH_JWKS_URL"],
            "https://dev-24hourvideo.us.auth0.com/.well-known/jwks.json"
        );
    }

    #[test]
    fn deployment_waits_for_every_method_and_the_stage_logs_and_throttles() {
        let t = example();
        let methods: Vec<J> = by_type(&t, "AWS::ApiGateway::Method")
            .into_iter()
            .map(|(id, _)| json!(id))
            .collect();
        let (deployment_id, deployment) = by_type(&t, "AWS::ApiGateway::Deployment").pop().unwrap();
        assert_eq!(deployment["DependsOn"].as_array().unwrap(), &methods);
        let (_, stage) = by_type(&t, "AWS::ApiGateway::Stage").pop().unwrap();
        let s = &stage["Properties"];
        assert_eq!(s["DeploymentId"], json!({"Ref": deployment_id}));
        assert!(
            s["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
                .as_str()
                .unwrap()
                .starts_with("ApiAccessLogGroup")
        );
        assert_eq!(s["MethodSettings"][0]["ThrottlingRateLimit"], 50);
        assert!(
            t["Outputs"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with("ApiUrl"))
        );
    }

    #[test]
    fn a_route_change_makes_a_new_deployment() {
        let changed = crate::example::MANIFEST.replace("GET /user-profile:", "GET /profile:");
        let model = crate::load(&changed).unwrap();
        let t2 = super::synthesize(&model)
            .unwrap()
            .into_stacks()
            .remove(0)
            .template
            .to_json();
        let id = |t: &J| {
            by_type(t, "AWS::ApiGateway::Deployment")
                .pop()
                .unwrap()
                .0
                .clone()
        };
        assert_ne!(id(&example()), id(&t2));
    }

    #[test]
    fn route_permissions_are_scoped_to_the_route() {
        let t = example();
        let arns: Vec<String> = by_type(&t, "AWS::Lambda::Permission")
            .into_iter()
            .filter(|(_, p)| p["Properties"]["Principal"] == "apigateway.amazonaws.com")
            .map(|(_, p)| {
                p["Properties"]["SourceArn"]["Fn::Sub"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let api = by_type(&t, "AWS::ApiGateway::RestApi")
            .pop()
            .unwrap()
            .0
            .clone();
        let prefix = format!(
            "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api}}}/"
        );
        assert!(
            arns.contains(&format!("{prefix}prod/GET/user-profile")),
            "{arns:?}"
        );
        assert!(arns.contains(&format!("{prefix}test-invoke-stage/GET/user-profile")));
        assert!(
            arns.iter()
                .any(|a| a.ends_with("/authorizers/${ApiAuthorizerB2F0A4E9}")
                    || a.contains("/authorizers/"))
        );
    }

    #[test]
    fn functions_read_exactly_their_secrets_by_arn() {
        let t = example();
        let (_, secret) = by_type(&t, "AWS::SecretsManager::Secret").pop().unwrap();
        let generate = &secret["Properties"]["GenerateSecretString"];
        assert_eq!(generate["GenerateStringKey"], "password");
        assert!(
            secret["Properties"].get("SecretString").is_none(),
            "no value in the template"
        );
        let role = &t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(id, _)| id.starts_with("FunctionUserProfileRole"))
            .unwrap()
            .1;
        let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        let read = statements
            .iter()
            .find(|s| s["Action"] == "secretsmanager:GetSecretValue")
            .unwrap();
        assert_eq!(
            read["Resource"]["Ref"].as_str().unwrap()[..19],
            *"SecretDbCredentials"
        );
        let transcode_role = &t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(id, _)| id.starts_with("FunctionTranscodeRole"))
            .unwrap()
            .1;
        assert!(!transcode_role.to_string().contains("secretsmanager"));
    }
}
