//! After a signal: what [`crate::interrupt::InFlight::interrupt`] found under way, cleaned up
//! (a change set not executed is deleted, with the empty stack a CREATE one made) or
//! explained (an executing change set goes on in CloudFormation). Lines for the person;
//! never an error, since gen is on its way out either way.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::error::ProvideErrorMetadata as _;
use aws_sdk_cloudformation::types::ChangeSetStatus;

use super::error::{DELETE_CHANGE_SET, classify, is_missing_stack};
use super::{Cloud, status_of};
use crate::interrupt::{ChangeSetRef, UnderWay};
use crate::status::StackStatus;

/// How long a change set CloudFormation is still computing is given to finish before it is
/// deleted (it cannot be deleted while CREATE_IN_PROGRESS).
const COMPUTE_LIMIT: Duration = Duration::from_secs(60);

impl<'c> Cloud<'c> {
    /// Deletes or explains what a signal interrupted; returns what to tell the person.
    pub async fn clean_up(&self, under_way: &UnderWay) -> Vec<String> {
        match under_way {
            UnderWay::ChangeSet(change_set) => self.delete_pending(change_set).await,
            other => crate::interrupt::explain(other),
        }
    }

    async fn delete_pending(&self, pending: &ChangeSetRef) -> Vec<String> {
        let regional = self.regional(&pending.region);
        let (name, stack) = (&pending.change_set, &pending.stack);
        // By its ID when known: another change set of the stack may have the same name.
        let (target, by_name) = match &pending.id {
            Some(id) => (id, None),
            None => (name, Some(stack.clone())),
        };
        // A change set still being computed cannot be deleted yet.
        let started = Instant::now();
        loop {
            let described = regional
                .cfn
                .describe_change_set()
                .change_set_name(target)
                .set_stack_name(by_name.clone())
                .send()
                .await;
            match described {
                Ok(out)
                    if matches!(
                        out.status(),
                        Some(ChangeSetStatus::CreatePending | ChangeSetStatus::CreateInProgress)
                    ) && started.elapsed() < COMPUTE_LIMIT =>
                {
                    self.sleep().await;
                }
                Ok(_) => break,
                Err(e) if is_missing_stack(&e) || not_found(&e) => {
                    return vec![format!(
                        "Interrupted before change set {name} of stack {stack} existed: nothing changed in CloudFormation and nothing was recorded in .gen/outputs/"
                    )];
                }
                Err(_) => break,
            }
        }
        let deleted = regional
            .cfn
            .delete_change_set()
            .change_set_name(target)
            .set_stack_name(by_name)
            .send()
            .await;
        if let Err(e) = deleted {
            let error = classify(DELETE_CHANGE_SET, &regional.endpoint, e);
            return vec![
                format!(
                    "Interrupted before executing change set {name} of stack {stack}, but could not delete it: {error}"
                ),
                format!(
                    "  = hint: delete it with `aws cloudformation delete-change-set --stack-name {stack} --change-set-name {name} --region {}`; nothing was deployed or recorded",
                    pending.region
                ),
            ];
        }
        let mut what = format!("change set {name} of stack {stack}");
        if pending.creating {
            // The empty stack a CREATE change set made, unless something else made it since.
            let review = regional
                .describe_stack(stack)
                .await
                .ok()
                .flatten()
                .filter(|s| status_of(s) == StackStatus::ReviewInProgress);
            if let Some(empty) = review {
                let id = empty.stack_id().unwrap_or(stack);
                if regional
                    .cfn
                    .delete_stack()
                    .stack_name(id)
                    .send()
                    .await
                    .is_ok()
                {
                    what.push_str(" and the empty stack (REVIEW_IN_PROGRESS) it had made");
                }
            }
        }
        vec![format!(
            "Interrupted before executing: deleted {what}; nothing was deployed, and nothing recorded in .gen/outputs/"
        )]
    }
}

fn not_found<E: aws_sdk_cloudformation::error::ProvideErrorMetadata>(
    error: &aws_sdk_cloudformation::error::SdkError<E>,
) -> bool {
    error.code() == Some("ChangeSetNotFound") || error.code() == Some("ChangeSetNotFoundException")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::DeployError;
    use crate::cloud::StackRequest;
    use crate::cloud::fake::{self, Fake, Request};
    use crate::console::Recording;
    use crate::interrupt::InFlight;

    fn pending(creating: bool) -> ChangeSetRef {
        ChangeSetRef {
            region: "us-east-1".into(),
            stack: "app".into(),
            change_set: "gen-deploy-1".into(),
            id: None,
            creating,
        }
    }

    #[tokio::test]
    async fn a_change_set_not_executed_is_deleted_with_its_empty_stack() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeChangeSet" => fake::change_set("CREATE_COMPLETE", "", &[]),
            "DescribeStacks" => fake::stack("REVIEW_IN_PROGRESS", &[]),
            "DeleteChangeSet" | "DeleteStack" => fake::done(&r.action),
            other => panic!("unexpected {other}"),
        });
        let console = Recording::unattended();
        let cloud = fake.cloud(true, &console);
        let lines = cloud.clean_up(&UnderWay::ChangeSet(pending(true))).await;
        assert_eq!(
            lines,
            [
                "Interrupted before executing: deleted change set gen-deploy-1 of stack app and the empty stack (REVIEW_IN_PROGRESS) it had made; nothing was deployed, and nothing recorded in .gen/outputs/"
            ]
        );
        assert_eq!(
            fake.actions(),
            [
                "DescribeChangeSet",
                "DeleteChangeSet",
                "DescribeStacks",
                "DeleteStack"
            ]
        );
        let delete = &fake.requests()[1];
        assert_eq!(delete.param("ChangeSetName"), Some("gen-deploy-1"));
        assert_eq!(delete.param("StackName"), Some("app"));
    }

    #[tokio::test]
    async fn a_change_set_that_never_got_made_leaves_nothing_to_delete() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeChangeSet" => fake::error(
                "ChangeSetNotFound",
                "ChangeSet [gen-deploy-1] does not exist",
            ),
            other => panic!("unexpected {other}"),
        });
        let console = Recording::unattended();
        let lines = fake
            .cloud(true, &console)
            .clean_up(&UnderWay::ChangeSet(pending(false)))
            .await;
        assert!(
            lines[0].starts_with("Interrupted before change set gen-deploy-1 of stack app existed"),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn an_executing_change_set_is_left_to_cloudformation_with_how_to_follow_it() {
        let fake = Fake::new(|r: &Request| panic!("unexpected {}", r.action));
        let console = Recording::unattended();
        let lines = fake
            .cloud(true, &console)
            .clean_up(&UnderWay::Running {
                change_set: pending(false),
                stack_id: fake::STACK_ID.into(),
            })
            .await;
        assert!(
            lines[0].contains("the deploy goes on in CloudFormation without gen"),
            "{lines:?}"
        );
        assert!(lines[1].contains("https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/stackinfo?stackId=arn%3Aaws%3Acloudformation"), "{lines:?}");
        assert!(lines[1].contains("a gen deploy run now waits for it to settle"));
        assert!(fake.actions().is_empty());
    }

    /// A deploy through the fake; `interrupt_at` is the call at which a signal comes (its
    /// handler's `interrupt()` is run from the stand-in's answer), returning what it found.
    async fn interrupted_at(
        interrupt_at: impl Fn(&Request, &InFlight) -> bool + Send + Sync + 'static,
    ) -> (
        Result<crate::cloud::StackOutcome, DeployError>,
        Vec<String>,
        Option<UnderWay>,
    ) {
        let in_flight = InFlight::default();
        let found: Arc<Mutex<Option<UnderWay>>> = Arc::default();
        let fake = {
            let (in_flight, found) = (in_flight.clone(), found.clone());
            Fake::new(move |r: &Request| {
                if found.lock().unwrap().is_none() && interrupt_at(r, &in_flight) {
                    *found.lock().unwrap() = Some(in_flight.interrupt());
                }
                match r.action.as_str() {
                    "DescribeStacks" => fake::stack("UPDATE_COMPLETE", &[]),
                    "CreateChangeSet" => fake::change_set_created(),
                    "DescribeChangeSet" => fake::change_set(
                        "CREATE_COMPLETE",
                        "",
                        &[("Modify", "Fn", "AWS::Lambda::Function")],
                    ),
                    "DescribeStackEvents" => fake::events(&[]),
                    "ExecuteChangeSet" => fake::done("ExecuteChangeSet"),
                    other => panic!("unexpected {other}"),
                }
            })
        };
        let console = Recording::unattended();
        let mut cloud = fake.cloud(true, &console);
        cloud.config.in_flight = in_flight;
        let regional = cloud.regional("us-east-1");
        let outcome = cloud
            .deploy_stack(
                &regional,
                StackRequest {
                    name: "app",
                    template: r#"{"Resources":{}}"#,
                    parameters: &BTreeMap::new(),
                    assets_bucket: None,
                    has_nested: false,
                },
            )
            .await;
        let found = found.lock().unwrap().clone();
        (outcome, fake.actions(), found)
    }

    #[tokio::test]
    async fn a_signal_before_execution_keeps_the_change_set_from_running() {
        let (outcome, actions, found) =
            interrupted_at(|r, _| r.action == "DescribeChangeSet").await;
        assert!(
            matches!(outcome, Err(DeployError::Interrupted)),
            "{outcome:?}"
        );
        assert!(
            !actions.contains(&"ExecuteChangeSet".to_owned()),
            "{actions:?}"
        );
        let Some(UnderWay::ChangeSet(change_set)) = found else {
            panic!("{found:?}");
        };
        assert_eq!(
            (change_set.stack.as_str(), change_set.creating),
            ("app", false)
        );
        assert!(change_set.change_set.starts_with("gen-deploy-"));
        assert_eq!(change_set.id.as_deref(), Some(fake::CHANGE_SET_ID));
    }

    #[tokio::test]
    async fn a_change_set_whose_id_is_known_is_deleted_by_it_not_by_its_name() {
        // moto keeps executed change sets, and a name is to the second: another change set
        // of the stack may share it (the name alone deleted that one, leaving this one).
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeChangeSet" => fake::change_set("CREATE_COMPLETE", "", &[]),
            "DeleteChangeSet" => fake::done(&r.action),
            other => panic!("unexpected {other}"),
        });
        let console = Recording::unattended();
        let known = ChangeSetRef {
            id: Some(fake::CHANGE_SET_ID.into()),
            ..pending(false)
        };
        let lines = fake
            .cloud(true, &console)
            .clean_up(&UnderWay::ChangeSet(known))
            .await;
        assert_eq!(
            lines,
            [
                "Interrupted before executing: deleted change set gen-deploy-1 of stack app; nothing was deployed, and nothing recorded in .gen/outputs/"
            ]
        );
        for request in fake.requests() {
            assert_eq!(
                request.param("ChangeSetName"),
                Some(fake::CHANGE_SET_ID),
                "{}",
                request.action
            );
            assert_eq!(request.param("StackName"), None, "{}", request.action);
        }
    }

    #[tokio::test]
    async fn a_signal_during_execution_finds_it_running() {
        // A poll of the stack's events after ExecuteChangeSet was answered.
        let (outcome, actions, found) = interrupted_at(|r, in_flight| {
            r.action == "DescribeStackEvents"
                && matches!(in_flight.under_way(), UnderWay::Running { .. })
        })
        .await;
        assert!(actions.contains(&"ExecuteChangeSet".to_owned()));
        assert!(!actions.contains(&"DeleteChangeSet".to_owned()));
        let Some(UnderWay::Running {
            stack_id,
            change_set,
        }) = found
        else {
            panic!("{found:?}");
        };
        assert_eq!(
            (stack_id.as_str(), change_set.stack.as_str()),
            (fake::STACK_ID, "app")
        );
        // The deploy itself went on (gen exits from the signal handler meanwhile).
        assert!(outcome.is_ok(), "{outcome:?}");
    }
}
