//! `gen`: the command-line edge of stackgen. Parses arguments, runs one command, prints, and
//! exits 0 (ok), 1 (`--check` found stale output) or 2 (error).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};

use stackgen_core::fresh;
use stackgen_core::ledger::{self, Action, PlanConfig};
use stackgen_core::project::layout;
use stackgen_deploy::{Builder, DeployConfig};
use stackgen_workspace::{Access, Project};

mod interrupt;
mod lock;
mod ui;

use ui::Terminal;

#[derive(Parser)]
#[command(
    name = "gen",
    version,
    about = "Generate a serverless AWS app from one typed manifest (gen.yaml)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a project from the built-in 24-Hour Video example and build it.
    New {
        /// Directory to create (must not exist, or be empty).
        dir: PathBuf,
        /// Project name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Regenerate the project from gen.yaml. Never overwrites your code or your edits.
    Build {
        /// The manifest; the project is the directory holding it.
        #[arg(long, default_value = "gen.yaml")]
        manifest: PathBuf,
        /// Write nothing; exit 1 if the generated files are not up to date (for CI).
        #[arg(long)]
        check: bool,
        /// Overwrite managed files even if you edited them (your edits are lost).
        #[arg(long)]
        force: bool,
        /// The stage the site's config.js points at (default: the manifest's default stage).
        /// Every stage's templates are built either way.
        #[arg(long)]
        stage: Option<String>,
    },
    /// Estimate the app's monthly AWS bill from gen.yaml's `usage` assumptions.
    Cost {
        /// The manifest.
        #[arg(long, default_value = "gen.yaml")]
        manifest: PathBuf,
        /// Print JSON (lines, total, warnings) instead of a table.
        #[arg(long)]
        json: bool,
        /// The stage to estimate (default: the manifest's default stage).
        #[arg(long)]
        stage: Option<String>,
    },
    /// Build the functions, upload them, and deploy the stacks: a change set is shown and
    /// confirmed first. Regenerates the project first, like `gen build`.
    Deploy {
        #[command(flatten)]
        cloud: CloudArgs,
        /// Deploy without asking (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
        /// What builds the functions.
        #[arg(long, value_enum, default_value_t = BuilderArg::Auto)]
        builder: BuilderArg,
        /// Deploy the bootstraps in DIR/<crate>/bootstrap instead of building (e.g. built by
        /// an earlier CI step); they are checked and zipped as built ones are.
        #[arg(long, value_name = "DIR", conflicts_with = "builder")]
        prebuilt: Option<std::path::PathBuf>,
        /// When only function code differs from the deployed stack, update the functions'
        /// code directly (seconds, no change set); the stack drifts until the next deploy
        /// without it. Anything else changed falls back to a change set. Not on protected
        /// stages.
        #[arg(long)]
        hotswap: bool,
        /// Wait until the hosted site's CloudFront invalidation has completed (by default gen
        /// prints its ID and returns; CloudFront finishes within minutes).
        #[arg(long)]
        wait: bool,
    },
    /// Compare the local templates with the deployed stacks, resource by resource; exit 1
    /// when they differ.
    Diff {
        #[command(flatten)]
        cloud: CloudArgs,
    },
    /// Delete the app's stacks after confirmation, and list what survives (DeletionPolicy
    /// Retain: data buckets, log groups).
    Destroy {
        #[command(flatten)]
        cloud: CloudArgs,
        /// Delete without asking (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Create the toolkit stack (the assets bucket) in a region; `gen deploy` does it on
    /// first use.
    Bootstrap {
        #[command(flatten)]
        cloud: CloudArgs,
        /// Print the toolkit stack's template instead of deploying it.
        #[arg(long)]
        show_template: bool,
    },
    /// Run one function on this machine, once, with an event: builds it (debug), serves it
    /// a local Lambda Runtime API, prints its response (stdout) and its logs (stderr). Exit 1
    /// when the function fails, times out or crashes.
    Invoke {
        /// The function's key in gen.yaml.
        function: String,
        /// The event: a JSON file, or `-` for standard input.
        #[arg(long, value_name = "FILE", conflicts_with = "sample")]
        event: Option<PathBuf>,
        /// A sample event of one of the function's triggers, built from gen.yaml: s3-put,
        /// s3-delete, api. Without --event or --sample: its only trigger's.
        #[arg(long, value_name = "KIND")]
        sample: Option<String>,
        /// Print the event and exit, running nothing.
        #[arg(long)]
        print: bool,
        /// The manifest; the project is the directory holding it.
        #[arg(long, default_value = "gen.yaml")]
        manifest: PathBuf,
        /// The stage whose template, names and settings apply (default: the default stage).
        #[arg(long)]
        stage: Option<String>,
        /// Set a variable of the function's environment over the template's: NAME=VALUE
        /// (repeatable).
        #[arg(long, value_name = "[FN:]NAME=VALUE")]
        env: Vec<env_override::EnvOverride>,
    },
    /// Run the app on this machine: the API Gateway its template describes (routes, the
    /// authorizer, CORS) in front of each function's own bootstrap (debug builds), and the
    /// site pointed at it. Rebuilds a function when its code changes and regenerates when
    /// gen.yaml does. No Docker; AWS only for what the code calls (its tables and buckets,
    /// with your credentials, or AWS_ENDPOINT_URL's stand-in). Ctrl-C stops everything it
    /// started.
    Dev {
        /// The manifest; the project is the directory holding it.
        #[arg(long, default_value = "gen.yaml")]
        manifest: PathBuf,
        /// The stage whose templates, names and settings apply (default: the default stage).
        #[arg(long)]
        stage: Option<String>,
        /// The local API's port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// The site's port on 127.0.0.1 (default: gen.yaml's `site.port`, the origin the
        /// API's CORS allows; 0: any free port).
        #[arg(long)]
        site_port: Option<u16>,
        /// Set a variable of the functions' environment over the template's: NAME=VALUE for
        /// every function, FN:NAME=VALUE for one (repeatable).
        #[arg(long, value_name = "[FN:]NAME=VALUE")]
        env: Vec<env_override::EnvOverride>,
        /// The sign-in domain the served config.js names instead of gen.yaml's `auth.domain`
        /// (e.g. a development tenant, or a local OpenID provider's origin).
        #[arg(long, value_name = "DOMAIN")]
        auth_domain: Option<String>,
        /// Serve without watching gen.yaml and the functions' sources.
        #[arg(long)]
        no_watch: bool,
    },
    /// Write the manifest's JSON Schema (draft-07), for editors and validators.
    Schema {
        /// Where to write it; `-` for standard output.
        #[arg(long, default_value = "schema/manifest.schema.json")]
        out: PathBuf,
    },
}

/// Which tool builds the functions (the flag's spelling of [`Builder`]).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum BuilderArg {
    /// cargo-lambda if `cargo lambda --version` works, else cargo.
    Auto,
    /// `cargo build --release` for the host (x86_64 on x86_64 machines).
    Cargo,
    /// `cargo lambda build --release`.
    CargoLambda,
}

impl From<BuilderArg> for Builder {
    fn from(arg: BuilderArg) -> Builder {
        match arg {
            BuilderArg::Auto => Builder::Auto,
            BuilderArg::Cargo => Builder::Cargo,
            BuilderArg::CargoLambda => Builder::CargoLambda,
        }
    }
}

/// What the cloud commands share. Credentials come from the AWS SDK's default chain
/// (environment, AWS_PROFILE, SSO, credential_process); AWS_ENDPOINT_URL is honoured.
#[derive(clap::Args)]
struct CloudArgs {
    /// The manifest; the project is the directory holding it.
    #[arg(long, default_value = "gen.yaml")]
    manifest: PathBuf,
    /// Deploy the main stack to this region instead of gen.yaml's.
    #[arg(long)]
    region: Option<String>,
    /// The stage to work on; required when gen.yaml declares more than one.
    #[arg(long)]
    stage: Option<String>,
}

/// `println!` that treats a closed stdout (`gen cost | head`) as the reader being done, not as
/// a crash: the process exits quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(error) = writeln!(out, $($arg)*) {
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

// After `say!`, which they use.
mod dev;
mod env_override;
mod invoke;

/// An error already printed in full (diagnostics); only the exit code remains.
#[derive(Debug)]
struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reported")
    }
}

impl std::error::Error for Reported {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::New { dir, name } => new(&dir, name.as_deref()),
        Command::Build {
            manifest,
            check,
            force,
            stage,
        } => build(
            &manifest,
            BuildConfig {
                check,
                force,
                quiet: false,
                stage: stage.as_deref(),
            },
        )
        .map(|fresh| if fresh { 0 } else { 1 }),
        Command::Cost {
            manifest,
            json,
            stage,
        } => cost(&manifest, json, stage.as_deref()).map(|()| 0),
        Command::Deploy {
            cloud,
            yes,
            builder,
            prebuilt,
            hotswap,
            wait,
        } => {
            let config = DeployConfig {
                wait,
                prebuilt,
                hotswap,
                ..deploy_config(&cloud, yes, builder.into())
            };
            deploy(&cloud, config)
        }
        Command::Diff { cloud } => diff(&cloud),
        Command::Destroy { cloud, yes } => destroy(&cloud, yes),
        Command::Bootstrap {
            cloud,
            show_template,
        } => bootstrap(&cloud, show_template),
        Command::Invoke {
            function,
            event,
            sample,
            print,
            manifest,
            stage,
            env,
        } => invoke::invoke(
            &manifest,
            invoke::InvokeArgs {
                function: &function,
                event: event.as_deref(),
                sample: sample.as_deref(),
                print,
                stage: stage.as_deref(),
                env: &env,
            },
        ),
        Command::Dev {
            manifest,
            stage,
            port,
            site_port,
            env,
            auth_domain,
            no_watch,
        } => dev::dev(dev::DevConfig {
            manifest: &manifest,
            stage: stage.as_deref(),
            port,
            site_port,
            env: &env,
            auth_domain: auth_domain.as_deref(),
            watch: !no_watch,
        }),
        Command::Schema { out } => schema(&out).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if error.downcast_ref::<Reported>().is_none() {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(2)
        }
    }
}

fn new(dir: &Path, name: Option<&str>) -> Result<u8> {
    if let Ok(mut entries) = fs::read_dir(dir) {
        if entries.next().is_some() {
            bail!(
                "destination `{}` already exists and is not empty\n  = hint: choose a new directory, or run `gen build` inside an existing project",
                dir.display()
            );
        }
    } else if dir.exists() {
        bail!(
            "destination `{}` exists and is not a directory",
            dir.display()
        );
    }
    let name = match name {
        Some(name) => name.to_owned(),
        None => dir
            .canonicalize()
            .unwrap_or_else(|_| dir.to_owned())
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .context("cannot take a project name from the directory; pass --name")?,
    };
    let text = stackgen_core::example::manifest_named(&name);
    // Compiled (so validated) once, before creating anything: a bad --name leaves no
    // directory behind. A new project has no records, so this is what `gen build` compiles.
    let records = stackgen_workspace::Records::default();
    let label = format!("{} (from --name {name:?})", layout::MANIFEST);
    let output = compile_text(Path::new(&label), &text, &records, None)?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let manifest = dir.join(layout::MANIFEST);
    fs::write(&manifest, &text).with_context(|| format!("writing {}", manifest.display()))?;
    let project = project_of(&manifest);
    let _lock = lock::take(&manifest, &project, Access::Exclusive, "gen new")?;
    say!("Created project `{name}` in {}", dir.display());
    let inputs = input_key(&text, &records, None);
    build_compiled(&project, inputs, output, BuildConfig::default())?;
    say!(
        "Next: cd {} && edit gen.yaml, then `gen build`",
        dir.display()
    );
    Ok(0)
}

fn cost(manifest: &Path, json: bool, stage: Option<&str>) -> Result<()> {
    let text = read_manifest(manifest)?;
    let deployed = stackgen_core::outputs::Deployed::default();
    let output = match stackgen_core::compile_with(&text, &deployed, stage) {
        Ok(output) => output,
        Err(error) => {
            report(&error, &manifest.display().to_string(), &text);
            return Err(Reported.into());
        }
    };
    let estimate = output.estimate.map_err(|e| {
        anyhow::anyhow!("{e}\n  = hint: set `region` to one of those, or add the region's prices to generator/data/prices.json")
    })?;
    if json {
        say!("{}", serde_json::to_string_pretty(&estimate)?);
    } else {
        say!("{}", estimate.render().trim_end_matches('\n'));
    }
    Ok(())
}

fn read_manifest(manifest: &Path) -> Result<String> {
    fs::read_to_string(manifest).with_context(|| {
        format!(
            "reading {}\n  = hint: run `gen new <dir>` to start a project, or pass --manifest",
            manifest.display()
        )
    })
}

/// Options of `gen build`.
#[derive(Clone, Copy, Debug, Default)]
struct BuildConfig<'a> {
    check: bool,
    force: bool,
    /// Say nothing on success (a deploy's own regeneration).
    quiet: bool,
    /// The stage the site points at (`None`: the default one).
    stage: Option<&'a str>,
}

/// The project directory: the one holding the manifest.
fn project_of(manifest: &Path) -> Project {
    let root = manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Project::new(root)
}

/// Compiles the manifest with what the last deploy recorded (`.gen/outputs/`), so the site's
/// config.js keeps the real API URL across `gen build`s.
fn compile_project(
    manifest: &Path,
    project: &Project,
    stage: Option<&str>,
) -> Result<stackgen_core::Output> {
    let text = read_manifest(manifest)?;
    compile_text(manifest, &text, &project.records()?, stage)
}

fn compile_text(
    manifest: &Path,
    text: &str,
    records: &stackgen_workspace::Records,
    stage: Option<&str>,
) -> Result<stackgen_core::Output> {
    let placement = records.placement()?;
    match stackgen_core::compile_recorded(text, &records.deployed(), &placement, stage) {
        Ok(output) => Ok(output),
        Err(error) => {
            report(&error, &manifest.display().to_string(), text);
            Err(anyhow::Error::from(Reported))
        }
    }
}

/// The project compiled for a command that touches AWS: with several stages, `--stage` is
/// required (deploying the wrong one is the mistake to make impossible).
fn compile_for_cloud(cloud: &CloudArgs, project: &Project) -> Result<stackgen_core::Output> {
    let output = compile_project(&cloud.manifest, project, cloud.stage.as_deref())?;
    if cloud.stage.is_none() && output.stages.len() > 1 {
        bail!(
            "gen.yaml declares {} stages ({}): say which with --stage\n  = hint: e.g. `--stage {}`",
            output.stages.len(),
            output.stages.join(", "),
            output.stages[0]
        );
    }
    Ok(output)
}

/// Returns whether the output was (or now is) up to date.
fn build(manifest: &Path, config: BuildConfig) -> Result<bool> {
    let project = project_of(manifest);
    // Before anything is read: a build queued behind another plans from its result.
    let _lock = if config.check {
        lock::take(manifest, &project, Access::Shared, "gen build --check")?
    } else {
        lock::take(manifest, &project, Access::Exclusive, "gen build")?
    };
    let text = read_manifest(manifest)?;
    let records = project.records()?;
    let inputs = input_key(&text, &records, config.stage);
    if let Some(inputs) = &inputs
        && let Some(report) = unchanged_since_last_build(&project, inputs)?
    {
        if config.check {
            say!("gen build --check: up to date ({} files)", report.files);
        } else if !config.quiet {
            say!("{}", report.text);
        }
        return Ok(true);
    }
    let output = compile_text(manifest, &text, &records, config.stage)?;
    build_compiled(&project, inputs, output, config)
}

/// Plans, writes and reports `output`, compiled from inputs hashing to `inputs`, and records
/// the build for the next one's fast path.
fn build_compiled(
    project: &Project,
    inputs: Option<String>,
    output: stackgen_core::Output,
    config: BuildConfig,
) -> Result<bool> {
    let built = build_output(project, &output, config)?;
    if let (Some(inputs), Some(report)) = (inputs, &built.report) {
        record_build(project, inputs, report)?;
    }
    // The process ends right after a build: freeing every template, file and graph node one
    // by one is work nobody waits for (several % of a no-op build of the example).
    std::mem::forget(output);
    Ok(built.fresh)
}

/// [`fresh::input_key`] of everything a build reads; `None` when the generator cannot be
/// identified (then there is no fast path).
fn input_key(
    text: &str,
    records: &stackgen_workspace::Records,
    stage: Option<&str>,
) -> Option<String> {
    let generator = generator_identity()?;
    let stage = stage.map_or(&b"default stage"[..], str::as_bytes);
    let head = [generator.as_bytes(), stage, text.as_bytes()];
    Some(fresh::input_key(
        head.into_iter().chain(records.key_parts()),
    ))
}

/// What identifies this generator: its version, and the executable itself (a rebuilt `gen`
/// of the same version may generate other bytes). `None` when it cannot be told: no fast path.
fn generator_identity() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let exe = fs::metadata(std::env::current_exe().ok()?).ok()?;
    Some(format!(
        "gen {} {}:{}:{}:{}.{}:{}.{}",
        env!("CARGO_PKG_VERSION"),
        exe.dev(),
        exe.ino(),
        exe.len(),
        exe.mtime(),
        exe.mtime_nsec(),
        exe.ctime(),
        exe.ctime_nsec()
    ))
}

/// The last build's report, if nothing it read or wrote has changed since: the pipeline would
/// plan every file Unchanged or KeepUser (see `stackgen_core::fresh`).
fn unchanged_since_last_build(project: &Project, inputs: &str) -> Result<Option<Report>> {
    let Some((record, record_mtime)) = project.read_build_record() else {
        return Ok(None);
    };
    let (ledger, Some(ledger_text)) = project.read_ledger_text()? else {
        return Ok(None);
    };
    let verdict = fresh::still_fresh(
        &record,
        record_mtime,
        inputs,
        &ledger::sha256_hex(ledger_text.as_bytes()),
        &ledger,
        |p| project.stamp(p),
        |p| match project.on_disk(p) {
            ledger::OnDisk::Present { sha256 } => Some(sha256),
            ledger::OnDisk::Absent => None,
        },
    );
    let Some(verdict) = verdict else {
        return Ok(None);
    };
    if verdict.rehashed {
        // The files were hashed this time; their stamps now spare the next run that work.
        // Best effort: the record is only a shortcut.
        let _ = project.write_build_record(&fresh::BuildRecord {
            stamps: verdict.stamps,
            ..record.clone()
        });
    }
    Ok(Some(Report {
        files: ledger.files.len(),
        text: record.report,
    }))
}

/// After a successful build: what it read and left, for [`unchanged_since_last_build`].
fn record_build(project: &Project, inputs: String, report: &str) -> Result<()> {
    let (ledger, Some(ledger_text)) = project.read_ledger_text()? else {
        return Ok(());
    };
    // Every file is as the build left it: managed ones match the ledger.
    let stamps = ledger
        .files
        .iter()
        .filter(|(_, entry)| entry.owner == stackgen_core::project::Owner::Managed)
        .filter_map(|(path, _)| Some((path.clone(), project.stamp(path)?)))
        .collect();
    project.write_build_record(&fresh::BuildRecord {
        version: fresh::RECORD_VERSION,
        inputs,
        ledger: ledger::sha256_hex(ledger_text.as_bytes()),
        report: report.to_owned(),
        stamps,
    })?;
    Ok(())
}

/// What the fast path says: the counts a rebuild of an up-to-date project reports.
struct Report {
    files: usize,
    text: String,
}

/// What [`build_output`] did.
struct Built {
    /// Whether the output was (or now is) up to date.
    fresh: bool,
    /// What a rebuild would report once this build's files are in place.
    report: Option<String>,
}

fn build_output(
    project: &Project,
    output: &stackgen_core::Output,
    config: BuildConfig,
) -> Result<Built> {
    let files = &output.files;
    let previous = project.read_ledger()?;
    let plan = ledger::plan(
        &previous,
        files,
        |p| project.on_disk(p),
        PlanConfig {
            force: config.force,
        },
    );
    if config.check {
        return Ok(Built {
            fresh: check(&plan, &previous, files.len()),
            report: None,
        });
    }
    refuse_conflicts(&plan)?;
    let written = project.apply(&plan, &previous)?;
    if config.quiet {
        return Ok(Built {
            fresh: true,
            report: None,
        });
    }
    for item in plan.with_action(Action::KeepOrphan) {
        say!(
            "  kept {} (no longer generated; {})",
            item.path,
            match item.owner {
                stackgen_core::project::Owner::User => "your code",
                stackgen_core::project::Owner::Managed => "you edited it",
            }
        );
    }
    say!("{}", build_summary(&plan, output, written));
    // Only when something changed: a no-op rebuild stays one line.
    if written > 0 {
        for note in &output.notes {
            say!("  note: {note}");
        }
    }
    Ok(Built {
        fresh: true,
        report: Some(format!(
            "gen build: 0 created, 0 updated, {} unchanged, 0 removed (0 file writes; {})",
            files.len(),
            summary_tail(output)
        )),
    })
}

/// `gen build --check`: says whether the files on disk are what a build would write.
fn check(plan: &ledger::Plan, previous: &ledger::Ledger, files: usize) -> bool {
    if plan.is_up_to_date(previous) {
        say!("gen build --check: up to date ({files} files)");
        return true;
    }
    say!("gen build --check: the generated files are stale:");
    for item in plan
        .items
        .iter()
        .filter(|i| !matches!(i.action, Action::Unchanged | Action::KeepUser))
    {
        say!("  {:<10} {}", action_word(item.action), item.path);
    }
    say!("  = hint: run `gen build` and commit the result");
    false
}

/// Refuses (before writing anything) when a managed file was edited since gen wrote it.
fn refuse_conflicts(plan: &ledger::Plan) -> Result<()> {
    let conflicts: Vec<&str> = plan
        .with_action(Action::Conflict)
        .map(|i| i.path.as_str())
        .collect();
    if conflicts.is_empty() {
        return Ok(());
    }
    eprintln!(
        "error: {} generated file(s) changed since gen wrote them; refusing to overwrite:",
        conflicts.len()
    );
    for path in &conflicts {
        eprintln!("  {path}");
    }
    eprintln!(
        "  = hint: these files are managed by gen (see .gen/ledger.json). Move the change into gen.yaml or your own files, then rerun; or `gen build --force` to overwrite (the edits are lost)"
    );
    Err(Reported.into())
}

/// `gen build: 3 created, …, 2 removed (5 file writes; infra/template.json has 80 resources;
/// estimated $1.23/month (gen cost))`.
fn build_summary(plan: &ledger::Plan, output: &stackgen_core::Output, written: usize) -> String {
    format!(
        "gen build: {} created, {} updated, {} unchanged, {} removed ({written} file writes; {})",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Unchanged) + plan.count(Action::KeepUser),
        plan.count(Action::Remove),
        summary_tail(output),
    )
}

/// The summary's resource counts and estimate: they depend on the output only.
fn summary_tail(output: &stackgen_core::Output) -> String {
    // Nested stacks are summed per directory: a split app has dozens of them.
    let mut templates: Vec<String> = Vec::new();
    let mut nested: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for f in output
        .files
        .iter()
        .filter(|f| f.path.starts_with("infra/") && f.path.ends_with(".json"))
    {
        let resources = resource_count(&f.contents);
        match f.path.rsplit_once("/nested/") {
            Some((dir, _)) => {
                let entry = nested.entry(dir).or_default();
                entry.0 += 1;
                entry.1 += resources;
            }
            None => templates.push(format!("{} has {resources} resources", f.path)),
        }
    }
    for (dir, (count, resources)) in nested {
        templates.push(format!(
            "{dir}/nested/ has {count} nested stacks with {resources} resources"
        ));
    }
    let stage = output
        .stage
        .as_ref()
        .map(|s| format!(" --stage {}", s.key))
        .unwrap_or_default();
    let monthly = match &output.estimate {
        Ok(estimate) => format!(
            "estimated {}/month (gen cost{stage})",
            stackgen_core::cost::money(estimate.total_usd)
        ),
        Err(error) => format!("no estimate: {error}"),
    };
    format!("{}; {monthly}", templates.join(", "))
}

/// The number of top-level `Resources` of a template, counted without building a JSON tree
/// of the whole template (that parse was ~7% of a no-op build of the example).
fn resource_count(template: &str) -> usize {
    #[derive(serde::Deserialize)]
    struct Counted {
        #[serde(rename = "Resources", default)]
        resources: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Counted>(template).map_or(0, |t| t.resources.len())
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::KeepUser => "yours",
        Action::Remove => "remove",
        Action::KeepOrphan => "orphan",
        Action::Conflict => "conflict",
    }
}

fn report(error: &stackgen_core::Error, file: &str, text: &str) {
    match error {
        stackgen_core::Error::Manifest(diagnostics) => {
            for d in diagnostics {
                eprint!("{}", d.render(file, text));
            }
            eprintln!(
                "{} in {file}; nothing was written",
                stackgen_core::diag::count(diagnostics.len(), "error")
            );
        }
        stackgen_core::Error::UnknownStage { .. } => eprintln!("error: {error}"),
        stackgen_core::Error::Generate(e) => {
            eprintln!(
                "error: {e}\n  = hint: this is a bug in stackgen; please report it with your gen.yaml"
            );
        }
    }
}

fn schema(out: &Path) -> Result<()> {
    let mut text = stackgen_core::cfn::to_pretty_json(&stackgen_core::manifest::json_schema());
    text.push('\n');
    if out == Path::new("-") {
        say!("{}", text.trim_end_matches('\n'));
        return Ok(());
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if fs::read_to_string(out).ok().as_deref() != Some(text.as_str()) {
        fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
    }
    say!("wrote {}", out.display());
    Ok(())
}

/// A single-threaded runtime for the AWS SDK: the cloud commands wait on one call at a time.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn deploy_config(cloud: &CloudArgs, yes: bool, builder: Builder) -> DeployConfig {
    DeployConfig {
        region: cloud.region.clone(),
        yes,
        builder,
        ..DeployConfig::default()
    }
}

fn deploy(cloud: &CloudArgs, config: DeployConfig) -> Result<u8> {
    // Deploy what gen.yaml says: regenerate first, with gen build's guarantees (no user edit
    // is overwritten; a conflict stops here, before anything reaches AWS).
    let project = project_of(&cloud.manifest);
    let _lock = lock::take(&cloud.manifest, &project, Access::Exclusive, "gen deploy")?;
    // From here a signal deletes the change set not executed yet (see interrupt.rs).
    interrupt::watch(&config)?;
    let output = compile_for_cloud(cloud, &project)?;
    let build = BuildConfig {
        stage: cloud.stage.as_deref(),
        ..BuildConfig::default()
    };
    build_output(&project, &output, build)?;
    let (runtime, terminal) = (runtime()?, Terminal::new());
    let report = runtime.block_on(stackgen_deploy::app::deploy_app(
        &project,
        &output,
        config.clone(),
        &terminal,
    ));
    interrupt::settle(
        &config.in_flight,
        matches!(report, Err(stackgen_deploy::DeployError::Build { .. })),
    );
    let report = report?;
    if !report.recorded.is_empty() {
        refresh_site(cloud, &project, "the deployed API")?;
    }
    // After the refresh: the config.js uploaded is the one for the stage just deployed.
    let in_flight = config.in_flight.clone();
    let synced = runtime.block_on(stackgen_deploy::app::sync_site(
        &project, &output, &report, config, &terminal,
    ));
    interrupt::settle(&in_flight, false);
    synced?;
    Ok(0)
}

/// Regenerates after a deploy or destroy so config.js carries the API URL now recorded.
fn refresh_site(cloud: &CloudArgs, project: &Project, what: &str) -> Result<()> {
    let output = compile_project(&cloud.manifest, project, cloud.stage.as_deref())?;
    let config_js = format!("{}/js/config.js", layout::SITE);
    let before = fs::read_to_string(project.path(&config_js)).ok();
    build_output(
        project,
        &output,
        BuildConfig {
            quiet: true,
            stage: cloud.stage.as_deref(),
            ..BuildConfig::default()
        },
    )?;
    let after = fs::read_to_string(project.path(&config_js)).ok();
    if after.is_some() && before != after {
        say!("Updated {config_js} for {what}");
    }
    Ok(())
}

fn diff(cloud: &CloudArgs) -> Result<u8> {
    let project = project_of(&cloud.manifest);
    let _lock = lock::take(&cloud.manifest, &project, Access::Shared, "gen diff")?;
    let output = compile_for_cloud(cloud, &project)?;
    let differs = runtime()?.block_on(stackgen_deploy::app::diff_app(
        &project,
        &output,
        deploy_config(cloud, false, Builder::Auto),
        &Terminal::new(),
    ))?;
    Ok(if differs { 1 } else { 0 })
}

fn destroy(cloud: &CloudArgs, yes: bool) -> Result<u8> {
    let project = project_of(&cloud.manifest);
    let _lock = lock::take(&cloud.manifest, &project, Access::Exclusive, "gen destroy")?;
    let output = compile_for_cloud(cloud, &project)?;
    let report = runtime()?.block_on(stackgen_deploy::app::destroy_app(
        &project,
        &output,
        deploy_config(cloud, yes, Builder::Auto),
        &Terminal::new(),
    ))?;
    if report.deleted.is_empty() {
        return Ok(0);
    }
    if !report.retained.is_empty() {
        say!("Retained (delete them yourself when the data is no longer needed):");
        for (stack, ty, physical) in &report.retained {
            say!("  {ty} {physical} (from {stack})");
        }
    }
    for region in &report.toolkit_regions {
        say!(
            "The toolkit stack {} in {region} stays: other stackgen apps in this account and region share it",
            stackgen_core::deploy::TOOLKIT_STACK
        );
    }
    refresh_site(cloud, &project, "no deployed API")?;
    Ok(0)
}

fn bootstrap(cloud: &CloudArgs, show_template: bool) -> Result<u8> {
    if show_template {
        let text = stackgen_core::constructs::toolkit::toolkit_template()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        say!("{}", text.trim_end_matches('\n'));
        return Ok(0);
    }
    let region = match &cloud.region {
        Some(region) => region.clone(),
        None => {
            let project = project_of(&cloud.manifest);
            let output = compile_for_cloud(cloud, &project)?;
            output
                .deploy
                .app()
                .map(|s| s.region.clone())
                .context("gen.yaml has no stack to deploy; pass --region")?
        }
    };
    let terminal = Terminal::new();
    let bucket = runtime()?.block_on(async {
        let cloud =
            stackgen_deploy::cloud::Cloud::connect(DeployConfig::default(), &terminal).await?;
        let regional = cloud.regional(&region);
        cloud.assets_bucket(&regional).await
    })?;
    say!(
        "Toolkit stack {} in {region}: assets bucket {bucket}",
        stackgen_core::deploy::TOOLKIT_STACK
    );
    Ok(0)
}
