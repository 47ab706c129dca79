//! What a deployment told us: each deployed stack's outputs, recorded by `gen deploy` in
//! `.gen/outputs/<stack>.json` and read back at the I/O edge. Generated files that depend on a
//! deployment (the site's `config.js` and its API URL) are made from these, found through the
//! stack graph — never by a stack's name or position.

use std::collections::BTreeMap;

use crate::cfn::LogicalId;
use crate::graph::StackGraph;

/// Where stack outputs are recorded after a deploy: `.gen/outputs/<stack>.json`.
pub const OUTPUTS_DIR: &str = ".gen/outputs";

/// Stack outputs: output key → value, sorted.
pub type StackOutputs = BTreeMap<String, String>;

/// The project-relative path of a stack's recorded outputs.
pub fn outputs_path(stack: &str) -> String {
    format!("{OUTPUTS_DIR}/{stack}.json")
}

/// Every recorded stack's outputs, by stack name. Empty until the first `gen deploy`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deployed {
    pub stacks: BTreeMap<String, StackOutputs>,
}

impl Deployed {
    /// The deployed value of `output`, from the stack of `graph` that declares it.
    pub fn output(&self, graph: &StackGraph, output: &LogicalId) -> Option<&str> {
        let stack = graph.with_output(output)?;
        self.stacks
            .get(&stack.name)?
            .get(output.as_str())
            .map(String::as_str)
    }
}

/// The recorded outputs file's text: stable, pretty, newline-terminated.
pub fn render_outputs(stack: &str, region: &str, outputs: &StackOutputs) -> String {
    let value = serde_json::json!({
        "stack": stack,
        "region": region,
        "outputs": outputs,
    });
    let mut text = crate::cfn::to_pretty_json(&value);
    text.push('\n');
    text
}

/// Reads back [`render_outputs`]' text: the stack's name and its outputs; `None` when it is
/// not such a file.
pub fn parse_outputs(text: &str) -> Option<(String, StackOutputs)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let stack = value.get("stack")?.as_str()?.to_owned();
    let outputs = value.get("outputs")?.as_object()?;
    let outputs = outputs
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect::<Option<StackOutputs>>()?;
    Some((stack, outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_outputs_round_trip() {
        let outputs = StackOutputs::from([("ApiUrl".to_owned(), "https://x/v1".to_owned())]);
        let text = render_outputs("video24", "us-east-1", &outputs);
        assert_eq!(parse_outputs(&text), Some(("video24".to_owned(), outputs)));
        assert_eq!(parse_outputs("{}"), None);
    }

    #[test]
    fn a_deployed_output_is_found_through_the_graph() {
        let model = crate::load(&crate::example::unstaged()).unwrap();
        let graph = crate::constructs::synthesize(&model).unwrap();
        let api_url = crate::constructs::ids::api_url();
        let mut deployed = Deployed::default();
        deployed.stacks.insert(
            "someone-else".into(),
            StackOutputs::from([(api_url.to_string(), "https://wrong".to_owned())]),
        );
        assert_eq!(deployed.output(&graph, &api_url), None);
        deployed.stacks.insert(
            model
                .naming
                .stack(crate::graph::StackRole::App)
                .into_string(),
            StackOutputs::from([(api_url.to_string(), "https://right".to_owned())]),
        );
        assert_eq!(deployed.output(&graph, &api_url), Some("https://right"));
    }
}
