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
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress {
            total,
            done: HashSet::new(),
            failures: Vec::new(),
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
        let is_stack = resource_type == "AWS::CloudFormation::Stack";
        if !is_stack && phase == ResourcePhase::Done {
            self.done.insert(logical.to_owned());
        }
        // A resource cancelled because another failed is not a cause.
        if phase == ResourcePhase::Failed && !reason.is_empty() && !reason.contains("cancelled") {
            self.failures
                .push(format!("{resource_type} {logical}: {reason}"));
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
