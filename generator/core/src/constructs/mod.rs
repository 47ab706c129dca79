//! Constructs: one module per concept (bucket, function, …). Each turns part of the validated
//! model into resources of one template, with IDs derived from manifest keys.

mod alarms;
mod alerts;
mod api;
mod audit;
mod billing;
mod bucket;
mod checkov;
pub(crate) mod function;
mod iam;
pub mod policy;
pub(crate) mod secrets;
mod site;
mod table;
pub mod toolkit;

use std::collections::BTreeMap;

use crate::cfn::{LogicalId, RemovalPolicy, Resource, Sub, Template, TemplateError, Value};
use crate::graph::{StackGraph, StackNode, StackRole};
use crate::model::{BucketName, Key, LOG_BUCKET_KEY, Model};
use crate::naming::Naming;
use crate::split::Placement;
use policy::PolicyRecord;

/// The constructs of the app's stack: each reads its own part of the model. A new construct
/// is its file with a `synthesize` and one line here. The order changes no byte (resources,
/// outputs and policy files are sorted); it is the order a reader meets them.
const APP_CONSTRUCTS: &[fn(&mut Stack)] = &[
    bucket::synthesize,
    table::synthesize,
    alerts::synthesize,
    secrets::synthesize,
    function::synthesize,
    alarms::synthesize,
    api::synthesize,
    site::synthesize,
    audit::synthesize,
    iam::synthesize,
    billing::synthesize,
];

/// Constructs that make a stack of their own, when the model needs one.
const OWN_STACKS: &[fn(&Model) -> Option<StackNode>] = &[billing::own_stack];

/// Builds every stack of the app from the model, linked and checked, as a first build would
/// place its functions.
pub fn synthesize(model: &Model) -> Result<StackGraph, TemplateError> {
    synthesize_placed(model, &Placement::default())
}

/// Builds every stack of the app, keeping each function where `previous` placed it when the
/// app is split into nested stacks (see [`crate::split`]).
pub fn synthesize_placed(model: &Model, previous: &Placement) -> Result<StackGraph, TemplateError> {
    let mut app = Stack::new(model, model.description.clone(), &model.region);
    for construct in APP_CONSTRUCTS {
        construct(&mut app);
    }
    let (mut stacks, placement) = crate::split::split(app.finish(StackRole::App), model, previous);
    stacks.extend(OWN_STACKS.iter().filter_map(|own| own(model)));
    Ok(StackGraph::new(stacks)?.with_placement(placement))
}

/// What constructs share while building one template.
pub(crate) struct Stack<'a> {
    pub model: &'a Model,
    pub template: Template,
    pub region: String,
    pub policies: Vec<PolicyRecord>,
    pub known: BTreeMap<String, Sub>,
}

impl<'a> Stack<'a> {
    pub fn new(model: &'a Model, description: String, region: &str) -> Stack<'a> {
        Stack {
            model,
            template: Template::new(description),
            region: region.to_owned(),
            policies: Vec::new(),
            known: BTreeMap::new(),
        }
    }

    /// The stack's node in the graph (which links and checks it).
    pub fn finish(self, role: StackRole) -> StackNode {
        let stage = self.model.stage.as_ref().map(|s| &s.key);
        StackNode {
            name: self.model.naming.stack(role.clone()).into_string(),
            template_path: crate::layout::template(stage, &role),
            role,
            region: self.region,
            template: self.template,
            policies: self.policies,
            known: self.known,
        }
    }

    /// The app's naming rule (every physical name comes from it), borrowed from the model
    /// rather than from the stack under construction.
    pub fn naming(&self) -> &'a Naming {
        &self.model.naming
    }

    /// Records what `Ref id` (attribute None) or `GetAtt id.attr` stands for.
    pub fn know(&mut self, id: &LogicalId, attribute: Option<&str>, value: Sub) {
        let key = match attribute {
            Some(attribute) => format!("{id}.{attribute}"),
            None => id.to_string(),
        };
        self.known.insert(key, value);
    }

    /// A log group with a retention, kept when the stack goes (logs are evidence), tagged,
    /// and known by name and ARN for standalone policies.
    pub fn add_log_group(&mut self, id: &LogicalId, name: &str, retention_days: u32) {
        let mut group = Resource::new("AWS::Logs::LogGroup")
            .prop("LogGroupName", name)
            .prop("RetentionInDays", retention_days)
            .removal(RemovalPolicy::Retain);
        if let Some(tags) = self.tags() {
            group = group.prop("Tags", tags);
        }
        group.metadata.insert(
            "checkov".into(),
            checkov::skip(&[(
                "CKV_AWS_158",
                "CloudWatch Logs encrypts log data at rest by default; a customer KMS key is opt-in",
            )]),
        );
        self.template.add(id.clone(), group);
        self.know(id, None, Sub::new().lit(name));
        self.know(
            id,
            Some("Arn"),
            policy::regional_arn("logs", &format!("log-group:{name}:*")),
        );
    }

    /// The alarm with alarm and OK actions to the alerts topic, when the app has one.
    pub fn notify(&self, alarm: Resource) -> Resource {
        if self.model.alerts.is_none() {
            return alarm;
        }
        let topic = Value::reference(&ids::alerts_topic());
        alarm
            .prop("AlarmActions", vec![topic.clone()])
            .prop("OKActions", vec![topic])
    }

    /// Records a policy document for `policies/` and the size check.
    pub fn record_policy(&mut self, record: PolicyRecord) {
        self.policies.push(record);
    }

    /// `arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:<name>`
    pub fn function_arn(&self, key: &Key) -> Sub {
        policy::regional_arn(
            "lambda",
            &format!("function:{}", self.model.naming.function(key)),
        )
    }
    /// The model's tags as CloudFormation's `[{Key, Value}]` list, or None when there are none.
    pub fn tags(&self) -> Option<Value> {
        tags(self.model)
    }

    /// The physical name of a bucket (`key` = [`LOG_BUCKET_KEY`] for the log bucket), as a
    /// value computable without referring to the bucket resource.
    pub fn bucket_name(&self, key: &str) -> Sub {
        let fixed = self
            .model
            .buckets
            .iter()
            .find_map(|(k, spec)| match &spec.name {
                BucketName::Fixed(name) if k.as_str() == key => Some(name.clone()),
                _ => None,
            });
        match fixed {
            Some(name) => Sub::new().lit(name),
            None => self.model.naming.bucket(key),
        }
    }

    /// `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/<name><suffix>`,
    /// from the name alone: a function in a nested stack needs no parameter for it.
    pub fn table_arn(&self, key: &Key, suffix: &str) -> Sub {
        policy::regional_arn(
            "dynamodb",
            &format!("table/{}{suffix}", self.model.naming.table(key)),
        )
    }

    /// `arn:${AWS::Partition}:s3:::<name><suffix>` built from the name, not from a reference:
    /// the function ↔ bucket notification cycle never forms.
    pub fn bucket_arn(&self, key: &str, suffix: &str) -> Sub {
        let name = self.bucket_name(key);
        let mut arn = Sub::arn("s3").lit("::");
        arn = arn.append(name);
        if suffix.is_empty() {
            arn
        } else {
            arn.lit(suffix)
        }
    }
}

/// The model's tags as CloudFormation's `[{Key, Value}]` list, or None when there are none.
pub(crate) fn tags(model: &Model) -> Option<Value> {
    (!model.tags.is_empty()).then(|| {
        Value::List(
            model
                .tags
                .iter()
                .map(|(k, v)| crate::map! { "Key" => k.as_str(), "Value" => v.as_str() })
                .collect(),
        )
    })
}

/// Logical IDs, in one place so that cross-construct references cannot drift.
pub(crate) mod ids {
    use super::*;

    pub fn assets_bucket() -> LogicalId {
        LogicalId::from_path(&["assets-bucket"])
    }
    pub fn log_bucket() -> LogicalId {
        LogicalId::from_path(&[LOG_BUCKET_KEY, "Bucket"])
    }
    pub fn log_bucket_policy() -> LogicalId {
        LogicalId::from_path(&[LOG_BUCKET_KEY, "Policy"])
    }
    pub fn bucket(key: &Key) -> LogicalId {
        LogicalId::from_path(&["bucket", key.as_str()])
    }
    pub fn bucket_policy(key: &Key) -> LogicalId {
        LogicalId::from_path(&["bucket", key.as_str(), "Policy"])
    }
    pub fn table(key: &Key) -> LogicalId {
        LogicalId::from_path(&["table", key.as_str()])
    }
    pub fn function(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str()])
    }
    pub fn stream_mapping(function: &Key, table: &Key) -> LogicalId {
        LogicalId::from_path(&[
            "function",
            function.as_str(),
            "StreamMapping",
            table.as_str(),
        ])
    }
    pub fn function_role(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), "Role"])
    }
    pub fn function_log_group(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), "LogGroup"])
    }
    pub fn function_code_key(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), "CodeKey"])
    }
    pub fn s3_permission(function: &Key, bucket: &Key) -> LogicalId {
        LogicalId::from_path(&[
            "function",
            function.as_str(),
            "S3Permission",
            bucket.as_str(),
        ])
    }
    pub fn alerts_topic() -> LogicalId {
        LogicalId::from_path(&["alerts", "Topic"])
    }
    pub fn function_alarm(key: &Key, which: &str) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str(), which])
    }
    pub fn managed_policy(key: &Key) -> LogicalId {
        LogicalId::from_path(&["iam", "policy", key.as_str()])
    }
    pub fn require_mfa_policy() -> LogicalId {
        LogicalId::from_path(&["iam", "RequireMfa"])
    }
    pub fn group(key: &Key) -> LogicalId {
        LogicalId::from_path(&["iam", "group", key.as_str()])
    }
    pub fn user(name: &str) -> LogicalId {
        LogicalId::from_path(&["iam", "user", name])
    }
    /// The output holding the API's base URL: gen deploy reads it for the site's config.js.
    pub fn api_url() -> LogicalId {
        LogicalId::from_path(&["api", "Url"])
    }
    pub fn site_bucket() -> LogicalId {
        LogicalId::from_path(&["site", "Bucket"])
    }
    /// Outputs of the hosted site: gen deploy syncs `site/` to the bucket and invalidates the
    /// distribution's cache; the URL is what users open.
    pub fn site_bucket_name() -> LogicalId {
        LogicalId::from_path(&["site", "BucketName"])
    }
    pub fn site_distribution_id() -> LogicalId {
        LogicalId::from_path(&["site", "DistributionId"])
    }
    pub fn site_url() -> LogicalId {
        LogicalId::from_path(&["site", "Url"])
    }
}

#[cfg(test)]
mod tests;
