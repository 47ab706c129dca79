//! Deploying one stack through a change set, in the order it happens: choose CREATE or
//! UPDATE (clearing a failed first deploy), create the change set, wait for CloudFormation to
//! compute it, show it and ask, execute it and follow the stack, read the outputs.
//! A change set that will not be executed is deleted, with the empty stack a CREATE one made.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType};

use super::error::{
    CREATE_CHANGE_SET, DELETE_CHANGE_SET, DESCRIBE_CHANGE_SET, EXECUTE_CHANGE_SET, classify,
};
use super::{Cloud, Regional, StackOutcome, outputs_of, status_of};
use crate::DeployError;
use crate::changes::{self, Action, Replacement, ResourceChange};
use crate::console;
use crate::status::{self, Approach, ChangeSetVerdict, Goal};
use stackgen_core::deploy::TEMPLATE_BODY_LIMIT;

/// A change set gen created and has not executed yet.
struct ChangeSet {
    id: String,
    /// The stack's ID (for a CREATE change set, of the empty stack it made).
    stack_id: String,
    /// A CREATE change set: discarding it must delete its empty stack too.
    creating: bool,
}

/// Where CloudFormation reads the template from.
enum TemplateSource<'t> {
    Body(&'t str),
    /// Too large for a body: uploaded to the assets bucket.
    Url(String),
}

/// What a computed change set holds.
enum Computed {
    Changes(Vec<ResourceChange>),
    /// The stack already matches the template.
    Nothing,
}

impl<'c> Cloud<'c> {
    /// Creates a change set for `name`, shows it, asks, executes it and follows the events.
    pub async fn deploy_stack(
        &self,
        regional: &Regional,
        name: &str,
        template: &str,
        parameters: &BTreeMap<String, String>,
        // The region's assets bucket when the caller already looked it up.
        assets_bucket: Option<&str>,
    ) -> Result<StackOutcome, DeployError> {
        let approach = self.prepare(regional, name).await?;
        let source = self
            .template_source(regional, template, assets_bucket)
            .await?;
        let change_set = self
            .create_change_set(regional, name, approach, source, parameters)
            .await?;
        let changes = match self.computed_changes(regional, &change_set).await? {
            Computed::Changes(changes) => changes,
            Computed::Nothing => {
                let stack = regional.describe_stack(name).await?;
                return Ok(StackOutcome::NoChanges {
                    outputs: stack.as_ref().map(outputs_of).unwrap_or_default(),
                });
            }
        };
        if !self
            .show_and_confirm(regional, name, &change_set, &changes)
            .await?
        {
            return Ok(StackOutcome::Declined);
        }
        let (stack, elapsed) = self
            .execute(regional, name, &change_set, changes.len())
            .await?;
        outcome(name, &stack, changes.len(), elapsed)
    }

    /// How to go about the stack as deployed now; a ROLLBACK_COMPLETE one is deleted here.
    async fn prepare(&self, regional: &Regional, name: &str) -> Result<Approach, DeployError> {
        let existing = regional.describe_stack(name).await?;
        let existing_status = existing.as_ref().map(status_of);
        let approach = status::approach(existing_status.as_ref());
        match approach {
            Approach::Refuse { hint } => Err(DeployError::StackBusy {
                stack: name.to_owned(),
                status: existing_status.expect("only a deployed stack is refused"),
                hint,
            }),
            Approach::DeleteThenCreate => {
                // A failed first deploy leaves an empty stack that cannot be updated.
                self.console.line(&format!(
                    "Stack {name} is ROLLBACK_COMPLETE from a failed first deploy and holds nothing; deleting it to start again"
                ));
                let stack_id = existing.as_ref().and_then(|s| s.stack_id());
                self.delete(regional, name, stack_id.unwrap_or(name))
                    .await?;
                Ok(approach)
            }
            Approach::Create | Approach::Update => Ok(approach),
        }
    }

    /// The template as a body, or uploaded (content-addressed) when it is too large for one.
    async fn template_source<'t>(
        &self,
        regional: &Regional,
        template: &'t str,
        assets_bucket: Option<&str>,
    ) -> Result<TemplateSource<'t>, DeployError> {
        if template.len() <= TEMPLATE_BODY_LIMIT {
            return Ok(TemplateSource::Body(template));
        }
        let bucket = match assets_bucket {
            Some(bucket) => bucket.to_owned(),
            None => self.assets_bucket(regional).await?,
        };
        let key = crate::assets::template_key(template.as_bytes());
        regional
            .upload(
                &bucket,
                &key,
                template.as_bytes().to_vec(),
                "application/json",
            )
            .await?;
        Ok(TemplateSource::Url(self.object_url(
            &regional.region,
            &bucket,
            &key,
        )))
    }

    async fn create_change_set(
        &self,
        regional: &Regional,
        name: &str,
        approach: Approach,
        source: TemplateSource<'_>,
        parameters: &BTreeMap<String, String>,
    ) -> Result<ChangeSet, DeployError> {
        let creating = approach.creates();
        let mut request = regional
            .cfn
            .create_change_set()
            .stack_name(name)
            .change_set_name(change_set_name(SystemTime::now()))
            .description("gen deploy")
            .change_set_type(if creating {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam);
        for (key, value) in parameters {
            request = request.parameters(
                cfn::types::Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build(),
            );
        }
        request = match source {
            TemplateSource::Body(body) => request.template_body(body),
            TemplateSource::Url(url) => request.template_url(url),
        };
        let created = request
            .send()
            .await
            .map_err(|e| classify(CREATE_CHANGE_SET, &regional.endpoint, e))?;
        Ok(ChangeSet {
            id: created.id().unwrap_or_default().to_owned(),
            stack_id: created.stack_id().unwrap_or(name).to_owned(),
            creating,
        })
    }

    /// Waits for CloudFormation to compute the change set and reads its changes. One with
    /// nothing to do, or that CloudFormation rejected, is discarded.
    async fn computed_changes(
        &self,
        regional: &Regional,
        change_set: &ChangeSet,
    ) -> Result<Computed, DeployError> {
        loop {
            let out = regional
                .cfn
                .describe_change_set()
                .change_set_name(&change_set.id)
                .send()
                .await
                .map_err(|e| classify(DESCRIBE_CHANGE_SET, &regional.endpoint, e))?;
            let reason = out.status_reason().unwrap_or_default();
            match status::change_set_verdict(out.status(), reason, change_set.creating) {
                ChangeSetVerdict::Computing => self.sleep().await,
                ChangeSetVerdict::Ready => {
                    return Ok(Computed::Changes(
                        self.changes(regional, &change_set.id).await?,
                    ));
                }
                ChangeSetVerdict::NoChanges => {
                    self.discard(regional, change_set).await;
                    return Ok(Computed::Nothing);
                }
                ChangeSetVerdict::Rejected => {
                    self.discard(regional, change_set).await;
                    return Err(DeployError::Rejected {
                        operation: "CreateChangeSet",
                        message: reason.to_owned(),
                    });
                }
            }
        }
    }

    /// Every change of a computed change set, page by page.
    async fn changes(
        &self,
        regional: &Regional,
        change_set_id: &str,
    ) -> Result<Vec<ResourceChange>, DeployError> {
        let mut changes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = regional
                .cfn
                .describe_change_set()
                .change_set_name(change_set_id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify(DESCRIBE_CHANGE_SET, &regional.endpoint, e))?;
            changes.extend(
                out.changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(resource_change),
            );
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        Ok(changes)
    }

    /// Shows the change set and asks whether to execute it (`--yes` answers); one that will
    /// not run is discarded.
    async fn show_and_confirm(
        &self,
        regional: &Regional,
        name: &str,
        change_set: &ChangeSet,
        changes: &[ResourceChange],
    ) -> Result<bool, DeployError> {
        for line in changes::report(name, &regional.region, change_set.creating, changes) {
            self.console.line(&line);
        }
        let go = console::confirm(
            self.console,
            &format!("Deploy these changes to {name}?"),
            self.config.yes,
        );
        if !matches!(go, Ok(true)) {
            self.discard(regional, change_set).await;
        }
        go
    }

    /// Executes the change set and follows the stack until it settles; returns the stack and
    /// how long that took.
    async fn execute(
        &self,
        regional: &Regional,
        name: &str,
        change_set: &ChangeSet,
        total: usize,
    ) -> Result<(cfn::types::Stack, Duration), DeployError> {
        // Events already there (e.g. REVIEW_IN_PROGRESS) are not this deploy's progress.
        let seen = self.event_ids(regional, &change_set.stack_id).await?;
        let started = Instant::now();
        if let Err(e) = regional
            .cfn
            .execute_change_set()
            .change_set_name(&change_set.id)
            .send()
            .await
        {
            // Not executed: nothing should be left waiting for someone to execute it.
            let error = classify(EXECUTE_CHANGE_SET, &regional.endpoint, e);
            self.discard(regional, change_set).await;
            return Err(error);
        }
        let stack = self
            .wait(regional, &change_set.stack_id, name, seen, total)
            .await?;
        Ok((stack, started.elapsed()))
    }

    /// Deletes a change set nobody will execute, and the empty stack a CREATE change set
    /// made. Best effort: a leftover is harmless and the real error matters more.
    async fn discard(&self, regional: &Regional, change_set: &ChangeSet) {
        let _ = regional
            .cfn
            .delete_change_set()
            .change_set_name(&change_set.id)
            .send()
            .await
            .map_err(|e| classify(DELETE_CHANGE_SET, &regional.endpoint, e));
        if change_set.creating {
            let _ = regional
                .cfn
                .delete_stack()
                .stack_name(&change_set.stack_id)
                .send()
                .await;
        }
    }
}

/// `gen-deploy-<seconds since the epoch>`: unique enough per stack, and says who made it.
fn change_set_name(now: SystemTime) -> String {
    format!(
        "gen-deploy-{}",
        now.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    )
}

/// One resource change as CloudFormation describes it, as [`changes`] renders it: the
/// properties or scopes a Modify touches, sorted and once each.
fn resource_change(rc: &cfn::types::ResourceChange) -> ResourceChange {
    let mut details: Vec<String> = rc
        .details()
        .iter()
        .filter_map(|d| {
            let target = d.target()?;
            target
                .name()
                .map(str::to_owned)
                .or_else(|| target.attribute().map(|a| a.as_str().to_owned()))
        })
        .collect();
    details.sort();
    details.dedup();
    ResourceChange {
        action: Action::parse(rc.action().map_or("", |a| a.as_str())),
        logical_id: rc.logical_resource_id().unwrap_or("?").to_owned(),
        resource_type: rc.resource_type().unwrap_or("?").to_owned(),
        replacement: Replacement::parse(rc.replacement().map(|r| r.as_str())),
        details,
    }
}

/// What an executed change set came to, from the stack it settled in.
fn outcome(
    name: &str,
    stack: &cfn::types::Stack,
    changes: usize,
    elapsed: Duration,
) -> Result<StackOutcome, DeployError> {
    let status = status_of(stack);
    if !Goal::Deployed.reached_by(&status) {
        return Err(DeployError::StackFailed {
            stack: name.to_owned(),
            status,
        });
    }
    Ok(StackOutcome::Deployed {
        status,
        outputs: outputs_of(stack),
        changes,
        seconds: elapsed.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StackStatus;
    use aws_sdk_cloudformation::types::{
        ChangeAction, Output, ResourceAttribute, ResourceChangeDetail, ResourceTargetDefinition,
    };

    #[test]
    fn change_sets_are_named_by_the_second_they_were_made() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(change_set_name(at), "gen-deploy-1700000000");
    }

    #[test]
    fn a_resource_change_keeps_what_a_modify_touches_once_and_sorted() {
        let target = |name: Option<&str>, attribute| {
            ResourceChangeDetail::builder()
                .target(
                    ResourceTargetDefinition::builder()
                        .set_name(name.map(str::to_owned))
                        .attribute(attribute)
                        .build(),
                )
                .build()
        };
        let rc = cfn::types::ResourceChange::builder()
            .action(ChangeAction::Modify)
            .logical_resource_id("UserProfile")
            .resource_type("AWS::Lambda::Function")
            .replacement(cfn::types::Replacement::False)
            .details(target(Some("MemorySize"), ResourceAttribute::Properties))
            .details(target(None, ResourceAttribute::Tags))
            .details(target(Some("MemorySize"), ResourceAttribute::Properties))
            .details(ResourceChangeDetail::builder().build())
            .build();
        assert_eq!(
            resource_change(&rc),
            ResourceChange {
                action: Action::Modify,
                logical_id: "UserProfile".into(),
                resource_type: "AWS::Lambda::Function".into(),
                replacement: Replacement::No,
                details: vec!["MemorySize".into(), "Tags".into()],
            }
        );
        let bare = resource_change(&cfn::types::ResourceChange::builder().build());
        assert_eq!(bare.action, Action::Dynamic);
        assert_eq!(
            (bare.logical_id.as_str(), bare.resource_type.as_str()),
            ("?", "?")
        );
        assert_eq!(bare.replacement, Replacement::Unknown);
    }

    fn stack(status: StackStatus) -> cfn::types::Stack {
        cfn::types::Stack::builder()
            .stack_name("app")
            .stack_status(status)
            .outputs(
                Output::builder()
                    .output_key("ApiUrl")
                    .output_value("https://api")
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_deploy_succeeds_when_the_stack_settles_created_or_updated() {
        for status in [StackStatus::CreateComplete, StackStatus::UpdateComplete] {
            let Ok(StackOutcome::Deployed {
                status: got,
                outputs,
                changes,
                seconds,
            }) = outcome(
                "app",
                &stack(status.clone()),
                3,
                Duration::from_millis(1500),
            )
            else {
                panic!("{status} is a deploy");
            };
            assert_eq!(got, status);
            assert_eq!(outputs["ApiUrl"], "https://api");
            assert_eq!((changes, seconds), (3, 1.5));
        }
        let failed = outcome(
            "app",
            &stack(StackStatus::UpdateRollbackComplete),
            3,
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(
            failed.to_string(),
            "stack app failed: UPDATE_ROLLBACK_COMPLETE: rolled back: the stack is as it was before this deploy"
        );
    }
}
