//! `gen dev`: the app on this machine. The stage's generated templates say what runs: the
//! REST API (routes, TOKEN authorizer, CORS, gateway responses) served by
//! `stackgen_local::gateway` in front of each function's own debug bootstrap, kept warm
//! behind its own Runtime API (`stackgen_local::warm`), and `site/` with a `config.js`
//! pointing at that API. A poll of gen.yaml and the functions' sources drives the loop: a
//! handler edit rebuilds that crate and its next request runs the new binary; a manifest edit
//! regenerates under `gen build`'s rules and swaps the routes. Nothing else restarts.
//!
//! Polling (every [`POLL`]) instead of inotify: no dependency, no watch limits, the same on
//! every file system; a scan of a project's sources takes well under a millisecond.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, anyhow, bail};

use stackgen_core::local::SAMPLE_ACCOUNT;
use stackgen_core::model::{Key, Model};
use stackgen_core::project::layout;
use stackgen_local::gateway::{
    Failure, Functions, Gateway, GatewayServer, RequestLog, ServeConfig,
};
use stackgen_local::site::{Overrides, SiteServer};
use stackgen_local::warm::{LogSink, WarmPool};
use stackgen_local::{InvokeConfig, LogStream, Outcome};
use stackgen_workspace::Project;

use crate::env_override::{self, EnvOverride};

const POLL: Duration = Duration::from_millis(250);
/// After a change is seen, how long the files must stay put before a rebuild (an editor's
/// save can be several writes).
const SETTLE: Duration = Duration::from_millis(120);

/// What `gen dev` was asked.
pub struct DevConfig<'a> {
    pub manifest: &'a Path,
    pub stage: Option<&'a str>,
    pub port: u16,
    pub site_port: Option<u16>,
    pub env: &'a [EnvOverride],
    pub auth_domain: Option<&'a str>,
    pub watch: bool,
}

pub fn dev(config: DevConfig) -> Result<u8> {
    crate::runtime()?.block_on(run(config))
}

/// One compile of the project: what serves and with what.
struct App {
    model: Model,
    gateway: Option<Arc<Gateway>>,
    /// The functions the API invokes, by the template's FunctionName.
    functions: BTreeMap<String, Served>,
}

/// A function behind the API, ready to run.
struct Served {
    key: Key,
    /// Its environment and limits, without the binary (known after the build).
    environment: BTreeMap<String, String>,
    timeout: Duration,
    memory_mb: u32,
    arn: String,
    notes: Vec<String>,
}

async fn run(config: DevConfig<'_>) -> Result<u8> {
    let started = Instant::now();
    // Before anything starts: a Ctrl-C from now on stops what has been started.
    let mut signals = Signals::new()?;
    let project = crate::project_of(config.manifest);
    let functions_dir = project.path(layout::FUNCTIONS);

    // The ports first: a port in use is a clear error before any build.
    let api_listener = bind(config.port, "the API", "--port").await?;
    let api_address = api_listener.local_addr()?;

    let app = load(&config, &project)?;
    let stage_path = app.gateway.as_ref().map(|g| g.stage().to_owned());
    let api_url = match &stage_path {
        Some(stage) => format!("http://{api_address}/{stage}"),
        None => format!("http://{api_address}"),
    };

    let site = match &app.model.site {
        Some(spec) => {
            let port = config.site_port.unwrap_or(spec.port);
            Some(bind(port, "the site", "--site-port").await?)
        }
        None => None,
    };
    let site_origin = match &site {
        Some(listener) => Some(format!("http://{}", listener.local_addr()?)),
        None => None,
    };

    let logs: LogSink = Arc::new(|name: &str, _: LogStream, line: &str| {
        eprintln!("[{name}] {line}");
    });
    let pool = Arc::new(WarmPool::new());
    let crates: Vec<String> = app
        .functions
        .values()
        .map(|s| s.key.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let binaries = if crates.is_empty() {
        BTreeMap::new()
    } else {
        eprintln!("Building {} (debug)…", crates.join(", "));
        let names: Vec<&str> = crates.iter().map(String::as_str).collect();
        tokio::select! {
            () = signals.recv() => {
                eprintln!("gen dev: stopped before it was ready");
                return Ok(0);
            }
            built = stackgen_local::build::build_debug_all_async(&functions_dir, &names) => match built {
                Ok(binaries) => binaries,
                // Served anyway: the API answers 502 for them until a fix builds.
                Err(error) => {
                    eprintln!("error: {error}");
                    eprintln!("gen dev: serving without them; fix the code and save");
                    BTreeMap::new()
                }
            },
        }
    };
    print_notes(&app.functions);
    let served = serve_functions(
        &pool,
        &app.functions,
        &binaries,
        site_origin.as_deref(),
        &logs,
    )
    .await;
    for served in app.functions.values() {
        eprintln!(
            "  {}: timeout {} s, memory {} MB (noted, not enforced locally)",
            served.key,
            served.timeout.as_secs(),
            served.memory_mb
        );
    }

    let overrides: Overrides = Arc::default();
    let site_server = match (site, &app.model.site) {
        (Some(listener), Some(_)) => {
            set_config_js(&overrides, &app.model, config.auth_domain, &api_url)?;
            let root = project.path(layout::SITE);
            if !root.join("vendor").is_dir() {
                eprintln!(
                    "note: site/vendor/ is missing: the page loads auth0-spa-js and Bootstrap from it\n  = hint: `cd site && npm install` fills it"
                );
            }
            Some(SiteServer::start(listener, root, overrides.clone())?)
        }
        _ => None,
    };

    let gateway_server = match app.gateway {
        Some(ref gateway) => {
            print_routes(gateway, &app);
            let functions: Arc<dyn Functions> = Arc::new(PoolFunctions(pool.clone()));
            Some(GatewayServer::start(
                api_listener,
                gateway.clone(),
                functions,
                ServeConfig {
                    region: app.model.region.clone(),
                    account: SAMPLE_ACCOUNT.to_owned(),
                    api_id: "local".to_owned(),
                },
                print_request,
            ))
        }
        None => {
            eprintln!("note: the stage's templates have no REST API: only the site is served");
            drop(api_listener);
            None
        }
    };
    not_served(&app.model, &app.functions);

    let mut lines = vec![format!(
        "gen dev: ready in {:.1} s ({served} functions)",
        started.elapsed().as_secs_f64()
    )];
    if gateway_server.is_some() {
        lines.push(format!("  API   {api_url}"));
    }
    if let Some(site) = &site_server {
        lines.push(format!("  site  http://{}/", site.address()));
    }
    lines.push(if config.watch {
        "  watching gen.yaml and functions/; Ctrl-C stops everything".to_owned()
    } else {
        "  not watching (--no-watch); Ctrl-C stops everything".to_owned()
    });
    say!("{}", lines.join("\n"));

    let mut state = Loop {
        config: &config,
        project: &project,
        functions_dir,
        pool: pool.clone(),
        gateway: gateway_server.as_ref(),
        overrides,
        api_url,
        site_origin,
        logs,
        app: LoopApp {
            functions: app.functions,
            model: app.model,
        },
        binaries,
    };
    let outcome = state.watch(&mut signals).await;

    // Whatever ended the loop: every process and server it started goes, by its handle.
    if let Some(server) = gateway_server {
        server.stop().await;
    }
    if let Some(server) = site_server {
        server.stop().await;
    }
    let running = pool.names().len();
    pool.stop_all().await;
    eprintln!("gen dev: stopped ({running} functions, the API and the site)");
    outcome
}

/// The state the watch loop updates.
struct Loop<'a> {
    config: &'a DevConfig<'a>,
    project: &'a Project,
    functions_dir: PathBuf,
    pool: Arc<WarmPool>,
    gateway: Option<&'a GatewayServer>,
    overrides: Overrides,
    api_url: String,
    site_origin: Option<String>,
    logs: LogSink,
    app: LoopApp,
    binaries: BTreeMap<String, PathBuf>,
}

struct LoopApp {
    model: Model,
    functions: BTreeMap<String, Served>,
}

impl Loop<'_> {
    /// Until Ctrl-C or SIGTERM: rebuilds and regenerates on changes.
    async fn watch(&mut self, signals: &mut Signals) -> Result<u8> {
        let mut seen = scan(self.project, self.config.manifest);
        loop {
            tokio::select! {
                () = signals.recv() => return Ok(0),
                () = tokio::time::sleep(POLL), if self.config.watch => {}
            }
            let now = scan(self.project, self.config.manifest);
            if now == seen {
                continue;
            }
            // Settle: the change is taken once the files stop moving.
            let mut latest = now;
            loop {
                tokio::time::sleep(SETTLE).await;
                let again = scan(self.project, self.config.manifest);
                if again == latest {
                    break;
                }
                latest = again;
            }
            let changed = changed_paths(&seen, &latest);
            seen = latest;
            let manifest_changed = changed.iter().any(|p| p == self.config.manifest);
            let work = async {
                if manifest_changed {
                    self.regenerate().await;
                    // The build may have rewritten function files: absorbed by the rebuild
                    // below, not seen again as an edit.
                    seen = scan(self.project, self.config.manifest);
                    let crates: BTreeSet<String> = self
                        .app
                        .functions
                        .values()
                        .map(|s| s.key.to_string())
                        .collect();
                    self.rebuild(&crates, "gen.yaml changed").await;
                } else {
                    let crates = crates_of(&changed, &self.functions_dir, &self.running_crates());
                    if !crates.is_empty() {
                        self.rebuild(&crates, "source changed").await;
                    }
                }
            };
            // A build in flight is dropped (and its cargo killed) on Ctrl-C.
            tokio::select! {
                () = signals.recv() => return Ok(0),
                () = work => {}
            }
        }
    }

    fn running_crates(&self) -> BTreeSet<String> {
        self.app
            .functions
            .values()
            .map(|s| s.key.to_string())
            .collect()
    }

    /// gen.yaml changed: `gen build`'s rules, then the new routes and environments. A bad
    /// manifest is reported and the app goes on as it was.
    async fn regenerate(&mut self) {
        eprintln!("gen.yaml changed: regenerating…");
        let app = match load(self.config, self.project) {
            Ok(app) => app,
            Err(error) => {
                if error.downcast_ref::<crate::Reported>().is_none() {
                    eprintln!("error: {error:#}");
                }
                eprintln!("gen dev: still serving the previous build; fix gen.yaml and save");
                return;
            }
        };
        if let (Some(server), Some(gateway)) = (self.gateway, &app.gateway) {
            server.replace(gateway.clone());
            print_routes(gateway, &app);
        } else if app.gateway.is_some() != self.gateway.is_some() {
            eprintln!("note: the API was added or removed: restart gen dev to serve the change");
        }
        if let Err(error) = set_config_js(
            &self.overrides,
            &app.model,
            self.config.auth_domain,
            &self.api_url,
        ) {
            eprintln!("error: {error:#}");
        }
        let keep: BTreeSet<String> = app.functions.keys().cloned().collect();
        self.pool.retain(&keep).await;
        serve_functions(
            &self.pool,
            &app.functions,
            &self.binaries,
            self.site_origin.as_deref(),
            &self.logs,
        )
        .await;
        print_notes(&app.functions);
        not_served(&app.model, &app.functions);
        self.app = LoopApp {
            model: app.model,
            functions: app.functions,
        };
    }

    /// Rebuilds `crates`; each rebuilt function's next event runs the new binary. A failed
    /// build leaves the previous binaries serving.
    async fn rebuild(&mut self, crates: &BTreeSet<String>, why: &str) {
        if crates.is_empty() {
            return;
        }
        let changed: Vec<&str> = crates.iter().map(String::as_str).collect();
        eprintln!("{why}: building {} (debug)…", changed.join(", "));
        // Always the whole served set, as at start: cargo unifies dependency features per
        // package set, so `-p user-profile` alone would rebuild shared crates with other
        // features (46 crates, 88 s, seen). The unchanged crates cost cargo a glance.
        let all = self.running_crates();
        let names: Vec<&str> = all.iter().map(String::as_str).collect();
        let started = Instant::now();
        match stackgen_local::build::build_debug_all_async(&self.functions_dir, &names).await {
            Ok(built) => {
                for (name, binary) in &built {
                    self.binaries.insert(name.clone(), binary.clone());
                }
                let mut authorizer_rebuilt = false;
                for served in self
                    .app
                    .functions
                    .values()
                    .filter(|s| crates.contains(s.key.as_str()))
                {
                    if let (Some(function), Some(binary)) = (
                        self.pool.get(&function_name(&self.app.model, &served.key)),
                        built.get(served.key.as_str()),
                    ) {
                        function.replace_binary(binary.clone()).await;
                    }
                    authorizer_rebuilt |= is_authorizer(&self.app.model, &served.key);
                }
                // Newly served functions (a manifest edit) get their binary now.
                serve_functions(
                    &self.pool,
                    &self.app.functions,
                    &self.binaries,
                    self.site_origin.as_deref(),
                    &self.logs,
                )
                .await;
                if authorizer_rebuilt && let Some(server) = self.gateway {
                    // Its cached answers came from the old code.
                    server.clear_authorizer_cache();
                }
                eprintln!(
                    "built in {:.1} s: the next request runs the new code",
                    started.elapsed().as_secs_f64()
                );
            }
            Err(error) => {
                eprintln!("error: {error}");
                eprintln!("gen dev: still serving the previous binaries; fix the code and save");
            }
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the start, so neither is lost between two
/// waits.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

fn print_notes(functions: &BTreeMap<String, Served>) {
    for served in functions.values() {
        for note in &served.notes {
            eprintln!("note: {}: {note}", served.key);
        }
    }
}

/// Regenerates (under `gen build`'s rules: your files are never overwritten) and compiles the
/// stage; reads what serves from its templates.
fn load(config: &DevConfig, project: &Project) -> Result<App> {
    let fresh = crate::build(
        config.manifest,
        crate::BuildConfig {
            check: false,
            force: false,
            quiet: false,
            stage: config.stage,
        },
    )?;
    if !fresh {
        bail!("gen build did not finish");
    }
    let output = crate::compile_project(config.manifest, project, config.stage)?;
    let text = crate::read_manifest(config.manifest)?;
    let model = stackgen_core::load_stage(&text, config.stage).map_err(|e| anyhow!("{e}"))?;
    env_override::check(config.env, &model)?;
    let gateway = gateway_of(&output)?;
    // The functions inherit it (crate::invoke passes it through).
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let mut functions = BTreeMap::new();
    if let Some(gateway) = &gateway {
        for name in gateway.functions() {
            let Some(key) = model
                .functions
                .keys()
                .find(|k| function_name(&model, k) == name)
                .cloned()
            else {
                bail!(
                    "the API invokes {name}, which gen.yaml does not declare: this is a bug in stackgen"
                );
            };
            let function = crate::invoke::template_function(project, &output, &model, &key)?;
            let mut environment = crate::invoke::environment(&model, &key, &function);
            let overridden = env_override::apply(config.env, &key, &mut environment);
            let mut notes: Vec<String> = function
                .unresolved
                .iter()
                .filter(|u| !overridden.contains(&u.variable))
                .map(|u| {
                    format!(
                        "{} is a placeholder ({}): `gen deploy` the stage, or --env {key}:{}=VALUE",
                        u.variable, u.reason, u.variable
                    )
                })
                .collect();
            notes.extend(tables_note(&model, &key, endpoint.as_deref()));
            functions.insert(
                name.clone(),
                Served {
                    arn: model
                        .naming
                        .function_arn_in(&key, SAMPLE_ACCOUNT, &model.region),
                    timeout: Duration::from_secs(function.timeout_seconds.into()),
                    memory_mb: function.memory_mb,
                    environment,
                    notes,
                    key,
                },
            );
        }
    }
    // The process ends with the loop; the output is not needed past here.
    drop(output);
    Ok(App {
        model,
        gateway,
        functions,
    })
}

/// Which DynamoDB tables the function's code reaches from here, and through what: the real
/// tables are the stage's data, so a local run should say it touches them.
/// `endpoint`: AWS_ENDPOINT_URL, which the functions inherit.
fn tables_note(model: &Model, key: &Key, endpoint: Option<&str>) -> Option<String> {
    let function = model.functions.get(key)?;
    let tables: Vec<String> = function
        .tables()
        .into_iter()
        .map(|table| model.naming.table(table).to_string())
        .collect();
    if tables.is_empty() {
        return None;
    }
    let tables = tables.join(", ");
    Some(match endpoint {
        Some(endpoint) if !endpoint.is_empty() => {
            format!("its DynamoDB table(s) {tables} are reached at AWS_ENDPOINT_URL={endpoint}")
        }
        _ => format!(
            "it reads and writes the deployed DynamoDB table(s) {tables} in {} with your AWS credentials; set AWS_ENDPOINT_URL for a local stand-in (DynamoDB Local)",
            model.region
        ),
    })
}

/// The stage's REST API, from the stack that holds it and the templates nested in it.
fn gateway_of(output: &stackgen_core::Output) -> Result<Option<Arc<Gateway>>> {
    let parse = |path: &str| -> Result<serde_json::Value> {
        let file = output
            .files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| anyhow!("the build did not generate {path}"))?;
        serde_json::from_str(&file.contents).with_context(|| format!("reading {path}"))
    };
    for stack in &output.deploy.stacks {
        let root = parse(&stack.template_path)?;
        let mut nested = BTreeMap::new();
        for child in &stack.nested {
            nested.insert(child.resource_id.clone(), parse(&child.template_path)?);
        }
        if let Some(gateway) = Gateway::from_template(&root, &nested)
            .with_context(|| format!("reading the API of {}", stack.template_path))?
        {
            return Ok(Some(Arc::new(gateway)));
        }
    }
    Ok(None)
}

/// Puts each served function in the pool with its environment and binary; returns how many
/// have a binary.
async fn serve_functions(
    pool: &WarmPool,
    functions: &BTreeMap<String, Served>,
    binaries: &BTreeMap<String, PathBuf>,
    site_origin: Option<&str>,
    logs: &LogSink,
) -> usize {
    let mut count = 0;
    for (name, served) in functions {
        let Some(binary) = binaries.get(served.key.as_str()) else {
            continue;
        };
        let mut environment = served.environment.clone();
        if let Some(origin) = site_origin {
            allow_origin(served.key.as_str(), &mut environment, origin);
        }
        pool.upsert(
            name,
            served.key.as_str(),
            InvokeConfig {
                binary: binary.clone(),
                environment,
                function_arn: served.arn.clone(),
                timeout: served.timeout,
            },
            logs,
        )
        .await;
        count += 1;
    }
    count
}

/// The generated functions read the origins their CORS answers allow from `CORS_ORIGINS`; the
/// local site's origin joins them when the manifest's list lacks it (a `--site-port`).
fn allow_origin(key: &str, environment: &mut BTreeMap<String, String>, origin: &str) {
    if let Some(origins) = environment.get_mut("CORS_ORIGINS")
        && !origins.split(',').any(|o| o.trim() == origin)
    {
        origins.push(',');
        origins.push_str(origin);
        eprintln!("note: {key}: CORS_ORIGINS gains {origin} (the local site)");
    }
}

fn set_config_js(
    overrides: &Overrides,
    model: &Model,
    auth_domain: Option<&str>,
    api_url: &str,
) -> Result<()> {
    let Some(auth) = &model.auth else {
        overrides.lock().expect("site overrides").clear();
        return Ok(());
    };
    let mut auth = auth.clone();
    if let Some(domain) = auth_domain {
        domain.clone_into(&mut auth.domain);
    }
    let text = stackgen_core::project::site_config_js(&auth, Some(api_url))
        .map_err(|e| anyhow!("rendering config.js: {e}"))?;
    let text = text
        .replacen(
            "// @generated by stackgen from gen.yaml: do not edit, `gen build` rewrites this file.",
            "// Served by `gen dev` in place of site/js/config.js: the local API.",
            1,
        )
        .replacen(
            "// The API's base URL. `gen deploy` fills it from the stack's ApiUrl output; until then null.",
            "// The API's base URL: gen dev's local API Gateway.",
            1,
        );
    overrides
        .lock()
        .expect("site overrides")
        .insert("/js/config.js".to_owned(), text.into_bytes());
    Ok(())
}

fn function_name(model: &Model, key: &Key) -> String {
    model.naming.function(key).into_string()
}

fn is_authorizer(model: &Model, key: &Key) -> bool {
    model.auth.is_some() && key.as_str() == stackgen_core::model::AUTHORIZER_KEY
}

/// Listens on 127.0.0.1:`port`, or says what to do when it is taken.
async fn bind(port: u16, what: &str, flag: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|error| {
            anyhow!(
                "{what} cannot listen on 127.0.0.1:{port}: {error}\n  = hint: stop what listens there, or pass {flag} N (0: any free port)"
            )
        })
}

fn print_routes(gateway: &Gateway, app: &App) {
    let routes = gateway.routes();
    eprintln!("API stage `{}`: {} routes", gateway.stage(), routes.len());
    for route in &routes {
        let target = route.function.as_deref().map_or_else(
            || "(answered by the gateway)".to_owned(),
            |name| {
                app.functions
                    .get(name)
                    .map_or_else(|| name.to_owned(), |s| s.key.to_string())
            },
        );
        let auth = route
            .authorizer
            .as_deref()
            .map_or_else(String::new, |a| format!("  [authorizer {a}]"));
        eprintln!("  {:<7} {:<32} → {target}{auth}", route.method, route.path);
    }
    for sentence in gateway.not_emulated() {
        eprintln!("  not emulated: {sentence}");
    }
}

/// Names the functions that nothing local triggers, and how to run them.
fn not_served(model: &Model, served: &BTreeMap<String, Served>) {
    for key in model.functions.keys() {
        if served.values().any(|s| &s.key == key) {
            continue;
        }
        let kinds = stackgen_core::local::sample_kinds(model, key);
        let hint = match kinds.first() {
            Some(kind) => format!("`gen invoke {key} --sample {}`", kind.as_str()),
            None => format!("`gen invoke {key} --event FILE`"),
        };
        eprintln!(
            "  not emulated: {key}'s triggers (no API route invokes it); {hint} runs it once"
        );
    }
}

fn print_request(log: RequestLog) {
    let mut parts = Vec::new();
    if let Some(authorizer) = &log.authorizer {
        parts.push(format!("authorizer {authorizer}"));
    }
    if let Some(function) = &log.function {
        parts.push(function.clone());
    }
    parts.push(format!("{} ms", log.duration.as_millis()));
    if let Some(note) = &log.note {
        parts.push(note.clone());
    }
    eprintln!(
        "{} {} → {} ({})",
        log.method,
        log.path,
        log.status,
        parts.join(", ")
    );
}

/// The gateway's way to the warm functions.
struct PoolFunctions(Arc<WarmPool>);

impl Functions for PoolFunctions {
    fn invoke(
        &self,
        function_name: &str,
        event: Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u8>, Failure>> + Send + '_>>
    {
        let function = self.0.get(function_name);
        let name = function_name.to_owned();
        Box::pin(async move {
            let Some(function) = function else {
                return Err(Failure::Crashed(format!(
                    "{name} is not built (its build failed?)"
                )));
            };
            let invocation = function
                .invoke(event)
                .await
                .map_err(|e| Failure::Crashed(e.to_string()))?;
            let label = function.name().to_owned();
            match invocation.outcome {
                Outcome::Response(body) => Ok(body),
                Outcome::Error(error) => Err(Failure::Error(error)),
                Outcome::InitError(error) => {
                    eprintln!(
                        "[{label}] failed to start: {}: {}",
                        error.error_type, error.error_message
                    );
                    Err(Failure::Crashed(format!(
                        "failed to start: {}",
                        error.error_message
                    )))
                }
                Outcome::TimedOut(after) => {
                    eprintln!(
                        "[{label}] timed out after {} s (its timeout); stopped, the next request starts it again",
                        after.as_secs()
                    );
                    Err(Failure::Crashed(format!(
                        "timed out after {} s",
                        after.as_secs()
                    )))
                }
                Outcome::Exited(status) => {
                    eprintln!("[{label}] exited without answering ({status})");
                    Err(Failure::Crashed(format!("exited ({status})")))
                }
            }
        })
    }
}

/// Modification stamps of what the loop watches: gen.yaml and every file of the function
/// crates except build output.
fn scan(project: &Project, manifest: &Path) -> BTreeMap<PathBuf, (SystemTime, u64)> {
    let mut seen = BTreeMap::new();
    let mut add = |path: &Path| {
        if let Ok(meta) = std::fs::metadata(path)
            && let Ok(modified) = meta.modified()
        {
            seen.insert(path.to_owned(), (modified, meta.len()));
        }
    };
    add(manifest);
    let functions = project.path(layout::FUNCTIONS);
    add(&functions.join("Cargo.toml"));
    add(&functions.join("Cargo.lock"));
    let Ok(entries) = std::fs::read_dir(&functions) else {
        return seen;
    };
    let mut stack: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n != "target" && !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') || name == "target" {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(path),
                Ok(kind) if kind.is_file() => add(&path),
                _ => {}
            }
        }
    }
    seen
}

fn changed_paths(
    before: &BTreeMap<PathBuf, (SystemTime, u64)>,
    after: &BTreeMap<PathBuf, (SystemTime, u64)>,
) -> Vec<PathBuf> {
    let mut changed: Vec<PathBuf> = after
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(stamp))
        .map(|(path, _)| path.clone())
        .collect();
    changed.extend(before.keys().filter(|p| !after.contains_key(*p)).cloned());
    changed
}

/// The running crates a change touches: its own crate, or all of them when the workspace's
/// manifest or lock file changed.
fn crates_of(
    changed: &[PathBuf],
    functions_dir: &Path,
    running: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut crates = BTreeSet::new();
    for path in changed {
        let Ok(relative) = path.strip_prefix(functions_dir) else {
            continue;
        };
        let mut parts = relative.components();
        let first = parts
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        match (first, parts.next()) {
            // functions/Cargo.toml or Cargo.lock: every crate.
            (Some(_), None) => crates.extend(running.iter().cloned()),
            (Some(name), Some(_)) if running.contains(&name) => {
                crates.insert(name);
            }
            _ => {}
        }
    }
    crates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_using_tables_is_told_which_and_where() {
        let model =
            stackgen_core::load_stage(stackgen_core::example::MANIFEST, Some("dev")).unwrap();
        let key = |k: &str| {
            model
                .functions
                .keys()
                .find(|f| f.as_str() == k)
                .unwrap()
                .clone()
        };
        let real = tables_note(&model, &key("user-profile"), None).unwrap();
        assert!(
            real.contains("deployed DynamoDB table(s) video24-dev-profiles in us-east-1")
                && real.contains("set AWS_ENDPOINT_URL"),
            "{real}"
        );
        let local =
            tables_note(&model, &key("user-profile"), Some("http://127.0.0.1:4566")).unwrap();
        assert_eq!(
            local,
            "its DynamoDB table(s) video24-dev-profiles are reached at AWS_ENDPOINT_URL=http://127.0.0.1:4566"
        );
        assert_eq!(tables_note(&model, &key("transcode"), None), None);
    }

    #[test]
    fn a_change_rebuilds_its_own_crate_or_all_of_them() {
        let dir = Path::new("/p/functions");
        let running: BTreeSet<String> = ["authorizer".to_owned(), "user-profile".to_owned()].into();
        let one = crates_of(&[dir.join("user-profile/src/handler.rs")], dir, &running);
        assert_eq!(one, ["user-profile".to_owned()].into());
        let none = crates_of(&[dir.join("transcode/src/handler.rs")], dir, &running);
        assert!(none.is_empty(), "transcode does not run under gen dev");
        let all = crates_of(&[dir.join("Cargo.lock")], dir, &running);
        assert_eq!(all, running);
        let outside = crates_of(&[PathBuf::from("/p/gen.yaml")], dir, &running);
        assert!(outside.is_empty());
    }

    #[test]
    fn the_local_site_joins_the_cors_origins_once() {
        let key = "user-profile";
        let mut environment: BTreeMap<String, String> = [(
            "CORS_ORIGINS".to_owned(),
            "https://a.example,http://127.0.0.1:8100".to_owned(),
        )]
        .into();
        allow_origin(key, &mut environment, "http://127.0.0.1:8100");
        assert_eq!(
            environment["CORS_ORIGINS"],
            "https://a.example,http://127.0.0.1:8100"
        );
        allow_origin(key, &mut environment, "http://127.0.0.1:9000");
        assert_eq!(
            environment["CORS_ORIGINS"],
            "https://a.example,http://127.0.0.1:8100,http://127.0.0.1:9000"
        );
    }
}
