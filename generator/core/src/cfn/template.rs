//! The typed template: resources, parameters, outputs, and the checks that every reference in
//! it resolves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as J, json};

use super::LogicalId;
use super::value::{Intrinsic, SubRef, Value};

/// CloudFormation's hard limit on resources per stack.
pub const MAX_RESOURCES: usize = 500;
/// CloudFormation's limit on a template body uploaded to S3 (bytes).
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// CloudFormation's limits on parameters and outputs per template.
pub const MAX_PARAMETERS: usize = 200;
pub const MAX_OUTPUTS: usize = 200;

/// What happens to a resource's physical resource when it leaves the stack or is replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalPolicy {
    Delete,
    Retain,
}

impl RemovalPolicy {
    fn as_str(self) -> &'static str {
        match self {
            RemovalPolicy::Delete => "Delete",
            RemovalPolicy::Retain => "Retain",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub resource_type: &'static str,
    pub properties: BTreeMap<String, Value>,
    /// Only dependencies NOT already implied by a Ref/GetAtt/Sub (cfn-lint W3005 flags those).
    pub depends_on: BTreeSet<LogicalId>,
    /// Applied to both DeletionPolicy and UpdateReplacePolicy: a resource that must survive a
    /// delete must also survive a replacement.
    pub removal_policy: Option<RemovalPolicy>,
    /// Created only when this template condition is true.
    pub condition: Option<LogicalId>,
    pub metadata: BTreeMap<String, J>,
}

impl Resource {
    pub fn new(resource_type: &'static str) -> Resource {
        Resource {
            resource_type,
            properties: BTreeMap::new(),
            depends_on: BTreeSet::new(),
            removal_policy: None,
            condition: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Every logical ID this resource refers to, through its properties or `DependsOn`.
    pub fn references(&self) -> BTreeSet<LogicalId> {
        let mut ids = self.implied_references();
        ids.extend(self.depends_on.iter().cloned());
        ids
    }

    /// The IDs referred to by properties alone (what CloudFormation infers as dependencies).
    fn implied_references(&self) -> BTreeSet<LogicalId> {
        let mut ids = BTreeSet::new();
        for value in self.properties.values() {
            value.for_each_intrinsic(&mut |intrinsic| match intrinsic {
                Intrinsic::Ref(id) | Intrinsic::GetAtt(id, _) => {
                    ids.insert(id.clone());
                }
                Intrinsic::Sub(sub) => {
                    for r in sub.refs() {
                        if let SubRef::Ref(id) | SubRef::GetAtt(id, _) = r {
                            ids.insert(id.clone());
                        }
                    }
                }
                // Another stack's resource is no dependency inside this one.
                Intrinsic::RefPseudo(_) | Intrinsic::Join(..) | Intrinsic::Import(_) => {}
            });
        }
        ids
    }

    pub fn prop(mut self, key: &str, value: impl Into<Value>) -> Resource {
        self.properties.insert(key.to_owned(), value.into());
        self
    }

    pub fn removal(mut self, policy: RemovalPolicy) -> Resource {
        self.removal_policy = Some(policy);
        self
    }

    pub fn depends_on(mut self, id: &LogicalId) -> Resource {
        self.depends_on.insert(id.clone());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterType {
    String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    pub parameter_type: ParameterType,
    pub description: String,
    pub allowed_pattern: Option<String>,
    pub constraint_description: Option<String>,
}

/// A template condition (`Conditions` section), built from typed condition functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Equals(Value, Value),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    fn to_json(&self) -> J {
        match self {
            Condition::Equals(a, b) => json!({ "Fn::Equals": [a.to_json(), b.to_json()] }),
            Condition::Not(c) => json!({ "Fn::Not": [c.to_json()] }),
            Condition::And(cs) => {
                json!({ "Fn::And": cs.iter().map(Condition::to_json).collect::<Vec<_>>() })
            }
            Condition::Or(cs) => {
                json!({ "Fn::Or": cs.iter().map(Condition::to_json).collect::<Vec<_>>() })
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub description: String,
    pub value: Value,
}

/// A reference from a resource of one stack to a resource of another.
#[derive(Debug, PartialEq, Eq)]
pub struct CrossStack {
    pub from: String,
    pub from_stack: String,
    pub from_region: String,
    pub to: String,
    pub to_stack: String,
    pub to_region: String,
}

/// A problem in a template that stackgen itself built: always a bug in stackgen, never the
/// user's fault, so it is reported as such.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("`{from}` refers to `{to}`, which is not a resource or parameter of the template")]
    DanglingReference { from: String, to: String },
    #[error(
        "`{from}` refers to `{to}` in another stack, and the stack graph did not link it into this one"
    )]
    UnlinkedImport { from: String, to: String },
    #[error(
        "`{}` in stack {} ({}) refers to `{}` in stack {} ({}): CloudFormation cannot pass values between regions",
        .0.from, .0.from_stack, .0.from_region, .0.to, .0.to_stack, .0.to_region
    )]
    CrossRegion(Box<CrossStack>),
    #[error(
        "`{}` in stack {} refers to `{}` in stack {}, which is deployed on its own: only a stack and its nested stacks share values (never Export/ImportValue, which locks the exporting resource)",
        .0.from, .0.from_stack, .0.to, .0.to_stack
    )]
    SeparateStacks(Box<CrossStack>),
    #[error("`{from}` refers to `{to}`, which stack {stack} does not have")]
    NoSuchResource {
        from: String,
        to: String,
        stack: String,
    },
    #[error("logical ID `{0}` is used twice")]
    DuplicateId(LogicalId),
    #[error("circular dependency: {}", .0.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(" -> "))]
    Cycle(Vec<LogicalId>),
    #[error("`{from}` has DependsOn `{to}`, which a reference already implies (cfn-lint W3005)")]
    RedundantDependsOn { from: String, to: String },
    #[error("`{from}` uses condition `{condition}`, which the template does not declare")]
    UnknownCondition { from: String, condition: String },
    #[error(
        "the template has {count} resources; CloudFormation allows {MAX_RESOURCES} per stack ({breakdown})"
    )]
    TooManyResources { count: usize, breakdown: String },
    #[error("the template is {bytes} bytes; CloudFormation accepts at most {MAX_TEMPLATE_BYTES}")]
    TooLarge { bytes: usize },
    #[error("the template has {count} {what}; CloudFormation allows {limit} per template")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub description: String,
    pub parameters: BTreeMap<LogicalId, Parameter>,
    pub conditions: BTreeMap<LogicalId, Condition>,
    pub resources: BTreeMap<LogicalId, Resource>,
    pub outputs: BTreeMap<LogicalId, Output>,
    /// The group (a function's key) each resource, parameter or output belongs to: what must
    /// stay together in one stack when the app is split into nested stacks. Not serialised.
    pub groups: BTreeMap<LogicalId, String>,
    /// The group what is added now belongs to ([`Template::set_group`]).
    current_group: Option<String>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Template {
        Template {
            description: description.into(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            groups: BTreeMap::new(),
            current_group: None,
        }
    }

    /// Everything added until the next call belongs to `group` (`None`: to the app as a whole).
    pub fn set_group(&mut self, group: Option<&str>) {
        self.current_group = group.map(str::to_owned);
    }

    fn note_group(&mut self, id: &LogicalId) {
        if let Some(group) = &self.current_group {
            self.groups.insert(id.clone(), group.clone());
        }
    }

    /// Adds a resource; an ID clash is a stackgen bug, caught by [`Template::check`].
    pub fn add(&mut self, id: LogicalId, resource: Resource) -> &mut Resource {
        use std::collections::btree_map::Entry;
        self.note_group(&id);
        match self.resources.entry(id) {
            Entry::Vacant(slot) => slot.insert(resource),
            Entry::Occupied(slot) => panic!("logical ID {} added twice", slot.key()),
        }
    }

    pub fn add_parameter(&mut self, id: LogicalId, parameter: Parameter) {
        self.note_group(&id);
        let previous = self.parameters.insert(id.clone(), parameter);
        assert!(previous.is_none(), "parameter {id} added twice");
    }

    pub fn add_output(&mut self, id: LogicalId, output: Output) {
        self.note_group(&id);
        let previous = self.outputs.insert(id.clone(), output);
        assert!(previous.is_none(), "output {id} added twice");
    }

    /// Checks the invariants CloudFormation would otherwise reject at deploy time: every
    /// Ref/GetAtt/Sub/DependsOn target exists, IDs are unique across sections, the resource
    /// count is within the stack limit.
    pub fn check(&self) -> Result<(), TemplateError> {
        for id in self.parameters.keys() {
            if self.resources.contains_key(id) {
                return Err(TemplateError::DuplicateId(id.clone()));
            }
        }
        let resource_or_parameter =
            |id: &LogicalId| self.resources.contains_key(id) || self.parameters.contains_key(id);
        let mut dangling = None;
        let mut unlinked = None;
        let mut check_value = |from: &str, value: &Value| {
            value.for_each_intrinsic(&mut |intrinsic| {
                let target = match intrinsic {
                    Intrinsic::Ref(id) => Some((id, true)),
                    Intrinsic::GetAtt(id, _) => Some((id, false)),
                    Intrinsic::Sub(sub) => sub
                        .refs()
                        .filter_map(|r| match r {
                            SubRef::Ref(id) => Some((id, true)),
                            SubRef::GetAtt(id, _) => Some((id, false)),
                            SubRef::Pseudo(_) | SubRef::Var(_) => None,
                        })
                        .find(|(id, is_ref)| {
                            !(self.resources.contains_key(*id)
                                || (*is_ref && self.parameters.contains_key(*id)))
                        }),
                    Intrinsic::Import(import) => {
                        if unlinked.is_none() {
                            unlinked = Some(TemplateError::UnlinkedImport {
                                from: from.to_owned(),
                                to: import.to_string(),
                            });
                        }
                        None
                    }
                    Intrinsic::RefPseudo(_) | Intrinsic::Join(..) => None,
                };
                if let Some((id, is_ref)) = target {
                    let ok = if is_ref {
                        resource_or_parameter(id)
                    } else {
                        self.resources.contains_key(id)
                    };
                    if !ok && dangling.is_none() {
                        dangling = Some(TemplateError::DanglingReference {
                            from: from.to_owned(),
                            to: id.to_string(),
                        });
                    }
                }
            });
        };
        for (id, resource) in &self.resources {
            for value in resource.properties.values() {
                check_value(id.as_str(), value);
            }
        }
        for (id, output) in &self.outputs {
            check_value(id.as_str(), &output.value);
        }
        if let Some(error) = dangling.or(unlinked) {
            return Err(error);
        }
        for (id, resource) in &self.resources {
            if let Some(target) = resource
                .depends_on
                .iter()
                .find(|t| !self.resources.contains_key(*t))
            {
                return Err(TemplateError::DanglingReference {
                    from: id.to_string(),
                    to: target.to_string(),
                });
            }
        }
        for (id, resource) in &self.resources {
            if let Some(condition) = &resource.condition
                && !self.conditions.contains_key(condition)
            {
                return Err(TemplateError::UnknownCondition {
                    from: id.to_string(),
                    condition: condition.to_string(),
                });
            }
            let implied = resource.implied_references();
            if let Some(redundant) = resource.depends_on.iter().find(|d| implied.contains(*d)) {
                return Err(TemplateError::RedundantDependsOn {
                    from: id.to_string(),
                    to: redundant.to_string(),
                });
            }
        }
        if let Some(cycle) = self.find_cycle() {
            return Err(TemplateError::Cycle(cycle));
        }
        if self.resources.len() > MAX_RESOURCES {
            return Err(TemplateError::TooManyResources {
                count: self.resources.len(),
                breakdown: self.type_breakdown(),
            });
        }
        for (what, count, limit) in [
            ("parameters", self.parameters.len(), MAX_PARAMETERS),
            ("outputs", self.outputs.len(), MAX_OUTPUTS),
        ] {
            if count > limit {
                return Err(TemplateError::TooMany { what, count, limit });
            }
        }
        Ok(())
    }

    /// A dependency cycle among resources, if any (CloudFormation rejects the template).
    fn find_cycle(&self) -> Option<Vec<LogicalId>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let edges: BTreeMap<&LogicalId, Vec<LogicalId>> = self
            .resources
            .iter()
            .map(|(id, r)| {
                let targets = r
                    .references()
                    .into_iter()
                    .filter(|t| self.resources.contains_key(t))
                    .collect();
                (id, targets)
            })
            .collect();
        let mut marks: BTreeMap<&LogicalId, Mark> =
            edges.keys().map(|id| (*id, Mark::New)).collect();
        let mut stack: Vec<LogicalId> = Vec::new();
        fn visit<'a>(
            id: &'a LogicalId,
            edges: &'a BTreeMap<&'a LogicalId, Vec<LogicalId>>,
            marks: &mut BTreeMap<&'a LogicalId, Mark>,
            stack: &mut Vec<LogicalId>,
        ) -> Option<Vec<LogicalId>> {
            match marks[id] {
                Mark::Done => return None,
                Mark::Active => {
                    let start = stack.iter().position(|s| s == id).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(id.clone());
                    return Some(cycle);
                }
                Mark::New => {}
            }
            marks.insert(id, Mark::Active);
            stack.push(id.clone());
            for target in &edges[id] {
                let (key, _) = edges.get_key_value(target)?;
                if let Some(cycle) = visit(key, edges, marks, stack) {
                    return Some(cycle);
                }
            }
            stack.pop();
            marks.insert(id, Mark::Done);
            None
        }
        for id in edges.keys() {
            if let Some(cycle) = visit(id, &edges, &mut marks, &mut stack) {
                return Some(cycle);
            }
        }
        None
    }

    /// `AWS::Lambda::Function: 12, AWS::S3::Bucket: 3, …`, most numerous first.
    pub fn type_breakdown(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for resource in self.resources.values() {
            *counts.entry(resource.resource_type).or_default() += 1;
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
            .iter()
            .map(|(t, n)| format!("{t}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn to_json(&self) -> J {
        let mut top = Map::new();
        top.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        top.insert("Description".into(), json!(self.description));
        if !self.parameters.is_empty() {
            let params = self
                .parameters
                .iter()
                .map(|(id, p)| {
                    let mut m = Map::new();
                    m.insert(
                        "Type".into(),
                        json!(match p.parameter_type {
                            ParameterType::String => "String",
                        }),
                    );
                    m.insert("Description".into(), json!(p.description));
                    if let Some(pattern) = &p.allowed_pattern {
                        m.insert("AllowedPattern".into(), json!(pattern));
                    }
                    if let Some(text) = &p.constraint_description {
                        m.insert("ConstraintDescription".into(), json!(text));
                    }
                    (id.to_string(), J::Object(m))
                })
                .collect();
            top.insert("Parameters".into(), J::Object(params));
        }
        if !self.conditions.is_empty() {
            let conditions = self
                .conditions
                .iter()
                .map(|(id, c)| (id.to_string(), c.to_json()))
                .collect();
            top.insert("Conditions".into(), J::Object(conditions));
        }
        let resources = self
            .resources
            .iter()
            .map(|(id, r)| {
                let mut m = Map::new();
                m.insert("Type".into(), json!(r.resource_type));
                if let Some(condition) = &r.condition {
                    m.insert("Condition".into(), json!(condition.as_str()));
                }
                if !r.properties.is_empty() {
                    m.insert(
                        "Properties".into(),
                        J::Object(
                            r.properties
                                .iter()
                                .map(|(k, v)| (k.clone(), v.to_json()))
                                .collect(),
                        ),
                    );
                }
                if !r.depends_on.is_empty() {
                    m.insert(
                        "DependsOn".into(),
                        J::Array(r.depends_on.iter().map(|d| json!(d.as_str())).collect()),
                    );
                }
                if let Some(policy) = r.removal_policy {
                    m.insert("DeletionPolicy".into(), json!(policy.as_str()));
                    m.insert("UpdateReplacePolicy".into(), json!(policy.as_str()));
                }
                if !r.metadata.is_empty() {
                    m.insert(
                        "Metadata".into(),
                        J::Object(r.metadata.clone().into_iter().collect()),
                    );
                }
                (id.to_string(), J::Object(m))
            })
            .collect();
        top.insert("Resources".into(), J::Object(resources));
        if !self.outputs.is_empty() {
            let outputs = self
                .outputs
                .iter()
                .map(|(id, o)| {
                    (
                        id.to_string(),
                        json!({ "Description": o.description, "Value": o.value.to_json() }),
                    )
                })
                .collect();
            top.insert("Outputs".into(), J::Object(outputs));
        }
        J::Object(top)
    }

    /// Pretty JSON with a trailing newline; byte-identical for identical templates.
    pub fn render(&self) -> Result<String, TemplateError> {
        self.check()?;
        self.render_checked()
    }

    /// [`Template::render`] of a template already checked (every template of a
    /// [`crate::graph::StackGraph`] is): the size limit is still enforced.
    pub fn render_checked(&self) -> Result<String, TemplateError> {
        let mut text = to_pretty_json(&self.to_json());
        text.push('\n');
        if text.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::TooLarge { bytes: text.len() });
        }
        Ok(text)
    }
}

/// serde_json's pretty printer (2-space indent). serde_json keeps insertion order
/// (`preserve_order`), so sections read in CloudFormation's customary order; every map stackgen
/// builds is filled from a sorted `BTreeMap`, which keeps the output deterministic.
pub fn to_pretty_json(value: &J) -> String {
    serde_json::to_string_pretty(value).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Pseudo, Sub};

    fn id(s: &str) -> LogicalId {
        LogicalId::from_raw(s)
    }

    #[test]
    fn dangling_ref_is_caught() {
        let mut t = Template::new("t");
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").prop("X", Value::reference(&id("B"))),
        );
        assert_eq!(
            t.check(),
            Err(TemplateError::DanglingReference {
                from: "A".into(),
                to: "B".into()
            })
        );
    }

    #[test]
    fn dangling_sub_and_depends_on_are_caught() {
        let mut t = Template::new("t");
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").prop(
                "X",
                Sub::new()
                    .pseudo(Pseudo::Region)
                    .get_att(&id("Missing"), "Arn"),
            ),
        );
        assert!(matches!(
            t.check(),
            Err(TemplateError::DanglingReference { .. })
        ));
        let mut t = Template::new("t");
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").depends_on(&id("Nope")),
        );
        assert!(matches!(
            t.check(),
            Err(TemplateError::DanglingReference { .. })
        ));
    }

    #[test]
    fn get_att_of_a_parameter_is_dangling() {
        let mut t = Template::new("t");
        t.add_parameter(
            id("P"),
            Parameter {
                parameter_type: ParameterType::String,
                description: "p".into(),
                allowed_pattern: None,
                constraint_description: None,
            },
        );
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").prop("X", Value::get_att(&id("P"), "Arn")),
        );
        assert!(t.check().is_err());
        let mut t2 = Template::new("t");
        t2.parameters = t.parameters.clone();
        t2.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").prop("X", Value::reference(&id("P"))),
        );
        assert_eq!(t2.check(), Ok(()));
    }

    #[test]
    fn cycles_are_caught() {
        let mut t = Template::new("t");
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").prop("X", Value::get_att(&id("B"), "Arn")),
        );
        t.add(
            id("B"),
            Resource::new("AWS::SNS::Topic").prop("X", Sub::new().get_att(&id("C"), "Arn")),
        );
        t.add(
            id("C"),
            Resource::new("AWS::SNS::Topic").depends_on(&id("A")),
        );
        assert_eq!(
            t.check(),
            Err(TemplateError::Cycle(vec![
                id("A"),
                id("B"),
                id("C"),
                id("A")
            ]))
        );
    }

    #[test]
    fn redundant_depends_on_is_caught() {
        let mut t = Template::new("t");
        t.add(id("B"), Resource::new("AWS::SNS::Topic"));
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic")
                .prop("X", Value::reference(&id("B")))
                .depends_on(&id("B")),
        );
        assert!(matches!(
            t.check(),
            Err(TemplateError::RedundantDependsOn { .. })
        ));
    }

    #[test]
    fn conditions_serialise_and_must_exist() {
        let mut t = Template::new("t");
        let mut r = Resource::new("AWS::SNS::Topic");
        r.condition = Some(id("InUsEast1"));
        t.add(id("A"), r);
        assert!(matches!(
            t.check(),
            Err(TemplateError::UnknownCondition { .. })
        ));
        t.conditions.insert(
            id("InUsEast1"),
            Condition::Equals(Value::pseudo(Pseudo::Region), Value::str("us-east-1")),
        );
        let text = t.render().unwrap();
        assert!(
            text.contains(
                r#""InUsEast1": {
      "Fn::Equals": [
        {
          "Ref": "AWS::Region"
        },
        "us-east-1"
      ]
    }"#
            ),
            "{text}"
        );
        assert!(text.contains(r#""Condition": "InUsEast1""#));
    }

    #[test]
    fn resource_limit_reports_breakdown() {
        let mut t = Template::new("t");
        for i in 0..=MAX_RESOURCES {
            t.add(
                LogicalId::from_path(&["t", &i.to_string()]),
                Resource::new("AWS::SNS::Topic"),
            );
        }
        let err = t.check().unwrap_err();
        assert_eq!(
            err,
            TemplateError::TooManyResources {
                count: 501,
                breakdown: "AWS::SNS::Topic: 501".into()
            }
        );
    }

    #[test]
    fn render_orders_sections_and_sorts_resources() {
        let mut t = Template::new("demo");
        t.add(
            id("B"),
            Resource::new("AWS::SNS::Topic").removal(RemovalPolicy::Retain),
        );
        t.add(
            id("A"),
            Resource::new("AWS::SNS::Topic").depends_on(&id("B")),
        );
        let text = t.render().unwrap();
        let a = text.find("\"A\"").unwrap();
        let b = text.find("\"B\"").unwrap();
        assert!(text.starts_with("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\""));
        assert!(a < b);
        assert!(text.contains("\"DeletionPolicy\": \"Retain\""));
        assert!(text.contains("\"UpdateReplacePolicy\": \"Retain\""));
        assert!(text.ends_with("}\n"));
    }
}
