//! What CloudFormation's statuses mean to gen: classifications over the SDK's
//! [`StackStatus`], [`ResourceStatus`] and [`ChangeSetStatus`], the decisions a deploy makes
//! on them, and what a final status tells the person deploying. Pure: no call, no I/O.
//!
//! Every status the SDK knows is matched by name; one it does not know (newer than the SDK)
//! is classified by the shape of its name, the way CloudFormation names them.

pub use aws_sdk_cloudformation::types::{ChangeSetStatus, ResourceStatus, StackStatus};

/// A stack's status by what it means for the next operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// An operation is running (`*_IN_PROGRESS`, rollbacks and cleanups included); it ends
    /// on its own.
    InProgress,
    /// `REVIEW_IN_PROGRESS`: a CREATE change set made the stack and was never executed; it
    /// holds nothing yet.
    InReview,
    /// The last operation did what was asked (`CREATE_`, `UPDATE_`, `IMPORT_COMPLETE`).
    Complete,
    /// `ROLLBACK_COMPLETE`: the first create failed and was rolled back. The stack holds
    /// nothing and cannot be updated, only deleted.
    CreateRolledBack,
    /// `UPDATE_`/`IMPORT_ROLLBACK_COMPLETE`: an operation failed and was undone; the stack is
    /// as it was before it.
    RolledBack,
    /// `CREATE_FAILED`, `UPDATE_FAILED`: failed and not rolled back (rollback disabled).
    Failed,
    /// `ROLLBACK_FAILED`, `UPDATE_ROLLBACK_FAILED`, `IMPORT_ROLLBACK_FAILED`,
    /// `DELETE_FAILED`: stuck until a person fixes what could not be undone or deleted.
    Stuck,
    /// `DELETE_COMPLETE`: gone.
    Deleted,
    /// No status, or one that says nothing gen can act on.
    Unknown,
}

impl Phase {
    /// Whether the stack stopped moving: following it can end.
    pub fn is_settled(self) -> bool {
        !matches!(self, Phase::InProgress | Phase::InReview)
    }

    /// Whether a settled stack got there by something failing.
    pub fn went_wrong(self) -> bool {
        matches!(
            self,
            Phase::CreateRolledBack | Phase::RolledBack | Phase::Failed | Phase::Stuck
        )
    }
}

pub fn phase(status: &StackStatus) -> Phase {
    use StackStatus as S;
    match status {
        S::CreateInProgress
        | S::UpdateInProgress
        | S::DeleteInProgress
        | S::ImportInProgress
        | S::RollbackInProgress
        | S::UpdateRollbackInProgress
        | S::ImportRollbackInProgress
        | S::UpdateCompleteCleanupInProgress
        | S::UpdateRollbackCompleteCleanupInProgress => Phase::InProgress,
        S::ReviewInProgress => Phase::InReview,
        S::CreateComplete | S::UpdateComplete | S::ImportComplete => Phase::Complete,
        S::RollbackComplete => Phase::CreateRolledBack,
        S::UpdateRollbackComplete | S::ImportRollbackComplete => Phase::RolledBack,
        S::CreateFailed | S::UpdateFailed => Phase::Failed,
        S::RollbackFailed | S::UpdateRollbackFailed | S::ImportRollbackFailed | S::DeleteFailed => {
            Phase::Stuck
        }
        S::DeleteComplete => Phase::Deleted,
        other => phase_by_name(other.as_str()),
    }
}

/// A status this SDK does not know, by its name.
fn phase_by_name(name: &str) -> Phase {
    if name.ends_with("_IN_PROGRESS") {
        Phase::InProgress
    } else if name.ends_with("_FAILED") {
        Phase::Failed
    } else if name.contains("ROLLBACK") {
        Phase::RolledBack
    } else if name.ends_with("_COMPLETE") {
        Phase::Complete
    } else {
        Phase::Unknown
    }
}

/// What a final stack status means for the person deploying, and what to do next.
pub fn explain(status: &StackStatus) -> &'static str {
    use StackStatus as S;
    match status {
        S::RollbackComplete => {
            "the first deploy failed and was rolled back, so the stack holds nothing; the next gen deploy deletes it and starts again"
        }
        S::UpdateRollbackComplete => "rolled back: the stack is as it was before this deploy",
        S::UpdateRollbackFailed => {
            "the rollback failed too; fix the resources named above, then continue the rollback (aws cloudformation continue-update-rollback) or delete the stack"
        }
        S::RollbackFailed => {
            "the first deploy failed and so did its rollback; fix or remove the resources named above, then delete the stack (aws cloudformation delete-stack) and run gen deploy again"
        }
        S::DeleteFailed => {
            "some resources could not be deleted (named above); empty or remove them, then run gen destroy again"
        }
        _ => "see the events above",
    }
}

/// The CloudFormation console's page of one stack (`stack_id` is its ARN, or its name).
pub fn console_url(region: &str, stack_id: &str) -> String {
    let id: String = stack_id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "https://{region}.console.aws.amazon.com/cloudformation/home?region={region}#/stacks/stackinfo?stackId={id}"
    )
}

/// What to do about a stack gen deploy will not deploy onto as it is (a [`Phase::Stuck`]
/// one, or one still in progress), said before anything is built or uploaded: what the
/// status means, the command that gets it out of there, and that gen deploy comes after.
pub fn next_step(status: &StackStatus, stack: &str, region: &str, stack_id: &str) -> String {
    use StackStatus as S;
    let events = format!(
        "`aws cloudformation describe-stack-events --stack-name {stack} --region {region}` names what failed"
    );
    let console = console_url(region, stack_id);
    match status {
        S::UpdateRollbackFailed => format!(
            "an update failed and so did its rollback, so CloudFormation takes no update until the rollback is finished; nothing was built or uploaded\n  = hint: fix or remove what blocked the rollback ({events}), then run `aws cloudformation continue-update-rollback --stack-name {stack} --region {region}` (or Stack actions > Continue update rollback at {console}), wait for UPDATE_ROLLBACK_COMPLETE, and run gen deploy again"
        ),
        S::RollbackFailed => format!(
            "its first deploy failed and so did the rollback; the stack can only be deleted; nothing was built or uploaded\n  = hint: remove what could not be rolled back ({events}), run `aws cloudformation delete-stack --stack-name {stack} --region {region}` (or delete it at {console}), then gen deploy again"
        ),
        S::DeleteFailed => format!(
            "a delete of it failed part-way; nothing was built or uploaded\n  = hint: run gen destroy again (or empty or remove what it could not delete: {events}), then gen deploy"
        ),
        other if phase(other) == Phase::InProgress => format!(
            "another operation is still running and did not settle while gen waited; nothing was built or uploaded\n  = hint: follow it at {console}, and run gen deploy again once it is finished"
        ),
        other => format!("{}; nothing was built or uploaded", explain(other)),
    }
}

/// How `gen deploy` goes about a stack, given the status of the one deployed (if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approach {
    /// A CREATE change set: no stack yet, or only one a CREATE change set left unexecuted.
    Create,
    /// An UPDATE change set.
    Update,
    /// Delete the empty stack a failed first deploy left (`ROLLBACK_COMPLETE` cannot be
    /// updated), then a CREATE change set.
    DeleteThenCreate,
    /// Refuse: the stack is busy or stuck; `hint` says what to do.
    Refuse { hint: &'static str },
}

impl Approach {
    /// Whether the change set will be a CREATE one (its empty stack goes if it is discarded).
    pub fn creates(self) -> bool {
        matches!(self, Approach::Create | Approach::DeleteThenCreate)
    }
}

pub const BUSY_HINT: &str = "another operation is running; wait for it to finish and rerun";

/// `existing`: the deployed stack's status, `None` when there is no stack.
pub fn approach(existing: Option<&StackStatus>) -> Approach {
    let Some(status) = existing else {
        return Approach::Create;
    };
    match phase(status) {
        Phase::InReview => Approach::Create,
        Phase::CreateRolledBack => Approach::DeleteThenCreate,
        Phase::InProgress => Approach::Refuse { hint: BUSY_HINT },
        // gen never imports: whether an IMPORT_ROLLBACK_FAILED stack takes an update is left
        // to CloudFormation.
        Phase::Stuck if *status != StackStatus::ImportRollbackFailed => Approach::Refuse {
            hint: explain(status),
        },
        _ => Approach::Update,
    }
}

/// What an operation was asked to reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// CreateStack (the toolkit stack).
    Created,
    /// An executed change set, CREATE or UPDATE.
    Deployed,
    /// DeleteStack.
    Deleted,
}

impl Goal {
    /// Whether the settled `status` is what was asked for (else the operation failed).
    pub fn reached_by(self, status: &StackStatus) -> bool {
        match self {
            Goal::Created => *status == StackStatus::CreateComplete,
            Goal::Deployed => matches!(
                status,
                StackStatus::CreateComplete | StackStatus::UpdateComplete
            ),
            Goal::Deleted => *status == StackStatus::DeleteComplete,
        }
    }
}

/// Whether a stack in `status` is in working order and its outputs can be used (the toolkit
/// stack's bucket): created or updated, or back to that after a failed update.
pub fn is_usable(status: &StackStatus) -> bool {
    matches!(
        status,
        StackStatus::CreateComplete
            | StackStatus::UpdateComplete
            | StackStatus::UpdateRollbackComplete
    )
}

/// A resource's status in a stack event, by what progress and failure reports need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourcePhase {
    /// Being created, updated, deleted, imported or exported.
    InProgress,
    /// Done as asked: counts towards the progress total.
    Done,
    /// `DELETE_SKIPPED`: left in place (DeletionPolicy Retain).
    Skipped,
    /// Failed, forward or rolling back: its reason is one of "the first errors".
    Failed,
    /// Being rolled back.
    RollingBack,
    /// Rolled back.
    RolledBack,
    Unknown,
}

impl ResourcePhase {
    /// Whether the event's reason is worth showing (failures and rollbacks say why).
    pub fn shows_reason(self) -> bool {
        matches!(
            self,
            ResourcePhase::Failed | ResourcePhase::RollingBack | ResourcePhase::RolledBack
        )
    }
}

pub fn resource_phase(status: &ResourceStatus) -> ResourcePhase {
    use ResourceStatus as R;
    match status {
        R::CreateInProgress
        | R::UpdateInProgress
        | R::DeleteInProgress
        | R::ImportInProgress
        | R::ExportInProgress => ResourcePhase::InProgress,
        R::CreateComplete
        | R::UpdateComplete
        | R::DeleteComplete
        | R::ImportComplete
        | R::ExportComplete => ResourcePhase::Done,
        R::DeleteSkipped => ResourcePhase::Skipped,
        R::CreateFailed
        | R::UpdateFailed
        | R::DeleteFailed
        | R::ImportFailed
        | R::ExportFailed
        | R::RollbackFailed
        | R::UpdateRollbackFailed
        | R::ImportRollbackFailed
        | R::ExportRollbackFailed => ResourcePhase::Failed,
        R::RollbackInProgress
        | R::UpdateRollbackInProgress
        | R::ImportRollbackInProgress
        | R::ExportRollbackInProgress => ResourcePhase::RollingBack,
        R::RollbackComplete
        | R::UpdateRollbackComplete
        | R::ImportRollbackComplete
        | R::ExportRollbackComplete => ResourcePhase::RolledBack,
        other => resource_phase_by_name(other.as_str()),
    }
}

/// A resource status this SDK does not know, by its name.
fn resource_phase_by_name(name: &str) -> ResourcePhase {
    let rollback = name.contains("ROLLBACK");
    if name.ends_with("_FAILED") {
        ResourcePhase::Failed
    } else if rollback && name.ends_with("_IN_PROGRESS") {
        ResourcePhase::RollingBack
    } else if rollback {
        ResourcePhase::RolledBack
    } else if name.ends_with("_COMPLETE") {
        ResourcePhase::Done
    } else if name.ends_with("_IN_PROGRESS") {
        ResourcePhase::InProgress
    } else {
        ResourcePhase::Unknown
    }
}

/// What a change set's state says, once CloudFormation answered DescribeChangeSet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeSetVerdict {
    /// Still being computed: ask again.
    Computing,
    /// Computed, with changes to show and execute.
    Ready,
    /// The stack already matches the template: nothing to execute.
    NoChanges,
    /// CloudFormation could not make it; its reason says why.
    Rejected,
}

/// `creating`: a CREATE change set, for which "no changes" is not a way out (a new stack must
/// be created).
pub fn change_set_verdict(
    status: Option<&ChangeSetStatus>,
    reason: &str,
    creating: bool,
) -> ChangeSetVerdict {
    match status {
        Some(ChangeSetStatus::CreatePending | ChangeSetStatus::CreateInProgress) => {
            ChangeSetVerdict::Computing
        }
        Some(ChangeSetStatus::CreateComplete) => ChangeSetVerdict::Ready,
        _ if says_no_changes(reason) && !creating => ChangeSetVerdict::NoChanges,
        _ => ChangeSetVerdict::Rejected,
    }
}

/// Whether a failed change set's reason is CloudFormation's way of saying "nothing to do".
pub fn says_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stack status the SDK knows, with its phase and how gen deploy treats it.
    const STACK: &[(&str, Phase, Approach)] = {
        use Approach::*;
        use Phase::*;
        const BUSY: Approach = Refuse { hint: BUSY_HINT };
        &[
            ("CREATE_COMPLETE", Complete, Update),
            ("CREATE_FAILED", Failed, Update),
            ("CREATE_IN_PROGRESS", InProgress, BUSY),
            ("DELETE_COMPLETE", Deleted, Update),
            (
                "DELETE_FAILED",
                Stuck,
                Refuse {
                    hint: "some resources",
                },
            ),
            ("DELETE_IN_PROGRESS", InProgress, BUSY),
            ("IMPORT_COMPLETE", Complete, Update),
            ("IMPORT_IN_PROGRESS", InProgress, BUSY),
            ("IMPORT_ROLLBACK_COMPLETE", RolledBack, Update),
            ("IMPORT_ROLLBACK_FAILED", Stuck, Update),
            ("IMPORT_ROLLBACK_IN_PROGRESS", InProgress, BUSY),
            ("REVIEW_IN_PROGRESS", InReview, Create),
            ("ROLLBACK_COMPLETE", CreateRolledBack, DeleteThenCreate),
            (
                "ROLLBACK_FAILED",
                Stuck,
                Refuse {
                    hint: "delete-stack",
                },
            ),
            ("ROLLBACK_IN_PROGRESS", InProgress, BUSY),
            ("UPDATE_COMPLETE", Complete, Update),
            ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", InProgress, BUSY),
            ("UPDATE_FAILED", Failed, Update),
            ("UPDATE_IN_PROGRESS", InProgress, BUSY),
            ("UPDATE_ROLLBACK_COMPLETE", RolledBack, Update),
            (
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                InProgress,
                BUSY,
            ),
            (
                "UPDATE_ROLLBACK_FAILED",
                Stuck,
                Refuse {
                    hint: "continue-update-rollback",
                },
            ),
            ("UPDATE_ROLLBACK_IN_PROGRESS", InProgress, BUSY),
        ]
    };

    fn status(name: &str) -> StackStatus {
        StackStatus::from(name)
    }

    #[test]
    fn the_table_covers_every_stack_status() {
        // A status added to the SDK fails here until it is classified (and the table grows).
        let names: Vec<&str> = STACK.iter().map(|(name, _, _)| *name).collect();
        assert_eq!(names, StackStatus::values());
    }

    #[test]
    fn every_stack_status_has_a_phase_and_an_approach() {
        for (name, expected_phase, expected_approach) in STACK {
            let status = status(name);
            assert_eq!(phase(&status), *expected_phase, "{name}");
            match (approach(Some(&status)), expected_approach) {
                // The table holds a telling part of the hint.
                (Approach::Refuse { hint }, Approach::Refuse { hint: part }) => {
                    assert!(hint.contains(part), "{name}: {hint}");
                }
                (got, expected) => assert_eq!(got, *expected, "{name}"),
            }
        }
        assert_eq!(approach(None), Approach::Create);
    }

    #[test]
    fn settled_and_failed_follow_the_phase() {
        for (name, phase, _) in STACK {
            let settled = !name.ends_with("_IN_PROGRESS");
            assert_eq!(phase.is_settled(), settled, "{name}");
            if settled {
                let failed = name.contains("ROLLBACK") || name.ends_with("_FAILED");
                assert_eq!(phase.went_wrong(), failed, "{name}");
            }
        }
        assert!(Phase::Unknown.is_settled() && !Phase::Unknown.went_wrong());
    }

    #[test]
    fn a_status_newer_than_the_sdk_is_read_by_its_name() {
        for (name, expected) in [
            ("RESIZE_IN_PROGRESS", Phase::InProgress),
            ("RESIZE_FAILED", Phase::Failed),
            ("RESIZE_ROLLBACK_COMPLETE", Phase::RolledBack),
            ("RESIZE_COMPLETE", Phase::Complete),
            ("UNKNOWN", Phase::Unknown),
        ] {
            assert_eq!(phase(&status(name)), expected, "{name}");
        }
        assert_eq!(
            approach(Some(&status("RESIZE_IN_PROGRESS"))),
            Approach::Refuse { hint: BUSY_HINT }
        );
        assert_eq!(approach(Some(&status("UNKNOWN"))), Approach::Update);
    }

    #[test]
    fn final_statuses_are_explained() {
        let explained = |name| explain(&status(name));
        assert!(explained("UPDATE_ROLLBACK_COMPLETE").contains("as it was before"));
        assert!(explained("ROLLBACK_COMPLETE").contains("deletes it and starts again"));
        assert!(explained("UPDATE_ROLLBACK_FAILED").contains("continue-update-rollback"));
        assert!(explained("ROLLBACK_FAILED").contains("delete the stack"));
        assert!(!explained("ROLLBACK_FAILED").contains("continue-update-rollback"));
        assert!(explained("DELETE_FAILED").contains("gen destroy again"));
        for (name, phase, _) in STACK {
            let text = explained(name);
            if matches!(phase, Phase::CreateRolledBack | Phase::Stuck)
                && *name != "IMPORT_ROLLBACK_FAILED"
            {
                assert_ne!(text, "see the events above", "{name} says what to do");
            }
        }
        assert_eq!(explained("UNKNOWN"), "see the events above");
    }

    #[test]
    fn a_stack_gen_cannot_deploy_onto_gets_the_command_that_unsticks_it() {
        let id = "arn:aws:cloudformation:eu-west-1:111122223333:stack/app/1";
        let step = |name| next_step(&status(name), "app", "eu-west-1", id);
        let text = step("UPDATE_ROLLBACK_FAILED");
        assert!(
            text.contains(
                "`aws cloudformation continue-update-rollback --stack-name app --region eu-west-1`"
            ),
            "{text}"
        );
        assert!(text.contains("then gen deploy") || text.contains("run gen deploy again"));
        assert!(text.contains("nothing was built or uploaded"), "{text}");
        assert!(
            text.contains(
                "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A111122223333%3Astack%2Fapp%2F1"
            ),
            "{text}"
        );
        assert!(
            step("ROLLBACK_FAILED").contains("aws cloudformation delete-stack --stack-name app")
        );
        assert!(step("DELETE_FAILED").contains("gen destroy again"));
        assert!(step("UPDATE_IN_PROGRESS").contains("did not settle while gen waited"));
    }

    #[test]
    fn an_approach_creates_when_there_is_nothing_to_update() {
        assert!(Approach::Create.creates());
        assert!(Approach::DeleteThenCreate.creates());
        assert!(!Approach::Update.creates());
        assert!(!Approach::Refuse { hint: BUSY_HINT }.creates());
    }

    #[test]
    fn goals_and_usable_stacks() {
        for (name, _, _) in STACK {
            let status = status(name);
            assert_eq!(
                Goal::Created.reached_by(&status),
                *name == "CREATE_COMPLETE"
            );
            assert_eq!(
                Goal::Deployed.reached_by(&status),
                matches!(*name, "CREATE_COMPLETE" | "UPDATE_COMPLETE"),
                "{name}"
            );
            assert_eq!(
                Goal::Deleted.reached_by(&status),
                *name == "DELETE_COMPLETE"
            );
            assert_eq!(
                is_usable(&status),
                matches!(
                    *name,
                    "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
                ),
                "{name}"
            );
        }
    }

    /// Every resource status the SDK knows, with its phase.
    const RESOURCE: &[(&str, ResourcePhase)] = {
        use ResourcePhase::*;
        &[
            ("CREATE_COMPLETE", Done),
            ("CREATE_FAILED", Failed),
            ("CREATE_IN_PROGRESS", InProgress),
            ("DELETE_COMPLETE", Done),
            ("DELETE_FAILED", Failed),
            ("DELETE_IN_PROGRESS", InProgress),
            ("DELETE_SKIPPED", Skipped),
            ("EXPORT_COMPLETE", Done),
            ("EXPORT_FAILED", Failed),
            ("EXPORT_IN_PROGRESS", InProgress),
            ("EXPORT_ROLLBACK_COMPLETE", RolledBack),
            ("EXPORT_ROLLBACK_FAILED", Failed),
            ("EXPORT_ROLLBACK_IN_PROGRESS", RollingBack),
            ("IMPORT_COMPLETE", Done),
            ("IMPORT_FAILED", Failed),
            ("IMPORT_IN_PROGRESS", InProgress),
            ("IMPORT_ROLLBACK_COMPLETE", RolledBack),
            ("IMPORT_ROLLBACK_FAILED", Failed),
            ("IMPORT_ROLLBACK_IN_PROGRESS", RollingBack),
            ("ROLLBACK_COMPLETE", RolledBack),
            ("ROLLBACK_FAILED", Failed),
            ("ROLLBACK_IN_PROGRESS", RollingBack),
            ("UPDATE_COMPLETE", Done),
            ("UPDATE_FAILED", Failed),
            ("UPDATE_IN_PROGRESS", InProgress),
            ("UPDATE_ROLLBACK_COMPLETE", RolledBack),
            ("UPDATE_ROLLBACK_FAILED", Failed),
            ("UPDATE_ROLLBACK_IN_PROGRESS", RollingBack),
        ]
    };

    #[test]
    fn every_resource_status_has_a_phase() {
        let names: Vec<&str> = RESOURCE.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ResourceStatus::values());
        for (name, expected) in RESOURCE {
            let status = ResourceStatus::from(*name);
            let phase = resource_phase(&status);
            assert_eq!(phase, *expected, "{name}");
            // What the event lines have always keyed on, by name.
            assert_eq!(
                phase.shows_reason(),
                name.contains("FAILED") || name.contains("ROLLBACK"),
                "{name}"
            );
            assert_eq!(
                phase == ResourcePhase::Done,
                name.ends_with("_COMPLETE") && !name.contains("ROLLBACK"),
                "{name}"
            );
            assert_eq!(
                phase == ResourcePhase::Failed,
                name.ends_with("_FAILED"),
                "{name}"
            );
        }
        for (name, expected) in [
            ("MOVE_FAILED", ResourcePhase::Failed),
            ("MOVE_ROLLBACK_IN_PROGRESS", ResourcePhase::RollingBack),
            ("MOVE_ROLLBACK_COMPLETE", ResourcePhase::RolledBack),
            ("MOVE_COMPLETE", ResourcePhase::Done),
            ("MOVE_IN_PROGRESS", ResourcePhase::InProgress),
            ("MOVE_SKIPPED", ResourcePhase::Unknown),
        ] {
            assert_eq!(
                resource_phase(&ResourceStatus::from(name)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_change_set_is_computing_ready_empty_or_rejected() {
        use ChangeSetVerdict::*;
        let empty = "The submitted information didn't contain changes. Submit different information to create a change set.";
        for name in ChangeSetStatus::values() {
            let status = ChangeSetStatus::from(*name);
            let expected = match *name {
                "CREATE_PENDING" | "CREATE_IN_PROGRESS" => Computing,
                "CREATE_COMPLETE" => Ready,
                _ => NoChanges,
            };
            assert_eq!(
                change_set_verdict(Some(&status), empty, false),
                expected,
                "{name}"
            );
            if expected == NoChanges {
                assert_eq!(change_set_verdict(Some(&status), "bad", false), Rejected);
                // A new stack must be created: "no changes" is not an answer.
                assert_eq!(change_set_verdict(Some(&status), empty, true), Rejected);
            }
        }
        assert_eq!(change_set_verdict(None, empty, false), NoChanges);
        assert_eq!(
            change_set_verdict(None, "No updates are to be performed.", false),
            NoChanges
        );
        assert_eq!(change_set_verdict(None, "", false), Rejected);
    }
}
