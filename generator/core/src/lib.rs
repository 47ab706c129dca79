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
pub mod fresh;
pub mod graph;
pub mod iam_catalog;
pub mod layout;
pub mod ledger;
pub mod local;
pub mod manifest;
pub mod model;
pub mod naming;
pub mod outputs;
pub mod project;
pub mod site_sync;
pub mod split;

use cfn::TemplateError;
use diag::Diagnostic;
use project::{GenerateError, GeneratedFile};

/// Why a manifest produced no files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest is wrong: the user's to fix.
    #[error("the manifest has {}", diag::count(.0.len(), "error"))]
    Manifest(Vec<Diagnostic>),
    /// `--stage` names no stage of the manifest.
    #[error("{}", unknown_stage(.given, .known))]
    UnknownStage { given: String, known: Vec<String> },
    /// stackgen built something invalid: a bug.
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

fn unknown_stage(given: &str, known: &[String]) -> String {
    if known.is_empty() {
        return format!(
            "--stage {given}: gen.yaml declares no stages (add a `stages:` section, or leave out --stage)"
        );
    }
    let mut text = format!(
        "gen.yaml has no stage `{given}`; its stages: {}",
        known.join(", ")
    );
    if let Some(hint) = diag::did_you_mean_hint(given, known.iter().map(String::as_str)) {
        text.push_str(&format!("\n  = hint: {hint}"));
    }
    text
}

/// Parses and validates manifest text: the model of the app, or of its default stage.
pub fn load(text: &str) -> Result<model::Model, Error> {
    let (mut models, _) = load_stages(text)?;
    let default = default_stage(&models);
    Ok(models.swap_remove(default))
}

/// One model per stage (one, without a stage, when the manifest has none), in stage-key order.
fn load_stages(text: &str) -> Result<(Vec<model::Model>, manifest::SourceMap), Error> {
    let (raw, source_map) = manifest::parse(text).map_err(|d| Error::Manifest(vec![d]))?;
    let base = model::validate(&raw, &source_map).map_err(Error::Manifest)?;
    if raw.stages.is_empty() {
        return Ok((vec![base], source_map));
    }
    let specs = model::stages(&raw, &source_map).map_err(Error::Manifest)?;
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for spec in &specs {
        let key = spec.key.as_str();
        let prefix = manifest::stage::overrides_path(key);
        let merged = manifest::stage::apply(&raw, key, &raw.stages[key].overrides).map(|mut m| {
            m.region.clone_from(&spec.region);
            m
        });
        let merged = match merged {
            Ok(merged) => merged,
            Err(diagnostics) => {
                errors.extend(diagnostics.into_iter().map(|d| {
                    let position = source_map.key(&d.path);
                    d.at(position)
                }));
                continue;
            }
        };
        let overlay = source_map.overlay(&prefix);
        match model::validate_as(&merged, &overlay, Some(spec)) {
            Ok(model) => models.push(model),
            // The base is valid, so each problem is the stage's: say where it comes from.
            Err(diagnostics) => errors.extend(diagnostics.into_iter().map(|mut d| {
                let overridden = format!("{prefix}.{}", d.path);
                if source_map.has(&overridden) {
                    d.path = overridden;
                } else {
                    d.message = format!("stage `{key}`: {}", d.message);
                }
                d
            })),
        }
    }
    if errors.is_empty() {
        Ok((models, source_map))
    } else {
        errors.sort_by_key(|d| d.position);
        Err(Error::Manifest(errors))
    }
}

/// The model of stage `stage` (`None`: the default one), for commands that need the app's
/// meaning rather than its files (`gen invoke`'s sample events).
pub fn load_stage(text: &str, stage: Option<&str>) -> Result<model::Model, Error> {
    let (mut models, _) = load_stages(text)?;
    let selected = match stage {
        None => default_stage(&models),
        Some(given) => models
            .iter()
            .position(|m| m.stage.as_ref().is_some_and(|s| s.key.as_str() == given))
            .ok_or_else(|| Error::UnknownStage {
                given: given.to_owned(),
                known: models
                    .iter()
                    .filter_map(|m| m.stage.as_ref().map(|s| s.key.to_string()))
                    .collect(),
            })?,
    };
    Ok(models.swap_remove(selected))
}

/// The stage commands mean without `--stage`: the one marked `default`, else the first.
fn default_stage(models: &[model::Model]) -> usize {
    models
        .iter()
        .position(|m| m.stage.as_ref().is_some_and(|s| s.default))
        .unwrap_or(0)
}

/// What a build produces: every file of the project, notes for the person running it, and
/// what deploying the selected stage involves.
#[derive(Clone, Debug)]
pub struct Output {
    pub files: Vec<GeneratedFile>,
    /// Things the user must do or know that no file can do for them.
    pub notes: Vec<String>,
    /// The selected stage (`--stage`, else the default one); `None` without stages.
    pub stage: Option<model::StageSpec>,
    /// Every stage's key, in order (empty without stages).
    pub stages: Vec<String>,
    /// The selected stage's monthly cost estimate, from the same templates the files hold.
    pub estimate: Result<cost::Estimate, cost::CostError>,
    /// Which stacks, functions and parameters `gen deploy` deals with, for the selected stage.
    pub deploy: deploy::DeployPlan,
}

/// Manifest text → every file of the project, before any deployment. Deterministic: same
/// text, same bytes.
pub fn compile(text: &str) -> Result<Output, Error> {
    compile_with(text, &outputs::Deployed::default(), None)
}

/// Like [`compile`], with what the last deployments recorded (the site's API URL comes from
/// the stack whose outputs declare it), for stage `stage` (`None`: the default one).
pub fn compile_with(
    text: &str,
    deployed: &outputs::Deployed,
    stage: Option<&str>,
) -> Result<Output, Error> {
    compile_recorded(text, deployed, &split::PlacementRecord::default(), stage)
}

/// Like [`compile_with`], keeping every function in the stack `placement` (the last build's
/// `.gen/placement.json`) put it in.
pub fn compile_recorded(
    text: &str,
    deployed: &outputs::Deployed,
    placement: &split::PlacementRecord,
    stage: Option<&str>,
) -> Result<Output, Error> {
    let (models, source_map) = load_stages(text)?;
    let keys: Vec<String> = models
        .iter()
        .filter_map(|m| m.stage.as_ref().map(|s| s.key.to_string()))
        .collect();
    let selected = match stage {
        None => default_stage(&models),
        Some(given) => keys
            .iter()
            .position(|k| k == given)
            .ok_or_else(|| Error::UnknownStage {
                given: given.to_owned(),
                known: keys.clone(),
            })?,
    };
    let graphs = models
        .iter()
        .map(|m| {
            let previous = placement.stage(m.stage.as_ref().map(|s| s.key.as_str()));
            constructs::synthesize_placed(m, &previous)
                .map_err(|e| limit_error(e.into(), &source_map))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let stages: Vec<_> = models.iter().zip(&graphs).collect();
    let files =
        project::generate(&stages, selected, deployed).map_err(|e| limit_error(e, &source_map))?;
    let (model, graph) = stages[selected];
    Ok(Output {
        files,
        notes: notes(model),
        stage: model.stage.clone(),
        stages: keys,
        estimate: cost::estimate(model, graph.stacks(), &cost::PriceTable::builtin()),
        deploy: deploy::DeployPlan::new(model, graph),
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
                layout::BILLING_TEMPLATE
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
        if site.hosting.is_some() {
            notes.push(
                "the site is hosted on CloudFront: `gen deploy` uploads site/ (run `npm install` in site/ first) and prints its URL and the Auth0 settings it needs".to_owned(),
            );
        }
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
                format!("the app exceeds a CloudFormation limit even split into nested stacks: {limit}"),
            )
            .hint("each function's own resources move to nested stacks, but what they share (buckets, API routes, IAM, alerts) stays in the root: split the app into several projects, e.g. by domain")
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
