//! Where things go in a user project (paths relative to the directory holding `gen.yaml`).
//! A manifest with stages gets each stage's templates and policies in a directory of its own;
//! one without keeps the paths it always had.

use crate::graph::StackRole;
use crate::model::Key;

pub const MANIFEST: &str = "gen.yaml";
pub const LEDGER: &str = ".gen/ledger.json";
pub const SCHEMA: &str = ".gen/manifest.schema.json";
/// Which stack holds each function (committed, like the ledger: a placed function never moves).
pub const PLACEMENT: &str = ".gen/placement.json";
/// Machine-local state (file stamps), never committed: the directory ignores itself in git.
pub const CACHE_DIR: &str = ".gen/cache";
/// What the last build saw and left ([`crate::fresh::BuildRecord`]).
pub const BUILD_RECORD: &str = ".gen/cache/build.json";
/// The run lock (flock) that keeps two gens from writing one project at once; it holds the
/// writer's `PID command`. Machine-local, so in the cache (stackgen-workspace's `lock.rs`).
pub const LOCK: &str = ".gen/cache/lock";
pub const TEMPLATE: &str = "infra/template.json";
pub const BILLING_TEMPLATE: &str = "infra/billing-us-east-1.template.json";
pub const POLICIES: &str = "policies";
pub const SITE: &str = "site";
pub const FUNCTIONS: &str = "functions";

/// The template file of a stack: `infra/template.json`, or `infra/<stage>/template.json`.
pub fn template(stage: Option<&Key>, role: &StackRole) -> String {
    let file = match role {
        StackRole::App => "template.json".to_owned(),
        StackRole::Billing => "billing-us-east-1.template.json".to_owned(),
        StackRole::Nested { part, .. } => format!("nested/{part}.template.json"),
    };
    match stage {
        None => format!("infra/{file}"),
        Some(stage) => format!("infra/{stage}/{file}"),
    }
}

/// Where the standalone policy documents of a stage go.
pub fn policies_dir(stage: Option<&Key>) -> String {
    match stage {
        None => POLICIES.to_owned(),
        Some(stage) => format!("{POLICIES}/{stage}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_stages_the_paths_are_what_they_always_were() {
        assert_eq!(template(None, &StackRole::App), TEMPLATE);
        assert_eq!(template(None, &StackRole::Billing), BILLING_TEMPLATE);
        let prod = Key::parse_generated("prod");
        assert_eq!(
            template(Some(&prod), &StackRole::App),
            "infra/prod/template.json"
        );
        assert_eq!(policies_dir(Some(&prod)), "policies/prod");
    }
}
