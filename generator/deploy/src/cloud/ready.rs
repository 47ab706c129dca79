//! Before anything is built or uploaded: whether gen deploy can go onto the deployed stack as
//! it is. One that another operation still has in progress (another gen deploy, or an
//! interrupted one that goes on in CloudFormation) is waited for, within
//! [`crate::DeployConfig::settle_limit`]; one gen cannot deploy onto is refused with the
//! command that gets it out of there ([`status::next_step`]).

use super::{Cloud, Regional, status_of};
use crate::DeployError;
use crate::status::{self, Approach, Goal, Phase};

impl<'c> Cloud<'c> {
    pub async fn ready_to_deploy(
        &self,
        regional: &Regional,
        name: &str,
    ) -> Result<(), DeployError> {
        let Some(mut stack) = regional.describe_stack(name).await? else {
            return Ok(());
        };
        let stack_id = stack.stack_id().unwrap_or(name).to_owned();
        let mut status = status_of(&stack);
        let refuse = |status: status::StackStatus| DeployError::StackBusy {
            stack: name.to_owned(),
            hint: status::next_step(&status, name, &regional.region, &stack_id),
            status,
        };
        if status::phase(&status) == Phase::InProgress {
            let limit = self.config.settle_limit;
            self.console.line(&format!(
                "Stack {name} is {status}: another operation on it is still running (another gen deploy, or an interrupted one CloudFormation carries on); waiting up to {} for it to settle before building anything",
                minutes(limit)
            ));
            let seen = self.event_ids(regional, &stack_id).await?;
            let waited =
                tokio::time::timeout(limit, self.wait(regional, &stack_id, name, seen, 0)).await;
            let Ok(settled) = waited else {
                self.console.clear_status();
                return Err(refuse(status));
            };
            stack = settled?;
            status = status_of(&stack);
            if Goal::Deleted.reached_by(&status) {
                return Ok(());
            }
        }
        match status::approach(Some(&status)) {
            Approach::Refuse { .. } => Err(refuse(status)),
            Approach::DeleteThenCreate => {
                self.console.line(&format!(
                    "Stack {name} is ROLLBACK_COMPLETE: its first deploy failed and was rolled back, so it holds nothing and CloudFormation cannot update it; gen deploy deletes it and creates it afresh"
                ));
                Ok(())
            }
            Approach::Create | Approach::Update => Ok(()),
        }
    }
}

/// `30 min`, `45 s`.
fn minutes(limit: std::time::Duration) -> String {
    if limit.as_secs() >= 60 {
        format!("{} min", limit.as_secs() / 60)
    } else {
        format!("{} s", limit.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use crate::DeployError;
    use crate::cloud::fake::{self, Fake, Request};
    use crate::console::Recording;

    async fn ready(fake: &Fake, console: &Recording, limit: Duration) -> Result<(), DeployError> {
        let mut cloud = fake.cloud(true, console);
        cloud.config.settle_limit = limit;
        let regional = cloud.regional("us-east-1");
        cloud.ready_to_deploy(&regional, "app").await
    }

    #[tokio::test]
    async fn a_stack_in_progress_is_waited_for_then_deployed_onto() {
        let polls = Arc::new(AtomicUsize::new(0));
        let fake = {
            let polls = polls.clone();
            Fake::new(move |r: &Request| match r.action.as_str() {
                "DescribeStacks" if polls.fetch_add(1, Ordering::SeqCst) < 3 => {
                    fake::stack("UPDATE_IN_PROGRESS", &[])
                }
                "DescribeStacks" => fake::stack("UPDATE_COMPLETE", &[]),
                "DescribeStackEvents" => fake::events(&[]),
                other => panic!("unexpected {other}"),
            })
        };
        let console = Recording::unattended();
        ready(&fake, &console, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(
            console.lines()[0].starts_with(
                "Stack app is UPDATE_IN_PROGRESS: another operation on it is still running"
            ),
            "{:?}",
            console.lines()
        );
        assert!(console.lines()[0].contains("waiting up to 1 min"));
        assert!(!fake.actions().iter().any(|a| a.contains("ChangeSet")));
    }

    #[tokio::test]
    async fn a_stack_that_does_not_settle_in_time_is_refused_with_where_to_follow_it() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack("UPDATE_ROLLBACK_IN_PROGRESS", &[]),
            "DescribeStackEvents" => fake::events(&[]),
            other => panic!("unexpected {other}"),
        });
        let error = ready(&fake, &Recording::unattended(), Duration::from_millis(50))
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("stack app is UPDATE_ROLLBACK_IN_PROGRESS: another operation is still running and did not settle while gen waited; nothing was built or uploaded"),
            "{text}"
        );
        assert!(
            text.contains("console.aws.amazon.com/cloudformation"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_stuck_or_rolled_back_stack_is_explained_before_anything_is_built() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack("UPDATE_ROLLBACK_FAILED", &[]),
            other => panic!("unexpected {other}"),
        });
        let text = ready(&fake, &Recording::unattended(), Duration::from_secs(1))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with(
                "stack app is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "`aws cloudformation continue-update-rollback --stack-name app --region us-east-1`"
            ),
            "{text}"
        );
        assert_eq!(fake.actions(), ["DescribeStacks"]);

        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack("ROLLBACK_COMPLETE", &[]),
            other => panic!("unexpected {other}"),
        });
        let console = Recording::unattended();
        ready(&fake, &console, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(
            console.lines()[0]
                .contains("ROLLBACK_COMPLETE: its first deploy failed and was rolled back"),
            "{:?}",
            console.lines()
        );
    }
}
