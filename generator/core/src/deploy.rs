//! What `gen deploy`, `gen diff` and `gen destroy` need to know, computed purely from the stack
//! graph: which stacks go where, which function crate fills which template parameter, which
//! output holds the API's URL. The AWS side (and its pure decisions: how a change set reads,
//! how two templates differ) is the `stackgen-deploy` crate.

use crate::constructs::ids;
use crate::graph::{StackGraph, StackNode, StackRole};
use crate::manifest::Architecture;
use crate::model::{Key, Model};
use crate::outputs;

pub use crate::constructs::toolkit::TOOLKIT_BUCKET_OUTPUT;
pub use crate::naming::TOOLKIT_STACK;
pub use crate::outputs::{Deployed, OUTPUTS_DIR, StackOutputs, parse_outputs, render_outputs};

/// CloudFormation's limit for `TemplateBody`; a larger template is uploaded and passed by URL.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// One CloudFormation stack `gen deploy` creates (nested stacks come with their parent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackTarget {
    pub role: StackRole,
    pub name: String,
    pub region: String,
    /// Project-relative path of its template.
    pub template_path: String,
    /// Whether its template takes the assets bucket and code keys as parameters.
    pub needs_assets: bool,
    /// Every parameter its template declares: CloudFormation refuses a value for any other,
    /// and a split root declares the code keys only of the functions it holds itself.
    pub parameters: Vec<String>,
    /// The stacks nested in it (an app split past CloudFormation's limits), in part order.
    pub nested: Vec<NestedTarget>,
}

/// A nested stack: `gen deploy` binds its code-key parameters (as their defaults), uploads
/// the template by content hash and passes its URL to the parent's parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedTarget {
    pub part: String,
    /// For people: CloudFormation names the deployed stack after its parent and resource.
    pub name: String,
    /// Project-relative path of its template.
    pub template_path: String,
    /// The parent's `AWS::CloudFormation::Stack` resource that contains it.
    pub resource_id: String,
    /// The parent's parameter taking the uploaded template's URL.
    pub template_url_parameter: String,
    /// The code-key parameters of its own functions (bound before upload).
    pub code_key_parameters: Vec<String>,
}

impl StackTarget {
    fn new(node: &StackNode, graph: &StackGraph) -> StackTarget {
        let nested = graph
            .nested_in(&node.role)
            .map(|child| {
                let StackRole::Nested { part, .. } = &child.role else {
                    unreachable!("nested_in gives nested stacks")
                };
                NestedTarget {
                    part: part.clone(),
                    name: child.name.clone(),
                    template_path: child.template_path.clone(),
                    resource_id: crate::graph::nested_stack_id(part).to_string(),
                    template_url_parameter: crate::split::template_url_parameter(part).to_string(),
                    code_key_parameters: child
                        .template
                        .parameters
                        .keys()
                        .filter(|id| child.template.groups.contains_key(*id))
                        .map(ToString::to_string)
                        .collect(),
                }
            })
            .collect();
        StackTarget {
            role: node.role.clone(),
            name: node.name.clone(),
            region: node.region.clone(),
            template_path: node.template_path.clone(),
            needs_assets: node.template.parameters.contains_key(&ids::assets_bucket()),
            parameters: node
                .template
                .parameters
                .keys()
                .map(ToString::to_string)
                .collect(),
            nested,
        }
    }

    pub fn outputs_path(&self) -> String {
        outputs::outputs_path(&self.name)
    }

    /// The app's own stack: the one `--region` moves (billing metrics stay in us-east-1).
    pub fn is_app(&self) -> bool {
        self.role == StackRole::App
    }
}

/// A nested template as `gen deploy` uploads it: each of `defaults` (its code-key parameters
/// → the zips' S3 keys) becomes that parameter's `Default`. The parent cannot pass them: a
/// root stack holds at most 200 parameters, an app of 1,000 functions has 1,000 code keys.
/// The upload's content hash then changes exactly when the template or one of its own
/// functions' code does, so the other nested stacks' URLs, hence the stacks, stay unchanged.
pub fn bind_defaults(
    template: &str,
    defaults: &std::collections::BTreeMap<String, String>,
) -> Result<String, BindError> {
    let mut value: serde_json::Value =
        serde_json::from_str(template).map_err(|e| BindError::NotJson(e.to_string()))?;
    let parameters = value
        .get_mut("Parameters")
        .and_then(serde_json::Value::as_object_mut);
    let mut parameters = match parameters {
        Some(parameters) => Some(parameters),
        None if defaults.is_empty() => None,
        None => {
            return Err(BindError::NoParameter(
                defaults.keys().next().cloned().unwrap_or_default(),
            ));
        }
    };
    for (name, key) in defaults {
        let parameter = parameters
            .as_mut()
            .and_then(|p| p.get_mut(name))
            .and_then(serde_json::Value::as_object_mut)
            .ok_or_else(|| BindError::NoParameter(name.clone()))?;
        parameter.insert("Default".to_owned(), serde_json::Value::String(key.clone()));
    }
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
    text.push('\n');
    Ok(text)
}

/// Why a nested template could not be bound (a generated one always can).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BindError {
    #[error("the template is not JSON: {0}")]
    NotJson(String),
    #[error("the template declares no parameter `{0}`")]
    NoParameter(String),
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

/// The hosted website: after its stack deploys, `gen deploy` syncs `site/` to the bucket named
/// by one output and invalidates the distribution named by another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteTarget {
    /// The stack that declares the outputs.
    pub stack: String,
    /// Project-relative directory whose files are uploaded (`site`).
    pub dir: String,
    pub bucket_output: String,
    pub distribution_output: String,
    pub url_output: String,
}

/// Everything about deploying the app that follows from gen.yaml alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployPlan {
    /// In deploy order (the graph's): the app's stack first.
    pub stacks: Vec<StackTarget>,
    /// The template parameter that takes the assets bucket's name.
    pub assets_bucket_parameter: String,
    pub functions: Vec<FunctionAsset>,
    /// The output holding the API's base URL (the site's `apiUrl`), and its stack.
    pub api_url_output: Option<String>,
    /// The hosted site, when gen.yaml hosts one (`site.hosting`).
    pub site: Option<SiteTarget>,
}

impl DeployPlan {
    pub fn new(model: &Model, graph: &StackGraph) -> DeployPlan {
        let functions = model
            .functions
            .iter()
            .map(|(key, spec)| FunctionAsset {
                key: key.clone(),
                crate_name: key.to_string(),
                function_name: model.naming.function(key).into_string(),
                architecture: spec.architecture,
                code_key_parameter: ids::function_code_key(key).to_string(),
            })
            .collect();
        DeployPlan {
            stacks: graph
                .top_level()
                .map(|node| StackTarget::new(node, graph))
                .collect(),
            assets_bucket_parameter: ids::assets_bucket().to_string(),
            functions,
            api_url_output: graph
                .with_output(&ids::api_url())
                .map(|_| ids::api_url().to_string()),
            site: graph
                .with_output(&ids::site_bucket_name())
                .map(|stack| SiteTarget {
                    stack: stack.name.clone(),
                    dir: crate::layout::SITE.to_owned(),
                    bucket_output: ids::site_bucket_name().to_string(),
                    distribution_output: ids::site_distribution_id().to_string(),
                    url_output: ids::site_url().to_string(),
                }),
        }
    }

    /// The app's own stack.
    pub fn app(&self) -> Option<&StackTarget> {
        self.stacks.iter().find(|s| s.is_app())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(manifest: &str) -> DeployPlan {
        let model = crate::load(manifest).unwrap();
        let graph = crate::constructs::synthesize(&model).unwrap();
        DeployPlan::new(&model, &graph)
    }

    #[test]
    fn binding_sets_each_code_key_default_and_nothing_else() {
        let template = r#"{"Parameters": {"B": {"Type": "String"}, "A": {"Type": "String"}}, "Resources": {}}"#;
        let defaults = [("A".to_owned(), "assets/1.zip".to_owned())].into();
        let bound = bind_defaults(template, &defaults).unwrap();
        let value: serde_json::Value = serde_json::from_str(&bound).unwrap();
        assert_eq!(value["Parameters"]["A"]["Default"], "assets/1.zip");
        assert!(value["Parameters"]["B"].get("Default").is_none());
        // Order kept, same input same bytes: the upload's key is its content hash.
        assert!(bound.find("\"B\"").unwrap() < bound.find("\"A\"").unwrap());
        assert_eq!(bound, bind_defaults(template, &defaults).unwrap());
        let missing = [("C".to_owned(), "k".to_owned())].into();
        assert_eq!(
            bind_defaults(template, &missing),
            Err(BindError::NoParameter("C".into()))
        );
    }

    #[test]
    fn the_example_is_one_stack_in_its_region() {
        let plan = plan_of(&crate::example::unstaged());
        assert_eq!(
            plan.stacks.len(),
            1,
            "us-east-1 holds the billing alarm itself"
        );
        assert_eq!(plan.stacks[0].name, "video24");
        assert_eq!(plan.stacks[0].region, "us-east-1");
        assert!(plan.stacks[0].needs_assets);
        assert_eq!(plan.stacks[0].outputs_path(), ".gen/outputs/video24.json");
        assert_eq!(plan.app(), Some(&plan.stacks[0]));
    }

    #[test]
    fn elsewhere_billing_is_a_second_stack_in_us_east_1_without_assets() {
        let manifest = crate::example::unstaged().replace("region: us-east-1", "region: eu-west-1");
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
        let model = crate::load(&crate::example::unstaged()).unwrap();
        let graph = crate::constructs::synthesize(&model).unwrap();
        let plan = DeployPlan::new(&model, &graph);
        let app = graph.get(&StackRole::App).unwrap();
        let parameters: Vec<String> = app
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
        let outputs = &app.template.outputs;
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
        assert_eq!(parse_outputs(&text), Some(("app".to_owned(), outputs)));
        assert_eq!(parse_outputs("{}"), None);
        assert_eq!(parse_outputs("not json"), None);
    }
}
