//! Stages: which environments the manifest declares, and the rules on them that hold across
//! stages (keys, regions, accounts, at most one default and one that keeps the old names).
//! Each stage's own model is the base manifest with its overrides applied
//! (`manifest::stage::apply`), validated like any manifest.

use super::{KeyKind, REGIONS, Validator};
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest::{Manifest, SourceMap};
use crate::model::Key;

/// Stage keys go into every physical name: kept short.
pub const MAX_STAGE_KEY: usize = 12;

/// One stage of the app, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageSpec {
    pub key: Key,
    /// The region it deploys to (the manifest's unless the stage sets one).
    pub region: String,
    /// The account the credentials must belong to.
    pub account: Option<String>,
    pub protect: bool,
    pub default: bool,
    /// Its names are the project's names before it had stages.
    pub keep_names: bool,
}

/// The manifest's stages, in key order, with the default one marked (`default: true`, else the
/// first). Empty when it declares none.
pub fn stages(
    manifest: &Manifest,
    source_map: &SourceMap,
) -> Result<Vec<StageSpec>, Vec<Diagnostic>> {
    let mut v = Validator {
        source_map,
        diagnostics: Vec::new(),
        stage: None,
    };
    let mut out: Vec<StageSpec> = Vec::new();
    for (key, stage) in &manifest.stages {
        let path = format!("stages.{key}");
        let k = v.key(&path, key, KeyKind::Stage);
        if key.len() > MAX_STAGE_KEY {
            v.key_error(
                Diagnostic::new(
                    &path,
                    format!("the stage key `{key}` is {} characters", key.len()),
                )
                .expected(format!(
                    "at most {MAX_STAGE_KEY} characters: it goes into every physical name"
                ))
                .hint("use a short key such as `dev`, `staging` or `prod`"),
            );
        }
        let region = stage
            .region
            .clone()
            .unwrap_or_else(|| manifest.region.clone());
        if stage.region.is_some() && !REGIONS.contains(&region.as_str()) {
            v.error(
                Diagnostic::new(
                    format!("{path}.region"),
                    format!("unknown region `{region}`"),
                )
                .expected("an AWS region code such as `us-east-1` or `eu-west-1`")
                .maybe_hint(did_you_mean_hint(&region, REGIONS.iter().copied())),
            );
        }
        if let Some(account) = &stage.account
            && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        {
            v.error(
                Diagnostic::new(
                    format!("{path}.account"),
                    format!("`{account}` is not an AWS account ID"),
                )
                .expected("12 digits, quoted: \"123456789012\"")
                .hint("`aws sts get-caller-identity` prints the account of your credentials"),
            );
        }
        out.push(StageSpec {
            key: k,
            region,
            account: stage.account.clone(),
            protect: stage.protect,
            default: stage.default,
            keep_names: stage.keep_names,
        });
    }
    type Flag = fn(&StageSpec) -> bool;
    let flags: [(Flag, &str); 2] = [(|s| s.default, "default"), (|s| s.keep_names, "keep_names")];
    for (flag, what) in flags {
        let marked: Vec<&StageSpec> = out.iter().filter(|s| flag(s)).collect();
        if let [first, second, ..] = marked.as_slice() {
            let (_, later) = v.in_file_order(
                format!("stages.{}.{what}", first.key),
                format!("stages.{}.{what}", second.key),
            );
            v.error(
                Diagnostic::new(
                    later,
                    format!(
                        "stages `{}` and `{}` both set `{what}: true`",
                        first.key, second.key
                    ),
                )
                .expected(format!("at most one stage with `{what}: true`")),
            );
        }
    }
    if !out.is_empty() && !out.iter().any(|s| s.default) {
        out[0].default = true;
    }
    if v.diagnostics.is_empty() {
        Ok(out)
    } else {
        v.diagnostics.sort_by_key(|d| d.position);
        Err(v.diagnostics)
    }
}
