//! `gen invoke FN`: one function, run once on this machine with an event. What to run and with
//! which environment comes from the compiled project (the same template `gen build` writes);
//! the running is `stackgen-local`'s.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use stackgen_core::local::{self, LocalFunction, Resolution, SAMPLE_ACCOUNT, SampleKind};
use stackgen_core::model::{Key, Model};
use stackgen_core::project::layout;
use stackgen_local::{InvokeConfig, LogStream, Outcome};

use crate::env_override::{self, EnvOverride};

/// What `gen invoke` was asked.
pub struct InvokeArgs<'a> {
    pub function: &'a str,
    pub event: Option<&'a Path>,
    pub sample: Option<&'a str>,
    /// Print the event only.
    pub print: bool,
    pub stage: Option<&'a str>,
    /// `--env [FN:]NAME=VALUE`: variables set over the template's.
    pub env: &'a [EnvOverride],
}

/// Variables a process on this machine needs to reach AWS (or a stand-in) as the person
/// running gen does; Lambda would give the function its role's credentials instead.
const PASSED_THROUGH: &[&str] = &[
    "HOME",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

pub fn invoke(manifest: &Path, args: InvokeArgs) -> Result<u8> {
    let project = crate::project_of(manifest);
    let output = crate::compile_project(manifest, &project, args.stage)?;
    let text = crate::read_manifest(manifest)?;
    let model = stackgen_core::load_stage(&text, args.stage).map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = function_key(&model, args.function)?;
    env_override::check(args.env, &model)?;
    let event = event(&model, &key, &args)?;
    if args.print {
        say!("{}", serde_json::to_string_pretty(&event)?);
        return Ok(0);
    }
    let function = template_function(&project, &output, &model, &key)?;
    let mut environment = environment(&model, &key, &function);
    let overridden = env_override::apply(args.env, &key, &mut environment);
    for unresolved in function
        .unresolved
        .iter()
        .filter(|u| !overridden.contains(&u.variable))
    {
        eprintln!(
            "note: {} is a placeholder ({}): `gen deploy` the stage, or set it in the function's code for now",
            unresolved.variable, unresolved.reason
        );
    }
    let functions_dir = project.path(layout::FUNCTIONS);
    if !functions_dir.join(key.as_str()).join("Cargo.toml").exists() {
        bail!(
            "{} has no crate for `{key}`\n  = hint: run `gen build` first",
            functions_dir.display()
        );
    }
    let building = Instant::now();
    eprintln!("Building `{key}` (debug)…");
    let binary = stackgen_local::build_debug(&functions_dir, key.as_str())?;
    let built = building.elapsed();
    let config = InvokeConfig {
        binary,
        environment,
        function_arn: model
            .naming
            .function_arn_in(&key, SAMPLE_ACCOUNT, &model.region),
        timeout: Duration::from_secs(function.timeout_seconds.into()),
    };
    let event = serde_json::to_vec(&event)?;
    let invocation = crate::runtime()?.block_on(stackgen_local::invoke_once(
        &config,
        event,
        // Both streams are the function's log, as in CloudWatch.
        |_: LogStream, line: &str| eprintln!("[{key}] {line}"),
    ))?;
    let timing = format!(
        "built in {:.1} s, ran in {} ms",
        built.as_secs_f64(),
        invocation.duration.as_millis()
    );
    match invocation.outcome {
        Outcome::Response(body) => {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(value) => say!("{}", serde_json::to_string_pretty(&value)?),
                Err(_) => say!("{}", String::from_utf8_lossy(&body)),
            }
            eprintln!("`{key}` answered ({timing})");
            Ok(0)
        }
        Outcome::Error(error) => {
            eprintln!(
                "`{key}` returned an error ({timing}):\n  errorType: {}\n  errorMessage: {}",
                error.error_type, error.error_message
            );
            Ok(1)
        }
        Outcome::InitError(error) => {
            eprintln!(
                "`{key}` failed to start ({timing}):\n  errorType: {}\n  errorMessage: {}",
                error.error_type, error.error_message
            );
            Ok(1)
        }
        Outcome::TimedOut(after) => {
            eprintln!(
                "`{key}` timed out: no answer within its timeout of {} s; it was stopped",
                after.as_secs()
            );
            Ok(1)
        }
        Outcome::Exited(status) => {
            eprintln!("`{key}` exited without answering ({status})");
            Ok(1)
        }
    }
}

fn function_key(model: &Model, given: &str) -> Result<Key> {
    if let Some(key) = model.functions.keys().find(|k| k.as_str() == given) {
        return Ok(key.clone());
    }
    let names: Vec<&str> = model.functions.keys().map(Key::as_str).collect();
    let mut message = format!(
        "gen.yaml has no function `{given}`; its functions: {}",
        names.join(", ")
    );
    if let Some(hint) = stackgen_core::diag::did_you_mean_hint(given, names.iter().copied()) {
        message.push_str(&format!("\n  = hint: {hint}"));
    }
    bail!(message)
}

fn event(model: &Model, key: &Key, args: &InvokeArgs) -> Result<serde_json::Value> {
    if let Some(path) = args.event {
        let (text, shown) = if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the event from standard input")?;
            (text, "standard input".to_owned())
        } else {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the event {}", path.display()))?;
            (text, path.display().to_string())
        };
        return serde_json::from_str(&text).map_err(|e| {
            // serde_json ends its message with the position, which goes first here.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            anyhow::anyhow!(
                "the event in {shown} is not JSON: {}:{}: {message}",
                e.line(),
                e.column()
            )
        });
    }
    let kinds = local::sample_kinds(model, key);
    let listed = || {
        if kinds.is_empty() {
            format!("`{key}` has no triggers, so no samples; pass --event FILE")
        } else {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            format!("its samples: {}", names.join(", "))
        }
    };
    let kind = match args.sample {
        Some(given) => match SampleKind::parse(given).filter(|k| kinds.contains(k)) {
            Some(kind) => kind,
            None => bail!("`{key}` has no `{given}` trigger; {}", listed()),
        },
        None => match kinds.as_slice() {
            [only] => *only,
            _ => bail!(
                "say which event `{key}` gets: --event FILE, or --sample KIND ({})",
                listed()
            ),
        },
    };
    local::sample_event(model, key, kind).context("the sample's trigger disappeared")
}

/// The function as the stage's generated template declares it (a split app's may be in a
/// nested stack), with what that stack's deploy recorded.
pub(crate) fn template_function(
    project: &stackgen_workspace::Project,
    output: &stackgen_core::Output,
    model: &Model,
    key: &Key,
) -> Result<LocalFunction> {
    let deployed = project.deployed()?;
    let function_name = model.naming.function(key).into_string();
    let templates = output.deploy.stacks.iter().flat_map(|stack| {
        std::iter::once((
            stack.template_path.as_str(),
            stack.name.as_str(),
            stack.region.as_str(),
        ))
        .chain(stack.nested.iter().map(|n| {
            (
                n.template_path.as_str(),
                n.name.as_str(),
                stack.region.as_str(),
            )
        }))
    });
    for (path, stack, region) in templates {
        let Some(file) = output.files.iter().find(|f| f.path == path) else {
            continue;
        };
        let template: serde_json::Value = serde_json::from_str(&file.contents)
            .with_context(|| format!("reading the generated {path}"))?;
        let resolution = Resolution {
            region,
            deployed: deployed.stacks.get(stack),
        };
        if let Some(function) = local::local_function(&template, &function_name, resolution) {
            return Ok(function);
        }
    }
    bail!("no generated template declares the function {function_name}: this is a bug in stackgen")
}

/// The environment Lambda gives the function: the template's variables and Lambda's own.
pub(crate) fn environment(
    model: &Model,
    key: &Key,
    function: &LocalFunction,
) -> BTreeMap<String, String> {
    let mut environment = function.environment.clone();
    let log_group = model.naming.function_log_group(key).into_string();
    let lambda = [
        ("AWS_LAMBDA_FUNCTION_NAME", function.function_name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "Text".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", log_group),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]00000000000000000000000000000000".to_owned(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_REGION", model.region.clone()),
        ("AWS_DEFAULT_REGION", model.region.clone()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        (
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ),
    ];
    environment.extend(lambda.map(|(k, v)| (k.to_owned(), v)));
    for name in PASSED_THROUGH {
        if let Ok(value) = std::env::var(name) {
            environment.insert((*name).to_owned(), value);
        }
    }
    environment
}
