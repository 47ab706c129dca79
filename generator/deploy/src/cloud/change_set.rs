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
use crate::changes::{self, Action, NestedChanges, Replacement, ResourceChange};
use crate::console;
use crate::interrupt::ChangeSetRef;
use crate::status::{self, Approach, ChangeSetVerdict, Goal};
use stackgen_core::deploy::TEMPLATE_BODY_LIMIT;

const NESTED_STACK_TYPE: &str = "AWS::CloudFormation::Stack";

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
    Changes {
        changes: Vec<ResourceChange>,
        nested: Vec<NestedChanges>,
    },
    /// The stack already matches the template.
    Nothing,
}

/// One stack for [`Cloud::deploy_stack`] to deploy.
pub struct StackRequest<'r> {
    pub name: &'r str,
    pub template: &'r str,
    pub parameters: &'r BTreeMap<String, String>,
    /// The region's assets bucket when the caller already looked it up.
    pub assets_bucket: Option<&'r str>,
    /// It holds nested stacks: their changes are computed with it (`IncludeNestedStacks`).
    pub has_nested: bool,
}

impl<'c> Cloud<'c> {
    /// Creates a change set for the stack, shows it, asks, executes it and follows the events.
    pub async fn deploy_stack(
        &self,
        regional: &Regional,
        request: StackRequest<'_>,
    ) -> Result<StackOutcome, DeployError> {
        let name = request.name;
        let approach = self.prepare(regional, name).await?;
        let source = self
            .template_source(regional, request.template, request.assets_bucket)
            .await?;
        let change_set = self
            .create_change_set(regional, &request, approach, source)
            .await?;
        let (changes, nested) = match self.computed_changes(regional, &change_set).await? {
            Computed::Changes { changes, nested } => (changes, nested),
            Computed::Nothing => {
                let stack = regional.describe_stack(name).await?;
                return Ok(StackOutcome::NoChanges {
                    outputs: stack.as_ref().map(outputs_of).unwrap_or_default(),
                });
            }
        };
        if !self
            .show_and_confirm(regional, name, &change_set, &changes, &nested)
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
            Approach::Refuse { .. } => {
                let status = existing_status.expect("only a deployed stack is refused");
                let stack_id = existing.as_ref().and_then(|s| s.stack_id()).unwrap_or(name);
                Err(DeployError::StackBusy {
                    stack: name.to_owned(),
                    hint: status::next_step(&status, name, &regional.region, stack_id),
                    status,
                })
            }
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
        stack: &StackRequest<'_>,
        approach: Approach,
        source: TemplateSource<'_>,
    ) -> Result<ChangeSet, DeployError> {
        let name = stack.name;
        let creating = approach.creates();
        let change_set = change_set_name(SystemTime::now());
        // Before the call: a signal while it is under way still finds the change set by name.
        self.config.in_flight.change_set(ChangeSetRef {
            region: regional.region.clone(),
            stack: name.to_owned(),
            change_set: change_set.clone(),
            id: None,
            creating,
        })?;
        let mut request = regional
            .cfn
            .create_change_set()
            .stack_name(name)
            .change_set_name(&change_set)
            .description("gen deploy")
            .change_set_type(if creating {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam);
        if stack.has_nested {
            // Otherwise a nested stack's line says only that it changes, not what in it.
            request = request.include_nested_stacks(true);
        }
        for (key, value) in stack.parameters {
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
        let created = request.send().await.map_err(|e| {
            self.config.in_flight.clear();
            classify(CREATE_CHANGE_SET, &regional.endpoint, e)
        })?;
        if let Some(id) = created.id() {
            self.config.in_flight.created(id);
        }
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
                    let (changes, children) = self.changes(regional, &change_set.id).await?;
                    let mut nested = Vec::new();
                    // One level: gen's nested stacks hold no stacks of their own.
                    for (logical_id, id) in children {
                        let (changes, _) = self.changes(regional, &id).await?;
                        nested.push(NestedChanges {
                            logical_id,
                            changes,
                        });
                    }
                    return Ok(Computed::Changes { changes, nested });
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

    /// Every change of a computed change set, page by page, and the change sets
    /// CloudFormation made for its nested stacks (by the nested stack's logical ID).
    async fn changes(
        &self,
        regional: &Regional,
        change_set_id: &str,
    ) -> Result<(Vec<ResourceChange>, Vec<(String, String)>), DeployError> {
        let mut changes = Vec::new();
        let mut nested = Vec::new();
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
            for rc in out.changes().iter().filter_map(|c| c.resource_change()) {
                if let (Some(id), Some(logical)) = (rc.change_set_id(), rc.logical_resource_id())
                    && rc.resource_type() == Some(NESTED_STACK_TYPE)
                    && id != change_set_id
                {
                    nested.push((logical.to_owned(), id.to_owned()));
                }
                changes.push(resource_change(rc));
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        Ok((changes, nested))
    }

    /// Shows the change set and asks whether to execute it (`--yes` answers); one that will
    /// not run is discarded.
    async fn show_and_confirm(
        &self,
        regional: &Regional,
        name: &str,
        change_set: &ChangeSet,
        changes: &[ResourceChange],
        nested: &[NestedChanges],
    ) -> Result<bool, DeployError> {
        for line in changes::report(name, &regional.region, change_set.creating, changes, nested) {
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
        // Interrupted by now: the signal handler deletes the change set, so it must not run.
        self.config.in_flight.executing()?;
        if let Err(e) = regional
            .cfn
            .execute_change_set()
            .change_set_name(&change_set.id)
            .send()
            .await
        {
            self.config.in_flight.executed(None);
            // Not executed: nothing should be left waiting for someone to execute it.
            let error = classify(EXECUTE_CHANGE_SET, &regional.endpoint, e);
            self.discard(regional, change_set).await;
            return Err(error);
        }
        self.config.in_flight.executed(Some(&change_set.stack_id));
        let stack = self
            .wait(regional, &change_set.stack_id, name, seen, total)
            .await?;
        self.config.in_flight.clear();
        Ok((stack, started.elapsed()))
    }

    /// Deletes a change set nobody will execute, and the empty stack a CREATE change set
    /// made. Best effort: a leftover is harmless and the real error matters more.
    async fn discard(&self, regional: &Regional, change_set: &ChangeSet) {
        self.discard_named(
            regional,
            &change_set.id,
            &change_set.stack_id,
            change_set.creating,
        )
        .await;
        self.config.in_flight.clear();
    }

    /// [`Cloud::discard`] by the change set's name or ID and its stack's.
    pub(super) async fn discard_named(
        &self,
        regional: &Regional,
        change_set: &str,
        stack: &str,
        creating: bool,
    ) {
        let _ = regional
            .cfn
            .delete_change_set()
            .change_set_name(change_set)
            // By ID the change set names its stack; by name the stack must be given.
            .set_stack_name((!change_set.starts_with("arn:")).then(|| stack.to_owned()))
            .send()
            .await
            .map_err(|e| classify(DELETE_CHANGE_SET, &regional.endpoint, e));
        if creating {
            let _ = regional.cfn.delete_stack().stack_name(stack).send().await;
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

    // ---- deploy_stack against a stand-in for CloudFormation (cloud/fake.rs)

    use crate::cloud::fake::{self, Fake, Request};
    use crate::console::{Recording, Seen};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    const TEMPLATE: &str = r#"{"Resources":{}}"#;

    fn parameters() -> BTreeMap<String, String> {
        BTreeMap::from([("CodeKey".to_owned(), "assets/abc.zip".to_owned())])
    }

    async fn deploy(
        fake: &Fake,
        console: &Recording,
        yes: bool,
    ) -> Result<StackOutcome, DeployError> {
        let cloud = fake.cloud(yes, console);
        let regional = cloud.regional("us-east-1");
        cloud
            .deploy_stack(
                &regional,
                StackRequest {
                    name: "app",
                    template: TEMPLATE,
                    parameters: &parameters(),
                    assets_bucket: None,
                    has_nested: false,
                },
            )
            .await
    }

    /// A first deploy: no stack, a CREATE change set with one bucket to add, executed.
    fn first_deploy(executed: Arc<AtomicBool>, final_status: &'static str) -> Fake {
        Fake::new(move |r: &Request| match r.action.as_str() {
            "DescribeStacks" if r.param("StackName") == Some("app") => fake::no_stack("app"),
            "DescribeStacks" => fake::stack(final_status, &[("ApiUrl", "https://api.test")]),
            "CreateChangeSet" => fake::change_set_created(),
            "DescribeChangeSet" => fake::change_set(
                "CREATE_COMPLETE",
                "",
                &[("Add", "Uploads", "AWS::S3::Bucket")],
            ),
            "DescribeStackEvents" if !executed.load(Ordering::SeqCst) => fake::events(&[(
                "e0",
                "app",
                "AWS::CloudFormation::Stack",
                "REVIEW_IN_PROGRESS",
                "User Initiated",
            )]),
            "DescribeStackEvents" if final_status == "CREATE_COMPLETE" => fake::events(&[
                (
                    "e3",
                    "app",
                    "AWS::CloudFormation::Stack",
                    "CREATE_COMPLETE",
                    "",
                ),
                ("e2", "Uploads", "AWS::S3::Bucket", "CREATE_COMPLETE", ""),
                ("e1", "Uploads", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", ""),
                (
                    "e0",
                    "app",
                    "AWS::CloudFormation::Stack",
                    "REVIEW_IN_PROGRESS",
                    "User Initiated",
                ),
            ]),
            "DescribeStackEvents" => fake::events(&[
                (
                    "e3",
                    "app",
                    "AWS::CloudFormation::Stack",
                    final_status,
                    "The following resource(s) failed to create: [Uploads].",
                ),
                (
                    "e2",
                    "Uploads",
                    "AWS::S3::Bucket",
                    "CREATE_FAILED",
                    "uploads-bucket already exists",
                ),
                ("e1", "Uploads", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", ""),
                (
                    "e0",
                    "app",
                    "AWS::CloudFormation::Stack",
                    "REVIEW_IN_PROGRESS",
                    "User Initiated",
                ),
            ]),
            "ExecuteChangeSet" => {
                executed.store(true, Ordering::SeqCst);
                fake::done("ExecuteChangeSet")
            }
            "DeleteChangeSet" | "DeleteStack" => fake::done(&r.action),
            other => panic!("unexpected {other}"),
        })
    }

    #[tokio::test]
    async fn throttled_calls_are_retried_and_a_throttle_that_outlasts_them_says_so() {
        // Every call but the last attempt's throttled: the deploy goes through as if nothing
        // happened, each call tried again.
        let retries = (crate::cloud::MAX_ATTEMPTS - 1) as usize;
        let fake = first_deploy(Arc::default(), "CREATE_COMPLETE").throttling_first(retries);
        let outcome = deploy(&fake, &Recording::unattended(), true).await.unwrap();
        assert!(
            matches!(outcome, StackOutcome::Deployed { .. }),
            "{outcome:?}"
        );
        let actions = fake.actions();
        assert_eq!(actions[..=retries], vec!["DescribeStacks"; retries + 1]);
        assert_eq!(actions[retries + 1], "CreateChangeSet");

        // Throttled on every attempt: bounded, and said as throttling with what to do.
        let fake = first_deploy(Arc::default(), "CREATE_COMPLETE").throttling_first(usize::MAX);
        let error = deploy(&fake, &Recording::unattended(), true)
            .await
            .unwrap_err();
        assert!(matches!(error, DeployError::Throttled { .. }), "{error:?}");
        assert!(
            error.to_string().starts_with(&format!(
                "AWS throttled DescribeStacks after {} attempts (Throttling: Rate exceeded)",
                crate::cloud::MAX_ATTEMPTS
            )),
            "{error}"
        );
        assert_eq!(
            fake.actions(),
            vec!["DescribeStacks"; crate::cloud::MAX_ATTEMPTS as usize]
        );
    }

    #[tokio::test]
    async fn a_first_deploy_creates_shows_asks_executes_and_follows_the_events() {
        let fake = first_deploy(Arc::default(), "CREATE_COMPLETE");
        let console = Recording::attended(&[true]);
        let outcome = deploy(&fake, &console, false).await.unwrap();
        let StackOutcome::Deployed {
            status,
            outputs,
            changes,
            ..
        } = outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!((status, changes), (StackStatus::CreateComplete, 1));
        assert_eq!(outputs["ApiUrl"], "https://api.test");
        assert_eq!(
            fake.actions(),
            [
                "DescribeStacks",
                "CreateChangeSet",
                "DescribeChangeSet",
                "DescribeChangeSet",
                "DescribeStackEvents",
                "ExecuteChangeSet",
                "DescribeStacks",
                "DescribeStackEvents",
            ]
        );
        let create = &fake.requests()[1];
        assert_eq!(create.param("ChangeSetType"), Some("CREATE"));
        assert_eq!(create.param("TemplateBody"), Some(TEMPLATE));
        assert_eq!(
            create.param("Parameters.member.1.ParameterKey"),
            Some("CodeKey")
        );
        assert_eq!(
            create.param("Capabilities.member.2"),
            Some("CAPABILITY_NAMED_IAM")
        );
        assert_eq!(
            console.seen(),
            [
                Seen::Line("Stack app (us-east-1, new): 1 to add, 0 to modify, 0 to remove".into()),
                Seen::Line("  + AWS::S3::Bucket  Uploads".into()),
                Seen::Asked("Deploy these changes to app?".into()),
                // The REVIEW_IN_PROGRESS event came before: not this deploy's progress.
                Seen::Line("  [  0/1] CREATE_IN_PROGRESS   AWS::S3::Bucket Uploads".into()),
                Seen::Line("  [  1/1] CREATE_COMPLETE      AWS::S3::Bucket Uploads".into()),
                Seen::Line("  [  1/1] CREATE_COMPLETE      AWS::CloudFormation::Stack app".into()),
                Seen::Cleared,
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_first_deploy_names_the_failures_and_the_status() {
        let fake = first_deploy(Arc::default(), "ROLLBACK_COMPLETE");
        let console = Recording::unattended();
        let error = deploy(&fake, &console, true).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "stack app failed: ROLLBACK_COMPLETE: the first deploy failed and was rolled back, so the stack holds nothing; the next gen deploy deletes it and starts again"
        );
        let lines = console.lines();
        assert!(
            lines.ends_with(&[
                "Stack app failed. The first errors:".to_owned(),
                "  ✗ AWS::S3::Bucket Uploads: uploads-bucket already exists".to_owned(),
            ]),
            "{lines:#?}"
        );
        assert!(console.questions().is_empty(), "--yes answers");
    }

    #[tokio::test]
    async fn a_declined_or_unasked_change_set_goes_with_its_empty_stack() {
        let fake = first_deploy(Arc::default(), "CREATE_COMPLETE");
        let console = Recording::attended(&[false]);
        assert!(matches!(
            deploy(&fake, &console, false).await.unwrap(),
            StackOutcome::Declined
        ));
        let unasked = first_deploy(Arc::default(), "CREATE_COMPLETE");
        let error = deploy(&unasked, &Recording::unattended(), false)
            .await
            .unwrap_err();
        assert!(matches!(error, DeployError::NeedsYes), "{error:?}");
        for fake in [fake, unasked] {
            let actions = fake.actions();
            assert_eq!(
                actions[actions.len() - 2..],
                ["DeleteChangeSet", "DeleteStack"]
            );
            assert!(!actions.contains(&"ExecuteChangeSet".to_owned()));
            let delete = fake.requests().pop().unwrap();
            assert_eq!(delete.param("StackName"), Some(fake::STACK_ID));
        }
    }

    /// A deployed stack in `status` whose UPDATE change set says `verdict`.
    fn deployed(status: &'static str, verdict: (&'static str, &'static str)) -> Fake {
        Fake::new(move |r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack(status, &[("ApiUrl", "https://api.test")]),
            "CreateChangeSet" => fake::change_set_created(),
            "DescribeChangeSet" => fake::change_set(verdict.0, verdict.1, &[]),
            "DeleteChangeSet" => fake::done("DeleteChangeSet"),
            other => panic!("unexpected {other}"),
        })
    }

    #[tokio::test]
    async fn an_update_without_changes_is_deleted_and_reads_the_outputs() {
        let fake = deployed(
            "UPDATE_COMPLETE",
            (
                "FAILED",
                "The submitted information didn't contain changes. Submit different information to create a change set.",
            ),
        );
        let console = Recording::unattended();
        let outcome = deploy(&fake, &console, false).await.unwrap();
        let StackOutcome::NoChanges { outputs } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(outputs["ApiUrl"], "https://api.test");
        assert_eq!(
            fake.actions(),
            [
                "DescribeStacks",
                "CreateChangeSet",
                "DescribeChangeSet",
                "DeleteChangeSet",
                "DescribeStacks",
            ]
        );
        assert_eq!(fake.requests()[1].param("ChangeSetType"), Some("UPDATE"));
        assert!(console.seen().is_empty());
    }

    #[tokio::test]
    async fn a_stack_with_nested_stacks_shows_each_nested_change_set() {
        let nested_set = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/nested/1";
        let fake = Fake::new(move |r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack("UPDATE_COMPLETE", &[]),
            "CreateChangeSet" => fake::change_set_created(),
            "DescribeChangeSet" if r.param("ChangeSetName") == Some(nested_set) => {
                fake::change_set(
                    "CREATE_COMPLETE",
                    "",
                    &[("Add", "FunctionNew", "AWS::Lambda::Function")],
                )
            }
            "DescribeChangeSet" => fake::ok(
                "DescribeChangeSet",
                &format!(
                    "<ChangeSetId>{}</ChangeSetId><StackId>{}</StackId><Status>CREATE_COMPLETE</Status><Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>StackFunctionsA</LogicalResourceId><ResourceType>AWS::CloudFormation::Stack</ResourceType><ChangeSetId>{nested_set}</ChangeSetId></ResourceChange></member></Changes>",
                    fake::CHANGE_SET_ID,
                    fake::STACK_ID
                ),
            ),
            "DeleteChangeSet" => fake::done("DeleteChangeSet"),
            other => panic!("unexpected {other}"),
        });
        let console = Recording::attended(&[false]);
        let cloud = fake.cloud(false, &console);
        let regional = cloud.regional("us-east-1");
        let outcome = cloud
            .deploy_stack(
                &regional,
                StackRequest {
                    name: "app",
                    template: TEMPLATE,
                    parameters: &parameters(),
                    assets_bucket: None,
                    has_nested: true,
                },
            )
            .await
            .unwrap();
        assert!(matches!(outcome, StackOutcome::Declined), "{outcome:?}");
        assert_eq!(
            fake.requests()[1].param("IncludeNestedStacks"),
            Some("true")
        );
        assert_eq!(
            console.lines(),
            [
                "Stack app (us-east-1, update): 0 to add, 1 to modify, 0 to remove",
                "  ~ AWS::CloudFormation::Stack  StackFunctionsA",
                "  Nested stack StackFunctionsA: 1 to add, 0 to modify, 0 to remove",
                "    + AWS::Lambda::Function  FunctionNew",
            ]
        );
    }

    #[tokio::test]
    async fn a_rejected_change_set_says_why() {
        let fake = deployed(
            "UPDATE_ROLLBACK_COMPLETE",
            ("FAILED", "Template format error: bad"),
        );
        let error = deploy(&fake, &Recording::unattended(), true)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "CloudFormation rejected CreateChangeSet: Template format error: bad"
        );
        assert_eq!(fake.actions().last().unwrap(), "DeleteChangeSet");
    }

    #[tokio::test]
    async fn a_busy_or_stuck_stack_is_refused_before_any_change_set() {
        for (status, hint) in [
            ("UPDATE_IN_PROGRESS", "another operation is still running"),
            ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
        ] {
            let fake = deployed(status, ("", ""));
            let error = deploy(&fake, &Recording::unattended(), true)
                .await
                .unwrap_err();
            let DeployError::StackBusy { status: got, .. } = &error else {
                panic!("{error:?}");
            };
            assert_eq!(got.as_str(), status);
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("stack app is {status}: "))
            );
            assert!(error.to_string().contains(hint), "{error}");
            assert_eq!(fake.actions(), ["DescribeStacks"]);
        }
    }

    #[tokio::test]
    async fn a_rolled_back_first_deploy_is_deleted_before_a_new_create() {
        let deleted = Arc::new(AtomicBool::new(false));
        let fake = {
            let deleted = deleted.clone();
            Fake::new(move |r: &Request| match r.action.as_str() {
                "DescribeStacks" if deleted.load(Ordering::SeqCst) => {
                    fake::stack("DELETE_COMPLETE", &[])
                }
                "DescribeStacks" => fake::stack("ROLLBACK_COMPLETE", &[]),
                "DescribeStackEvents" => fake::events(&[]),
                "DescribeStackResources" => fake::done("DescribeStackResources"),
                "DeleteStack" => {
                    deleted.store(true, Ordering::SeqCst);
                    fake::done("DeleteStack")
                }
                "CreateChangeSet" => fake::change_set_created(),
                "DescribeChangeSet" => fake::change_set(
                    "CREATE_COMPLETE",
                    "",
                    &[("Add", "Uploads", "AWS::S3::Bucket")],
                ),
                "DeleteChangeSet" => fake::done("DeleteChangeSet"),
                other => panic!("unexpected {other}"),
            })
        };
        let console = Recording::attended(&[false]);
        let outcome = deploy(&fake, &console, false).await.unwrap();
        assert!(matches!(outcome, StackOutcome::Declined), "{outcome:?}");
        let actions = fake.actions();
        let create = actions.iter().position(|a| a == "CreateChangeSet").unwrap();
        assert_eq!(
            actions[..create]
                .iter()
                .filter(|a| *a == "DeleteStack")
                .count(),
            1
        );
        assert_eq!(
            fake.requests()[create].param("ChangeSetType"),
            Some("CREATE")
        );
        assert_eq!(
            console.lines()[0],
            "Stack app is ROLLBACK_COMPLETE from a failed first deploy and holds nothing; deleting it to start again"
        );
        assert!(console.lines()[1].starts_with("Stack app (us-east-1, new): 1 to add"));
    }
}
