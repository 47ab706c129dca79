//! AWS calls: the toolkit stack and its bucket, uploads, change sets, stack events, outputs.
//! Only AWS's documented semantics live here; emulator quirks belong to the tests.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Capability, ChangeSetType};
use aws_sdk_s3 as s3;

use crate::changes::{self, Action, Replacement, ResourceChange};
use crate::console::{self, Console};
use crate::status::{self, Approach, ChangeSetVerdict, Goal, ResourcePhase, StackStatus};
use crate::{DeployConfig, DeployError};
use stackgen_core::deploy::{
    StackOutputs, TEMPLATE_BODY_LIMIT, TOOLKIT_BUCKET_OUTPUT, TOOLKIT_STACK,
};

/// An AWS API call, named as in error messages and IAM.
#[derive(Clone, Copy, Debug)]
struct Call {
    operation: &'static str,
    permission: &'static str,
}

const fn call(operation: &'static str, permission: &'static str) -> Call {
    Call {
        operation,
        permission,
    }
}

const DESCRIBE_STACKS: Call = call("DescribeStacks", "cloudformation:DescribeStacks");
const DESCRIBE_STACK_EVENTS: Call =
    call("DescribeStackEvents", "cloudformation:DescribeStackEvents");
const DESCRIBE_STACK_RESOURCES: Call = call(
    "DescribeStackResources",
    "cloudformation:DescribeStackResources",
);
const CREATE_STACK: Call = call("CreateStack", "cloudformation:CreateStack");
const DELETE_STACK: Call = call("DeleteStack", "cloudformation:DeleteStack");
const CREATE_CHANGE_SET: Call = call("CreateChangeSet", "cloudformation:CreateChangeSet");
const DESCRIBE_CHANGE_SET: Call = call("DescribeChangeSet", "cloudformation:DescribeChangeSet");
const EXECUTE_CHANGE_SET: Call = call("ExecuteChangeSet", "cloudformation:ExecuteChangeSet");
const DELETE_CHANGE_SET: Call = call("DeleteChangeSet", "cloudformation:DeleteChangeSet");
const GET_TEMPLATE: Call = call("GetTemplate", "cloudformation:GetTemplate");
const HEAD_OBJECT: Call = call(
    "HeadObject",
    "s3:GetObject (and s3:ListBucket, or a missing object reads as 403)",
);
const PUT_OBJECT: Call = call("PutObject", "s3:PutObject");

/// The AWS connection: credentials and endpoint from the SDK's default chain (environment,
/// profiles, SSO, credential_process; `AWS_ENDPOINT_URL`).
pub struct Cloud<'c> {
    sdk: aws_config::SdkConfig,
    console: &'c dyn Console,
    config: DeployConfig,
}

/// The clients for one region.
pub struct Regional {
    pub region: String,
    cfn: cfn::Client,
    s3: s3::Client,
    /// Where requests go, for error messages.
    endpoint: String,
}

/// What happened to one stack.
#[derive(Debug)]
pub enum StackOutcome {
    /// The stack already matches: nothing was executed.
    NoChanges { outputs: StackOutputs },
    Deployed {
        status: StackStatus,
        outputs: StackOutputs,
        changes: usize,
        seconds: f64,
    },
    /// The user said no: the change set was deleted.
    Declined,
}

/// A deployed stack about to be deleted, and what will survive it.
#[derive(Debug)]
pub struct Doomed {
    pub stack_id: String,
    /// (logical ID, type, physical ID) of resources whose DeletionPolicy keeps them.
    pub retained: Vec<(String, String, String)>,
}

impl<'c> Cloud<'c> {
    /// Loads the SDK configuration and makes sure credentials can be found, so a missing one
    /// is a one-line explanation rather than a failed first call.
    pub async fn connect(
        config: DeployConfig,
        console: &'c dyn Console,
    ) -> Result<Cloud<'c>, DeployError> {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let provider = sdk
            .credentials_provider()
            .ok_or(DeployError::NoCredentials)?;
        provider
            .provide_credentials()
            .await
            .map_err(|_| DeployError::NoCredentials)?;
        Ok(Cloud {
            sdk,
            console,
            config,
        })
    }

    pub fn config(&self) -> &DeployConfig {
        &self.config
    }

    pub fn console(&self) -> &'c dyn Console {
        self.console
    }

    pub fn regional(&self, region: &str) -> Regional {
        let region_value = aws_config::Region::new(region.to_owned());
        let cfn = cfn::Client::from_conf(
            cfn::config::Builder::from(&self.sdk)
                .region(region_value.clone())
                .build(),
        );
        let s3 = s3::Client::from_conf(
            s3::config::Builder::from(&self.sdk)
                .region(region_value)
                // Custom endpoints (emulators, VPC endpoints by URL) address buckets by path.
                .force_path_style(self.sdk.endpoint_url().is_some())
                .build(),
        );
        let endpoint = self
            .sdk
            .endpoint_url()
            .map_or_else(|| format!("AWS in {region}"), str::to_owned);
        Regional {
            region: region.to_owned(),
            cfn,
            s3,
            endpoint,
        }
    }

    /// The URL CloudFormation fetches an uploaded template from.
    fn object_url(&self, region: &str, bucket: &str, key: &str) -> String {
        match self.sdk.endpoint_url() {
            Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
        }
    }

    async fn sleep(&self) {
        tokio::time::sleep(self.config.poll_interval).await;
    }
}

/// Turns an SDK error into what the user needs: which call, and why.
fn classify<E>(call: Call, endpoint: &str, error: SdkError<E>) -> DeployError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if matches!(
        error,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        return DeployError::Unreachable {
            operation: call.operation,
            endpoint: endpoint.to_owned(),
            message: causes(&error),
        };
    }
    let status = error.raw_response().map(|r| r.status().as_u16());
    // The service's own words when it sent some; the SDK's Debug dump helps nobody.
    let message = match (error.message(), status) {
        (Some(message), _) => message.to_owned(),
        (None, Some(status)) => format!("HTTP {status} with no error message"),
        (None, None) => causes(&error),
    };
    match (error.code(), status) {
        (
            Some(
                "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "AuthorizationError",
            ),
            _,
        )
        | (None, Some(403)) => DeployError::AccessDenied {
            operation: call.operation,
            permission: call.permission,
            message,
        },
        (
            Some(
                code @ ("ExpiredToken"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "UnrecognizedClientException"
                | "InvalidAccessKeyId"),
            ),
            _,
        ) => DeployError::BadCredentials {
            operation: call.operation,
            code: code.to_owned(),
            message,
        },
        (Some("ValidationError"), _) => DeployError::Rejected {
            operation: call.operation,
            message,
        },
        (code, _) => DeployError::Aws {
            operation: call.operation,
            message: match code {
                Some(code) => format!("{code}: {message}"),
                None => message,
            },
        },
    }
}

/// An error and its sources, one clause each: `dispatch failure: … Connection refused`.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn is_missing_stack<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.code() == Some("ValidationError")
        && error
            .message()
            .is_some_and(|m| m.contains("does not exist"))
}

/// A stack's status; a stack without one (never seen) reads as `UNKNOWN`.
fn status_of(stack: &cfn::types::Stack) -> StackStatus {
    stack
        .stack_status()
        .cloned()
        .unwrap_or_else(|| StackStatus::from("UNKNOWN"))
}

fn outputs_of(stack: &cfn::types::Stack) -> StackOutputs {
    stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect()
}

impl Regional {
    pub async fn describe_stack(
        &self,
        name: &str,
    ) -> Result<Option<cfn::types::Stack>, DeployError> {
        match self.cfn.describe_stacks().stack_name(name).send().await {
            Ok(out) => Ok(out
                .stacks()
                .first()
                .filter(|s| s.stack_status() != Some(&StackStatus::DeleteComplete))
                .cloned()),
            Err(e) if is_missing_stack(&e) => Ok(None),
            Err(e) => Err(classify(DESCRIBE_STACKS, &self.endpoint, e)),
        }
    }

    /// Uploads `bytes` under `key` unless an object is already there (keys are content
    /// hashes: same key, same bytes). Returns whether it uploaded.
    pub async fn upload(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, DeployError> {
        match self.s3.head_object().bucket(bucket).key(key).send().await {
            Ok(_) => return Ok(false),
            Err(e)
                if e.as_service_error().is_some_and(|s| s.is_not_found())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
            Err(e) => return Err(classify(HEAD_OBJECT, &self.endpoint, e)),
        }
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify(PUT_OBJECT, &self.endpoint, e))?;
        Ok(true)
    }

    pub async fn deployed_template(&self, stack: &str) -> Result<Option<String>, DeployError> {
        if self.describe_stack(stack).await?.is_none() {
            return Ok(None);
        }
        let out = self
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(cfn::types::TemplateStage::Original)
            .send()
            .await
            .map_err(|e| classify(GET_TEMPLATE, &self.endpoint, e))?;
        Ok(out.template_body().map(str::to_owned))
    }
}

impl<'c> Cloud<'c> {
    /// The assets bucket of `region`'s toolkit stack, creating the stack on first use.
    pub async fn assets_bucket(&self, regional: &Regional) -> Result<String, DeployError> {
        let stack = match regional.describe_stack(TOOLKIT_STACK).await? {
            Some(stack) => stack,
            None => {
                self.console.line(&format!(
                    "Creating the toolkit stack {TOOLKIT_STACK} in {} (once per account and region): an encrypted, TLS-only bucket for function code and large templates",
                    regional.region
                ));
                let template = stackgen_core::constructs::toolkit::toolkit_template()
                    .expect("the toolkit template is valid");
                let out = regional
                    .cfn
                    .create_stack()
                    .stack_name(TOOLKIT_STACK)
                    .template_body(template)
                    .send()
                    .await
                    .map_err(|e| classify(CREATE_STACK, &regional.endpoint, e))?;
                let id = out.stack_id().unwrap_or(TOOLKIT_STACK).to_owned();
                let stack = self
                    .wait(regional, &id, TOOLKIT_STACK, HashSet::new(), 2)
                    .await?;
                let status = status_of(&stack);
                if !Goal::Created.reached_by(&status) {
                    return Err(DeployError::StackFailed {
                        stack: TOOLKIT_STACK.to_owned(),
                        status,
                    });
                }
                stack
            }
        };
        let status = status_of(&stack);
        if !status::is_usable(&status) {
            return Err(DeployError::StackBusy {
                stack: TOOLKIT_STACK.to_owned(),
                status,
                hint: "wait for it to finish, or delete it if it failed (it is recreated on the next gen deploy)",
            });
        }
        outputs_of(&stack)
            .remove(TOOLKIT_BUCKET_OUTPUT)
            .ok_or_else(|| DeployError::Aws {
                operation: "DescribeStacks",
                message: format!(
                    "the toolkit stack {TOOLKIT_STACK} has no `{TOOLKIT_BUCKET_OUTPUT}` output; delete it and rerun gen deploy"
                ),
            })
    }

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
        let existing = regional.describe_stack(name).await?;
        let existing_status = existing.as_ref().map(status_of);
        let approach = status::approach(existing_status.as_ref());
        match approach {
            Approach::Refuse { hint } => {
                return Err(DeployError::StackBusy {
                    stack: name.to_owned(),
                    status: existing_status.expect("only a deployed stack is refused"),
                    hint,
                });
            }
            Approach::DeleteThenCreate => {
                // A failed first deploy leaves an empty stack that cannot be updated.
                self.console.line(&format!(
                    "Stack {name} is ROLLBACK_COMPLETE from a failed first deploy and holds nothing; deleting it to start again"
                ));
                let stack_id = existing.as_ref().and_then(|s| s.stack_id());
                self.delete(regional, name, stack_id.unwrap_or(name))
                    .await?;
            }
            Approach::Create | Approach::Update => {}
        }
        let creating = approach.creates();
        let change_set_type = if creating {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        };

        let mut request = regional
            .cfn
            .create_change_set()
            .stack_name(name)
            .change_set_name(format!(
                "gen-deploy-{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            ))
            .description("gen deploy")
            .change_set_type(change_set_type)
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
        if template.len() > TEMPLATE_BODY_LIMIT {
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
            request = request.template_url(self.object_url(&regional.region, &bucket, &key));
        } else {
            request = request.template_body(template);
        }
        let created = request
            .send()
            .await
            .map_err(|e| classify(CREATE_CHANGE_SET, &regional.endpoint, e))?;
        let change_set_id = created.id().unwrap_or_default().to_owned();
        let stack_id = created.stack_id().unwrap_or(name).to_owned();
        // The empty stack a CREATE change set made goes too when the change set does.
        let new_stack = creating.then_some(stack_id.as_str());

        // Wait for CloudFormation to compute the changes.
        loop {
            let out = regional
                .cfn
                .describe_change_set()
                .change_set_name(&change_set_id)
                .send()
                .await
                .map_err(|e| classify(DESCRIBE_CHANGE_SET, &regional.endpoint, e))?;
            let reason = out.status_reason().unwrap_or_default();
            match status::change_set_verdict(out.status(), reason, creating) {
                ChangeSetVerdict::Computing => self.sleep().await,
                ChangeSetVerdict::Ready => break,
                ChangeSetVerdict::NoChanges => {
                    self.discard(regional, &change_set_id, new_stack).await;
                    let stack = regional.describe_stack(name).await?;
                    return Ok(StackOutcome::NoChanges {
                        outputs: stack.as_ref().map(outputs_of).unwrap_or_default(),
                    });
                }
                ChangeSetVerdict::Rejected => {
                    self.discard(regional, &change_set_id, new_stack).await;
                    return Err(DeployError::Rejected {
                        operation: "CreateChangeSet",
                        message: reason.to_owned(),
                    });
                }
            }
        }

        let changes = self.changes(regional, &change_set_id).await?;
        self.console.line(&format!(
            "Stack {name} ({}, {}): {}",
            regional.region,
            if creating { "new" } else { "update" },
            changes::tally(&changes)
        ));
        self.console
            .line(changes::render(&changes).trim_end_matches('\n'));
        for warning in changes::warnings(&changes) {
            self.console.line(&format!("  WARNING: {warning}"));
        }
        let go = match console::confirm(
            self.console,
            &format!("Deploy these changes to {name}?"),
            self.config.yes,
        ) {
            Ok(go) => go,
            Err(e) => {
                self.discard(regional, &change_set_id, new_stack).await;
                return Err(e);
            }
        };
        if !go {
            self.discard(regional, &change_set_id, new_stack).await;
            return Ok(StackOutcome::Declined);
        }

        // Events already there (e.g. REVIEW_IN_PROGRESS) are not this deploy's progress.
        let seen = self.event_ids(regional, &stack_id).await?;
        let started = Instant::now();
        if let Err(e) = regional
            .cfn
            .execute_change_set()
            .change_set_name(&change_set_id)
            .send()
            .await
        {
            // Not executed: nothing should be left waiting for someone to execute it.
            let error = classify(EXECUTE_CHANGE_SET, &regional.endpoint, e);
            self.discard(regional, &change_set_id, new_stack).await;
            return Err(error);
        }
        let stack = self
            .wait(regional, &stack_id, name, seen, changes.len())
            .await?;
        let status = status_of(&stack);
        if !Goal::Deployed.reached_by(&status) {
            return Err(DeployError::StackFailed {
                stack: name.to_owned(),
                status,
            });
        }
        Ok(StackOutcome::Deployed {
            status,
            outputs: outputs_of(&stack),
            changes: changes.len(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Deletes a change set nobody will execute, and the empty stack a CREATE change set
    /// made. Best effort: a leftover is harmless and the real error matters more.
    async fn discard(&self, regional: &Regional, change_set_id: &str, new_stack: Option<&str>) {
        let _ = regional
            .cfn
            .delete_change_set()
            .change_set_name(change_set_id)
            .send()
            .await
            .map_err(|e| classify(DELETE_CHANGE_SET, &regional.endpoint, e));
        if let Some(stack) = new_stack {
            let _ = regional.cfn.delete_stack().stack_name(stack).send().await;
        }
    }

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
            for change in out.changes() {
                let Some(rc) = change.resource_change() else {
                    continue;
                };
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
                changes.push(ResourceChange {
                    action: Action::parse(rc.action().map_or("", |a| a.as_str())),
                    logical_id: rc.logical_resource_id().unwrap_or("?").to_owned(),
                    resource_type: rc.resource_type().unwrap_or("?").to_owned(),
                    replacement: Replacement::parse(rc.replacement().map(|r| r.as_str())),
                    details,
                });
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        Ok(changes)
    }

    async fn event_ids(
        &self,
        regional: &Regional,
        stack_id: &str,
    ) -> Result<HashSet<String>, DeployError> {
        Ok(self
            .new_events(regional, stack_id, &HashSet::new())
            .await?
            .into_iter()
            .filter_map(|e| e.event_id().map(str::to_owned))
            .collect())
    }

    /// Events not in `seen`, oldest first.
    async fn new_events(
        &self,
        regional: &Regional,
        stack_id: &str,
        seen: &HashSet<String>,
    ) -> Result<Vec<cfn::types::StackEvent>, DeployError> {
        let mut fresh = Vec::new();
        let mut token: Option<String> = None;
        'pages: loop {
            let out = match regional
                .cfn
                .describe_stack_events()
                .stack_name(stack_id)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if is_missing_stack(&e) => break,
                Err(e) => return Err(classify(DESCRIBE_STACK_EVENTS, &regional.endpoint, e)),
            };
            // Newest first: stop at the first event already shown.
            for event in out.stack_events() {
                if event.event_id().is_some_and(|id| seen.contains(id)) {
                    break 'pages;
                }
                fresh.push(event.clone());
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        fresh.reverse();
        Ok(fresh)
    }

    /// Follows a stack until it leaves `*_IN_PROGRESS`, printing each new event with a
    /// progress count, and on failure the failing resources' reasons.
    async fn wait(
        &self,
        regional: &Regional,
        stack_id: &str,
        name: &str,
        mut seen: HashSet<String>,
        total: usize,
    ) -> Result<cfn::types::Stack, DeployError> {
        let mut done: HashSet<String> = HashSet::new();
        let mut failures: Vec<String> = Vec::new();
        let started = Instant::now();
        let mut last_said = Instant::now();
        let mut tick = 0usize;
        loop {
            let stack = match regional
                .cfn
                .describe_stacks()
                .stack_name(stack_id)
                .send()
                .await
            {
                Ok(out) => out.stacks().first().cloned(),
                Err(e) if is_missing_stack(&e) => None,
                Err(e) => return Err(classify(DESCRIBE_STACKS, &regional.endpoint, e)),
            };
            for event in self.new_events(regional, stack_id, &seen).await? {
                if let Some(id) = event.event_id() {
                    seen.insert(id.to_owned());
                }
                let logical = event.logical_resource_id().unwrap_or("?");
                let status = event.resource_status().map_or("?", |s| s.as_str());
                let resource_phase = event
                    .resource_status()
                    .map_or(ResourcePhase::Unknown, status::resource_phase);
                let reason = event.resource_status_reason().unwrap_or("");
                let is_stack = event.resource_type() == Some("AWS::CloudFormation::Stack");
                if !is_stack && resource_phase == ResourcePhase::Done {
                    done.insert(logical.to_owned());
                }
                if resource_phase == ResourcePhase::Failed
                    && !reason.is_empty()
                    && !reason.contains("cancelled")
                {
                    failures.push(format!(
                        "{} {logical}: {reason}",
                        event.resource_type().unwrap_or("?")
                    ));
                }
                let mut line = format!(
                    "  [{:>3}/{total}] {status:<20} {} {logical}",
                    done.len().min(total),
                    event.resource_type().unwrap_or("?"),
                );
                if !reason.is_empty() && resource_phase.shows_reason() {
                    line.push_str(&format!(" ({reason})"));
                }
                self.console.line(&line);
                last_said = Instant::now();
            }
            let status = stack
                .as_ref()
                .map_or(StackStatus::DeleteComplete, status_of);
            let phase = status::phase(&status);
            if phase.is_settled() {
                if phase.went_wrong() {
                    if !failures.is_empty() {
                        self.console
                            .line(&format!("Stack {name} failed. The first errors:"));
                        for failure in failures.iter().take(10) {
                            self.console.line(&format!("  ✗ {failure}"));
                        }
                    }
                    if let Some(reason) = stack.as_ref().and_then(|s| s.stack_status_reason()) {
                        self.console
                            .line(&format!("  stack status: {status} ({reason})"));
                    }
                }
                return Ok(stack.unwrap_or_else(|| {
                    cfn::types::Stack::builder()
                        .stack_name(name)
                        .stack_status(StackStatus::DeleteComplete)
                        .build()
                }));
            }
            tick += 1;
            self.console.status(
                tick,
                &format!(
                    "{name}: {status}, {}/{total} done ({} s)",
                    done.len().min(total),
                    started.elapsed().as_secs()
                ),
            );
            if !self.console.watched() && last_said.elapsed().as_secs() >= 30 {
                self.console.line(&format!(
                    "  … {name} is {status} ({} s so far)",
                    started.elapsed().as_secs()
                ));
                last_said = Instant::now();
            }
            self.sleep().await;
        }
    }

    /// What deleting `name` leaves behind, or None when it is not deployed.
    pub async fn inspect_for_destroy(
        &self,
        regional: &Regional,
        name: &str,
    ) -> Result<Option<Doomed>, DeployError> {
        let Some(stack) = regional.describe_stack(name).await? else {
            return Ok(None);
        };
        let template = regional.deployed_template(name).await?.unwrap_or_default();
        let retained_ids = serde_json::from_str::<serde_json::Value>(&template)
            .map(|t| crate::diff::retained(&t))
            .unwrap_or_default();
        let resources = regional
            .cfn
            .describe_stack_resources()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| classify(DESCRIBE_STACK_RESOURCES, &regional.endpoint, e))?;
        let physical: BTreeMap<&str, &str> = resources
            .stack_resources()
            .iter()
            .filter_map(|r| Some((r.logical_resource_id()?, r.physical_resource_id()?)))
            .collect();
        let retained = retained_ids
            .into_iter()
            .map(|(id, ty)| {
                let physical = physical
                    .get(id.as_str())
                    .copied()
                    .unwrap_or("(not created)")
                    .to_owned();
                (id, ty, physical)
            })
            .collect();
        Ok(Some(Doomed {
            stack_id: stack.stack_id().unwrap_or(name).to_owned(),
            retained,
        }))
    }

    /// Deletes a stack and follows it to the end.
    pub async fn delete(
        &self,
        regional: &Regional,
        name: &str,
        stack_id: &str,
    ) -> Result<(), DeployError> {
        let seen = self.event_ids(regional, stack_id).await?;
        let total = regional
            .cfn
            .describe_stack_resources()
            .stack_name(stack_id)
            .send()
            .await
            .map(|r| r.stack_resources().len())
            .unwrap_or(0);
        regional
            .cfn
            .delete_stack()
            .stack_name(stack_id)
            .send()
            .await
            .map_err(|e| classify(DELETE_STACK, &regional.endpoint, e))?;
        let stack = self.wait(regional, stack_id, name, seen, total).await?;
        let status = status_of(&stack);
        if !Goal::Deleted.reached_by(&status) {
            return Err(DeployError::StackFailed {
                stack: name.to_owned(),
                status,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::error::ErrorMetadata;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;

    fn service_error(code: Option<&str>, status: u16) -> SdkError<DescribeStacksError> {
        let mut meta = ErrorMetadata::builder().message("the service's words");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        SdkError::service_error(
            DescribeStacksError::generic(meta.build()),
            HttpResponse::new(status.try_into().unwrap(), SdkBody::empty()),
        )
    }

    fn classified(error: SdkError<DescribeStacksError>) -> DeployError {
        classify(DESCRIBE_STACKS, "http://127.0.0.1:1", error)
    }

    #[test]
    fn access_denied_names_the_call_and_the_permission() {
        for (code, status) in [(Some("AccessDenied"), 403), (None, 403)] {
            let error = classified(service_error(code, status));
            assert!(
                matches!(error, DeployError::AccessDenied { .. }),
                "{error:?}"
            );
            let text = error.to_string();
            assert!(text.contains("calling DescribeStacks"), "{text}");
            assert!(text.contains("`cloudformation:DescribeStacks`"), "{text}");
        }
    }

    #[test]
    fn rejected_credentials_and_validation_errors_are_told_apart() {
        let error = classified(service_error(Some("ExpiredToken"), 400));
        assert!(
            error
                .to_string()
                .contains("rejected the credentials (ExpiredToken)")
        );
        let error = classified(service_error(Some("ValidationError"), 400));
        assert_eq!(
            error.to_string(),
            "CloudFormation rejected DescribeStacks: the service's words"
        );
        let error = classified(service_error(Some("Throttling"), 400));
        assert!(matches!(error, DeployError::Aws { .. }), "{error:?}");
    }

    #[test]
    fn a_connection_failure_names_the_endpoint_and_the_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let error = classified(SdkError::dispatch_failure(ConnectorError::io(io.into())));
        let text = error.to_string();
        assert!(
            text.starts_with("cannot reach http://127.0.0.1:1 (calling DescribeStacks)"),
            "{text}"
        );
        assert!(text.contains("Connection refused"), "{text}");
    }
}
