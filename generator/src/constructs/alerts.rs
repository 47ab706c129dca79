//! Alerts construct: the project's SNS topic and its email subscriptions.

use super::{Stack, ids};
use crate::cfn::{LogicalId, Output, Resource, Value};

pub(crate) fn alerts(stack: &mut Stack, emails: &[String]) {
    let topic_id = ids::alerts_topic();
    let mut topic = Resource::new("AWS::SNS::Topic")
        .prop("DisplayName", format!("{} alerts", stack.model.project));
    if let Some(tags) = stack.tags() {
        topic = topic.prop("Tags", tags);
    }
    stack.template.add(topic_id.clone(), topic);
    for email in emails {
        // Keyed by the address, so adding or removing one never touches the others.
        stack.template.add(
            ids::alerts_subscription(email),
            Resource::new("AWS::SNS::Subscription")
                .prop("TopicArn", Value::reference(&topic_id))
                .prop("Protocol", "email")
                .prop("Endpoint", email.as_str()),
        );
    }
    stack.template.add_output(
        LogicalId::from_path(&["alerts", "TopicArn"]),
        Output {
            description: "ARN of the alerts topic".into(),
            value: Value::reference(&topic_id),
        },
    );
}
