//! Function alarms: a metric filter counting abnormal terminations in the function's log group,
//! and two alarms (Lambda `Errors`, and that count) that email the alerts topic.

use super::{Stack, ids};
use crate::cfn::{Resource, Value};
use crate::map;
use crate::model::{AlarmSpec, FunctionSpec, Key};
use crate::naming::FunctionAlarm;

/// Log lines that mean an invocation ended abnormally: a Rust panic (`thread 'main'
/// panicked at`), the runtime exiting (`Runtime exited with error: exit status 101`, also
/// out-of-memory kills), Lambda's timeout message (`Task timed out after`), and error-level
/// log lines (`ERROR`, as `tracing` and `log` print them, or `"level":"ERROR"` in JSON logs).
pub const ABNORMAL_TERMINATION_PATTERN: &str =
    "?\"panicked at\" ?\"Runtime exited\" ?\"Task timed out\" ?ERROR";

/// Every function's metric filter and alarms.
pub(crate) fn synthesize(stack: &mut Stack) {
    for (key, spec) in &stack.model.functions {
        stack.template.set_group(Some(key.as_str()));
        function_alarms(stack, key, spec);
        stack.template.set_group(None);
    }
}

fn function_alarms(stack: &mut Stack, key: &Key, spec: &FunctionSpec) {
    let naming = stack.naming();
    let namespace = naming.metric_namespace().into_string();
    let function_name = naming.function(key);
    let function_id = ids::function(key);
    let metric_name = format!("{key}/AbnormalTerminations");
    stack.template.add(
        ids::function_alarm(key, "AbnormalTerminationsFilter"),
        Resource::new("AWS::Logs::MetricFilter")
            .prop(
                "LogGroupName",
                Value::reference(&ids::function_log_group(key)),
            )
            .prop("FilterPattern", ABNORMAL_TERMINATION_PATTERN)
            .prop(
                "MetricTransformations",
                vec![map! {
                    "MetricNamespace" => namespace.as_str(),
                    "MetricName" => metric_name.as_str(),
                    "MetricValue" => "1",
                    "Unit" => "Count",
                }],
            ),
    );
    let errors = alarm(stack, spec.alarm)
        .prop(
            "AlarmName",
            naming.function_alarm(key, FunctionAlarm::Errors),
        )
        .prop(
            "AlarmDescription",
            format!(
                "{function_name}: {} or more failed invocations in {} (AWS/Lambda Errors)",
                spec.alarm.threshold,
                window(spec.alarm)
            ),
        )
        .prop("Namespace", "AWS/Lambda")
        .prop("MetricName", "Errors")
        .prop(
            "Dimensions",
            vec![map! { "Name" => "FunctionName", "Value" => Value::reference(&function_id) }],
        );
    stack
        .template
        .add(ids::function_alarm(key, "ErrorsAlarm"), errors);
    let abnormal = alarm(stack, spec.alarm)
        .prop(
            "AlarmName",
            naming.function_alarm(key, FunctionAlarm::AbnormalTerminations),
        )
        .prop(
            "AlarmDescription",
            format!(
                "{function_name}: {} or more panics, runtime exits, timeouts or ERROR log lines in {}",
                spec.alarm.threshold,
                window(spec.alarm)
            ),
        )
        .prop("Namespace", namespace.as_str())
        .prop("MetricName", metric_name.as_str());
    stack.template.add(
        ids::function_alarm(key, "AbnormalTerminationsAlarm"),
        abnormal,
    );
}

fn window(a: AlarmSpec) -> String {
    let seconds = a.period_seconds * a.evaluation_periods;
    if seconds.is_multiple_of(60) {
        format!("{} minutes", seconds / 60)
    } else {
        format!("{seconds} seconds")
    }
}

/// The settings both alarms share; actions go to the alerts topic when there is one.
fn alarm(stack: &Stack, a: AlarmSpec) -> Resource {
    let alarm = Resource::new("AWS::CloudWatch::Alarm")
        .prop("Statistic", "Sum")
        .prop("Period", a.period_seconds)
        .prop("EvaluationPeriods", a.evaluation_periods)
        .prop("Threshold", a.threshold)
        .prop("ComparisonOperator", "GreaterThanOrEqualToThreshold")
        // No invocations means nothing failed.
        .prop("TreatMissingData", "notBreaching");
    stack.notify(alarm)
}
