//! Alerts construct: an SNS topic, its email subscriptions, and a topic policy that lets this
//! account's CloudWatch alarms publish to it.

use super::Stack;
use super::policy::{PolicyLimit, PolicyRecord, regional_arn};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{LogicalId, Output, Pseudo, Resource, Value};
use crate::model::AlertsSpec;

/// The app's alerts topic, when it has alert addresses.
pub(crate) fn synthesize(stack: &mut Stack) {
    if let Some(spec) = &stack.model.alerts {
        alerts(stack, spec, "alerts");
    }
}

/// Builds the topic under `prefix` (`alerts` in the main stack); returns the topic's ID.
pub(crate) fn alerts(stack: &mut Stack, alerts: &AlertsSpec, prefix: &str) -> LogicalId {
    let topic_id = LogicalId::from_path(&[prefix, "Topic"]);
    let naming = stack.naming();
    let topic_name = naming.topic(prefix).into_string();
    let mut topic = Resource::new("AWS::SNS::Topic")
        .prop("TopicName", topic_name.as_str())
        .prop("DisplayName", naming.topic_display(prefix));
    match &alerts.kms_key_arn {
        Some(key) => topic = topic.prop("KmsMasterKeyId", key.as_str()),
        None => {
            topic.metadata.insert(
                "checkov".into(),
                serde_json::json!({ "skip": [{
                    "id": "CKV_AWS_26",
                    "comment": "Alarm notifications carry no data; SSE with alias/aws/sns would stop CloudWatch from publishing, and a customer key is opt-in (alerts.kms_key_arn)"
                }] }),
            );
        }
    }
    if let Some(tags) = stack.tags() {
        topic = topic.prop("Tags", tags);
    }
    stack.template.add(topic_id.clone(), topic);
    stack.know(&topic_id, None, regional_arn("sns", &topic_name));

    for email in &alerts.emails {
        // Keyed by the address, so adding or removing one never touches the others.
        stack.template.add(
            LogicalId::from_path(&[prefix, "Subscription", email]),
            Resource::new("AWS::SNS::Subscription")
                .prop("TopicArn", Value::reference(&topic_id))
                .prop("Protocol", "email")
                .prop("Endpoint", email.as_str()),
        );
    }

    let document = PolicyDocument::new(vec![
        Statement::allow(&["sns:Publish"])
            .sid("CloudWatchAlarmsPublish")
            .principal(Principal::Service("cloudwatch.amazonaws.com".into()))
            .resource(Value::reference(&topic_id))
            .condition(
                "ArnLike",
                "aws:SourceArn",
                regional_arn("cloudwatch", "alarm:*"),
            )
            .condition(
                "StringEquals",
                "aws:SourceAccount",
                Value::pseudo(Pseudo::AccountId),
            ),
    ]);
    stack.template.add(
        LogicalId::from_path(&[prefix, "TopicPolicy"]),
        Resource::new("AWS::SNS::TopicPolicy")
            .prop("Topics", vec![Value::reference(&topic_id)])
            .prop("PolicyDocument", document.to_value()),
    );
    stack.record_policy(PolicyRecord {
        name: format!("topic-{prefix}"),
        manifest_path: "alerts".into(),
        limit: PolicyLimit::None,
        trust: false,
        document,
    });
    stack.template.add_output(
        LogicalId::from_path(&[prefix, "TopicArn"]),
        Output {
            description: format!("ARN of the {prefix} topic"),
            value: Value::reference(&topic_id),
        },
    );
    topic_id
}
