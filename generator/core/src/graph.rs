//! The stack graph: the synthesized app as the set of CloudFormation stacks it deploys.
//!
//! Each stack has a role (the app, its us-east-1 billing stack, later nested parts and one set
//! per stage), a physical name from [`crate::naming`], a region and a template. A construct in
//! one stack may refer to a resource of another with [`import`]; [`StackGraph::new`] links
//! every such reference the way CloudFormation can carry it:
//!
//! - parent → nested stack: an output of the nested stack, read with
//!   `GetAtt <NestedStack>.Outputs.<Output>`;
//! - nested stack → parent: a parameter of the nested stack, passed by the parent's
//!   `AWS::CloudFormation::Stack` resource;
//! - nested → sibling nested: an output of one, passed as a parameter of the other by their
//!   parent;
//!
//! and refuses, at synthesis time, what CloudFormation cannot carry: references across regions
//! and between stacks deployed on their own (that would need Export/ImportValue, which freezes
//! the exporting resource for as long as anything imports it). Every template is checked
//! (`Template::check`) after linking, so no dangling or unlinked reference reaches a file.
//!
//! Everything downstream — project files, cost, deploy, diff, destroy, config.js — walks the
//! graph; none of it knows a stack by its name or its position.

use std::collections::BTreeMap;

use crate::cfn::{
    CrossStack, Import, LogicalId, Output, Parameter, ParameterType, Sub, Template, TemplateError,
    Value,
};
use crate::constructs::policy::PolicyRecord;

/// What a stack is for. Ordered so that a graph lists parents before the stacks they contain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackRole {
    /// The app: buckets, functions, API, IAM, alerts … in the manifest's region.
    App,
    /// The billing alarm with its own topic, in us-east-1 (the only region where AWS publishes
    /// billing metrics) when the app lives elsewhere.
    Billing,
    /// A part of `parent`, deployed as its nested stack (`AWS::CloudFormation::Stack`).
    Nested {
        parent: Box<StackRole>,
        part: String,
    },
}

impl StackRole {
    /// A stable key (`app`, `billing`, `app/functions-1`): what [`Import`]s name.
    pub fn key(&self) -> String {
        match self {
            StackRole::App => "app".to_owned(),
            StackRole::Billing => "billing".to_owned(),
            StackRole::Nested { parent, part } => format!("{}/{part}", parent.key()),
        }
    }

    /// The stack this one is nested in.
    pub fn parent(&self) -> Option<&StackRole> {
        match self {
            StackRole::Nested { parent, .. } => Some(parent),
            StackRole::App | StackRole::Billing => None,
        }
    }
}

/// One stack of the app, synthesized.
#[derive(Clone, Debug)]
pub struct StackNode {
    pub role: StackRole,
    /// The stack's name in CloudFormation (for a nested stack, CloudFormation derives the
    /// deployed name from its parent's; this one is for people).
    pub name: String,
    /// The region the stack is deployed to.
    pub region: String,
    /// Project-relative path of the template file.
    pub template_path: String,
    pub template: Template,
    /// Every policy document in the template.
    pub policies: Vec<PolicyRecord>,
    /// What `Ref`s and `GetAtt`s in policy documents stand for (`Id` / `Id.Attr` → value), so
    /// standalone policy files can show real ARNs.
    pub known: BTreeMap<String, Sub>,
}

impl StackNode {
    /// Whether `gen deploy` creates this stack itself (nested stacks come with their parent).
    pub fn is_top_level(&self) -> bool {
        self.role.parent().is_none()
    }
}

/// The app's stacks, linked and checked.
#[derive(Clone, Debug)]
pub struct StackGraph {
    /// In deploy order: every stack after the one it is nested in.
    stacks: Vec<StackNode>,
    /// Which stack holds each function (recorded in `.gen/placement.json`).
    placement: crate::split::Placement,
}

/// A reference from a construct in one stack to `Ref id` (attribute `None`) or
/// `GetAtt id.attribute` in the stack of role `stack`.
pub fn import(stack: &StackRole, id: &LogicalId, attribute: Option<&str>) -> Value {
    Value::import(stack.key(), id, attribute)
}

/// The resource by which a parent stack contains its nested stack `part`.
pub fn nested_stack_id(part: &str) -> LogicalId {
    LogicalId::from_path(&["stack", part])
}

impl StackGraph {
    /// Links every cross-stack reference, then checks every template.
    pub fn new(mut stacks: Vec<StackNode>) -> Result<StackGraph, TemplateError> {
        stacks.sort_by(|a, b| a.role.cmp(&b.role));
        link(&mut stacks)?;
        for stack in &stacks {
            stack.template.check()?;
        }
        Ok(StackGraph {
            stacks,
            placement: crate::split::Placement::default(),
        })
    }

    /// The graph of a split (or unsplit) app, with where its functions are.
    pub(crate) fn with_placement(mut self, placement: crate::split::Placement) -> StackGraph {
        self.placement = placement;
        self
    }

    /// Which stack holds each function.
    pub fn placement(&self) -> &crate::split::Placement {
        &self.placement
    }

    /// The stacks nested in `parent`.
    pub fn nested_in<'a>(&'a self, parent: &'a StackRole) -> impl Iterator<Item = &'a StackNode> {
        self.stacks
            .iter()
            .filter(move |s| s.role.parent() == Some(parent))
    }

    /// Every stack, parents before the stacks nested in them.
    pub fn stacks(&self) -> &[StackNode] {
        &self.stacks
    }

    /// The stacks, in [`StackGraph::stacks`]' order (the app's own first).
    pub fn into_stacks(self) -> Vec<StackNode> {
        self.stacks
    }

    pub fn get(&self, role: &StackRole) -> Option<&StackNode> {
        self.stacks.iter().find(|s| &s.role == role)
    }

    /// The stacks `gen deploy` creates, in order (nested stacks come with their parent).
    pub fn top_level(&self) -> impl Iterator<Item = &StackNode> {
        self.stacks.iter().filter(|s| s.is_top_level())
    }

    /// The top-level stack whose outputs include `output`.
    pub fn with_output(&self, output: &LogicalId) -> Option<&StackNode> {
        self.top_level()
            .find(|s| s.template.outputs.contains_key(output))
    }
}

/// An edit to a stack other than the one being linked, applied once every stack is walked.
enum Edit {
    Output {
        stack: usize,
        id: LogicalId,
        output: Output,
    },
    Parameter {
        stack: usize,
        id: LogicalId,
        description: String,
    },
    /// `Parameters.<parameter>: value` on `parent`'s nested-stack resource for `part`.
    Pass {
        parent: usize,
        part: String,
        parameter: LogicalId,
        value: Value,
    },
}

fn link(stacks: &mut [StackNode]) -> Result<(), TemplateError> {
    let index: BTreeMap<String, usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.role.key(), i))
        .collect();
    let mut edits = Vec::new();
    for from in 0..stacks.len() {
        let mut template = std::mem::replace(&mut stacks[from].template, Template::new(""));
        let mut link_one = |owner: &str, import: &Import| {
            link_import(stacks, &index, from, owner, import, &mut edits)
        };
        let mut result = Ok(());
        for (id, resource) in &mut template.resources {
            for value in resource.properties.values_mut() {
                result = result
                    .and_then(|()| value.link_imports(&mut |import| link_one(id.as_str(), import)));
            }
        }
        for (id, output) in &mut template.outputs {
            result = result.and_then(|()| {
                output
                    .value
                    .link_imports(&mut |import| link_one(id.as_str(), import))
            });
        }
        stacks[from].template = template;
        result?;
    }
    for edit in edits {
        match edit {
            Edit::Output { stack, id, output } => {
                stacks[stack].template.outputs.entry(id).or_insert(output);
            }
            Edit::Parameter {
                stack,
                id,
                description,
            } => {
                stacks[stack]
                    .template
                    .parameters
                    .entry(id)
                    .or_insert(Parameter {
                        parameter_type: ParameterType::String,
                        description,
                        allowed_pattern: None,
                        constraint_description: None,
                    });
            }
            Edit::Pass {
                parent,
                part,
                parameter,
                value,
            } => {
                let id = nested_stack_id(&part);
                let parent_stack = &mut stacks[parent];
                let Some(resource) = parent_stack.template.resources.get_mut(&id) else {
                    return Err(TemplateError::NoSuchResource {
                        from: parameter.to_string(),
                        to: id.to_string(),
                        stack: parent_stack.name.clone(),
                    });
                };
                let parameters = resource
                    .properties
                    .entry("Parameters".to_owned())
                    .or_insert_with(|| Value::Map(BTreeMap::new()));
                if let Value::Map(map) = parameters {
                    map.insert(parameter.to_string(), value);
                }
            }
        }
    }
    Ok(())
}

/// What `import`, found in `owner` of stack `from`, becomes there; other stacks' edits go to
/// `edits`.
fn link_import(
    stacks: &[StackNode],
    index: &BTreeMap<String, usize>,
    from: usize,
    owner: &str,
    import: &Import,
    edits: &mut Vec<Edit>,
) -> Result<Value, TemplateError> {
    let source = &stacks[from];
    let Some(&to) = index.get(&import.stack) else {
        return Err(TemplateError::NoSuchResource {
            from: owner.to_owned(),
            to: import.to_string(),
            stack: import.stack.clone(),
        });
    };
    let target = &stacks[to];
    // The template being linked is taken out of `stacks` while it is walked: a reference to
    // its own stack is resolved without looking the resource up here (`check` does that).
    if to == from {
        return Ok(import.local());
    }
    let exists = target.template.resources.contains_key(&import.id)
        || (import.attribute.is_none() && target.template.parameters.contains_key(&import.id));
    if !exists {
        return Err(TemplateError::NoSuchResource {
            from: owner.to_owned(),
            to: import.to_string(),
            stack: target.name.clone(),
        });
    }
    let cross = || {
        Box::new(CrossStack {
            from: owner.to_owned(),
            from_stack: source.name.clone(),
            from_region: source.region.clone(),
            to: import.to_string(),
            to_stack: target.name.clone(),
            to_region: target.region.clone(),
        })
    };
    if source.region != target.region {
        return Err(TemplateError::CrossRegion(cross()));
    }
    let attribute = import.attribute.as_deref().unwrap_or("Ref");
    let carried = [import.stack.as_str(), import.id.as_str(), attribute];
    let output_id = LogicalId::from_path(&[&["export"][..], &carried].concat());
    let parameter_id = LogicalId::from_path(&[&["import"][..], &carried].concat());
    let output = || Output {
        description: format!("{import}, for the stacks that share it"),
        value: import.local(),
    };
    let parameter = || Edit::Parameter {
        stack: from,
        id: parameter_id.clone(),
        description: format!("{import} (passed by the parent stack)"),
    };
    let part_of = |role: &StackRole| match role {
        StackRole::Nested { part, .. } => part.clone(),
        StackRole::App | StackRole::Billing => unreachable!("only nested stacks have parts"),
    };
    let from_parent = source.role.parent();
    let to_parent = target.role.parent();
    if from_parent == Some(&target.role) {
        // Nested → its parent: the parent passes the value in.
        edits.push(parameter());
        edits.push(Edit::Pass {
            parent: to,
            part: part_of(&source.role),
            parameter: parameter_id.clone(),
            value: import.local(),
        });
        Ok(Value::reference(&parameter_id))
    } else if to_parent == Some(&source.role) {
        // Parent → its nested stack: read the nested stack's output.
        edits.push(Edit::Output {
            stack: to,
            id: output_id.clone(),
            output: output(),
        });
        Ok(Value::get_att(
            &nested_stack_id(&part_of(&target.role)),
            &format!("Outputs.{output_id}"),
        ))
    } else if let (Some(a), Some(b)) = (from_parent, to_parent)
        && a == b
    {
        // Siblings: the parent passes one's output to the other.
        let parent = index[&a.key()];
        edits.push(Edit::Output {
            stack: to,
            id: output_id.clone(),
            output: output(),
        });
        edits.push(parameter());
        edits.push(Edit::Pass {
            parent,
            part: part_of(&source.role),
            parameter: parameter_id.clone(),
            value: Value::get_att(
                &nested_stack_id(&part_of(&target.role)),
                &format!("Outputs.{output_id}"),
            ),
        });
        Ok(Value::reference(&parameter_id))
    } else {
        Err(TemplateError::SeparateStacks(cross()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Resource;
    use serde_json::json;

    fn node(role: StackRole, region: &str) -> StackNode {
        StackNode {
            name: role.key().replace('/', "-"),
            role,
            region: region.to_owned(),
            template_path: String::new(),
            template: Template::new("test"),
            policies: Vec::new(),
            known: BTreeMap::new(),
        }
    }

    fn part(name: &str) -> StackRole {
        StackRole::Nested {
            parent: Box::new(StackRole::App),
            part: name.to_owned(),
        }
    }

    fn topic() -> LogicalId {
        LogicalId::from_path(&["alerts", "Topic"])
    }

    /// The app with a topic, and nested stacks `a` and `b` (each a queue).
    fn app_with_parts() -> Vec<StackNode> {
        let mut app = node(StackRole::App, "eu-west-1");
        app.template.add(topic(), Resource::new("AWS::SNS::Topic"));
        for p in ["a", "b"] {
            app.template.add(
                nested_stack_id(p),
                Resource::new("AWS::CloudFormation::Stack").prop("TemplateURL", "https://x"),
            );
        }
        let mut a = node(part("a"), "eu-west-1");
        a.template.add(
            LogicalId::from_path(&["queue"]),
            Resource::new("AWS::SQS::Queue"),
        );
        let b = node(part("b"), "eu-west-1");
        vec![a, b, app]
    }

    fn json_of(graph: &StackGraph, role: &StackRole) -> serde_json::Value {
        graph.get(role).unwrap().template.to_json()
    }

    #[test]
    fn a_nested_stack_gets_its_parents_resource_as_a_parameter() {
        let mut stacks = app_with_parts();
        stacks[0].template.add(
            LogicalId::from_path(&["alarm"]),
            Resource::new("AWS::CloudWatch::Alarm").prop(
                "AlarmActions",
                vec![import(&StackRole::App, &topic(), None)],
            ),
        );
        let graph = StackGraph::new(stacks).unwrap();
        // Parents first.
        assert_eq!(graph.stacks()[0].role, StackRole::App);
        let a = json_of(&graph, &part("a"));
        let (parameter, _) = a["Parameters"].as_object().unwrap().iter().next().unwrap();
        let alarm = LogicalId::from_path(&["alarm"]);
        assert_eq!(
            a["Resources"][alarm.as_str()]["Properties"]["AlarmActions"],
            json!([{ "Ref": parameter }])
        );
        let app = json_of(&graph, &StackRole::App);
        assert_eq!(
            app["Resources"][nested_stack_id("a").as_str()]["Properties"]["Parameters"][parameter],
            json!({ "Ref": topic().as_str() })
        );
    }

    #[test]
    fn a_parent_reads_its_nested_stacks_output() {
        let mut stacks = app_with_parts();
        let queue = LogicalId::from_path(&["queue"]);
        stacks[2].template.add_output(
            LogicalId::from_path(&["queue", "Arn"]),
            Output {
                description: "the queue".into(),
                value: import(&part("a"), &queue, Some("Arn")),
            },
        );
        let graph = StackGraph::new(stacks).unwrap();
        let a = json_of(&graph, &part("a"));
        let (output, value) = a["Outputs"].as_object().unwrap().iter().next().unwrap();
        assert_eq!(
            value["Value"],
            json!({ "Fn::GetAtt": [queue.as_str(), "Arn"] })
        );
        let app = json_of(&graph, &StackRole::App);
        assert_eq!(
            app["Outputs"][LogicalId::from_path(&["queue", "Arn"]).as_str()]["Value"],
            json!({ "Fn::GetAtt": [nested_stack_id("a").as_str(), format!("Outputs.{output}")] })
        );
    }

    #[test]
    fn siblings_share_through_their_parent() {
        let mut stacks = app_with_parts();
        let queue = LogicalId::from_path(&["queue"]);
        stacks[1].template.add(
            LogicalId::from_path(&["policy"]),
            Resource::new("AWS::SQS::QueuePolicy")
                .prop("Queues", vec![import(&part("a"), &queue, None)]),
        );
        let graph = StackGraph::new(stacks).unwrap();
        let a = json_of(&graph, &part("a"));
        let b = json_of(&graph, &part("b"));
        let (output, _) = a["Outputs"].as_object().unwrap().iter().next().unwrap();
        let (parameter, _) = b["Parameters"].as_object().unwrap().iter().next().unwrap();
        let app = json_of(&graph, &StackRole::App);
        assert_eq!(
            app["Resources"][nested_stack_id("b").as_str()]["Properties"]["Parameters"][parameter],
            json!({ "Fn::GetAtt": [nested_stack_id("a").as_str(), format!("Outputs.{output}")] })
        );
    }

    #[test]
    fn references_across_regions_or_between_separate_stacks_are_refused() {
        let mut app = node(StackRole::App, "eu-west-1");
        app.template.add(topic(), Resource::new("AWS::SNS::Topic"));
        let mut billing = node(StackRole::Billing, "us-east-1");
        billing.template.add(
            LogicalId::from_path(&["alarm"]),
            Resource::new("AWS::CloudWatch::Alarm").prop(
                "AlarmActions",
                vec![import(&StackRole::App, &topic(), None)],
            ),
        );
        let error = StackGraph::new(vec![app.clone(), billing.clone()]).unwrap_err();
        assert!(matches!(error, TemplateError::CrossRegion(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("cannot pass values between regions")
        );
        billing.region = "eu-west-1".into();
        let error = StackGraph::new(vec![app, billing]).unwrap_err();
        assert!(matches!(error, TemplateError::SeparateStacks(_)), "{error}");
    }

    #[test]
    fn a_reference_to_a_missing_resource_is_refused_and_an_unlinked_one_never_passes_check() {
        let mut stacks = app_with_parts();
        stacks[0].template.add(
            LogicalId::from_path(&["alarm"]),
            Resource::new("AWS::CloudWatch::Alarm").prop(
                "AlarmActions",
                vec![import(
                    &StackRole::App,
                    &LogicalId::from_path(&["nope"]),
                    None,
                )],
            ),
        );
        assert!(matches!(
            StackGraph::new(stacks).unwrap_err(),
            TemplateError::NoSuchResource { .. }
        ));
        let mut template = Template::new("t");
        template.add(
            LogicalId::from_path(&["alarm"]),
            Resource::new("AWS::CloudWatch::Alarm").prop(
                "AlarmActions",
                vec![import(&StackRole::App, &topic(), None)],
            ),
        );
        assert!(matches!(
            template.check().unwrap_err(),
            TemplateError::UnlinkedImport { .. }
        ));
    }
}
