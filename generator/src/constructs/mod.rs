//! Constructs: one module per concept (bucket, function, …). Each turns part of the validated
//! model into resources of one template, with IDs derived from manifest keys.

mod alerts;
mod bucket;
pub(crate) mod function;

use crate::cfn::{
    LogicalId, Parameter, ParameterType, Pseudo, Sub, Template, TemplateError, Value,
};
use crate::model::{BucketName, Key, LOG_BUCKET_KEY, Model};

/// Builds the app's main template from the model.
pub fn synthesize(model: &Model) -> Result<Template, TemplateError> {
    let mut stack = Stack {
        model,
        template: Template::new(model.description.clone()),
    };
    if !model.functions.is_empty() {
        stack.template.add_parameter(
            ids::assets_bucket(),
            Parameter {
                parameter_type: ParameterType::String,
                description: "S3 bucket holding the functions' code (gen deploy sets it)".into(),
                allowed_pattern: Some("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$".into()),
                constraint_description: Some("an S3 bucket name".into()),
            },
        );
    }
    if let Some(log_bucket) = &model.log_bucket {
        bucket::log_bucket(&mut stack, log_bucket);
    }
    for (key, spec) in &model.buckets {
        bucket::bucket(&mut stack, key, spec);
    }
    for (key, spec) in &model.functions {
        function::function(&mut stack, key, spec);
    }
    if !model.alert_emails.is_empty() {
        alerts::alerts(&mut stack, &model.alert_emails);
    }
    stack.template.check()?;
    Ok(stack.template)
}

/// What constructs share while building one template.
pub(crate) struct Stack<'a> {
    pub model: &'a Model,
    pub template: Template,
}

impl Stack<'_> {
    /// The model's tags as CloudFormation's `[{Key, Value}]` list, or None when there are none.
    pub fn tags(&self) -> Option<Value> {
        (!self.model.tags.is_empty()).then(|| {
            Value::List(
                self.model
                    .tags
                    .iter()
                    .map(|(k, v)| crate::map! { "Key" => k.as_str(), "Value" => v.as_str() })
                    .collect(),
            )
        })
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
            None => Sub::new()
                .lit(format!("{}-{key}-", self.model.project))
                .pseudo(Pseudo::AccountId)
                .lit("-")
                .pseudo(Pseudo::Region),
        }
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
    pub fn function(key: &Key) -> LogicalId {
        LogicalId::from_path(&["function", key.as_str()])
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
    pub fn alerts_subscription(email: &str) -> LogicalId {
        LogicalId::from_path(&["alerts", "Subscription", email])
    }
}

pub use function::function_name;
