//! Construct tests: the shapes each construct emits, read from synthesized templates as JSON.
//! Helpers shared by the files below.

mod api;
mod general;
mod security;
mod site;
mod tables;

use serde_json::Value as J;

/// Every template a manifest synthesizes, as JSON (main first).
pub fn synth(manifest: &str) -> Vec<J> {
    let model = crate::load(manifest).expect("valid manifest");
    crate::constructs::synthesize(&model)
        .expect("synthesizes")
        .into_stacks()
        .into_iter()
        .map(|s| s.template.to_json())
        .collect()
}

/// The example's main template as JSON.
pub fn example() -> J {
    synth(&crate::example::unstaged()).remove(0)
}

/// The template's resources of one type, by logical ID.
pub fn of_type<'a>(t: &'a J, resource_type: &str) -> Vec<(&'a String, &'a J)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == resource_type)
        .collect()
}
