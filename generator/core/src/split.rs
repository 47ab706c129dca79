//! Splitting an app too large for one CloudFormation stack into its root stack and nested
//! stacks, without ever moving a placed function.
//!
//! Constructs build one app template as always; every resource, parameter and output that
//! belongs to one function (its role, log group, alarms, permissions, queue, code key …) is
//! tagged with the function's key (`Template::groups`). When the template fits every
//! CloudFormation limit and no function was placed in a nested stack before, nothing happens:
//! small apps keep exactly their single template. Otherwise each function's group goes to
//! where the previous build placed it ([`Placement`], recorded in `.gen/placement.json`), and
//! a new function goes to the first nested stack with room, or opens one named after it.
//! Shared resources (buckets, topic, API, IAM, secrets, trail, site) stay in the root.
//!
//! Why a record rather than a rule: a Lambda function has a fixed physical name, so moving it
//! between stacks means deleting it in one and creating it in the other in one update, which
//! CloudFormation fails ("already exists") or, worse, does with an outage. No rule over the
//! current key set alone can keep every function in place as others come and go (hashing into
//! N stacks moves functions when N grows; filling in key order moves them when a key sorts
//! before them). The record makes "never moves" a fact, not a hope.
//!
//! References across the split become [`crate::cfn::Import`]s, which the stack graph links
//! into nested-stack parameters and outputs (never Export/ImportValue). A `DependsOn` across
//! the split becomes a dependency on (or of) the nested stack's resource.

use std::collections::{BTreeMap, BTreeSet};

use crate::cfn::{
    Import, Intrinsic, LogicalId, MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES, MAX_TEMPLATE_BYTES,
    Parameter, ParameterType, Resource, SubRef, Template, Value,
};
use crate::graph::{StackNode, StackRole, nested_stack_id};
use crate::model::Model;

/// The part name of the root stack in a [`Placement`].
pub const ROOT: &str = "app";
/// A nested stack takes a new function only while it stays within these: well under
/// CloudFormation's 500 resources and 200 parameters/outputs, so the functions already in it
/// can grow (a new trigger, a dead-letter queue) without ever having to move.
pub const PART_MAX_FUNCTIONS: usize = 40;
pub const PART_MAX_RESOURCES: usize = 400;

/// Which stack holds each function of one stage: [`ROOT`] or a nested part's name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub functions: BTreeMap<String, String>,
}

impl Placement {
    /// Whether any function lives in a nested stack.
    pub fn is_split(&self) -> bool {
        self.functions.values().any(|part| part != ROOT)
    }
}

/// The nested stack resource's template URL parameter in the root.
pub fn template_url_parameter(part: &str) -> LogicalId {
    LogicalId::from_path(&["stack", part, "TemplateUrl"])
}

/// Whether a template exceeds a limit splitting can relieve. The counts first: they decide
/// for any large app without serialising it.
fn exceeds_limits(template: &Template) -> bool {
    template.resources.len() > MAX_RESOURCES
        || template.parameters.len() > MAX_PARAMETERS
        || template.outputs.len() > MAX_OUTPUTS
        || pretty_size(template) > MAX_TEMPLATE_BYTES
}

/// The size of the template file, counted rather than built.
fn pretty_size(template: &Template) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(1);
    serde_json::to_writer_pretty(&mut count, &template.to_json()).expect("JSON serialises");
    count.0
}

/// The app's stack as it is, or its root plus nested stacks, and where each function is.
pub(crate) fn split(
    app: StackNode,
    model: &Model,
    previous: &Placement,
) -> (Vec<StackNode>, Placement) {
    let groups = group_sizes(&app.template);
    let kept: BTreeMap<&str, &str> = previous
        .functions
        .iter()
        .filter(|(key, _)| groups.contains_key(key.as_str()))
        .map(|(key, part)| (key.as_str(), part.as_str()))
        .collect();
    let was_split = kept.values().any(|part| *part != ROOT);
    if !was_split && !exceeds_limits(&app.template) {
        let placement = Placement {
            functions: groups
                .keys()
                .map(|k| (k.clone(), ROOT.to_owned()))
                .collect(),
        };
        return (vec![app], placement);
    }
    let placement = place(&groups, &kept);
    let stacks = distribute(app, model, &placement);
    (stacks, placement)
}

/// Resources per function group.
fn group_sizes(template: &Template) -> BTreeMap<String, usize> {
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for (id, group) in &template.groups {
        let size = sizes.entry(group.clone()).or_default();
        if template.resources.contains_key(id) {
            *size += 1;
        }
    }
    sizes
}

/// Kept functions stay; new ones (in key order) go to the first nested part with room, or
/// open a part named after themselves. A split app's root takes no new function: it keeps
/// its room for the shared resources.
fn place(groups: &BTreeMap<String, usize>, kept: &BTreeMap<&str, &str>) -> Placement {
    let mut parts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut functions = BTreeMap::new();
    for (key, part) in kept {
        functions.insert((*key).to_owned(), (*part).to_owned());
        if *part != ROOT {
            let (count, resources) = parts.entry((*part).to_owned()).or_default();
            *count += 1;
            *resources += groups[*key];
        }
    }
    for (key, size) in groups {
        if functions.contains_key(key) {
            continue;
        }
        let room = parts.iter_mut().find(|(_, (count, resources))| {
            *count < PART_MAX_FUNCTIONS && *resources + size <= PART_MAX_RESOURCES
        });
        let part = match room {
            Some((part, (count, resources))) => {
                *count += 1;
                *resources += size;
                part.clone()
            }
            None => {
                let part = format!("functions-{key}");
                parts.insert(part.clone(), (1, *size));
                part
            }
        };
        functions.insert(key.clone(), part);
    }
    Placement { functions }
}

/// Moves each function's group into its nested stack and rewrites every reference across the
/// split into an import the graph links.
fn distribute(mut app: StackNode, model: &Model, placement: &Placement) -> Vec<StackNode> {
    let role_of_part = |part: &str| -> StackRole {
        if part == ROOT {
            StackRole::App
        } else {
            StackRole::Nested {
                parent: Box::new(StackRole::App),
                part: part.to_owned(),
            }
        }
    };
    // Where each ID of the app's template goes.
    let home: BTreeMap<LogicalId, StackRole> = app
        .template
        .groups
        .iter()
        .map(|(id, group)| (id.clone(), role_of_part(&placement.functions[group])))
        .collect();
    let parts: BTreeSet<&str> = placement
        .functions
        .values()
        .map(String::as_str)
        .filter(|p| *p != ROOT)
        .collect();
    let stage = model.stage.as_ref().map(|s| &s.key);
    let mut nested: BTreeMap<String, Template> = parts
        .iter()
        .map(|part| {
            let template = Template::new(format!(
                "{} (functions of nested stack {part})",
                app.template.description
            ));
            ((*part).to_owned(), template)
        })
        .collect();

    // Move.
    let template = &mut app.template;
    for (id, role) in &home {
        let StackRole::Nested { part, .. } = role else {
            continue;
        };
        let target = nested.get_mut(part).expect("every part has a template");
        if let Some(group) = template.groups.remove(id) {
            target.groups.insert(id.clone(), group);
        }
        if let Some(resource) = template.resources.remove(id) {
            if let Some(condition) = &resource.condition
                && let Some(c) = template.conditions.get(condition)
            {
                target.conditions.insert(condition.clone(), c.clone());
            }
            target.resources.insert(id.clone(), resource);
        } else if let Some(parameter) = template.parameters.remove(id) {
            target.parameters.insert(id.clone(), parameter);
        } else if let Some(output) = template.outputs.remove(id) {
            target.outputs.insert(id.clone(), output);
        }
    }

    // Rewrite references that now cross a stack boundary.
    let mut stacks: Vec<(StackRole, Template)> = vec![(
        StackRole::App,
        std::mem::replace(&mut app.template, Template::new("")),
    )];
    stacks.extend(nested.into_iter().map(|(part, t)| (role_of_part(&part), t)));
    let where_is =
        |id: &LogicalId| -> StackRole { home.get(id).cloned().unwrap_or(StackRole::App) };
    // Cross-stack DependsOn, lifted to the nested stacks' resources: (from, to).
    let mut lifted: Vec<(StackRole, LogicalId, StackRole, LogicalId)> = Vec::new();
    // What each stack imports from which other: (importer, exporter) → ids.
    let mut imports: BTreeMap<(StackRole, StackRole), BTreeSet<LogicalId>> = BTreeMap::new();
    for (role, template) in &mut stacks {
        let mut noted = |to: &StackRole, target: &LogicalId| {
            imports
                .entry((role.clone(), to.clone()))
                .or_default()
                .insert(target.clone());
        };
        for (id, resource) in &mut template.resources {
            for value in resource.properties.values_mut() {
                rewrite(value, role, &where_is, &mut noted);
            }
            let foreign: Vec<LogicalId> = resource
                .depends_on
                .iter()
                .filter(|t| &where_is(t) != role)
                .cloned()
                .collect();
            for target in foreign {
                resource.depends_on.remove(&target);
                lifted.push((role.clone(), id.clone(), where_is(&target), target));
            }
        }
        for output in template.outputs.values_mut() {
            rewrite(&mut output.value, role, &where_is, &mut noted);
        }
    }

    // The root contains each nested stack, its template passed by URL (gen deploy uploads it).
    let (_, root) = &mut stacks[0];
    for part in &parts {
        let url = template_url_parameter(part);
        root.add_parameter(
            url.clone(),
            Parameter {
                parameter_type: ParameterType::String,
                description: format!(
                    "URL of nested stack {part}'s template in S3 (gen deploy uploads it and sets this)"
                ),
                allowed_pattern: None,
                constraint_description: None,
            },
        );
        // Deleting the stack (its last function gone) deletes what it holds, except what
        // keeps its own Retain policy (log groups, dead-letter queues): evidence stays.
        let mut resource = Resource::new("AWS::CloudFormation::Stack")
            .prop("TemplateURL", Value::reference(&url))
            .removal(crate::cfn::RemovalPolicy::Delete);
        if let Some(tags) = crate::constructs::tags(model) {
            resource = resource.prop("Tags", tags);
        }
        root.add(nested_stack_id(part), resource);
    }
    let imports_from = |importer: &StackRole, exporter: &StackRole| {
        imports
            .get(&(importer.clone(), exporter.clone()))
            .is_some_and(|ids| !ids.is_empty())
    };
    let part_name = |role: &StackRole| match role {
        StackRole::Nested { part, .. } => part.clone(),
        StackRole::App | StackRole::Billing => unreachable!("only nested stacks have parts"),
    };
    for (from_role, from_id, to_role, to_id) in lifted {
        let root = &mut stacks[0].1;
        match (&from_role, &to_role) {
            // A root resource waits for a nested stack: implied once it reads an output.
            (StackRole::App, nested) => {
                if !reads_part(&root.resources[&from_id], nested) {
                    root.resources
                        .get_mut(&from_id)
                        .expect("a lifted resource exists")
                        .depends_on
                        .insert(nested_stack_id(&part_name(nested)));
                }
            }
            // A nested resource waits for a root one: the nested stack waits for it, unless
            // that root resource itself reads the nested stack (a cycle: the wait is dropped;
            // e.g. a managed policy attached to the function's role attaches moments later).
            (nested, StackRole::App) => {
                let stack_id = nested_stack_id(&part_name(nested));
                let passed = imports
                    .get(&(nested.clone(), StackRole::App))
                    .is_some_and(|ids| ids.contains(&to_id));
                let cycle = root
                    .resources
                    .get(&to_id)
                    .is_some_and(|r| reads_part(r, nested));
                if !passed && !cycle {
                    root.resources
                        .get_mut(&stack_id)
                        .expect("every part has a stack resource")
                        .depends_on
                        .insert(to_id);
                }
            }
            // A sibling waits for a sibling, unless it reads one of its outputs.
            (a, b) => {
                if !imports_from(a, b) {
                    let b_id = nested_stack_id(&part_name(b));
                    root.resources
                        .get_mut(&nested_stack_id(&part_name(a)))
                        .expect("every part has a stack resource")
                        .depends_on
                        .insert(b_id);
                }
            }
        }
    }

    let mut stacks = stacks.into_iter();
    let (_, root) = stacks.next().expect("the root comes first");
    let nested: Vec<StackNode> = stacks
        .map(|(role, template)| StackNode {
            name: model.naming.stack(role.clone()).into_string(),
            template_path: crate::layout::template(stage, &role),
            role,
            region: app.region.clone(),
            template,
            policies: Vec::new(),
            known: BTreeMap::new(),
        })
        .collect();
    app.template = root;
    let mut out = vec![app];
    out.extend(nested);
    out
}

/// Whether a (rewritten) resource imports anything from `part`.
fn reads_part(resource: &Resource, part: &StackRole) -> bool {
    let key = part.key();
    resource.properties.values().any(|value| {
        let mut found = false;
        value.for_each_intrinsic(&mut |intrinsic| {
            if let Intrinsic::Import(import) = intrinsic
                && import.stack == key
            {
                found = true;
            }
        });
        found
    })
}

/// Replaces every reference from stack `role` to another stack's ID by an import of it;
/// `noted(stack, id)` hears of each.
fn rewrite(
    value: &mut Value,
    role: &StackRole,
    where_is: &impl Fn(&LogicalId) -> StackRole,
    noted: &mut impl FnMut(&StackRole, &LogicalId),
) {
    match value {
        Value::Bool(_) | Value::Int(_) | Value::Str(_) => {}
        Value::List(items) => items
            .iter_mut()
            .for_each(|v| rewrite(v, role, where_is, noted)),
        Value::Map(map) => map
            .values_mut()
            .for_each(|v| rewrite(v, role, where_is, noted)),
        Value::Ordered(entries) => entries
            .iter_mut()
            .for_each(|(_, v)| rewrite(v, role, where_is, noted)),
        Value::Intrinsic(intrinsic) => {
            let (id, attribute) = match intrinsic.as_mut() {
                Intrinsic::Ref(id) => (id.clone(), None),
                Intrinsic::GetAtt(id, attribute) => (id.clone(), Some(attribute.clone())),
                Intrinsic::Join(_, parts) => {
                    parts
                        .iter_mut()
                        .for_each(|v| rewrite(v, role, where_is, noted));
                    return;
                }
                Intrinsic::Sub(sub) => {
                    for v in sub.vars_mut().values_mut() {
                        rewrite(v, role, where_is, noted);
                    }
                    let taken = std::mem::take(sub);
                    *sub = taken.with_vars(&mut |r| {
                        let (id, attribute) = match r {
                            SubRef::Ref(id) => (id, None),
                            SubRef::GetAtt(id, attribute) => (id, Some(attribute.as_str())),
                            SubRef::Pseudo(_) | SubRef::Var(_) => return None,
                        };
                        let home = where_is(id);
                        (&home != role).then(|| {
                            noted(&home, id);
                            import_value(&home, id, attribute)
                        })
                    });
                    return;
                }
                Intrinsic::RefPseudo(_) | Intrinsic::Import(_) => return,
            };
            let home = where_is(&id);
            if &home != role {
                noted(&home, &id);
                *value = import_value(&home, &id, attribute.as_deref());
            }
        }
    }
}

fn import_value(stack: &StackRole, id: &LogicalId, attribute: Option<&str>) -> Value {
    Value::Intrinsic(Box::new(Intrinsic::Import(Import {
        stack: stack.key(),
        id: id.clone(),
        attribute: attribute.map(str::to_owned),
    })))
}

/// Every stage's [`Placement`], as `.gen/placement.json` holds it. The key of a manifest
/// without stages is the empty string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlacementRecord {
    pub stages: BTreeMap<String, Placement>,
}

/// Why `.gen/placement.json` could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} is not a placement record ({reason}); restore it from version control: without it a split app's functions could move between stacks"
)]
pub struct RecordError {
    pub path: &'static str,
    pub reason: String,
}

const ABOUT: &str = "Which CloudFormation stack holds each function: `app` is the root stack, any other name a nested stack. gen build keeps a placed function where it is (moving one would delete and recreate it), so commit this file with the templates.";

impl PlacementRecord {
    pub fn stage(&self, stage: Option<&str>) -> Placement {
        self.stages
            .get(stage.unwrap_or(""))
            .cloned()
            .unwrap_or_default()
    }

    pub fn parse(text: &str) -> Result<PlacementRecord, RecordError> {
        let error = |reason: String| RecordError {
            path: crate::layout::PLACEMENT,
            reason,
        };
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| error(e.to_string()))?;
        let functions = |value: &serde_json::Value| -> Result<Placement, RecordError> {
            let map = value
                .as_object()
                .ok_or_else(|| error("`functions` is not an object".into()))?;
            let mut functions = BTreeMap::new();
            for (key, part) in map {
                let part = part
                    .as_str()
                    .ok_or_else(|| error(format!("the stack of `{key}` is not a string")))?;
                functions.insert(key.clone(), part.to_owned());
            }
            Ok(Placement { functions })
        };
        let mut stages = BTreeMap::new();
        if let Some(value) = json.get("functions") {
            stages.insert(String::new(), functions(value)?);
        }
        if let Some(value) = json.get("stages") {
            let map = value
                .as_object()
                .ok_or_else(|| error("`stages` is not an object".into()))?;
            for (stage, value) in map {
                let value = value
                    .get("functions")
                    .ok_or_else(|| error(format!("stage `{stage}` has no `functions`")))?;
                stages.insert(stage.clone(), functions(value)?);
            }
        }
        Ok(PlacementRecord { stages })
    }

    /// The file's text: sorted keys, one function per line.
    pub fn render(&self) -> String {
        use serde_json::{Map, Value as J};
        let functions = |p: &Placement| {
            J::Object(
                p.functions
                    .iter()
                    .map(|(k, v)| (k.clone(), J::String(v.clone())))
                    .collect(),
            )
        };
        let mut root = Map::new();
        root.insert("about".into(), J::String(ABOUT.into()));
        match self.stages.get("") {
            Some(placement) if self.stages.len() == 1 => {
                root.insert("functions".into(), functions(placement));
            }
            _ => {
                let stages: Map<String, J> = self
                    .stages
                    .iter()
                    .map(|(stage, p)| {
                        let mut entry = Map::new();
                        entry.insert("functions".into(), functions(p));
                        (stage.clone(), J::Object(entry))
                    })
                    .collect();
                root.insert("stages".into(), J::Object(stages));
            }
        }
        let mut text = crate::cfn::to_pretty_json(&J::Object(root));
        text.push('\n');
        text
    }
}
