//! The files of a user project that `gen build` produces from the model, each with its owner.
//! Pure: returns contents; [`crate::ledger`] decides what to write and `crate::workspace`
//! writes.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::cfn::{TemplateError, to_pretty_json};
use crate::constructs;
use crate::model::{FunctionSpec, Key, Model};

/// Where things go in a user project (relative to the directory holding `gen.yaml`).
pub mod layout {
    pub const MANIFEST: &str = "gen.yaml";
    pub const LEDGER: &str = ".gen/ledger.json";
    pub const SCHEMA: &str = ".gen/manifest.schema.json";
    pub const TEMPLATE: &str = "infra/template.json";
    pub const FUNCTIONS: &str = "functions";
}

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
}

/// Every file of the project, sorted by path.
pub fn generate(model: &Model) -> Result<Vec<GeneratedFile>, GenerateError> {
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

    let template = constructs::synthesize(model)?;
    add(layout::TEMPLATE.into(), template.render()?, Owner::Managed);

    let mut schema = to_pretty_json(&crate::manifest::json_schema());
    schema.push('\n');
    add(layout::SCHEMA.into(), schema, Owner::Managed);

    if !model.functions.is_empty() {
        let templates = Templates::new()?;
        for (path, contents, owner) in templates.functions(model)? {
            add(path, contents, owner);
        }
    }
    Ok(files.into_values().collect())
}

/// The embedded tera templates of generated source code.
struct Templates {
    tera: tera::Tera,
}

const FUNCTION_TEMPLATES: &[(&str, &str)] = &[
    (
        "workspace.Cargo.toml",
        include_str!("../templates/functions/workspace.Cargo.toml.tera"),
    ),
    (
        "crate.Cargo.toml",
        include_str!("../templates/functions/crate.Cargo.toml.tera"),
    ),
    (
        "main.rs",
        include_str!("../templates/functions/main.rs.tera"),
    ),
    (
        "config.rs",
        include_str!("../templates/functions/config.rs.tera"),
    ),
    (
        "handler_s3.rs",
        include_str!("../templates/functions/handler_s3.rs.tera"),
    ),
    (
        "handler_json.rs",
        include_str!("../templates/functions/handler_json.rs.tera"),
    ),
    (
        "gitignore",
        include_str!("../templates/functions/gitignore.tera"),
    ),
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
        for (name, text) in FUNCTION_TEMPLATES {
            tera.add_raw_template(name, text)
                .map_err(|e| GenerateError::Render {
                    template: name,
                    message: e.to_string(),
                })?;
        }
        Ok(Templates { tera })
    }

    fn render(&self, name: &'static str, context: &tera::Context) -> Result<String, GenerateError> {
        self.tera
            .render(name, context)
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
            let context = function_context(model, key, spec);
            let base = format!("{dir}/{key}");
            out.push((
                format!("{base}/Cargo.toml"),
                self.render("crate.Cargo.toml", &context)?,
                Owner::Managed,
            ));
            out.push((
                format!("{base}/src/main.rs"),
                self.render("main.rs", &context)?,
                Owner::Managed,
            ));
            out.push((
                format!("{base}/src/config.rs"),
                self.render("config.rs", &context)?,
                Owner::Managed,
            ));
            let handler = if spec.s3_triggers.is_empty() {
                "handler_json.rs"
            } else {
                "handler_s3.rs"
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

fn function_context(model: &Model, key: &Key, spec: &FunctionSpec) -> tera::Context {
    let mut variables: Vec<ConfigVariable> = spec
        .buckets()
        .into_iter()
        .map(|bucket| ConfigVariable {
            name: FunctionSpec::bucket_env_var(bucket),
            field: format!("{}_bucket", bucket.snake()),
            doc: format!("Name of the `{bucket}` bucket"),
        })
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
        &constructs::function_name(&model.project, key),
    );
    context.insert("s3_event", &!spec.s3_triggers.is_empty());
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

    #[test]
    fn environment_names_become_rust_fields() {
        assert_eq!(rust_field("RENDITIONS"), "renditions");
        assert_eq!(rust_field("TYPE"), "type_");
    }
}
