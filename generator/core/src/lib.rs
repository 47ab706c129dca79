//! stackgen: one typed manifest (`gen.yaml`) in, a serverless AWS app out.
//!
//! The pipeline is pure until [`workspace`]: text → [`manifest`] (shape) → [`model`]
//! (validated) → [`constructs`] → [`cfn`] (typed template) → [`project`] (files) →
//! [`ledger`] (what may be written). See ARCHITECTURE.md.

pub mod cfn;
pub mod constructs;
pub mod cost;
pub mod deploy;
pub mod diag;
pub mod example;
pub mod graph;
pub mod iam_catalog;
pub mod ledger;
pub mod manifest;
pub mod model;
pub mod naming;
pub mod outputs;
pub mod project;

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

/// What a build produces: every file of the project, and notes for the person running it.
#[derive(Clone, Debug)]
pub struct Output {
    pub files: Vec<GeneratedFile>,
    /// Things the user must do or know that no file can do for them.
    pub notes: Vec<String>,
    /// The monthly cost estimate, from the same templates the files hold.
    pub estimate: Result<cost::Estimate, cost::CostError>,
    /// Which stacks, functions and parameters `gen deploy` deals with.
    pub deploy: deploy::DeployPlan,
}

/// Manifest text → every file of the project, before any deployment. Deterministic: same
/// text, same bytes.
pub fn compile(text: &str) -> Result<Output, Error> {
    compile_with(text, &outputs::Deployed::default())
}

/// Like [`compile`], with what the last deployment recorded (the site's API URL comes from
/// the stack whose outputs declare it).
pub fn compile_with(text: &str, deployed: &outputs::Deployed) -> Result<Output, Error> {
    let (model, source_map) = load_with_map(text)?;
    let graph = constructs::synthesize(&model).map_err(|e| limit_error(e.into(), &source_map))?;
    let files =
        project::generate(&model, &graph, deployed).map_err(|e| limit_error(e, &source_map))?;
    let estimate = cost::estimate(&model, graph.stacks(), &cost::PriceTable::builtin());
    Ok(Output {
        files,
        notes: notes(&model),
        estimate,
        deploy: deploy::DeployPlan::new(&model, &graph),
    })
}

fn notes(model: &model::Model) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(alerts) = &model.alerts {
        notes.push(format!(
            "AWS mails each alerts address ({}) a confirmation link, valid 3 days; nothing is delivered until it is confirmed",
            alerts.emails.join(", ")
        ));
    }
    if let Some(billing) = &model.billing {
        let place = if model.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "; billing metrics exist only in us-east-1, so the alarm is in {} (a second stack, deployed to us-east-1)",
                constructs::BILLING_TEMPLATE
            )
        };
        notes.push(format!(
            "the billing alarm ({} USD a month) needs \"Receive CloudWatch billing alerts\" turned on in the account's Billing preferences{place}",
            billing.monthly_limit_usd
        ));
    }
    if let Some(site) = &model.site {
        notes.push(format!(
            "the site: `cd site && npm install && npm start` serves http://127.0.0.1:{port}; allow that URL in the Auth0 application's callback, logout and web-origin settings",
            port = site.port
        ));
    }
    if let Some(audit) = &model.audit
        && !audit.buckets.is_empty()
    {
        notes.push(
            "S3 data events cost $0.10 per 100,000 events: auditing a busy bucket costs real money"
                .to_owned(),
        );
    }
    notes
}

/// Stack and policy limits are the manifest's size, not stackgen bugs: located diagnostics.
fn limit_error(error: GenerateError, source_map: &manifest::SourceMap) -> Error {
    match error {
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
        GenerateError::PolicyTooLarge { manifest_path, name, chars, limit, what } => {
            Error::Manifest(vec![
                Diagnostic::new(
                    &manifest_path,
                    format!("policy `{name}` is {chars} characters (whitespace excluded)"),
                )
                .expected(format!("at most {limit} characters for {what} (AWS's limit)"))
                .hint("split the statements over several managed policies, or use wildcards and fewer resources")
                .at(source_map.key(&manifest_path)),
            ])
        }
        other => Error::Generate(other),
    }
}
