//! stackgen's local edge: the generated functions run on this machine, without Docker or
//! AWS. [`build`] builds one function crate (debug, incremental); [`run::invoke_once`] runs its
//! bootstrap once behind a loopback Lambda Runtime API ([`runtime_api`]). The CLI decides
//! what to run and prints; this crate returns outcomes and hands log lines to a callback.
//! [`gateway`] is `gen dev`'s local API Gateway: the REST API of a generated template, served
//! on 127.0.0.1 over the same minimal HTTP/1.1 ([`http`]), invoking functions through a trait
//! the CLI implements.

pub mod build;
pub mod gateway;
pub mod http;
pub mod run;
pub mod runtime_api;
pub mod site;
pub mod warm;

use std::path::PathBuf;

pub use build::{build_debug, build_debug_all};
pub use run::{FunctionError, Invocation, InvokeConfig, LogStream, Outcome, invoke_once};

/// Why a function could not be run (its own failures are an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("building function `{function}`: {message}")]
    Build { function: String, message: String },
    #[error("starting {}: {source}", binary.display())]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the local Runtime API: {0}")]
    Server(std::io::Error),
}
