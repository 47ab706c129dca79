//! stackgen: one typed manifest (`gen.yaml`) in, a serverless AWS app out.
//!
//! The pipeline is pure until [`workspace`]: text → [`manifest`] (shape) → [`model`]
//! (validated) → [`constructs`] → [`cfn`] (typed template) → [`project`] (files) →
//! [`ledger`] (what may be written). See ARCHITECTURE.md.

pub mod cfn;
pub mod constructs;
pub mod diag;
pub mod example;
pub mod ledger;
pub mod manifest;
pub mod model;
pub mod project;
pub mod workspace;

use cfn::TemplateError;
use diag::Diagnostic;
use project::{GenerateError, GeneratedFile};

/// Why a manifest produced no files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest is wrong: the user's to fix.
    #[error("the manifest has {}", diag::count(.0.len(), "error"))]
    Manifest(Vec<Diagnostic>),
    /// stackgen built something invalid: a bug.
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// Parses and validates manifest text.
pub fn load(text: &str) -> Result<model::Model, Error> {
    load_with_map(text).map(|(model, _)| model)
}

fn load_with_map(text: &str) -> Result<(model::Model, manifest::SourceMap), Error> {
    let (raw, source_map) = manifest::parse(text).map_err(|d| Error::Manifest(vec![d]))?;
    let model = model::validate(&raw, &source_map).map_err(Error::Manifest)?;
    Ok((model, source_map))
}

/// Manifest text → every file of the project. Deterministic: same text, same bytes.
pub fn compile(text: &str) -> Result<Vec<GeneratedFile>, Error> {
    let (model, source_map) = load_with_map(text)?;
    project::generate(&model).map_err(|error| match error {
        // A stack limit is the manifest's size, not a stackgen bug: say so, at `functions`.
        GenerateError::Template(
            limit @ (TemplateError::TooManyResources { .. }
            | TemplateError::TooMany { .. }
            | TemplateError::TooLarge { .. }),
        ) => Error::Manifest(vec![
            Diagnostic::new(
                "functions",
                format!("the app does not fit one CloudFormation stack: {limit}"),
            )
            .hint("split the app into several projects (one stack each), e.g. by domain")
            .at(source_map.key("functions")),
        ]),
        other => Error::Generate(other),
    })
}
