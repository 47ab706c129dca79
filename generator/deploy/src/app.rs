//! The three cloud commands over the whole app: deploy, diff, destroy.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::build::{Builder, build_functions};
use crate::cloud::{Cloud, Doomed, Regional, SiteObject, StackOutcome, StackRequest};
use crate::console::{self, Console};
use crate::protection::{self, Protection};
use crate::site::{self, Local, SiteOutputs};
use crate::{DeployConfig, DeployError};
use crate::{assets, diff, hotswap};
use stackgen_core::Output;
use stackgen_core::deploy::{self, StackTarget};
use stackgen_core::project::layout;
use stackgen_core::site_sync::{self, SyncPlan};
use stackgen_workspace::Project;

/// What `gen deploy` did.
#[derive(Debug, Default)]
pub struct DeployReport {
    /// Stacks whose outputs were recorded in `.gen/outputs/`.
    pub recorded: Vec<String>,
    /// The user said no to a change set; later stacks were not touched.
    pub declined: bool,
}

/// Where a stack goes: `--region` moves the app's own stack; the billing stack stays in
/// us-east-1, where billing metrics are.
fn region_of<'a>(stack: &'a StackTarget, config: &'a DeployConfig) -> &'a str {
    match &config.region {
        Some(region) if stack.is_app() => region,
        _ => &stack.region,
    }
}

fn template_text<'a>(output: &'a Output, stack: &StackTarget) -> &'a str {
    file_text(output, &stack.template_path)
}

fn file_text<'a>(output: &'a Output, path: &str) -> &'a str {
    output
        .files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.contents.as_str())
        .expect("every stack's template is a generated file")
}

fn io(error: stackgen_workspace::WorkspaceError) -> DeployError {
    DeployError::Io(error.to_string())
}

/// A built function: its zip and the key it goes under.
#[derive(Clone)]
struct Asset {
    parameter: String,
    key: String,
    zip: Arc<Vec<u8>>,
}

fn build_assets(
    project: &Project,
    output: &Output,
    config: &DeployConfig,
    console: &dyn Console,
) -> Result<Vec<Asset>, DeployError> {
    let (builder, prebuilt) = (config.builder, config.prebuilt.as_deref());
    let plan = &output.deploy;
    if plan.functions.is_empty() {
        return Ok(Vec::new());
    }
    // Looking for cargo-lambda runs it: not when nothing is built.
    let builder = if prebuilt.is_some() {
        builder
    } else {
        builder.resolve()
    };
    match prebuilt {
        Some(dir) => console.line(&format!(
            "Taking {} function(s) prebuilt from {}:",
            plan.functions.len(),
            dir.display()
        )),
        None => console.line(&format!(
            "Building {} function(s) for Lambda (release, with {}):",
            plan.functions.len(),
            match builder {
                Builder::CargoLambda => "cargo-lambda",
                _ => "cargo",
            }
        )),
    }
    let paths: Vec<std::path::PathBuf> = match prebuilt {
        Some(dir) => plan
            .functions
            .iter()
            .map(|f| dir.join(&f.crate_name).join("bootstrap"))
            .collect(),
        None => build_functions(&project.path(layout::FUNCTIONS), &plan.functions, builder)?,
    };
    let mut built = Vec::new();
    // Identical executables (a shared prebuilt one) are zipped once and share the zip.
    let mut zips: BTreeMap<String, (String, Arc<Vec<u8>>)> = BTreeMap::new();
    for (function, path) in plan.functions.iter().zip(paths) {
        let bootstrap = read_bootstrap(&path, function, prebuilt.is_some())?;
        let info = assets::check_binary(&bootstrap, function.architecture).map_err(|e| {
            DeployError::Build {
                function: function.key.to_string(),
                message: format!("its bootstrap {e}"),
            }
        })?;
        let (key, zip) = zips
            .entry(stackgen_core::ledger::sha256_hex(&bootstrap))
            .or_insert_with(|| {
                let zip = assets::lambda_zip(&bootstrap);
                (assets::code_key(&zip), Arc::new(zip))
            })
            .clone();
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

/// A function's executable: built, or `<dir>/<crate>/bootstrap` as `gen deploy --prebuilt
/// DIR` takes it.
fn read_bootstrap(
    path: &std::path::Path,
    function: &deploy::FunctionAsset,
    prebuilt: bool,
) -> Result<Vec<u8>, DeployError> {
    std::fs::read(path).map_err(|e| DeployError::Build {
        function: function.key.to_string(),
        message: if prebuilt {
            format!(
                "reading the prebuilt {}: {e}\n  = hint: --prebuilt DIR takes DIR/<crate>/bootstrap for every function crate; build them (e.g. `cargo lambda build --release --lambda-dir DIR`) or leave out --prebuilt",
                path.display()
            )
        } else {
            format!("reading {}: {e}", path.display())
        },
    })
}

/// Builds, uploads and deploys every stack of the app, recording outputs as it goes.
pub async fn deploy_app(
    project: &Project,
    output: &Output,
    config: DeployConfig,
    console: &dyn Console,
) -> Result<DeployReport, DeployError> {
    console::ensure_can_confirm(console, config.yes)?;
    if let Some(stage) = output
        .stage
        .as_ref()
        .filter(|s| config.hotswap && s.protect)
    {
        return Err(DeployError::HotswapProtected {
            stage: stage.key.to_string(),
        });
    }
    if let Some(target) = &output.deploy.site {
        site::check_site_ready(project, target)?;
    }
    let cloud = Cloud::connect(config.clone(), console).await?;
    check_account(&cloud, output).await?;
    if let Some(note) = region_note(output, &config) {
        console.line(&note);
    }
    // A few cheap calls per stack before minutes of compiling: a wrong endpoint, region or
    // permission shows now. A stack CloudFormation would create afresh is refused here, before
    // anything is built, uploaded or changed, when what a deleted stack of its name kept is in
    // the way (see `retained`).
    for stack in &output.deploy.stacks {
        // A stack still in progress is waited for; one gen cannot deploy onto is refused
        // with what to do about it.
        cloud
            .ready_to_deploy(&cloud.regional(region_of(stack, &config)), &stack.name)
            .await?;
        let nested: Vec<(&str, &str)> = stack
            .nested
            .iter()
            .map(|n| (n.resource_id.as_str(), file_text(output, &n.template_path)))
            .collect();
        cloud
            .check_retained(
                &cloud.regional(region_of(stack, &config)),
                &stack.name,
                &stack.template_path,
                template_text(output, stack),
                &nested,
            )
            .await?;
    }
    let assets = build_assets(project, output, &config, console)?;
    if config.hotswap {
        match hotswap_app(&cloud, project, output, &config, &assets).await? {
            Some(report) => return Ok(report),
            None => console.line("Deploying through a change set instead"),
        }
    }
    let mut report = DeployReport::default();
    for stack in &output.deploy.stacks {
        let region = region_of(stack, &config);
        let regional = cloud.regional(region);
        let (parameters, assets_bucket) = if stack.needs_assets {
            let bucket_parameter = &output.deploy.assets_bucket_parameter;
            let (mut code_keys, bucket) =
                upload_assets(&cloud, &regional, &assets, bucket_parameter).await?;
            let mut parameters =
                upload_nested(&cloud, &regional, &bucket, output, stack, &code_keys).await?;
            // Only what the template declares: CloudFormation refuses any other parameter.
            code_keys.retain(|name, _| stack.parameters.contains(name));
            parameters.append(&mut code_keys);
            (parameters, Some(bucket))
        } else {
            (BTreeMap::new(), None)
        };
        let protect = output.stage.as_ref().is_some_and(|s| s.protect);
        let deployed_protection = regional
            .describe_stack(&stack.name)
            .await?
            .map(|s| s.enable_termination_protection().unwrap_or(false));
        if protect && deployed_protection.is_some() {
            // Before the update runs, so the stack policy already guards it.
            regional.set_protection(&stack.name, true).await?;
        }
        let outcome = cloud
            .deploy_stack(
                &regional,
                StackRequest {
                    name: &stack.name,
                    template: template_text(output, stack),
                    parameters: &parameters,
                    assets_bucket: assets_bucket.as_deref(),
                    has_nested: !stack.nested.is_empty(),
                },
            )
            .await?;
        for line in outcome_lines(&stack.name, region, &outcome) {
            console.line(&line);
        }
        let (StackOutcome::NoChanges { outputs } | StackOutcome::Deployed { outputs, .. }) =
            outcome
        else {
            // Declined: later stacks are not touched.
            report.declined = true;
            return Ok(report);
        };
        match protection::protection(protect, deployed_protection) {
            Protection::Apply if deployed_protection.is_none() => {
                regional.set_protection(&stack.name, true).await?;
                console.line(&format!(
                    "  {}: termination protection on; the stack policy denies replacing or deleting its data",
                    stack.name
                ));
            }
            Protection::Lift => {
                regional.set_protection(&stack.name, false).await?;
                console.line(&format!(
                    "  {}: protection lifted (termination protection off, stack policy allows every update)",
                    stack.name
                ));
            }
            Protection::Apply | Protection::Leave => {}
        }
        project
            .write_record(
                &stack.outputs_path(),
                &deploy::render_outputs(&stack.name, region, &outputs),
            )
            .map_err(io)?;
        // The stack now names the code its functions run: no drift left to record.
        project
            .remove_record(&hotswap::record_path(&stack.name))
            .map_err(io)?;
        report.recorded.push(stack.name.clone());
    }
    Ok(report)
}

/// The code keys the deployed `stack` names: its parameters, and its nested stacks' bound
/// defaults. `None` when it (or one of its nested stacks) is not deployed.
async fn deployed_code_keys(
    regional: &Regional,
    stack: &StackTarget,
) -> Result<Option<BTreeMap<String, String>>, DeployError> {
    let Some(described) = regional.describe_stack(&stack.name).await? else {
        return Ok(None);
    };
    let mut keys: BTreeMap<String, String> = described
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect();
    for nested in &stack.nested {
        let Some(id) = regional
            .nested_stack_id(&stack.name, &nested.resource_id)
            .await?
        else {
            return Ok(None);
        };
        let template = regional.deployed_template(&id).await?.unwrap_or_default();
        let template: serde_json::Value = serde_json::from_str(&template).unwrap_or_default();
        for parameter in &nested.code_key_parameters {
            if let Some(key) = template["Parameters"][parameter]["Default"].as_str() {
                keys.insert(parameter.clone(), key.to_owned());
            }
        }
    }
    Ok(Some(keys))
}

/// How each deployed template differs from the local one, a line per stack or nested stack
/// that differs (gen's bound code keys are code, not template).
async fn template_differences(
    regional: &Regional,
    output: &Output,
    stack: &StackTarget,
) -> Result<Vec<String>, DeployError> {
    let mut differences = Vec::new();
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap_or_default();
    let compare = |path: &str, deployed: Option<String>, unbind: &[String]| {
        let Some(deployed) = deployed else {
            return Some(format!("{path} is not deployed"));
        };
        let mut deployed = parse(&deployed);
        diff::unbind_defaults(&mut deployed, unbind);
        let difference = diff::diff(&deployed, &parse(file_text(output, path)));
        (!difference.is_empty()).then(|| {
            format!(
                "{path} differs from the deployed template ({} resource(s), {} other entries)",
                difference.resources.len(),
                difference.other.len()
            )
        })
    };
    differences.extend(compare(
        &stack.template_path,
        regional.deployed_template(&stack.name).await?,
        &[],
    ));
    for nested in &stack.nested {
        let deployed = match regional
            .nested_stack_id(&stack.name, &nested.resource_id)
            .await?
        {
            Some(id) => regional.deployed_template(&id).await?,
            None => None,
        };
        differences.extend(compare(
            &nested.template_path,
            deployed,
            &nested.code_key_parameters,
        ));
    }
    Ok(differences)
}

/// `gen deploy --hotswap`: new code straight to Lambda when nothing but code differs from the
/// deployed stacks. `None` when a change set is needed (it says why first).
async fn hotswap_app(
    cloud: &Cloud<'_>,
    project: &Project,
    output: &Output,
    config: &DeployConfig,
    assets: &[Asset],
) -> Result<Option<DeployReport>, DeployError> {
    let console = cloud.console();
    let started = std::time::Instant::now();
    let fall_back = |why: String| {
        console.line(&format!("Hotswap not possible: {why}"));
        Ok(None)
    };
    let mut differences = Vec::new();
    for stack in &output.deploy.stacks {
        let regional = cloud.regional(region_of(stack, config));
        differences.extend(template_differences(&regional, output, stack).await?);
    }
    let Some(app) = output.deploy.app().filter(|s| s.needs_assets) else {
        return fall_back("the app has no functions".to_owned());
    };
    let regional = cloud.regional(region_of(app, config));
    let Some(deployed) = deployed_code_keys(&regional, app).await? else {
        return fall_back(format!("stack {} is not deployed yet", app.name));
    };
    let record_path = hotswap::record_path(&app.name);
    let mut record = project
        .read_record(&record_path)
        .map_err(io)?
        .and_then(|text| hotswap::Record::parse(&text))
        .unwrap_or_default();
    let names: BTreeMap<&str, &str> = output
        .deploy
        .functions
        .iter()
        .map(|f| (f.code_key_parameter.as_str(), f.function_name.as_str()))
        .collect();
    let built: BTreeMap<String, (String, String)> = assets
        .iter()
        .map(|a| {
            let name = names.get(a.parameter.as_str()).copied().unwrap_or_default();
            (a.parameter.clone(), (name.to_owned(), a.key.clone()))
        })
        .collect();
    let swaps = match hotswap::plan(&differences, &deployed, &record, &built) {
        hotswap::Plan::FallBack(why) => return fall_back(why),
        hotswap::Plan::Swap(swaps) => swaps,
    };
    if swaps.is_empty() {
        console.line(&format!(
            "Hotswap: every function of {} already runs its code; nothing to do",
            app.name
        ));
        return Ok(Some(DeployReport::default()));
    }
    let swapped: Vec<&Asset> = assets
        .iter()
        .filter(|a| swaps.iter().any(|s| s.parameter == a.parameter))
        .collect();
    let owned: Vec<Asset> = swapped.iter().map(|a| (*a).clone()).collect();
    let (_, bucket) = upload_assets(
        cloud,
        &regional,
        &owned,
        &output.deploy.assets_bucket_parameter,
    )
    .await?;
    for swap in &swaps {
        let sha = cloud
            .update_function_code(&regional, &swap.function_name, &bucket, &swap.to)
            .await?;
        console.line(&format!(
            "  hotswapped {}: {} -> {} (CodeSha256 {sha})",
            swap.function_name,
            swap.from.as_deref().unwrap_or("?"),
            swap.to
        ));
        record.code.insert(swap.parameter.clone(), swap.to.clone());
        // After each one: an interrupted hotswap still says what runs.
        project
            .write_record(&record_path, &record.render(&app.name))
            .map_err(io)?;
    }
    console.line(&format!(
        "Hotswapped {} function(s) of {} in {:.1} s. The stack now drifts from its template (its parameters name the old code) until the next gen deploy without --hotswap; gen diff shows it",
        swaps.len(),
        app.name,
        started.elapsed().as_secs_f64()
    ));
    Ok(Some(DeployReport::default()))
}

/// What publishing the site did.
#[derive(Debug)]
pub struct SiteReport {
    pub plan: SyncPlan,
    /// The CloudFront invalidation made, if any path needed one.
    pub invalidation: Option<String>,
    pub url: String,
}

/// Publishes `site/` to the hosted site's bucket after its stack deployed (also when the
/// stack had no changes: an edit of `site/` alone must reach the bucket), then invalidates
/// what CloudFront holds of the changed and deleted objects. Call it after the deployed
/// stage's config.js is written, so the upload carries the deployed API's URL. `None` when
/// gen.yaml hosts no site or its stack was not deployed by `report`.
pub async fn sync_site(
    project: &Project,
    output: &Output,
    report: &DeployReport,
    config: DeployConfig,
    console: &dyn Console,
) -> Result<Option<SiteReport>, DeployError> {
    let Some(target) = &output.deploy.site else {
        return Ok(None);
    };
    if report.declined || !report.recorded.contains(&target.stack) {
        return Ok(None);
    }
    let Some(stack) = output.deploy.stacks.iter().find(|s| s.name == target.stack) else {
        return Ok(None);
    };
    let outputs = project
        .read_record(&stack.outputs_path())
        .map_err(io)?
        .and_then(|text| deploy::parse_outputs(&text))
        .map(|(_, outputs)| outputs)
        .unwrap_or_default();
    let site_outputs = site::site_outputs(target, &outputs)?;
    let local = site::local_files(project, target)?;
    let cloud = Cloud::connect(config.clone(), console).await?;
    let regional = cloud.regional(region_of(stack, &config));
    let (plan, invalidation) = publish(&cloud, &regional, &site_outputs, local).await?;
    console.line(&site::summary(&plan, invalidation.as_deref()));
    if let (true, Some(id)) = (config.wait, &invalidation) {
        cloud
            .wait_for_invalidation(&site_outputs.distribution, id)
            .await?;
    }
    for line in site::url_lines(&site_outputs.url) {
        console.line(&line);
    }
    Ok(Some(SiteReport {
        plan,
        invalidation,
        url: site_outputs.url,
    }))
}

/// Compares `local` with the bucket and applies the plan: uploads (pages last, so a new page
/// never names a script not uploaded yet), restores, stale marks, deletions, then one
/// invalidation. Returns the plan and the invalidation's ID.
async fn publish(
    cloud: &Cloud<'_>,
    regional: &Regional,
    site: &SiteOutputs,
    local: Vec<Local>,
) -> Result<(SyncPlan, Option<String>), DeployError> {
    let remote = regional.site_objects(&site.bucket).await?;
    let files: Vec<_> = local.iter().map(|l| l.file.clone()).collect();
    let plan = site_sync::plan(&files, &remote);
    let mut bytes: BTreeMap<String, Vec<u8>> =
        local.into_iter().map(|l| (l.file.key, l.bytes)).collect();
    let hashes: BTreeMap<&str, &str> = files
        .iter()
        .map(|f| (f.key.as_str(), f.sha256.as_str()))
        .collect();
    let mut puts: Vec<&String> = plan.upload.iter().chain(&plan.restore).collect();
    puts.sort_by_key(|key| (key.ends_with(".html"), key.as_str()));
    for key in puts {
        let content_type = site_sync::content_type(key);
        regional
            .put_site_object(
                &site.bucket,
                SiteObject {
                    key,
                    bytes: bytes.remove(key.as_str()).unwrap_or_default(),
                    sha256: hashes.get(key.as_str()).copied().unwrap_or_default(),
                    content_type: &content_type,
                    cache_control: site_sync::cache_control(key),
                },
            )
            .await?;
    }
    let now = unix_time().as_secs();
    for key in &plan.mark_stale {
        regional.mark_stale(&site.bucket, key, now).await?;
    }
    let doomed: Vec<(String, Option<String>)> =
        plan.delete.iter().map(|k| (k.clone(), None)).collect();
    regional.delete_objects(&site.bucket, &doomed).await?;
    let invalidation = if plan.invalidate.is_empty() {
        None
    } else {
        let reference = site::caller_reference(&plan.invalidate, unix_time().as_millis());
        Some(
            cloud
                .invalidate(&site.distribution, &plan.invalidate, &reference)
                .await?,
        )
    };
    Ok((plan, invalidation))
}

fn unix_time() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The stage's account guard: the first call of every command that touches a stage's stacks.
async fn check_account(cloud: &Cloud<'_>, output: &Output) -> Result<(), DeployError> {
    match &output.stage {
        Some(stage) => {
            cloud
                .check_account(stage.key.as_str(), stage.account.as_deref())
                .await
        }
        None => Ok(()),
    }
}

/// A word when `--region` moves the main stack away from gen.yaml's region.
fn region_note(output: &Output, config: &DeployConfig) -> Option<String> {
    let region = config.region.as_ref()?;
    let app = output.deploy.app()?;
    (region != &app.region).then(|| {
        format!(
            "Note: deploying to {region}, not gen.yaml's {}: the templates (e.g. where the billing alarm lives) and `gen cost` follow gen.yaml; change `region:` there to move the app for good",
            app.region
        )
    })
}

/// Uploads the functions' zips the region's assets bucket does not hold yet. Returns the
/// stack parameters naming each zip and the bucket, and the bucket.
async fn upload_assets(
    cloud: &Cloud<'_>,
    regional: &Regional,
    assets: &[Asset],
    bucket_parameter: &str,
) -> Result<(BTreeMap<String, String>, String), DeployError> {
    let bucket = cloud.assets_bucket(regional).await?;
    let mut parameters = BTreeMap::new();
    let (mut uploaded, mut present) = (0, 0);
    let mut seen = std::collections::BTreeSet::new();
    for asset in assets {
        parameters.insert(asset.parameter.clone(), asset.key.clone());
        // Functions of the same code share one zip: it is looked up and counted once.
        if !seen.insert(asset.key.as_str()) {
            continue;
        }
        if regional
            .upload(&bucket, &asset.key, asset.zip.to_vec(), "application/zip")
            .await?
        {
            uploaded += 1;
        } else {
            present += 1;
        }
    }
    let shared = if seen.len() < assets.len() {
        format!(
            " ({} functions, {} distinct zips)",
            assets.len(),
            seen.len()
        )
    } else {
        String::new()
    };
    cloud.console().line(&format!(
        "Function code: {uploaded} uploaded, {present} already in s3://{bucket}{shared}"
    ));
    parameters.insert(bucket_parameter.to_owned(), bucket.clone());
    Ok((parameters, bucket))
}

/// Binds each nested template's code keys, uploads it by content hash and returns the
/// parent's parameters naming the uploads. An unchanged nested stack (its template and its
/// functions' code) keeps its URL, so CloudFormation leaves it alone.
async fn upload_nested(
    cloud: &Cloud<'_>,
    regional: &Regional,
    bucket: &str,
    output: &Output,
    stack: &StackTarget,
    code_keys: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, DeployError> {
    let mut parameters = BTreeMap::new();
    if stack.nested.is_empty() {
        return Ok(parameters);
    }
    let (mut uploaded, mut present) = (0, 0);
    for nested in &stack.nested {
        let defaults: BTreeMap<String, String> = nested
            .code_key_parameters
            .iter()
            .filter_map(|p| Some((p.clone(), code_keys.get(p)?.clone())))
            .collect();
        let text = file_text(output, &nested.template_path);
        let bound = deploy::bind_defaults(text, &defaults)
            .map_err(|e| DeployError::Io(format!("{}: {e}", nested.template_path)))?;
        let key = assets::template_key(bound.as_bytes());
        if regional
            .upload(bucket, &key, bound.into_bytes(), "application/json")
            .await?
        {
            uploaded += 1;
        } else {
            present += 1;
        }
        parameters.insert(
            nested.template_url_parameter.clone(),
            cloud.object_url(&regional.region, bucket, &key),
        );
    }
    cloud.console().line(&format!(
        "Nested templates of {}: {uploaded} uploaded, {present} unchanged in s3://{bucket}",
        stack.name
    ));
    Ok(parameters)
}

/// What `gen deploy` says of a stack once its change set is dealt with: how it went, then
/// its outputs.
fn outcome_lines(stack: &str, region: &str, outcome: &StackOutcome) -> Vec<String> {
    let (summary, outputs) = match outcome {
        StackOutcome::NoChanges { outputs } => (
            format!("Stack {stack} ({region}): no changes; it already matches gen.yaml"),
            Some(outputs),
        ),
        StackOutcome::Deployed {
            status,
            outputs,
            changes,
            seconds,
        } => (
            format!(
                "Stack {stack} ({region}): {status} in {seconds:.1} s ({changes} resource change(s))"
            ),
            Some(outputs),
        ),
        StackOutcome::Declined => (format!("Not deployed: stack {stack} is unchanged"), None),
    };
    std::iter::once(summary)
        .chain(
            outputs
                .into_iter()
                .flatten()
                .map(|(key, value)| format!("  {key} = {value}")),
        )
        .collect()
}

/// Prints, stack by stack, how the local templates differ from the deployed ones. Returns
/// whether anything differs.
pub async fn diff_app(
    project: &Project,
    output: &Output,
    config: DeployConfig,
    console: &dyn Console,
) -> Result<bool, DeployError> {
    let cloud = Cloud::connect(config.clone(), console).await?;
    check_account(&cloud, output).await?;
    let mut differs = false;
    for stack in &output.deploy.stacks {
        let region = region_of(stack, &config);
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
        for nested in &stack.nested {
            differs |= diff_nested(&regional, output, stack, nested, console).await?;
        }
        differs |= diff_hotswapped(project, output, &regional, stack, console).await?;
    }
    Ok(differs)
}

/// The drift `gen deploy --hotswap` left: functions that run other code than their stack
/// names.
async fn diff_hotswapped(
    project: &Project,
    output: &Output,
    regional: &Regional,
    stack: &StackTarget,
    console: &dyn Console,
) -> Result<bool, DeployError> {
    let Some(record) = project
        .read_record(&hotswap::record_path(&stack.name))
        .map_err(io)?
        .and_then(|text| hotswap::Record::parse(&text))
    else {
        return Ok(false);
    };
    let deployed = deployed_code_keys(regional, stack)
        .await?
        .unwrap_or_default();
    let drift = hotswap::drift(&record, &deployed);
    if drift.is_empty() {
        return Ok(false);
    }
    console.line(&format!(
        "Stack {}: {} function(s) run hotswapped code, not the code the stack names (the next gen deploy reconciles them):",
        stack.name,
        drift.len()
    ));
    for (parameter, named, running) in drift {
        let function = output
            .deploy
            .functions
            .iter()
            .find(|f| f.code_key_parameter == parameter)
            .map_or(parameter, |f| f.function_name.as_str());
        console.line(&format!(
            "  ~ {function}: code {} -> {running}",
            named.unwrap_or("(none)")
        ));
    }
    Ok(true)
}

/// One nested stack's part of `gen diff`: its local template against the one deployed in
/// the parent's nested stack resource. The code keys gen deploy bound as defaults are code,
/// not template: they do not count.
async fn diff_nested(
    regional: &Regional,
    output: &Output,
    parent: &StackTarget,
    nested: &deploy::NestedTarget,
    console: &dyn Console,
) -> Result<bool, DeployError> {
    let local: serde_json::Value = serde_json::from_str(file_text(output, &nested.template_path))
        .expect("generated templates are JSON");
    let head = format!(
        "  Nested stack {} ({})",
        nested.resource_id, nested.template_path
    );
    let deployed = match regional
        .nested_stack_id(&parent.name, &nested.resource_id)
        .await?
    {
        Some(id) => regional.deployed_template(&id).await?,
        None => None,
    };
    let Some(deployed) = deployed else {
        let count = local["Resources"].as_object().map_or(0, |r| r.len());
        console.line(&format!(
            "{head}: not deployed; gen deploy would create its {count} resources"
        ));
        return Ok(true);
    };
    let Ok(mut deployed) = serde_json::from_str::<serde_json::Value>(&deployed) else {
        console.line(&format!("{head}: the deployed template is not JSON"));
        return Ok(true);
    };
    diff::unbind_defaults(&mut deployed, &nested.code_key_parameters);
    let difference = diff::diff(&deployed, &local);
    if difference.is_empty() {
        console.line(&format!("{head}: no differences"));
        return Ok(false);
    }
    console.line(&format!(
        "{head}: {} resource(s) differ (deployed -> local):",
        difference.resources.len()
    ));
    console.line(
        &difference
            .render()
            .lines()
            .map(|line| format!("  {line}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    Ok(true)
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
    if let Some(stage) = output.stage.as_ref().filter(|s| s.protect) {
        return Err(DeployError::Protected {
            stage: stage.key.to_string(),
        });
    }
    console::ensure_can_confirm(console, config.yes)?;
    let cloud = Cloud::connect(config.clone(), console).await?;
    check_account(&cloud, output).await?;
    let mut doomed: Vec<(&StackTarget, String, Doomed)> = Vec::new();
    // Dependents first: the graph lists a stack before the ones that need it.
    for stack in output.deploy.stacks.iter().rev() {
        let region = region_of(stack, &config).to_owned();
        let regional = cloud.regional(&region);
        if let Some(mut d) = cloud.inspect_for_destroy(&regional, &stack.name).await? {
            // Deleting the parent deletes its nested stacks: what they keep is kept too.
            for nested in &stack.nested {
                if let Some(id) = regional
                    .nested_stack_id(&stack.name, &nested.resource_id)
                    .await?
                    && let Some(inner) = cloud.inspect_for_destroy(&regional, &id).await?
                {
                    d.retained.extend(inner.retained);
                }
            }
            doomed.push((stack, region, d));
        }
    }
    let mut report = DestroyReport::default();
    if doomed.is_empty() {
        console.line("Nothing to destroy: no stack of this app is deployed");
        return Ok(report);
    }
    let retained = retained_of(&doomed);
    for line in destroy_lines(&doomed, &retained) {
        console.line(&line);
    }
    if !console::confirm(console, "Delete these stacks?", config.yes)? {
        console.line("Nothing deleted");
        report.declined = true;
        return Ok(report);
    }
    for (stack, region, d) in &doomed {
        let regional = cloud.regional(region);
        empty_site_bucket(output, &regional, &stack.name, console).await?;
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

/// Before the hosted site's stack is deleted: empties the bucket its site output names (a
/// bucket with objects cannot be deleted by CloudFormation). Quiet when the stack hosts no
/// site, or the stack, output or bucket is gone.
async fn empty_site_bucket(
    output: &Output,
    regional: &Regional,
    stack: &str,
    console: &dyn Console,
) -> Result<(), DeployError> {
    let Some(target) = output.deploy.site.as_ref().filter(|t| t.stack == stack) else {
        return Ok(());
    };
    let Some(deployed) = regional.describe_stack(stack).await? else {
        return Ok(());
    };
    let Some(bucket) = deployed
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(target.bucket_output.as_str()))
        .and_then(|o| o.output_value())
    else {
        return Ok(());
    };
    if let Some(count) = regional.empty_bucket(bucket).await? {
        console.line(&format!(
            "Site bucket {bucket}: emptied ({count} object(s) and version(s) deleted) so the stack can delete it"
        ));
    }
    Ok(())
}

/// (stack, type, physical ID) of every resource the doomed stacks' DeletionPolicy keeps.
fn retained_of(doomed: &[(&StackTarget, String, Doomed)]) -> Vec<(String, String, String)> {
    doomed
        .iter()
        .flat_map(|(stack, _, d)| {
            d.retained
                .iter()
                .map(|(_, ty, physical)| (stack.name.clone(), ty.clone(), physical.clone()))
        })
        .collect()
}

/// What `gen destroy` shows before asking: the stacks, then what survives them.
fn destroy_lines(
    doomed: &[(&StackTarget, String, Doomed)],
    retained: &[(String, String, String)],
) -> Vec<String> {
    let mut lines = vec!["gen destroy deletes these stacks and every resource in them:".to_owned()];
    lines.extend(
        doomed
            .iter()
            .map(|(stack, region, _)| format!("  {} ({region})", stack.name)),
    );
    if !retained.is_empty() {
        lines.push("These survive (DeletionPolicy: Retain) and stay in the account:".to_owned());
        lines.extend(
            retained
                .iter()
                .map(|(_, ty, physical)| format!("  {ty} {physical}")),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StackStatus;
    use stackgen_core::graph::StackRole;

    fn outputs() -> deploy::StackOutputs {
        [("ApiUrl".to_owned(), "https://api.test".to_owned())]
            .into_iter()
            .collect()
    }

    #[test]
    fn each_outcome_is_one_line_then_the_outputs() {
        let deployed = StackOutcome::Deployed {
            status: StackStatus::UpdateComplete,
            outputs: outputs(),
            changes: 2,
            seconds: 41.26,
        };
        assert_eq!(
            outcome_lines("app", "eu-west-1", &deployed),
            [
                "Stack app (eu-west-1): UPDATE_COMPLETE in 41.3 s (2 resource change(s))",
                "  ApiUrl = https://api.test",
            ]
        );
        let unchanged = StackOutcome::NoChanges { outputs: outputs() };
        assert_eq!(
            outcome_lines("app", "eu-west-1", &unchanged),
            [
                "Stack app (eu-west-1): no changes; it already matches gen.yaml",
                "  ApiUrl = https://api.test",
            ]
        );
        assert_eq!(
            outcome_lines("app", "eu-west-1", &StackOutcome::Declined),
            ["Not deployed: stack app is unchanged"]
        );
    }

    #[test]
    fn a_region_flag_away_from_the_manifest_gets_a_note() {
        let output = stackgen_core::compile(&stackgen_core::example::manifest_named("app"))
            .expect("the example compiles");
        let manifest_region = output.deploy.app().unwrap().region.clone();
        let with = |region: Option<&str>| DeployConfig {
            region: region.map(str::to_owned),
            ..DeployConfig::default()
        };
        assert_eq!(region_note(&output, &with(None)), None);
        assert_eq!(region_note(&output, &with(Some(&manifest_region))), None);
        let note = region_note(&output, &with(Some("ap-south-2"))).expect("a note");
        assert!(
            note.starts_with(&format!(
                "Note: deploying to ap-south-2, not gen.yaml's {manifest_region}:"
            )),
            "{note}"
        );
    }

    #[test]
    fn destroy_lists_the_stacks_then_what_survives() {
        let target = |role: StackRole, name: &str, region: &str| StackTarget {
            role,
            name: name.to_owned(),
            region: region.to_owned(),
            template_path: "infra/template.json".to_owned(),
            needs_assets: false,
            parameters: Vec::new(),
            nested: Vec::new(),
        };
        let (billing, main) = (
            target(StackRole::Billing, "app-billing", "us-east-1"),
            target(StackRole::App, "app", "eu-west-1"),
        );
        let doomed = vec![
            (
                &billing,
                "us-east-1".to_owned(),
                Doomed {
                    stack_id: "b".into(),
                    retained: vec![],
                },
            ),
            (
                &main,
                "eu-west-1".to_owned(),
                Doomed {
                    stack_id: "m".into(),
                    retained: vec![(
                        "Uploads".into(),
                        "AWS::S3::Bucket".into(),
                        "app-uploads-1".into(),
                    )],
                },
            ),
        ];
        let retained = retained_of(&doomed);
        assert_eq!(
            retained,
            [(
                "app".to_owned(),
                "AWS::S3::Bucket".to_owned(),
                "app-uploads-1".to_owned()
            )]
        );
        assert_eq!(
            destroy_lines(&doomed, &retained),
            [
                "gen destroy deletes these stacks and every resource in them:",
                "  app-billing (us-east-1)",
                "  app (eu-west-1)",
                "These survive (DeletionPolicy: Retain) and stay in the account:",
                "  AWS::S3::Bucket app-uploads-1",
            ]
        );
        assert_eq!(destroy_lines(&doomed[..1], &[]).len(), 2);
    }

    fn local(key: &str, text: &str) -> Local {
        Local {
            file: site_sync::LocalFile {
                key: key.to_owned(),
                sha256: stackgen_core::ledger::sha256_hex(text.as_bytes()),
                size: text.len() as u64,
            },
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn header(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    /// The bucket holds index.html (old bytes), vendor/x.css (same bytes), js/going.js (gone
    /// from site/, unmarked) and js/old.js (gone, marked by the previous deploy).
    fn site_bucket(request: &crate::cloud::fake::Request) -> crate::cloud::fake::Reply {
        let sha = |text: &str| stackgen_core::ledger::sha256_hex(text.as_bytes());
        let (method, path) = request.action.split_once(' ').unwrap();
        let key = path.strip_prefix("/site-bucket/").unwrap_or("");
        let xml = |body: &str| (200, vec![], body.to_owned());
        match (method, key) {
            ("GET", "") if request.query.contains_key("list-type") => xml(
                "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>site-bucket</Name><IsTruncated>false</IsTruncated><KeyCount>4</KeyCount>\
                 <Contents><Key>index.html</Key></Contents><Contents><Key>js/going.js</Key></Contents>\
                 <Contents><Key>js/old.js</Key></Contents><Contents><Key>vendor/x.css</Key></Contents></ListBucketResult>",
            ),
            ("HEAD", key) => {
                let (content, tags) = match key {
                    "index.html" => ("<p>old</p>", 0),
                    "vendor/x.css" => ("x{}", 0),
                    "js/going.js" => ("going()", 0),
                    _ => ("old()", 1),
                };
                let mut headers = vec![header("x-amz-meta-sha256", &sha(content))];
                if tags > 0 {
                    headers.push(header("x-amz-tagging-count", "1"));
                }
                (200, headers, String::new())
            }
            ("GET", "js/old.js") if request.query.contains_key("tagging") => xml(
                "<Tagging><TagSet><Tag><Key>stackgen-stale</Key><Value>1700000000</Value></Tag></TagSet></Tagging>",
            ),
            ("PUT", _) => xml(""),
            ("POST", "") if request.query.contains_key("delete") => {
                xml("<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></DeleteResult>")
            }
            ("POST", _) if path.ends_with("/distribution/E1/invalidation") => (
                201,
                vec![header("location", "https://cloudfront.test/I1")],
                "<Invalidation xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Id>I1</Id><Status>InProgress</Status><CreateTime>2024-01-01T00:00:00Z</CreateTime>\
                 <InvalidationBatch><Paths><Quantity>2</Quantity><Items><Path>/index.html</Path><Path>/js/old.js</Path></Items></Paths><CallerReference>r</CallerReference></InvalidationBatch></Invalidation>"
                    .to_owned(),
            ),
            _ => (400, vec![], format!("unexpected {} {:?}", request.action, request.query)),
        }
    }

    #[tokio::test]
    async fn publishing_uploads_marks_deletes_and_invalidates_what_the_plan_says() {
        let fake = crate::cloud::fake::Fake::with_headers(site_bucket);
        let console = console::Recording::unattended();
        let cloud = fake.cloud(true, &console);
        let regional = cloud.regional("eu-west-1");
        let site = SiteOutputs {
            bucket: "site-bucket".to_owned(),
            distribution: "E1".to_owned(),
            url: "https://d1.cloudfront.net".to_owned(),
        };
        let files = vec![
            local("index.html", "<p>new</p>"),
            local("js/new.js", "fresh()"),
            local("vendor/x.css", "x{}"),
        ];
        let (plan, invalidation) = publish(&cloud, &regional, &site, files).await.unwrap();
        assert_eq!(plan.upload, ["index.html", "js/new.js"]);
        assert_eq!(plan.unchanged, ["vendor/x.css"]);
        assert_eq!(plan.mark_stale, ["js/going.js"]);
        assert_eq!(plan.delete, ["js/old.js"]);
        assert_eq!(invalidation.as_deref(), Some("I1"));

        let requests = fake.requests();
        let writes: Vec<String> = requests
            .iter()
            .filter(|r| !r.action.starts_with("GET") && !r.action.starts_with("HEAD"))
            .map(|r| {
                // `x-id` names the operation (the SDK's addition); the rest is S3's API.
                let query: Vec<&str> = r
                    .query
                    .keys()
                    .map(String::as_str)
                    .filter(|k| *k != "x-id")
                    .collect();
                format!("{} {}", r.action, query.join("&"))
            })
            .collect();
        // The page last, so it never names a script not uploaded yet.
        assert_eq!(
            writes,
            [
                "PUT /site-bucket/js/new.js ",
                "PUT /site-bucket/index.html ",
                "PUT /site-bucket/js/going.js tagging",
                "POST /site-bucket/ delete",
                "POST /2020-05-31/distribution/E1/invalidation ",
            ]
        );
        let put = |key: &str| {
            requests
                .iter()
                .find(|r| {
                    r.action == format!("PUT /site-bucket/{key}")
                        && !r.query.contains_key("tagging")
                })
                .unwrap()
        };
        let page = put("index.html");
        assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(page.headers["cache-control"], "no-cache");
        assert_eq!(
            page.headers["x-amz-meta-sha256"],
            stackgen_core::ledger::sha256_hex(b"<p>new</p>")
        );
        assert_eq!(page.body, "<p>new</p>");
        assert_eq!(
            put("js/new.js").headers["cache-control"],
            "public, max-age=300"
        );
        let tagging = requests
            .iter()
            .find(|r| r.query.contains_key("tagging") && r.action.starts_with("PUT"))
            .unwrap();
        assert!(
            tagging.body.contains("<Key>stackgen-stale</Key>"),
            "{}",
            tagging.body
        );
        let delete = requests
            .iter()
            .find(|r| r.query.contains_key("delete"))
            .unwrap();
        assert!(
            delete.body.contains("<Key>js/old.js</Key>"),
            "{}",
            delete.body
        );
        assert!(!delete.body.contains("going"), "{}", delete.body);
        let invalidation = requests.last().unwrap();
        assert!(
            invalidation.body.contains("<Quantity>2</Quantity>")
                && invalidation.body.contains("<Path>/index.html</Path>")
                && invalidation.body.contains("<Path>/js/old.js</Path>"),
            "{}",
            invalidation.body
        );
    }
}
