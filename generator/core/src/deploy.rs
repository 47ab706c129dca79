//! What `gen deploy`, `gen diff` and `gen destroy` need to know, computed purely from the model
//! and the templates: which stacks go where, which function crate fills which template
//! parameter, how a change set reads, how two templates differ. The AWS calls themselves live
//! at the I/O edge, in [`crate::deployer`].

use crate::constructs::{self, Synthesized, ids};
use crate::manifest::Architecture;
use crate::model::{Key, Model};

/// The stack `gen deploy` creates on first use in each region that needs assets (like
/// `cdk bootstrap`'s CDKToolkit): it holds the assets bucket.
pub const TOOLKIT_STACK: &str = "stackgen-toolkit";
/// The toolkit stack's output naming its assets bucket.
pub const TOOLKIT_BUCKET_OUTPUT: &str = "AssetsBucketName";
/// CloudFormation's limit for `TemplateBody`; a larger template is uploaded and passed by URL.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;
/// Where stack outputs are recorded after a deploy: `.gen/outputs/<stack>.json`.
pub const OUTPUTS_DIR: &str = ".gen/outputs";

/// One CloudFormation stack of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackTarget {
    pub name: String,
    pub region: String,
    /// Project-relative path of its template.
    pub template_path: &'static str,
    /// Whether its template takes the assets bucket and code keys as parameters.
    pub needs_assets: bool,
}

impl StackTarget {
    pub fn outputs_path(&self) -> String {
        format!("{OUTPUTS_DIR}/{}.json", self.name)
    }
}

/// A function whose code `gen deploy` builds, zips and uploads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionAsset {
    pub key: Key,
    /// The crate in the functions workspace (`functions/<key>`), whose bin is `bootstrap`.
    pub crate_name: String,
    /// The Lambda function's name.
    pub function_name: String,
    pub architecture: Architecture,
    /// The template parameter that takes the zip's S3 key.
    pub code_key_parameter: String,
}

/// Everything about deploying the app that follows from gen.yaml alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployPlan {
    /// In deploy order: the main stack first.
    pub stacks: Vec<StackTarget>,
    /// The template parameter that takes the assets bucket's name.
    pub assets_bucket_parameter: String,
    pub functions: Vec<FunctionAsset>,
    /// The main stack's output holding the API's base URL (the site's `apiUrl`).
    pub api_url_output: Option<String>,
}

impl DeployPlan {
    pub fn new(model: &Model, templates: &[Synthesized]) -> DeployPlan {
        let stacks = templates
            .iter()
            .map(|t| {
                let main = t.path == constructs::MAIN_TEMPLATE;
                StackTarget {
                    name: if main {
                        model.project.to_string()
                    } else {
                        format!("{}-billing", model.project)
                    },
                    region: t.region.clone(),
                    template_path: t.path,
                    needs_assets: t.template.parameters.contains_key(&ids::assets_bucket()),
                }
            })
            .collect();
        let functions = model
            .functions
            .iter()
            .map(|(key, spec)| FunctionAsset {
                key: key.clone(),
                crate_name: key.to_string(),
                function_name: constructs::function_name(&model.project, key),
                architecture: spec.architecture,
                code_key_parameter: ids::function_code_key(key).to_string(),
            })
            .collect();
        DeployPlan {
            stacks,
            assets_bucket_parameter: ids::assets_bucket().to_string(),
            functions,
            api_url_output: model.api.as_ref().map(|_| ids::api_url().to_string()),
        }
    }
}

/// What a deployment told us that generated files depend on (today: the site's `apiUrl`).
/// Empty until the first `gen deploy`; read from `.gen/outputs/` at the I/O edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deployed {
    pub api_url: Option<String>,
}

/// Stack outputs as recorded in `.gen/outputs/<stack>.json`: output key → value, sorted.
pub type StackOutputs = std::collections::BTreeMap<String, String>;

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

/// Reads back [`render_outputs`]' text; `None` when it is not such a file.
pub fn parse_outputs(text: &str) -> Option<StackOutputs> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let outputs = value.get("outputs")?.as_object()?;
    outputs
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(manifest: &str) -> DeployPlan {
        let model = crate::load(manifest).unwrap();
        let templates = constructs::synthesize(&model).unwrap();
        DeployPlan::new(&model, &templates)
    }

    #[test]
    fn the_example_is_one_stack_in_its_region() {
        let plan = plan_of(crate::example::MANIFEST);
        assert_eq!(
            plan.stacks.len(),
            1,
            "us-east-1 holds the billing alarm itself"
        );
        assert_eq!(plan.stacks[0].name, "video24");
        assert_eq!(plan.stacks[0].region, "us-east-1");
        assert!(plan.stacks[0].needs_assets);
        assert_eq!(plan.stacks[0].outputs_path(), ".gen/outputs/video24.json");
    }

    #[test]
    fn elsewhere_billing_is_a_second_stack_in_us_east_1_without_assets() {
        let manifest = crate::example::MANIFEST.replace("region: us-east-1", "region: eu-west-1");
        let plan = plan_of(&manifest);
        let stacks: Vec<(&str, &str, bool)> = plan
            .stacks
            .iter()
            .map(|s| (s.name.as_str(), s.region.as_str(), s.needs_assets))
            .collect();
        assert_eq!(
            stacks,
            [
                ("video24", "eu-west-1", true),
                ("video24-billing", "us-east-1", false)
            ]
        );
    }

    #[test]
    fn every_function_maps_to_a_parameter_of_the_main_template() {
        let model = crate::load(crate::example::MANIFEST).unwrap();
        let templates = constructs::synthesize(&model).unwrap();
        let plan = DeployPlan::new(&model, &templates);
        let parameters: Vec<String> = templates[0]
            .template
            .parameters
            .keys()
            .map(|k| k.to_string())
            .collect();
        assert!(parameters.contains(&plan.assets_bucket_parameter));
        let crates: Vec<&str> = plan
            .functions
            .iter()
            .map(|f| f.crate_name.as_str())
            .collect();
        assert_eq!(crates, ["authorizer", "transcode", "user-profile"]);
        for function in &plan.functions {
            assert!(
                parameters.contains(&function.code_key_parameter),
                "{function:?}"
            );
        }
        // Exactly the parameters gen deploy fills: no other parameter is left without a value.
        assert_eq!(parameters.len(), plan.functions.len() + 1);
        let outputs = &templates[0].template.outputs;
        let api_url = plan.api_url_output.as_deref().unwrap();
        assert!(outputs.keys().any(|k| k.as_str() == api_url));
    }

    #[test]
    fn outputs_round_trip_and_render_sorted() {
        let outputs = StackOutputs::from([
            ("B".to_owned(), "2".to_owned()),
            ("A".to_owned(), "1".to_owned()),
        ]);
        let text = render_outputs("app", "eu-west-1", &outputs);
        assert!(text.find("\"A\"").unwrap() < text.find("\"B\"").unwrap());
        assert!(text.ends_with("}\n"));
        assert_eq!(parse_outputs(&text), Some(outputs));
        assert_eq!(parse_outputs("{}"), None);
        assert_eq!(parse_outputs("not json"), None);
    }
}
