//! AWS calls: the toolkit stack and its bucket, uploads, change sets, stack events, outputs.
//! Only AWS's documented semantics live here; emulator quirks belong to the tests.
//!
//! This file: the connection, the region's clients, stack lookups, uploads, the toolkit stack,
//! deleting a stack. `change_set.rs`: deploying a stack through a change set, step by step.
//! `follow.rs`: following a stack operation's events. `retained.rs`: before a fresh create,
//! what a deleted stack of the name kept and whether it still exists. `error.rs`: which call
//! failed and why. What a status means and what to do about it is decided in
//! [`crate::status`]; which kept resources are in the way, in [`crate::retained`].

mod change_set;
mod cleanup;
mod error;
#[cfg(test)]
pub(crate) mod fake;
mod follow;
mod lambda;
mod ready;
mod retained;
mod site;

use std::collections::{BTreeMap, HashSet};

use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_cloudformation as cfn;
use aws_sdk_s3 as s3;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use s3::error::SdkError;

use crate::console::Console;
use crate::status::{self, Goal, StackStatus};
use crate::{DeployConfig, DeployError};
pub use change_set::StackRequest;
use error::{
    CREATE_STACK, DELETE_STACK, DESCRIBE_STACK_RESOURCES, DESCRIBE_STACKS, GET_CALLER_IDENTITY,
    GET_TEMPLATE, HEAD_OBJECT, PUT_OBJECT, SET_STACK_POLICY, UPDATE_TERMINATION_PROTECTION,
    classify, is_missing_stack,
};
pub use site::{SHA256_METADATA, STALE_TAG, SiteObject};
use stackgen_core::deploy::{StackOutputs, TOOLKIT_BUCKET_OUTPUT, TOOLKIT_STACK};

/// How many times gen tries one AWS call before it gives up on throttling or a transient
/// 5xx (the SDK's standard retry mode; its default is 3). A deploy makes a few hundred
/// calls, most of them polls of DescribeStackEvents and DescribeChangeSet that other tools in
/// the account (CI, the console, CDK) share a per-account rate with: a burst that outlasts
/// 3 tries is common, one that outlasts 6 spread over up to ~30 s is not, and a bound keeps
/// a throttled run failing within a minute instead of hanging.
pub const MAX_ATTEMPTS: u32 = 6;

/// Standard retry (exponential backoff with full jitter and the SDK's retry quota): waits of
/// up to 1, 2, 4, 8 and 16 s between the 6 attempts, so one call gives up after ~15 s on
/// average and 31 s at most.
pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(std::time::Duration::from_secs(1))
        .with_max_backoff(std::time::Duration::from_secs(20))
}

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
    // Only to see whether what a deleted stack kept still exists (`retained.rs`).
    logs: aws_sdk_cloudwatchlogs::Client,
    secrets: aws_sdk_secretsmanager::Client,
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    /// Only for `gen deploy --hotswap` (`lambda.rs`).
    lambda: aws_sdk_lambda::Client,
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
            .retry_config(retry_config())
            .load()
            .await;
        let provider = sdk
            .credentials_provider()
            .ok_or(DeployError::NoCredentials)?;
        provider
            .provide_credentials()
            .await
            .map_err(|_| DeployError::NoCredentials)?;
        Ok(Cloud::with_sdk(sdk, config, console))
    }

    /// A connection made from an SDK configuration the caller built (tests point it at a
    /// stand-in for AWS).
    pub(crate) fn with_sdk(
        sdk: aws_config::SdkConfig,
        config: DeployConfig,
        console: &'c dyn Console,
    ) -> Cloud<'c> {
        Cloud {
            sdk,
            console,
            config,
        }
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
        let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
                .region(region_value.clone())
                .build(),
        );
        let secrets = aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&self.sdk)
                .region(region_value.clone())
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&self.sdk)
                .region(region_value.clone())
                .build(),
        );
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&self.sdk)
                .region(region_value.clone())
                .build(),
        );
        let lambda = aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(&self.sdk)
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
            logs,
            secrets,
            sqs,
            dynamodb,
            lambda,
            endpoint,
        }
    }

    /// The URL CloudFormation fetches an uploaded template from.
    pub(crate) fn object_url(&self, region: &str, bucket: &str, key: &str) -> String {
        match self.sdk.endpoint_url() {
            Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
        }
    }

    async fn sleep(&self) {
        tokio::time::sleep(self.config.poll_interval).await;
    }

    /// The account the credentials belong to (STS GetCallerIdentity: allowed to every
    /// identity, so it cannot be denied by a policy).
    pub async fn caller_account(&self) -> Result<String, DeployError> {
        let mut config = aws_sdk_sts::config::Builder::from(&self.sdk);
        if self.sdk.region().is_none() {
            config = config.region(aws_config::Region::new("us-east-1"));
        }
        let sts = aws_sdk_sts::Client::from_conf(config.build());
        let endpoint = self
            .sdk
            .endpoint_url()
            .map_or_else(|| "AWS STS".to_owned(), str::to_owned);
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| classify(GET_CALLER_IDENTITY, &endpoint, e))?;
        identity
            .account()
            .map(str::to_owned)
            .ok_or(DeployError::Aws {
                operation: "GetCallerIdentity",
                message: "the answer names no account".to_owned(),
            })
    }

    /// Refuses, before anything is built or changed, credentials of another account than the
    /// stage's.
    pub async fn check_account(
        &self,
        stage: &str,
        expected: Option<&str>,
    ) -> Result<(), DeployError> {
        let Some(expected) = expected else {
            return Ok(());
        };
        let actual = self.caller_account().await?;
        if crate::protection::account_matches(Some(expected), &actual) {
            Ok(())
        } else {
            Err(DeployError::WrongAccount {
                stage: stage.to_owned(),
                expected: expected.to_owned(),
                actual,
            })
        }
    }
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
    /// Termination protection and the stack policy of a protected stage on (`protect`), or
    /// both lifted.
    pub async fn set_protection(&self, name: &str, protect: bool) -> Result<(), DeployError> {
        self.cfn
            .set_stack_policy()
            .stack_name(name)
            .stack_policy_body(crate::protection::stack_policy(protect))
            .send()
            .await
            .map_err(|e| classify(SET_STACK_POLICY, &self.endpoint, e))?;
        self.cfn
            .update_termination_protection()
            .stack_name(name)
            .enable_termination_protection(protect)
            .send()
            .await
            .map_err(|e| classify(UPDATE_TERMINATION_PROTECTION, &self.endpoint, e))?;
        Ok(())
    }

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
            Err(e) if is_missing_object(&e) => {}
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

    /// The stack ID of the nested stack `logical_id` of the deployed `parent`, if both exist.
    pub async fn nested_stack_id(
        &self,
        parent: &str,
        logical_id: &str,
    ) -> Result<Option<String>, DeployError> {
        match self
            .cfn
            .describe_stack_resources()
            .stack_name(parent)
            .logical_resource_id(logical_id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .stack_resources()
                .first()
                .and_then(|r| r.physical_resource_id())
                .filter(|id| !id.is_empty())
                .map(str::to_owned)),
            Err(e) if is_missing_stack(&e) => Ok(None),
            Err(e) => Err(classify(DESCRIBE_STACK_RESOURCES, &self.endpoint, e)),
        }
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

/// Whether HeadObject's failure means the object is missing: S3 says NotFound, or (HEAD has
/// no body) a bare 404.
fn is_missing_object(error: &SdkError<HeadObjectError>) -> bool {
    error.as_service_error().is_some_and(|s| s.is_not_found())
        || error
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 404)
}

/// What to do when the toolkit stack cannot be used.
const TOOLKIT_BUSY_HINT: &str =
    "wait for it to finish, or delete it if it failed (it is recreated on the next gen deploy)";

impl<'c> Cloud<'c> {
    /// The assets bucket of `region`'s toolkit stack, creating the stack on first use.
    pub async fn assets_bucket(&self, regional: &Regional) -> Result<String, DeployError> {
        let stack = match regional.describe_stack(TOOLKIT_STACK).await? {
            Some(stack) => stack,
            None => self.create_toolkit(regional).await?,
        };
        toolkit_bucket(&stack)
    }

    /// Creates the toolkit stack and follows it to CREATE_COMPLETE.
    async fn create_toolkit(&self, regional: &Regional) -> Result<cfn::types::Stack, DeployError> {
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
        Ok(stack)
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

/// The toolkit stack's bucket, if the stack is in working order and says which it is.
fn toolkit_bucket(stack: &cfn::types::Stack) -> Result<String, DeployError> {
    let status = status_of(stack);
    if !status::is_usable(&status) {
        return Err(DeployError::StackBusy {
            stack: TOOLKIT_STACK.to_owned(),
            status,
            hint: TOOLKIT_BUSY_HINT.to_owned(),
        });
    }
    outputs_of(stack)
        .remove(TOOLKIT_BUCKET_OUTPUT)
        .ok_or_else(|| DeployError::Aws {
            operation: "DescribeStacks",
            message: format!(
                "the toolkit stack {TOOLKIT_STACK} has no `{TOOLKIT_BUCKET_OUTPUT}` output; delete it and rerun gen deploy"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::types::error::NotFound;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;

    fn head_error(error: HeadObjectError, status: u16) -> SdkError<HeadObjectError> {
        SdkError::service_error(
            error,
            HttpResponse::new(status.try_into().unwrap(), SdkBody::empty()),
        )
    }

    #[test]
    fn a_missing_object_is_not_found_or_a_bare_404() {
        let not_found = HeadObjectError::NotFound(NotFound::builder().build());
        assert!(is_missing_object(&head_error(not_found, 404)));
        let bare = || HeadObjectError::generic(ErrorMetadata::builder().build());
        assert!(is_missing_object(&head_error(bare(), 404)));
        // Without s3:ListBucket S3 answers 403 for a missing object: that is a denial.
        assert!(!is_missing_object(&head_error(bare(), 403)));
        assert!(!is_missing_object(&head_error(bare(), 500)));
    }

    fn toolkit(status: StackStatus, bucket: Option<&str>) -> cfn::types::Stack {
        let mut stack = cfn::types::Stack::builder()
            .stack_name(TOOLKIT_STACK)
            .stack_status(status);
        if let Some(bucket) = bucket {
            stack = stack.outputs(
                cfn::types::Output::builder()
                    .output_key(TOOLKIT_BUCKET_OUTPUT)
                    .output_value(bucket)
                    .build(),
            );
        }
        stack.build()
    }

    #[test]
    fn the_toolkit_bucket_comes_from_a_toolkit_stack_in_working_order() {
        for status in [
            StackStatus::CreateComplete,
            StackStatus::UpdateComplete,
            StackStatus::UpdateRollbackComplete,
        ] {
            assert_eq!(
                toolkit_bucket(&toolkit(status, Some("assets-1"))).unwrap(),
                "assets-1"
            );
        }
        let busy = toolkit_bucket(&toolkit(StackStatus::UpdateInProgress, Some("assets-1")));
        assert_eq!(
            busy.unwrap_err().to_string(),
            format!("stack {TOOLKIT_STACK} is UPDATE_IN_PROGRESS: {TOOLKIT_BUSY_HINT}")
        );
        let no_output = toolkit_bucket(&toolkit(StackStatus::CreateComplete, None));
        assert!(
            no_output
                .unwrap_err()
                .to_string()
                .contains("has no `AssetsBucketName` output; delete it"),
        );
    }

    #[test]
    fn a_stack_without_a_status_reads_as_unknown() {
        let stack = cfn::types::Stack::builder().stack_name("app").build();
        assert_eq!(status_of(&stack).as_str(), "UNKNOWN");
        assert_eq!(status::phase(&status_of(&stack)), status::Phase::Unknown);
    }
}
