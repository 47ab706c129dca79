//! Billing construct: an alarm on the account's estimated monthly charges. AWS publishes
//! `AWS/Billing` metrics only in us-east-1, so an app elsewhere gets a second, us-east-1
//! template with its own alerts topic.

use super::{Stack, alerts, ids};
use crate::cfn::{LogicalId, Resource, Value};
use crate::graph::{StackNode, StackRole};
use crate::map;
use crate::model::{BillingSpec, Model};

/// Adds the alarm to a us-east-1 stack whose alerts topic is `topic`.
fn add_alarm(stack: &mut Stack, billing: &BillingSpec, topic: &LogicalId) {
    stack.template.add(
        LogicalId::from_path(&["billing", "Alarm"]),
        Resource::new("AWS::CloudWatch::Alarm")
            .prop("AlarmName", stack.model.naming.billing_alarm())
            .prop(
                "AlarmDescription",
                format!(
                    "The account's estimated charges this month exceed {} USD (needs billing alerts enabled in the Billing preferences)",
                    billing.monthly_limit_usd
                ),
            )
            .prop("Namespace", "AWS/Billing")
            .prop("MetricName", "EstimatedCharges")
            .prop("Dimensions", vec![map! { "Name" => "Currency", "Value" => "USD" }])
            .prop("Statistic", "Maximum")
            // AWS updates the estimate a few times a day.
            .prop("Period", 21_600u32)
            .prop("EvaluationPeriods", 1u32)
            .prop("Threshold", billing.monthly_limit_usd)
            .prop("ComparisonOperator", "GreaterThanThreshold")
            .prop("TreatMissingData", "notBreaching")
            .prop("AlarmActions", vec![Value::reference(topic)]),
    );
}

/// The alarm in the app's stack, when the app is in us-east-1.
pub(crate) fn synthesize(stack: &mut Stack) {
    if let Some(billing) = &stack.model.billing
        && stack.region == BILLING_REGION
    {
        add_alarm(stack, billing, &ids::alerts_topic());
    }
}

/// A us-east-1 stack of its own, when the app lives elsewhere.
pub(crate) fn own_stack(model: &Model) -> Option<StackNode> {
    let billing = model.billing.as_ref()?;
    (model.region != BILLING_REGION).then(|| separate_stack(model, billing))
}

/// The only region where AWS publishes billing metrics.
const BILLING_REGION: &str = "us-east-1";

/// A separate us-east-1 stack: its own topic and subscriptions, and the alarm.
fn separate_stack(model: &Model, billing: &BillingSpec) -> StackNode {
    let description = format!(
        "{}: billing alarm (us-east-1, where AWS publishes billing metrics)",
        model.project
    );
    let mut stack = Stack::new(model, description, BILLING_REGION);
    let alerts = model
        .alerts
        .as_ref()
        .expect("validation requires alerts for billing");
    let topic = alerts::alerts(
        &mut stack,
        &crate::model::AlertsSpec {
            kms_key_arn: None,
            ..alerts.clone()
        },
        "billing-alerts",
    );
    add_alarm(&mut stack, billing, &topic);
    stack.finish(StackRole::Billing)
}
