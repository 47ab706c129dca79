//! The deploy edge: everything `gen deploy`, `gen diff` and `gen destroy` do to the outside
//! world — cargo builds, S3 uploads, CloudFormation calls — with errors that say which call
//! failed, why, and what to do. What to deploy comes from the pure [`stackgen_core::deploy`] and this crate's pure modules ([`changes`], [`diff`], [`assets`], [`status`], [`events`], [`retained`]).
//!
//! This crate never prints, prompts or reads stdin: progress and questions go through a
//! [`console::Console`], which the `gen` binary implements for a terminal (the cargo builds
//! it runs inherit stderr, so compile errors show as cargo prints them). clippy enforces it:
//! the print macros are denied below, and so are the methods `clippy.toml` disallows,
//! `std::io::{stdout, stderr, stdin}`.

#![deny(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

pub mod app;
pub mod assets;
pub mod build;
pub mod changes;
pub mod cloud;
pub mod console;
pub mod diff;
pub mod events;
pub mod hotswap;
pub mod interrupt;
pub mod protection;
pub mod retained;
pub mod site;
pub mod status;

use std::time::Duration;

pub use build::Builder;
use status::StackStatus;

/// How `gen deploy` / `gen destroy` behave.
#[derive(Clone, Debug)]
pub struct DeployConfig {
    /// Deploy to this region instead of the manifest's (the billing stack stays in us-east-1).
    pub region: Option<String>,
    /// Go ahead without asking (required when stdin is not a terminal).
    pub yes: bool,
    pub builder: Builder,
    /// Take each function's `bootstrap` from `<dir>/<crate>/bootstrap` instead of building
    /// (CI that built them already; `gen deploy --prebuilt DIR`).
    pub prebuilt: Option<std::path::PathBuf>,
    /// Push code-only changes straight to Lambda (`gen deploy --hotswap`, development stages).
    pub hotswap: bool,
    /// Between two polls of a change set or a stack in progress.
    pub poll_interval: Duration,
    /// Wait until the site's CloudFront invalidation has completed (`gen deploy --wait`).
    pub wait: bool,
    /// How long `gen deploy` waits for a stack another operation still has in progress to
    /// settle before it refuses.
    pub settle_limit: Duration,
    /// What this run has under way in CloudFormation, for a signal handler to clean up.
    pub in_flight: interrupt::InFlight,
}

impl Default for DeployConfig {
    fn default() -> DeployConfig {
        DeployConfig {
            region: None,
            yes: false,
            builder: Builder::Auto,
            prebuilt: None,
            hotswap: false,
            poll_interval: Duration::from_secs(2),
            wait: false,
            settle_limit: Duration::from_secs(30 * 60),
            in_flight: interrupt::InFlight::default(),
        }
    }
}

/// Why a deploy, diff or destroy stopped. Each message says what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws configure` or `aws sso login`)"
    )]
    NoCredentials,
    #[error(
        "AWS rejected the credentials ({code}) calling {operation}: {message}\n  = hint: they may have expired; refresh them (e.g. `aws sso login`) and retry"
    )]
    BadCredentials {
        operation: &'static str,
        code: String,
        message: String,
    },
    #[error(
        "access denied calling {operation}: the identity needs the `{permission}` permission\n  = detail: {message}"
    )]
    AccessDenied {
        operation: &'static str,
        permission: &'static str,
        message: String,
    },
    #[error(
        "cannot reach {endpoint} (calling {operation}): {message}\n  = hint: check the network, the region, and AWS_ENDPOINT_URL if you set it"
    )]
    Unreachable {
        operation: &'static str,
        endpoint: String,
        message: String,
    },
    #[error("CloudFormation rejected {operation}: {message}")]
    Rejected {
        operation: &'static str,
        message: String,
    },
    /// Throttled on every attempt the SDK's standard retry made.
    #[error(
        "AWS throttled {operation} after {attempts} attempts ({message}): too many calls to this account and region at once\n  = hint: wait a minute and rerun; if it keeps happening, look for another tool calling the same API in a loop"
    )]
    Throttled {
        operation: &'static str,
        attempts: u32,
        message: String,
    },
    /// A 5xx on every attempt: AWS's side, not the request.
    #[error(
        "{operation} failed after {attempts} attempts with HTTP {status} ({message}): a problem on AWS's side\n  = hint: rerun in a few minutes; check the AWS Health Dashboard if it persists"
    )]
    Unavailable {
        operation: &'static str,
        attempts: u32,
        status: u16,
        message: String,
    },
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error("building function `{function}`: {message}")]
    Build { function: String, message: String },
    /// The stack cannot be deployed to as it is.
    #[error("stack {stack} is {status}: {hint}")]
    StackBusy {
        stack: String,
        status: StackStatus,
        hint: String,
    },
    /// The stack settled in `status`, not where the operation was going.
    #[error("stack {stack} failed: {status}: {}", status::explain(.status))]
    StackFailed { stack: String, status: StackStatus },
    #[error(
        "stdin is not a terminal, so gen cannot ask before changing the stack: rerun with --yes to go ahead"
    )]
    NeedsYes,
    /// The credentials are another account's than the stage names: nothing was done.
    #[error(
        "stage {stage} deploys to account {expected}, but the credentials are account {actual}'s: nothing was built or changed\n  = hint: use credentials of account {expected} (e.g. AWS_PROFILE), or correct `stages.{stage}.account` in gen.yaml"
    )]
    WrongAccount {
        stage: String,
        expected: String,
        actual: String,
    },
    /// `gen destroy` of a protected stage.
    #[error(
        "stage {stage} is protected (`protect: true`): gen destroy will not delete it\n  = hint: to destroy it deliberately, set `protect: false` under `stages.{stage}` in gen.yaml, run `gen deploy --stage {stage}` (it lifts termination protection and the stack policy), then `gen destroy --stage {stage}`"
    )]
    Protected { stage: String },
    /// A fresh create would collide with resources a deleted stack of the same name kept:
    /// refused before anything was built, uploaded or changed.
    #[error("{}", retained::refusal(.stack, .region, .template_path, .blockers))]
    RetainedInTheWay {
        stack: String,
        region: String,
        template_path: String,
        blockers: Vec<retained::Blocker>,
    },
    /// The site's page loads bundles from `site/vendor/`, which `npm install` fills: refused
    /// before any stack is touched.
    #[error(
        "{dir}/vendor/ is missing, so the hosted site would load no Bootstrap and no Auth0 SDK: nothing was deployed\n  = hint: run `cd {dir} && npm install`, then gen deploy again"
    )]
    SiteNotReady { dir: String },
    /// `gen deploy --hotswap` of a protected stage: refused before anything is built.
    #[error(
        "stage {stage} is protected (`protect: true`): gen deploy --hotswap would leave it running code its stack does not name; nothing was deployed\n  = hint: deploy it without --hotswap"
    )]
    HotswapProtected { stage: String },
    /// The site's stack deployed without an output the sync needs.
    #[error(
        "stack {stack} has no `{output}` output, so gen cannot publish the site: deploy again, or check the stack in the CloudFormation console"
    )]
    SiteOutputMissing { stack: String, output: String },
    /// A signal stopped the deploy; the handler that took it says what it cleaned up.
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Io(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_errors_name_the_status_and_say_what_it_means() {
        let failed = |status| DeployError::StackFailed {
            stack: "app".to_owned(),
            status,
        };
        assert_eq!(
            failed(StackStatus::UpdateRollbackComplete).to_string(),
            "stack app failed: UPDATE_ROLLBACK_COMPLETE: rolled back: the stack is as it was before this deploy"
        );
        assert_eq!(
            failed(StackStatus::from("UNKNOWN")).to_string(),
            "stack app failed: UNKNOWN: see the events above"
        );
        let busy = DeployError::StackBusy {
            stack: "app".to_owned(),
            status: StackStatus::UpdateInProgress,
            hint: status::BUSY_HINT.to_owned(),
        };
        assert_eq!(
            busy.to_string(),
            "stack app is UPDATE_IN_PROGRESS: another operation is running; wait for it to finish and rerun"
        );
    }
}
