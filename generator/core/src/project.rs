//! The files of a user project that `gen build` produces from the model, each with its owner.
//! Pure: returns contents; [`crate::ledger`] decides what to write and `crate::workspace`
//! writes.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::cfn::{TemplateError, to_pretty_json};
use crate::constructs;
use crate::graph::{StackGraph, StackNode};
use crate::model::{FunctionSpec, Key, Model};
use crate::outputs::Deployed;

pub use crate::layout;

/// Who may change a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    /// Rewritten by every build; a user edit is refused unless `--force`.
    Managed,
    /// Created once as a starting point; from then on the user's, never overwritten.
    User,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Owner::Managed => "managed",
            Owner::User => "user",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative, `/`-separated.
    pub path: String,
    pub contents: String,
    pub owner: Owner,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A template stackgen built is invalid: a bug in stackgen, reported as such.
    #[error("internal error: the generated template is invalid: {0}")]
    Template(#[from] TemplateError),
    #[error("internal error: rendering {template}: {message}")]
    Render {
        template: &'static str,
        message: String,
    },
    /// A policy exceeds AWS's size limit: the manifest asks for too much in one policy.
    #[error(
        "policy `{name}` is {chars} characters without whitespace; AWS allows {limit} for {what}"
    )]
    PolicyTooLarge {
        manifest_path: String,
        name: String,
        chars: usize,
        limit: usize,
        what: &'static str,
    },
}

/// What a reader of `policies/` needs to know.
const POLICIES_README: &str = "# Policies

Every IAM policy document of this project's templates, as plain JSON, so it can be reviewed,
diffed and audited. `gen build` rewrites these files: change gen.yaml instead.

- The account id `111122223333` (AWS's documentation placeholder) stands for the account the
  stack is deployed to: CloudFormation fills in the real one (`${AWS::AccountId}` in the
  templates). The partition is `aws` and the region is the stack's.
- `*-trust.json` are trust policies (who may assume a role), not permissions.
- `${aws:username}` is IAM's own policy variable: the signed-in user's name.
- `${SiteDistribution…}` stands for the site's CloudFront distribution ID, which AWS assigns
  when the stack creates it.
- Names: `function-<fn>` (a function's role), `managed-<policy>`, `group-<group>`,
  `user-<user>`, `bucket-<bucket>` (bucket policies), `topic-<topic>` (topic policies),
  `trail-logs` (the trail's CloudWatch Logs delivery).
";

/// The account id shown in `policies/` for the account the stack is deployed to: AWS's own
/// documentation placeholder, so that the files stay valid IAM JSON that linters can check.
pub const ACCOUNT_PLACEHOLDER: &str = "111122223333";

/// The policy as plain, pretty JSON with ARNs spelled out, and its size as AWS counts it
/// (characters other than whitespace).
fn standalone_policy(
    synthesized: &StackNode,
    record: &constructs::policy::PolicyRecord,
) -> (String, usize) {
    use crate::cfn::{Pseudo, SubRef};
    let pseudo = |p: Pseudo| match p {
        Pseudo::Partition => "aws".to_owned(),
        Pseudo::Region => synthesized.region.clone(),
        Pseudo::AccountId => ACCOUNT_PLACEHOLDER.to_owned(),
        Pseudo::UrlSuffix => "amazonaws.com".to_owned(),
        Pseudo::StackName | Pseudo::StackId => format!("${{{}}}", p.name()),
    };
    let resolve = |r: &SubRef| -> Option<String> {
        match r {
            SubRef::Pseudo(p) => Some(pseudo(*p)),
            SubRef::Ref(id) => synthesized
                .known
                .get(id.as_str())
                .map(|s| s.render_with(pseudo)),
            SubRef::GetAtt(id, attribute) => synthesized
                .known
                .get(&format!("{id}.{attribute}"))
                .map(|s| s.render_with(pseudo)),
            SubRef::Var(_) => None,
        }
    };
    let json = record.document.to_value().resolve(&resolve);
    let mut text = to_pretty_json(&json);
    text.push('\n');
    let compact = serde_json::to_string(&json).expect("JSON serialises");
    let chars = compact.chars().filter(|c| !c.is_whitespace()).count();
    (text, chars)
}

/// Every file of the project, sorted by path: each stage's templates and policies, and the
/// files all stages share (schema, functions workspace, site) from the `selected` stage, whose
/// deployment `config.js` points at.
pub fn generate(
    stages: &[(&Model, &StackGraph)],
    selected: usize,
    deployed: &Deployed,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    let mut files = BTreeMap::new();
    let mut add = |path: String, contents: String, owner: Owner| {
        files.insert(
            path.clone(),
            GeneratedFile {
                path,
                contents,
                owner,
            },
        );
    };

    let mut any_policy = false;
    for (model, graph) in stages {
        for (path, contents) in stack_files(model, graph)? {
            any_policy |= path.starts_with(layout::POLICIES);
            add(path, contents, Owner::Managed);
        }
    }
    if any_policy {
        add(
            format!("{}/README.md", layout::POLICIES),
            POLICIES_README.to_owned(),
            Owner::Managed,
        );
    }

    if stages.iter().any(|(model, _)| !model.functions.is_empty()) {
        let record = crate::split::PlacementRecord {
            stages: stages
                .iter()
                .map(|(model, graph)| {
                    let stage = model.stage.as_ref().map_or("", |s| s.key.as_str());
                    (stage.to_owned(), graph.placement().clone())
                })
                .collect(),
        };
        add(layout::PLACEMENT.into(), record.render(), Owner::Managed);
    }

    let mut schema = to_pretty_json(&crate::manifest::json_schema());
    schema.push('\n');
    add(layout::SCHEMA.into(), schema, Owner::Managed);

    let (model, graph) = stages[selected];
    if let (Some(site), Some(auth)) = (&model.site, &model.auth) {
        let api_url = deployed.output(graph, &constructs::ids::api_url());
        for (path, contents, owner) in site_files(model, site, auth, api_url)? {
            add(path, contents, owner);
        }
    }
    if !model.functions.is_empty() {
        let templates = Templates::new()?;
        for (path, contents, owner) in templates.functions(model)? {
            add(path, contents, owner);
        }
    }
    Ok(files.into_values().collect())
}

/// One stage's templates and standalone policy documents (managed files).
fn stack_files(model: &Model, graph: &StackGraph) -> Result<Vec<(String, String)>, GenerateError> {
    let stage = model.stage.as_ref().map(|s| &s.key);
    let mut out = Vec::new();
    let mut policy_names = BTreeMap::new();
    for synthesized in graph.stacks() {
        out.push((
            synthesized.template_path.clone(),
            synthesized.template.render_checked()?,
        ));
        for record in &synthesized.policies {
            let (text, chars) = standalone_policy(synthesized, record);
            if let Some(limit) = record.limit.max_chars().filter(|max| chars > *max) {
                return Err(GenerateError::PolicyTooLarge {
                    manifest_path: record.manifest_path.clone(),
                    name: record.name.clone(),
                    chars,
                    limit,
                    what: record.limit.describe(),
                });
            }
            if let Some(other) =
                policy_names.insert(record.name.clone(), &synthesized.template_path)
            {
                unreachable!(
                    "policy file {} written for {other} and {}",
                    record.name, synthesized.template_path
                );
            }
            out.push((
                format!("{}/{}.json", layout::policies_dir(stage), record.name),
                text,
            ));
        }
    }
    Ok(out)
}

/// The website's templates (`site-template/` in the repository), with the path each renders
/// to under `site/` and who owns the result.
const SITE_TEMPLATES: &[(&str, &str, Owner)] = &[
    (
        "index.html",
        include_str!("../../../site-template/index.html.tera"),
        Owner::User,
    ),
    (
        "js/user-controller.js",
        include_str!("../../../site-template/js/user-controller.js.tera"),
        Owner::User,
    ),
    (
        "js/config.js",
        include_str!("../../../site-template/js/config.js.tera"),
        Owner::Managed,
    ),
    (
        "package.json",
        include_str!("../../../site-template/package.json.tera"),
        Owner::User,
    ),
    (
        "scripts/vendor.mjs",
        include_str!("../../../site-template/scripts/vendor.mjs.tera"),
        Owner::User,
    ),
    (
        ".gitignore",
        include_str!("../../../site-template/gitignore.tera"),
        Owner::User,
    ),
];

/// The site's `js/config.js` for `auth` and the API at `api_url` (`None`: not deployed yet).
/// `gen dev` serves one pointing at its local API, built by the same template.
pub fn site_config_js(
    auth: &crate::model::AuthSpec,
    api_url: Option<&str>,
) -> Result<String, GenerateError> {
    let (path, text, _) = SITE_TEMPLATES
        .iter()
        .find(|(path, _, _)| *path == "js/config.js")
        .expect("config.js is a site template");
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::<&str>::new());
    tera.add_raw_template(path, text)
        .map_err(|e| GenerateError::Render {
            template: path,
            message: e.to_string(),
        })?;
    tera.render(path, &config_context(auth, api_url))
        .map_err(|e| GenerateError::Render {
            template: path,
            message: format!("{e:?}"),
        })
}

/// What config.js says: values for JavaScript JSON-encoded here, so no manifest text can
/// break the script.
fn config_context(auth: &crate::model::AuthSpec, api_url: Option<&str>) -> tera::Context {
    let json = |value: &str| serde_json::to_string(value).expect("strings serialise");
    let mut context = tera::Context::new();
    context.insert("domain", &json(&auth.domain));
    context.insert("client_id", &json(&auth.client_id));
    context.insert("audience", &json(&auth.audience));
    // `null` until `gen deploy` has recorded the API's URL.
    context.insert("api_url", &api_url.map_or_else(|| "null".to_owned(), json));
    context
}

fn site_files(
    model: &Model,
    site: &crate::model::SiteSpec,
    auth: &crate::model::AuthSpec,
    api_url: Option<&str>,
) -> Result<Vec<(String, String, Owner)>, GenerateError> {
    let mut context = config_context(auth, api_url);
    context.insert("title", &site.title);
    context.insert("port", &site.port);
    context.insert("package_name", &model.naming.site_package());
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::<&str>::new());
    let mut out = Vec::new();
    for (path, text, owner) in SITE_TEMPLATES {
        tera.add_raw_template(path, text)
            .map_err(|e| GenerateError::Render {
                template: path,
                message: e.to_string(),
            })?;
        let rendered = tera
            .render(path, &context)
            .map_err(|e| GenerateError::Render {
                template: path,
                message: format!("{e:?}"),
            })?;
        out.push((format!("{}/{path}", layout::SITE), rendered, *owner));
    }
    Ok(out)
}

/// The embedded tera templates of generated source code, each compiled when first rendered:
/// most runs need a few of them (compiling all took ~4% of a build of the example).
struct Templates {
    tera: std::cell::RefCell<tera::Tera>,
}

const FUNCTION_TEMPLATES: &[(&str, &str)] = &[
    (
        "workspace.Cargo.toml",
        include_str!("../../templates/functions/workspace.Cargo.toml.tera"),
    ),
    (
        "crate.Cargo.toml",
        include_str!("../../templates/functions/crate.Cargo.toml.tera"),
    ),
    (
        "main.rs",
        include_str!("../../templates/functions/main.rs.tera"),
    ),
    (
        "config.rs",
        include_str!("../../templates/functions/config.rs.tera"),
    ),
    (
        "handler_s3.rs",
        include_str!("../../templates/functions/handler_s3.rs.tera"),
    ),
    (
        "handler_dynamodb.rs",
        include_str!("../../templates/functions/handler_dynamodb.rs.tera"),
    ),
    (
        "handler_http_table.rs",
        include_str!("../../templates/functions/handler_http_table.rs.tera"),
    ),
    (
        "dynamodb.rs",
        include_str!("../../templates/functions/dynamodb.rs.tera"),
    ),
    (
        "authorizer/Cargo.toml",
        include_str!("../../templates/functions/authorizer/Cargo.toml.tera"),
    ),
    (
        "authorizer/main.rs",
        include_str!("../../templates/functions/authorizer/src/main.rs.tera"),
    ),
    (
        "authorizer/lib.rs",
        include_str!("../../templates/functions/authorizer/src/lib.rs.tera"),
    ),
    (
        "authorizer/tests.rs",
        include_str!("../../templates/functions/authorizer/tests/authorize.rs.tera"),
    ),
    (
        "secrets.rs",
        include_str!("../../templates/functions/secrets.rs.tera"),
    ),
    (
        "main_http.rs",
        include_str!("../../templates/functions/main_http.rs.tera"),
    ),
    (
        "handler_http.rs",
        include_str!("../../templates/functions/handler_http.rs.tera"),
    ),
    (
        "handler_json.rs",
        include_str!("../../templates/functions/handler_json.rs.tera"),
    ),
    (
        "gitignore",
        include_str!("../../templates/functions/gitignore.tera"),
    ),
];

/// The generated JWT authorizer crate: (template, path in the crate).
const AUTHORIZER_FILES: &[(&str, &str)] = &[
    ("authorizer/Cargo.toml", "Cargo.toml"),
    ("authorizer/main.rs", "src/main.rs"),
    ("authorizer/lib.rs", "src/lib.rs"),
    ("authorizer/tests.rs", "tests/authorize.rs"),
];

#[derive(Serialize)]
struct FunctionContext<'a> {
    key: &'a str,
}

#[derive(Serialize)]
struct ConfigVariable {
    name: String,
    field: String,
    doc: String,
}

impl Templates {
    fn new() -> Result<Templates, GenerateError> {
        let mut tera = tera::Tera::default();
        // Source code, not HTML.
        tera.autoescape_on(Vec::<&str>::new());
        Ok(Templates {
            tera: std::cell::RefCell::new(tera),
        })
    }

    fn render(&self, name: &'static str, context: &tera::Context) -> Result<String, GenerateError> {
        let mut tera = self.tera.borrow_mut();
        if !tera.get_template_names().any(|n| n == name) {
            let (_, text) = FUNCTION_TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .expect("every template rendered is in FUNCTION_TEMPLATES");
            tera.add_raw_template(name, text)
                .map_err(|e| GenerateError::Render {
                    template: name,
                    message: e.to_string(),
                })?;
        }
        tera.render(name, context)
            .map_err(|e| GenerateError::Render {
                template: name,
                message: format!("{e:?}"),
            })
    }

    fn functions(&self, model: &Model) -> Result<Vec<(String, String, Owner)>, GenerateError> {
        let dir = layout::FUNCTIONS;
        let mut out = Vec::new();
        let mut context = tera::Context::new();
        let keys: Vec<FunctionContext> = model
            .functions
            .keys()
            .map(|k| FunctionContext { key: k.as_str() })
            .collect();
        context.insert("functions", &keys);
        let uses = |f: fn(&FunctionSpec) -> bool| model.functions.values().any(f);
        context.insert("any_table", &uses(|f| !f.tables().is_empty()));
        context.insert("any_stream", &uses(|f| !f.dynamodb_triggers.is_empty()));
        out.push((
            format!("{dir}/Cargo.toml"),
            self.render("workspace.Cargo.toml", &context)?,
            Owner::Managed,
        ));
        out.push((
            ".gitignore".to_owned(),
            self.render("gitignore", &context)?,
            Owner::User,
        ));

        for (key, spec) in &model.functions {
            let base = format!("{dir}/{key}");
            if model.auth.is_some() && key.as_str() == crate::model::AUTHORIZER_KEY {
                // Security code: generated whole, never the user's to edit.
                let mut context = tera::Context::new();
                context.insert(
                    "function_name",
                    crate::naming::Naming::new(&model.project)
                        .function(key)
                        .as_str(),
                );
                for (template, path) in AUTHORIZER_FILES {
                    out.push((
                        format!("{base}/{path}"),
                        self.render(template, &context)?,
                        Owner::Managed,
                    ));
                }
                continue;
            }
            let context = function_context(model, key, spec);
            let http = model
                .api
                .as_ref()
                .is_some_and(|api| api.functions().contains(key));
            out.push((
                format!("{base}/Cargo.toml"),
                self.render("crate.Cargo.toml", &context)?,
                Owner::Managed,
            ));
            out.push((
                format!("{base}/src/main.rs"),
                self.render(if http { "main_http.rs" } else { "main.rs" }, &context)?,
                Owner::Managed,
            ));
            out.push((
                format!("{base}/src/config.rs"),
                self.render("config.rs", &context)?,
                Owner::Managed,
            ));
            if !spec.secrets.is_empty() {
                out.push((
                    format!("{base}/src/secrets.rs"),
                    self.render("secrets.rs", &context)?,
                    Owner::Managed,
                ));
            }
            if !spec.tables().is_empty() {
                out.push((
                    format!("{base}/src/dynamodb.rs"),
                    self.render("dynamodb.rs", &context)?,
                    Owner::Managed,
                ));
            }
            let handler = if http && item_table(model, spec).is_some() {
                "handler_http_table.rs"
            } else if http {
                "handler_http.rs"
            } else if !spec.s3_triggers.is_empty() {
                "handler_s3.rs"
            } else if !spec.dynamodb_triggers.is_empty() {
                "handler_dynamodb.rs"
            } else {
                "handler_json.rs"
            };
            out.push((
                format!("{base}/src/handler.rs"),
                self.render(handler, &context)?,
                Owner::User,
            ));
        }
        Ok(out)
    }
}

/// The table an HTTP function's starter handler keeps the caller's item in: one it reads and
/// writes whose key is a single string (the caller's `sub`).
fn item_table<'m>(model: &'m Model, spec: &'m FunctionSpec) -> Option<(&'m Key, &'m str)> {
    spec.table_reads
        .intersection(&spec.table_writes)
        .find_map(|key| {
            let table = model.tables.get(key)?;
            let simple = table.sort_key.is_none()
                && table.partition_key.kind == crate::manifest::AttributeType::String;
            simple.then_some((key, table.partition_key.name.as_str()))
        })
}

fn function_context(model: &Model, key: &Key, spec: &FunctionSpec) -> tera::Context {
    let mut variables: Vec<ConfigVariable> = spec
        .buckets()
        .into_iter()
        .map(|bucket| ConfigVariable {
            name: FunctionSpec::bucket_env_var(bucket),
            field: format!("{}_bucket", bucket.snake()),
            doc: format!("Name of the `{bucket}` bucket"),
        })
        .chain(spec.tables().into_iter().map(|table| ConfigVariable {
            name: FunctionSpec::table_env_var(table),
            field: format!("{}_table", table.snake()),
            doc: format!("Name of the `{table}` table"),
        }))
        .chain(spec.secrets.iter().map(|secret| ConfigVariable {
            name: FunctionSpec::secret_env_var(secret),
            field: format!("{}_secret_arn", secret.snake()),
            doc: format!("ARN of the `{secret}` secret (its value: `secrets::value`)"),
        }))
        .chain(spec.environment.keys().map(|name| ConfigVariable {
            name: name.clone(),
            field: rust_field(name),
            doc: "From `environment` in gen.yaml".to_owned(),
        }))
        .collect();
    variables.sort_by(|a, b| a.field.cmp(&b.field));
    let mut trigger_buckets: Vec<String> = spec
        .s3_triggers
        .iter()
        .map(|t| format!("`{}`", t.bucket))
        .collect();
    trigger_buckets.dedup();
    let mut context = tera::Context::new();
    context.insert("key", key.as_str());
    context.insert("crate_name", &key.as_str());
    context.insert(
        "function_name",
        crate::naming::Naming::new(&model.project)
            .function(key)
            .as_str(),
    );
    context.insert("s3_event", &!spec.s3_triggers.is_empty());
    context.insert("dynamodb_event", &!spec.dynamodb_triggers.is_empty());
    context.insert("tables", &!spec.tables().is_empty());
    let table_fields: Vec<String> = spec
        .tables()
        .into_iter()
        .map(|t| format!("`config.{}_table`", t.snake()))
        .collect();
    context.insert("table_fields_doc", &table_fields.join(", "));
    if let Some((table, table_key)) = item_table(model, spec) {
        context.insert("table", table.as_str());
        context.insert("table_key", table_key);
        context.insert("table_field", &format!("{}_table", table.snake()));
        // `profiles` → `profile`: the caller's one item.
        let item = table.snake();
        context.insert(
            "item_field",
            item.strip_suffix('s')
                .filter(|s| !s.is_empty())
                .unwrap_or(&item),
        );
    }
    let mut trigger_tables: Vec<String> = spec
        .dynamodb_triggers
        .iter()
        .map(|t| format!("`{}`", t.table))
        .collect();
    trigger_tables.dedup();
    context.insert("trigger_tables", &trigger_tables.join(", "));
    let routes: Vec<String> = model
        .api
        .iter()
        .flat_map(|api| api.routes.iter())
        .filter(|(_, route)| &route.function == key)
        .map(|(route, _)| format!("`{route}`"))
        .collect();
    context.insert("http", &!routes.is_empty());
    context.insert("secrets", &!spec.secrets.is_empty());
    let secret_fields: Vec<String> = spec
        .secrets
        .iter()
        .map(|s| format!("{}_secret_arn", s.snake()))
        .collect();
    context.insert("secret_fields", &secret_fields);
    context.insert("routes", &routes.join(", "));
    context.insert("variables", &variables);
    context.insert("trigger_buckets", &trigger_buckets.join(", "));
    context
}

/// A Rust field name for an environment variable: lowercase, keywords suffixed with `_`.
fn rust_field(variable: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else",
        "enum", "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match",
        "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become",
        "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual",
    ];
    let field = variable.to_ascii_lowercase();
    if KEYWORDS.contains(&field.as_str()) {
        format!("{field}_")
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Templates compile when first rendered: each must compile, whether or not a test
    /// manifest renders it.
    #[test]
    fn every_function_template_compiles() {
        let mut tera = tera::Tera::default();
        for (name, text) in FUNCTION_TEMPLATES {
            tera.add_raw_template(name, text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn environment_names_become_rust_fields() {
        assert_eq!(rust_field("RENDITIONS"), "renditions");
        assert_eq!(rust_field("TYPE"), "type_");
    }
}
