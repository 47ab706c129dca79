//! Following a stack operation, as the person deploying reads it: one line per new stack
//! event with a done/total count, the status line while waiting, and on failure the first
//! failing resources' reasons. Pure: the events come from the caller.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_cloudformation::types::StackEvent;

use crate::status::{self, ResourcePhase, StackStatus};

/// How many failure reasons are repeated when a stack fails.
const FAILURES_SHOWN: usize = 10;

/// What following one operation has learnt so far.
#[derive(Debug)]
pub struct Progress {
    /// How many resources the operation touches (the change set's size).
    total: usize,
    /// Resources done, by logical ID.
    done: HashSet<String>,
    /// `type logical-id: reason` of each resource that failed, in order.
    failures: Vec<String>,
    /// Nested stacks that failed: their own events hold the cause, not the parent's.
    failed_nested: Vec<FailedNested>,
}

/// A nested stack resource that failed, by its logical ID in the parent and its stack ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedNested {
    pub logical_id: String,
    pub stack_id: String,
}

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// Whether the event is about the stack it belongs to (not a resource in it; a nested
/// stack is a resource of its parent).
fn is_own(event: &StackEvent) -> bool {
    event.resource_type() == Some(STACK_TYPE)
        && match (event.stack_id(), event.physical_resource_id()) {
            (Some(stack), Some(physical)) => stack == physical,
            // Without IDs (endpoints that leave them out): by name.
            _ => event
                .stack_name()
                .is_none_or(|name| Some(name) == event.logical_resource_id()),
        }
}

/// The events of a stack's latest operation, from its start (`CREATE_IN_PROGRESS` or
/// `UPDATE_IN_PROGRESS` of the stack itself) on; `events` oldest first.
pub fn last_operation(events: &[StackEvent]) -> &[StackEvent] {
    let start = events.iter().rposition(|e| {
        is_own(e)
            && matches!(
                e.resource_status().map(|s| s.as_str()),
                Some("CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS" | "DELETE_IN_PROGRESS")
            )
    });
    &events[start.unwrap_or(0)..]
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            done: HashSet::new(),
            failures: Vec::new(),
            failed_nested: Vec::new(),
        }
    }

    /// How many resources are done (never more than the total: a replacement is one change
    /// but two resources' events).
    pub fn done(&self) -> usize {
        self.done.len().min(self.total)
    }

    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    pub fn failed_nested(&self) -> &[FailedNested] {
        &self.failed_nested
    }

    /// Puts the failures among a failed nested stack's own `events` (oldest first) right
    /// after the parent's line for it, which says only "Embedded stack … was not
    /// successfully created".
    pub fn explain_nested(&mut self, logical_id: &str, events: &[StackEvent]) {
        let mut inner = Progress::new(0);
        for event in last_operation(events) {
            inner.record(event);
        }
        let head = format!("{STACK_TYPE} {logical_id}:");
        let at = self
            .failures
            .iter()
            .position(|f| f.starts_with(&head))
            .map_or(self.failures.len(), |i| i + 1);
        let explained: Vec<String> = inner
            .failures
            .into_iter()
            .map(|f| format!("{f} (in nested stack {logical_id})"))
            .filter(|f| !self.failures.contains(f))
            .collect();
        self.failures.splice(at..at, explained);
    }

    /// Takes in a new event and returns its line:
    /// `  [  3/12] CREATE_COMPLETE      AWS::IAM::Role ThumbnailRole…`, with the reason for a
    /// failure or a rollback.
    pub fn record(&mut self, event: &StackEvent) -> String {
        let logical = event.logical_resource_id().unwrap_or("?");
        let resource_type = event.resource_type().unwrap_or("?");
        let status = event.resource_status().map_or("?", |s| s.as_str());
        let phase = event
            .resource_status()
            .map_or(ResourcePhase::Unknown, status::resource_phase);
        let reason = event.resource_status_reason().unwrap_or("");
        // The stack's own events say where the stack is, not one more resource done.
        let own = is_own(event);
        if !own && phase == ResourcePhase::Done {
            self.done.insert(logical.to_owned());
        }
        // A resource cancelled because another failed is not a cause.
        if !own
            && phase == ResourcePhase::Failed
            && !reason.is_empty()
            && !reason.contains("cancelled")
        {
            self.failures
                .push(format!("{resource_type} {logical}: {reason}"));
            if resource_type == STACK_TYPE
                && let Some(stack_id) = event.physical_resource_id().filter(|id| !id.is_empty())
                && !self.failed_nested.iter().any(|n| n.logical_id == logical)
            {
                self.failed_nested.push(FailedNested {
                    logical_id: logical.to_owned(),
                    stack_id: stack_id.to_owned(),
                });
            }
        }
        let mut line = format!(
            "  [{:>3}/{}] {status:<20} {resource_type} {logical}",
            self.done(),
            self.total
        );
        if !reason.is_empty() && phase.shows_reason() {
            line.push_str(&format!(" ({reason})"));
        }
        line
    }

    /// The status line while the stack is `status`.
    pub fn waiting(&self, name: &str, status: &StackStatus, elapsed: Duration) -> String {
        format!(
            "{name}: {status}, {}/{} done ({} s)",
            self.done(),
            self.total,
            elapsed.as_secs()
        )
    }

    /// What to say once the stack settled in `status` (with CloudFormation's `reason`): the
    /// first failures and the stack's reason when it went wrong, nothing when it did not.
    pub fn settled(&self, name: &str, status: &StackStatus, reason: Option<&str>) -> Vec<String> {
        let mut lines = Vec::new();
        if !status::phase(status).went_wrong() {
            return lines;
        }
        if !self.failures.is_empty() {
            lines.push(format!("Stack {name} failed. The first errors:"));
            lines.extend(
                self.failures
                    .iter()
                    .take(FAILURES_SHOWN)
                    .map(|failure| format!("  ✗ {failure}")),
            );
        }
        if let Some(reason) = reason {
            lines.push(format!("  stack status: {status} ({reason})"));
        }
        lines
    }
}

/// Off a terminal (no status line), how long a wait may go without a line in the log.
pub const QUIET_LIMIT: Duration = Duration::from_secs(30);

/// The plain line that says, in a log, that a long wait goes on.
pub fn still_waiting(name: &str, status: &StackStatus, elapsed: Duration) -> String {
    format!("  … {name} is {status} ({} s so far)", elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::ResourceStatus;

    fn event(logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent::builder()
            .event_id(format!("{logical}-{status}"))
            .logical_resource_id(logical)
            .resource_type(ty)
            .resource_status(ResourceStatus::from(status))
            .set_resource_status_reason(reason.map(str::to_owned))
            .build()
    }

    #[test]
    fn each_event_is_a_line_with_the_count_of_resources_done() {
        let mut progress = Progress::new(2);
        let lines: Vec<String> = [
            event(
                "App",
                "AWS::CloudFormation::Stack",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            event("Role", "AWS::IAM::Role", "CREATE_IN_PROGRESS", None),
            event("Role", "AWS::IAM::Role", "CREATE_COMPLETE", None),
            event("Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE", None),
            event("App", "AWS::CloudFormation::Stack", "CREATE_COMPLETE", None),
        ]
        .iter()
        .map(|e| progress.record(e))
        .collect();
        assert_eq!(
            lines,
            [
                "  [  0/2] CREATE_IN_PROGRESS   AWS::CloudFormation::Stack App",
                "  [  0/2] CREATE_IN_PROGRESS   AWS::IAM::Role Role",
                "  [  1/2] CREATE_COMPLETE      AWS::IAM::Role Role",
                "  [  2/2] CREATE_COMPLETE      AWS::S3::Bucket Bucket",
                "  [  2/2] CREATE_COMPLETE      AWS::CloudFormation::Stack App",
            ]
        );
        assert!(progress.failures().is_empty());
        assert!(
            progress
                .settled("app", &StackStatus::CreateComplete, None)
                .is_empty()
        );
    }

    #[test]
    fn the_count_never_passes_the_total() {
        // A replacement: one change, but the old and the new resource both complete.
        let mut progress = Progress::new(1);
        progress.record(&event(
            "Fn",
            "AWS::Lambda::Function",
            "UPDATE_COMPLETE",
            None,
        ));
        progress.record(&event("Q", "AWS::SQS::Queue", "DELETE_COMPLETE", None));
        assert_eq!(progress.done(), 1);
        assert_eq!(
            progress.waiting(
                "app",
                &StackStatus::UpdateInProgress,
                Duration::from_millis(4500)
            ),
            "app: UPDATE_IN_PROGRESS, 1/1 done (4 s)"
        );
    }

    #[test]
    fn failures_show_their_reason_and_are_repeated_when_the_stack_fails() {
        let mut progress = Progress::new(3);
        let failed = progress.record(&event(
            "User",
            "AWS::IAM::User",
            "CREATE_FAILED",
            Some("alice already exists"),
        ));
        assert_eq!(
            failed,
            "  [  0/3] CREATE_FAILED        AWS::IAM::User User (alice already exists)"
        );
        let cancelled = progress.record(&event(
            "Bucket",
            "AWS::S3::Bucket",
            "CREATE_FAILED",
            Some("Resource creation cancelled"),
        ));
        assert!(cancelled.ends_with("(Resource creation cancelled)"));
        let rolling = progress.record(&event(
            "App",
            "AWS::CloudFormation::Stack",
            "ROLLBACK_IN_PROGRESS",
            Some("The following resource(s) failed to create: [User]."),
        ));
        assert!(rolling.ends_with("(The following resource(s) failed to create: [User].)"));
        // A completed resource's reason is noise.
        let done = progress.record(&event(
            "Role",
            "AWS::IAM::Role",
            "CREATE_COMPLETE",
            Some("ok"),
        ));
        assert!(!done.contains("(ok)"), "{done}");
        // A cancelled resource did not cause anything.
        assert_eq!(
            progress.failures(),
            ["AWS::IAM::User User: alice already exists"]
        );
        assert_eq!(
            progress.settled("app", &StackStatus::RollbackComplete, Some("rolled back")),
            [
                "Stack app failed. The first errors:",
                "  ✗ AWS::IAM::User User: alice already exists",
                "  stack status: ROLLBACK_COMPLETE (rolled back)",
            ]
        );
        assert!(
            progress
                .settled("app", &StackStatus::DeleteComplete, Some("x"))
                .is_empty()
        );
    }

    fn in_stack(stack: &str, mut e: StackEvent, physical: &str) -> StackEvent {
        e.stack_id = Some(stack.to_owned());
        e.stack_name = Some(stack.to_owned());
        e.physical_resource_id = Some(physical.to_owned());
        e
    }

    #[test]
    fn a_nested_stack_is_a_resource_and_its_failure_is_explained_by_its_own_events() {
        let mut progress = Progress::new(2);
        let nested_id = "arn:stack/app-StackA-1/x";
        progress.record(&in_stack(
            "app",
            event("StackA", STACK_TYPE, "CREATE_COMPLETE", None),
            "arn:stack/app-StackA-0/x",
        ));
        assert_eq!(progress.done(), 1, "a nested stack done is a resource done");
        progress.record(&in_stack(
            "app",
            event(
                "StackB",
                STACK_TYPE,
                "CREATE_FAILED",
                Some("Embedded stack arn:stack/app-StackA-1/x was not successfully created"),
            ),
            nested_id,
        ));
        assert_eq!(
            progress.failed_nested(),
            [FailedNested {
                logical_id: "StackB".into(),
                stack_id: nested_id.into()
            }]
        );
        let nested = |e| in_stack(nested_id, e, "p");
        let own =
            |status, reason| in_stack(nested_id, event("n", STACK_TYPE, status, reason), nested_id);
        let events = [
            // An earlier operation's failure is not this one's cause.
            nested(event("Old", "AWS::IAM::Role", "CREATE_FAILED", Some("old"))),
            own("CREATE_IN_PROGRESS", None),
            nested(event(
                "FnA",
                "AWS::Lambda::Function",
                "CREATE_FAILED",
                Some("no such key"),
            )),
            nested(event(
                "FnB",
                "AWS::Lambda::Function",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            )),
            own(
                "CREATE_FAILED",
                Some("The following resource(s) failed to create: [FnA]."),
            ),
        ];
        progress.explain_nested("StackB", &events);
        assert_eq!(
            progress.failures(),
            [
                "AWS::CloudFormation::Stack StackB: Embedded stack arn:stack/app-StackA-1/x was not successfully created",
                "AWS::Lambda::Function FnA: no such key (in nested stack StackB)",
            ]
        );
    }

    #[test]
    fn only_the_first_failures_are_repeated() {
        let mut progress = Progress::new(20);
        for i in 0..12 {
            progress.record(&event(
                &format!("R{i}"),
                "AWS::SNS::Topic",
                "CREATE_FAILED",
                Some("denied"),
            ));
        }
        let lines = progress.settled("app", &StackStatus::UpdateRollbackFailed, None);
        assert_eq!(lines.len(), 1 + FAILURES_SHOWN);
        assert_eq!(lines[1], "  ✗ AWS::SNS::Topic R0: denied");
    }

    #[test]
    fn an_event_without_a_status_is_shown_as_is() {
        let mut progress = Progress::new(1);
        let line = progress.record(&StackEvent::builder().event_id("x").build());
        assert_eq!(line, "  [  0/1] ?                    ? ?");
    }

    #[test]
    fn a_log_hears_of_a_long_wait() {
        assert_eq!(
            still_waiting(
                "app",
                &StackStatus::DeleteInProgress,
                Duration::from_secs(61)
            ),
            "  … app is DELETE_IN_PROGRESS (61 s so far)"
        );
    }
}
