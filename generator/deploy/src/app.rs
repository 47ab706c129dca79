//! The three cloud commands over the whole app: deploy, diff, destroy.

use std::collections::BTreeMap;

use crate::build::{Builder, build_function};
use crate::cloud::{Cloud, Doomed, StackOutcome};
use crate::console::{self, Console};
use crate::{DeployConfig, DeployError};
use crate::{assets, diff};
use stackgen_core::Output;
use stackgen_core::deploy::{self, StackTarget};
use stackgen_core::project::layout;
use stackgen_workspace::Project;

/// What `gen deploy` did.
#[derive(Debug, Default)]
pub struct DeployReport {
    /// Stacks whose outputs were recorded in `.gen/outputs/`.
    pub recorded: Vec<String>,
    /// The user said no to a change set; later stacks were not touched.
    pub declined: bool,
}

fn region_of<'a>(stack: &'a StackTarget, config: &'a DeployConfig, main: bool) -> &'a str {
    match (&config.region, main) {
        // The billing stack must stay in us-east-1, where billing metrics are.
        (Some(region), true) => region,
        _ => &stack.region,
    }
}

fn template_text<'a>(output: &'a Output, stack: &StackTarget) -> &'a str {
    output
        .files
        .iter()
        .find(|f| f.path == stack.template_path)
        .map(|f| f.contents.as_str())
        .expect("every stack's template is a generated file")
}

fn io(error: stackgen_workspace::WorkspaceError) -> DeployError {
    DeployError::Io(error.to_string())
}

/// A built function: its zip and the key it goes under.
struct Asset {
    parameter: String,
    key: String,
    zip: Vec<u8>,
}

fn build_assets(
    project: &Project,
    output: &Output,
    builder: Builder,
    console: &dyn Console,
) -> Result<Vec<Asset>, DeployError> {
    let plan = &output.deploy;
    if plan.functions.is_empty() {
        return Ok(Vec::new());
    }
    let builder = builder.resolve();
    console.line(&format!(
        "Building {} function(s) for Lambda (release, with {}):",
        plan.functions.len(),
        match builder {
            Builder::CargoLambda => "cargo-lambda",
            _ => "cargo",
        }
    ));
    let functions_dir = project.path(layout::FUNCTIONS);
    let mut built = Vec::new();
    for function in &plan.functions {
        let bootstrap = build_function(&functions_dir, function, builder)?;
        let info = assets::check_binary(&bootstrap, function.architecture).map_err(|e| {
            DeployError::Build {
                function: function.key.to_string(),
                message: format!("its bootstrap {e}"),
            }
        })?;
        let zip = assets::lambda_zip(&bootstrap);
        let key = assets::code_key(&zip);
        console.line(&format!(
            "  {:<16} bootstrap {:.1} MB, {}, zip {:.1} MB -> {key}",
            function.crate_name,
            bootstrap.len() as f64 / 1e6,
            info.glibc
                .map_or_else(|| "static".to_owned(), |(a, b)| format!("glibc {a}.{b}")),
            zip.len() as f64 / 1e6,
        ));
        built.push(Asset {
            parameter: function.code_key_parameter.clone(),
            key,
            zip,
        });
    }
    Ok(built)
}

/// Builds, uploads and deploys every stack of the app, recording outputs as it goes.
pub async fn deploy_app(
    project: &Project,
    output: &Output,
    config: DeployConfig,
    console: &dyn Console,
) -> Result<DeployReport, DeployError> {
    console::ensure_can_confirm(console, config.yes)?;
    let cloud = Cloud::connect(config.clone(), console).await?;
    if let (Some(region), Some(main)) = (&config.region, output.deploy.stacks.first())
        && region != &main.region
    {
        console.line(&format!(
            "Note: deploying to {region}, not gen.yaml's {}: the templates (e.g. where the billing alarm lives) and `gen cost` follow gen.yaml; change `region:` there to move the app for good",
            main.region
        ));
    }
    // One cheap call before minutes of compiling: a wrong endpoint, region or permission
    // shows now.
    if let Some(main) = output.deploy.stacks.first() {
        cloud
            .regional(region_of(main, &config, true))
            .describe_stack(&main.name)
            .await?;
    }
    let assets = build_assets(project, output, config.builder, console)?;
    let mut report = DeployReport::default();
    for (index, stack) in output.deploy.stacks.iter().enumerate() {
        let region = region_of(stack, &config, index == 0);
        let regional = cloud.regional(region);
        let mut parameters = BTreeMap::new();
        let mut assets_bucket = None;
        if stack.needs_assets {
            let bucket = cloud.assets_bucket(&regional).await?;
            let (mut uploaded, mut present) = (0, 0);
            for asset in &assets {
                if regional
                    .upload(&bucket, &asset.key, asset.zip.clone(), "application/zip")
                    .await?
                {
                    uploaded += 1;
                } else {
                    present += 1;
                }
                parameters.insert(asset.parameter.clone(), asset.key.clone());
            }
            console.line(&format!(
                "Function code: {uploaded} uploaded, {present} already in s3://{bucket}"
            ));
            parameters.insert(
                output.deploy.assets_bucket_parameter.clone(),
                bucket.clone(),
            );
            assets_bucket = Some(bucket);
        }
        let outcome = cloud
            .deploy_stack(
                &regional,
                &stack.name,
                template_text(output, stack),
                &parameters,
                assets_bucket.as_deref(),
            )
            .await?;
        let outputs = match outcome {
            StackOutcome::NoChanges { outputs } => {
                console.line(&format!(
                    "Stack {} ({region}): no changes; it already matches gen.yaml",
                    stack.name
                ));
                outputs
            }
            StackOutcome::Deployed {
                status,
                outputs,
                changes,
                seconds,
            } => {
                console.line(&format!(
                    "Stack {} ({region}): {status} in {seconds:.1} s ({changes} resource change(s))",
                    stack.name
                ));
                outputs
            }
            StackOutcome::Declined => {
                console.line(&format!("Not deployed: stack {} is unchanged", stack.name));
                report.declined = true;
                return Ok(report);
            }
        };
        for (key, value) in &outputs {
            console.line(&format!("  {key} = {value}"));
        }
        project
            .write_record(
                &stack.outputs_path(),
                &deploy::render_outputs(&stack.name, region, &outputs),
            )
            .map_err(io)?;
        report.recorded.push(stack.name.clone());
    }
    Ok(report)
}

/// Prints, stack by stack, how the local templates differ from the deployed ones. Returns
/// whether anything differs.
pub async fn diff_app(
    output: &Output,
    config: DeployConfig,
    console: &dyn Console,
) -> Result<bool, DeployError> {
    let cloud = Cloud::connect(config.clone(), console).await?;
    let mut differs = false;
    for (index, stack) in output.deploy.stacks.iter().enumerate() {
        let region = region_of(stack, &config, index == 0);
        let regional = cloud.regional(region);
        let local: serde_json::Value = serde_json::from_str(template_text(output, stack))
            .expect("generated templates are JSON");
        let Some(deployed) = regional.deployed_template(&stack.name).await? else {
            let count = local["Resources"].as_object().map_or(0, |r| r.len());
            console.line(&format!(
                "Stack {} ({region}): not deployed; gen deploy would create its {count} resources",
                stack.name
            ));
            differs = true;
            continue;
        };
        let Ok(deployed) = serde_json::from_str::<serde_json::Value>(&deployed) else {
            console.line(&format!(
                "Stack {} ({region}): the deployed template is not JSON (not deployed by gen?); every resource counts as changed",
                stack.name
            ));
            differs = true;
            continue;
        };
        let difference = diff::diff(&deployed, &local);
        if difference.is_empty() {
            console.line(&format!("Stack {} ({region}): no differences", stack.name));
        } else {
            differs = true;
            console.line(&format!(
                "Stack {} ({region}): {} resource(s) differ (deployed -> local):",
                stack.name,
                difference.resources.len()
            ));
            console.line(difference.render().trim_end_matches('\n'));
        }
    }
    Ok(differs)
}

/// What `gen destroy` did.
#[derive(Debug, Default)]
pub struct DestroyReport {
    pub deleted: Vec<String>,
    /// (stack, type, physical ID) still in the account.
    pub retained: Vec<(String, String, String)>,
    pub declined: bool,
    /// Regions whose toolkit stack (shared, kept) exists.
    pub toolkit_regions: Vec<String>,
}

/// Deletes the app's stacks (billing first, main last) after one confirmation.
pub async fn destroy_app(
    project: &Project,
    output: &Output,
    config: DeployConfig,
    console: &dyn Console,
) -> Result<DestroyReport, DeployError> {
    console::ensure_can_confirm(console, config.yes)?;
    let cloud = Cloud::connect(config.clone(), console).await?;
    let mut doomed: Vec<(&StackTarget, String, Doomed)> = Vec::new();
    for (index, stack) in output.deploy.stacks.iter().enumerate().rev() {
        let region = region_of(stack, &config, index == 0).to_owned();
        let regional = cloud.regional(&region);
        if let Some(d) = cloud.inspect_for_destroy(&regional, &stack.name).await? {
            doomed.push((stack, region, d));
        }
    }
    let mut report = DestroyReport::default();
    if doomed.is_empty() {
        console.line("Nothing to destroy: no stack of this app is deployed");
        return Ok(report);
    }
    console.line("gen destroy deletes these stacks and every resource in them:");
    for (stack, region, _) in &doomed {
        console.line(&format!("  {} ({region})", stack.name));
    }
    let retained: Vec<(String, String, String)> = doomed
        .iter()
        .flat_map(|(stack, _, d)| {
            d.retained
                .iter()
                .map(|(_, ty, physical)| (stack.name.clone(), ty.clone(), physical.clone()))
        })
        .collect();
    if !retained.is_empty() {
        console.line("These survive (DeletionPolicy: Retain) and stay in the account:");
        for (_, ty, physical) in &retained {
            console.line(&format!("  {ty} {physical}"));
        }
    }
    if !console::confirm(console, "Delete these stacks?", config.yes)? {
        console.line("Nothing deleted");
        report.declined = true;
        return Ok(report);
    }
    for (stack, region, d) in &doomed {
        let regional = cloud.regional(region);
        cloud.delete(&regional, &stack.name, &d.stack_id).await?;
        project.remove_record(&stack.outputs_path()).map_err(io)?;
        console.line(&format!("Stack {} ({region}): deleted", stack.name));
        report.deleted.push(stack.name.clone());
    }
    report.retained = retained;
    for (_, region, _) in &doomed {
        if !report.toolkit_regions.contains(region)
            && cloud
                .regional(region)
                .describe_stack(deploy::TOOLKIT_STACK)
                .await?
                .is_some()
        {
            report.toolkit_regions.push(region.clone());
        }
    }
    Ok(report)
}
