//! What a deploy has under way in CloudFormation, so a signal (Ctrl-C, SIGTERM) can leave
//! nothing behind that nobody will execute, and say what goes on without gen.
//!
//! The deploy tells an [`InFlight`] each step (a change set about to be created, execution
//! about to start, running, done); the `gen` binary's signal handler calls
//! [`InFlight::interrupt`], which from then on refuses the deploy any further step (it gets
//! [`crate::DeployError::Interrupted`]) and says what is under way, and cleans that up with
//! [`crate::cloud::Cloud::clean_up`]. Pure bookkeeping: no call, no I/O.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::DeployError;

/// Shared between the deploy and a signal handler (cloned with the [`crate::DeployConfig`]).
#[derive(Clone, Default)]
pub struct InFlight(Arc<(Mutex<State>, Condvar)>);

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InFlight({:?})", *self.lock())
    }
}

#[derive(Debug, Default)]
struct State {
    interrupted: bool,
    under_way: UnderWay,
}

/// A change set gen made (or is making) of one stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetRef {
    pub region: String,
    pub stack: String,
    /// Its name (known before CreateChangeSet is sent, so one whose answer never came is
    /// found too).
    pub change_set: String,
    /// Its ID (ARN), once CreateChangeSet answered: the clean-up deletes by it, since the
    /// name (to the second) may also be another change set's of the stack.
    pub id: Option<String>,
    /// A CREATE change set: its stack is an empty one in REVIEW_IN_PROGRESS that goes too.
    pub creating: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum UnderWay {
    /// No change set of this run awaits execution, none is executing.
    #[default]
    Nothing,
    /// A change set is being created, computed, shown or asked about: not executed.
    ChangeSet(ChangeSetRef),
    /// ExecuteChangeSet was sent and has not been answered yet.
    Executing(ChangeSetRef),
    /// CloudFormation is carrying the change set out.
    Running {
        change_set: ChangeSetRef,
        stack_id: String,
    },
}

/// How long a signal waits for an ExecuteChangeSet already sent to be answered, to tell
/// whether it went through.
const EXECUTE_ANSWER_LIMIT: Duration = Duration::from_secs(30);

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set(&self, under_way: UnderWay) -> Result<(), DeployError> {
        let mut state = self.lock();
        if state.interrupted {
            return Err(DeployError::Interrupted);
        }
        state.under_way = under_way;
        self.0.1.notify_all();
        Ok(())
    }

    /// A change set is about to be created.
    pub fn change_set(&self, change_set: ChangeSetRef) -> Result<(), DeployError> {
        self.set(UnderWay::ChangeSet(change_set))
    }

    /// CreateChangeSet answered with the change set's ID.
    pub fn created(&self, id: &str) {
        let mut state = self.lock();
        if let UnderWay::ChangeSet(change_set) = &mut state.under_way {
            change_set.id = Some(id.to_owned());
        }
    }

    /// Nothing is left of the change set (it was deleted, not created, or has settled).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.under_way = UnderWay::Nothing;
        self.0.1.notify_all();
    }

    /// ExecuteChangeSet is about to be sent: refused once interrupted, so a change set the
    /// signal handler deletes is never executed.
    pub fn executing(&self) -> Result<(), DeployError> {
        let mut state = self.lock();
        if state.interrupted {
            return Err(DeployError::Interrupted);
        }
        if let UnderWay::ChangeSet(change_set) = &state.under_way {
            state.under_way = UnderWay::Executing(change_set.clone());
        }
        Ok(())
    }

    /// ExecuteChangeSet was answered: CloudFormation runs it (`Some(stack ID)`), or it
    /// failed and the change set is still there (`None`).
    pub fn executed(&self, stack_id: Option<&str>) {
        let mut state = self.lock();
        if let UnderWay::Executing(change_set) = &state.under_way {
            let change_set = change_set.clone();
            state.under_way = match stack_id {
                Some(id) => UnderWay::Running {
                    change_set,
                    stack_id: id.to_owned(),
                },
                None => UnderWay::ChangeSet(change_set),
            };
        }
        self.0.1.notify_all();
    }

    /// For the signal handler: from now on the deploy takes no further step. Returns what
    /// is under way; an ExecuteChangeSet already sent is first given time to be answered.
    pub fn interrupt(&self) -> UnderWay {
        let mut state = self.lock();
        state.interrupted = true;
        let deadline = Instant::now() + EXECUTE_ANSWER_LIMIT;
        while matches!(state.under_way, UnderWay::Executing(_)) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .0
                .1
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state.under_way.clone()
    }

    pub fn is_interrupted(&self) -> bool {
        self.lock().interrupted
    }

    pub fn under_way(&self) -> UnderWay {
        self.lock().under_way.clone()
    }
}

/// What to tell the person of what a signal interrupted, when nothing is left to delete
/// (a change set not executed is deleted by [`crate::cloud::Cloud::clean_up`], which says so).
pub fn explain(under_way: &UnderWay) -> Vec<String> {
    match under_way {
        UnderWay::Nothing => vec![
            "Interrupted: no change set of this deploy was waiting to be executed or executing, so there was nothing to clean up in CloudFormation (stacks it had finished stay deployed and recorded; function code already uploaded stays in the assets bucket, where the next deploy reuses it)".to_owned(),
        ],
        UnderWay::ChangeSet(change_set) => vec![format!(
            "Interrupted before executing change set {} of stack {}",
            change_set.change_set, change_set.stack
        )],
        UnderWay::Executing(change_set) => vec![
            format!(
                "Interrupted just as gen asked CloudFormation to execute change set {} of stack {}: it may be running",
                change_set.change_set, change_set.stack
            ),
            follow_hint(change_set, &change_set.stack),
        ],
        UnderWay::Running {
            change_set,
            stack_id,
        } => vec![
            format!(
                "Interrupted while CloudFormation executes change set {} of stack {}: the deploy goes on in CloudFormation without gen (and rolls itself back if it fails); its outputs are not recorded in .gen/outputs/ yet",
                change_set.change_set, change_set.stack
            ),
            follow_hint(change_set, stack_id),
        ],
    }
}

/// How to follow (or stop) a stack operation that goes on without gen.
fn follow_hint(change_set: &ChangeSetRef, stack_id: &str) -> String {
    let (stack, region) = (&change_set.stack, &change_set.region);
    format!(
        "  = hint: follow it at {} (or `aws cloudformation describe-stacks --stack-name {stack} --region {region}`); a gen deploy run now waits for it to settle, then records the outputs; to stop an update instead: `aws cloudformation cancel-update-stack --stack-name {stack} --region {region}`",
        crate::status::console_url(region, stack_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> ChangeSetRef {
        ChangeSetRef {
            region: "eu-west-1".into(),
            stack: "app".into(),
            change_set: "gen-deploy-1".into(),
            id: None,
            creating: false,
        }
    }

    #[test]
    fn a_change_set_goes_from_made_to_executing_to_running_to_nothing() {
        let in_flight = InFlight::default();
        assert_eq!(in_flight.under_way(), UnderWay::Nothing);
        in_flight.change_set(app()).unwrap();
        assert_eq!(in_flight.under_way(), UnderWay::ChangeSet(app()));
        in_flight.created("arn:cs");
        let made = ChangeSetRef {
            id: Some("arn:cs".into()),
            ..app()
        };
        assert_eq!(in_flight.under_way(), UnderWay::ChangeSet(made.clone()));
        in_flight.executing().unwrap();
        assert_eq!(in_flight.under_way(), UnderWay::Executing(made.clone()));
        in_flight.executed(None);
        assert_eq!(in_flight.under_way(), UnderWay::ChangeSet(made.clone()));
        in_flight.executing().unwrap();
        in_flight.executed(Some("id"));
        assert_eq!(
            in_flight.under_way(),
            UnderWay::Running {
                change_set: made,
                stack_id: "id".into()
            }
        );
        in_flight.clear();
        assert_eq!(in_flight.under_way(), UnderWay::Nothing);
    }

    #[test]
    fn once_interrupted_the_deploy_takes_no_further_step() {
        let in_flight = InFlight::default();
        in_flight.change_set(app()).unwrap();
        assert_eq!(in_flight.interrupt(), UnderWay::ChangeSet(app()));
        assert!(in_flight.is_interrupted());
        assert!(matches!(
            in_flight.executing(),
            Err(DeployError::Interrupted)
        ));
        assert!(matches!(
            in_flight.change_set(app()),
            Err(DeployError::Interrupted)
        ));
    }

    #[test]
    fn an_interrupt_waits_for_an_execute_already_sent_to_be_answered() {
        let in_flight = InFlight::default();
        in_flight.change_set(app()).unwrap();
        in_flight.executing().unwrap();
        let deploy = in_flight.clone();
        let answer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            deploy.executed(Some("id"));
        });
        assert!(matches!(in_flight.interrupt(), UnderWay::Running { .. }));
        answer.join().unwrap();
    }
}
