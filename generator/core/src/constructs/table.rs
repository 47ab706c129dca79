//! Table construct: a DynamoDB table, encrypted with KMS, with point-in-time recovery, kept
//! when the stack goes (like buckets), named `<project>[-<stage>]-<key>`.
//!
//! Tables are shared resources: they stay in the root stack of a split app, and functions
//! reach them by ARNs built from the name (no cross-stack parameter), except for the stream,
//! whose ARN only exists once the table does.

use super::checkov::skip;
use super::{Stack, ids};
use crate::cfn::{Resource, Value};
use crate::map;
use crate::model::{IndexSpec, Key, KeySpec, ProjectionSpec, TableSpec};

pub(crate) fn synthesize(stack: &mut Stack) {
    for (key, spec) in &stack.model.tables {
        table(stack, key, spec);
    }
}

fn table(stack: &mut Stack, key: &Key, spec: &TableSpec) {
    let id = ids::table(key);
    let name = stack.naming().table(key).into_string();
    let attributes: Vec<Value> = spec
        .attributes()
        .into_iter()
        .map(|a| map! { "AttributeName" => a.name.as_str(), "AttributeType" => a.type_code() })
        .collect();
    let mut resource = Resource::new("AWS::DynamoDB::Table")
        .prop("TableName", name.as_str())
        .prop("AttributeDefinitions", attributes)
        .prop(
            "KeySchema",
            key_schema(&spec.partition_key, spec.sort_key.as_ref()),
        )
        .prop(
            "BillingMode",
            if spec.provisioned.is_some() {
                "PROVISIONED"
            } else {
                "PAY_PER_REQUEST"
            },
        )
        // The AWS managed key (`aws/dynamodb`): every use of it is in CloudTrail, unlike the
        // AWS owned key DynamoDB uses without this.
        .prop(
            "SSESpecification",
            map! { "SSEEnabled" => true, "SSEType" => "KMS" },
        )
        .prop(
            "PointInTimeRecoverySpecification",
            map! { "PointInTimeRecoveryEnabled" => spec.point_in_time_recovery },
        )
        .prop("DeletionProtectionEnabled", spec.deletion_protection)
        .removal(spec.removal);
    if let Some(capacity) = spec.provisioned {
        resource = resource.prop(
            "ProvisionedThroughput",
            map! {
                "ReadCapacityUnits" => capacity.read,
                "WriteCapacityUnits" => capacity.write,
            },
        );
    }
    if !spec.indexes.is_empty() {
        let indexes: Vec<Value> = spec
            .indexes
            .iter()
            .map(|(name, index)| global_index(name, index))
            .collect();
        resource = resource.prop("GlobalSecondaryIndexes", indexes);
    }
    if let Some(attribute) = &spec.ttl_attribute {
        resource = resource.prop(
            "TimeToLiveSpecification",
            map! { "AttributeName" => attribute.as_str(), "Enabled" => true },
        );
    }
    if let Some(view) = spec.stream {
        resource = resource.prop(
            "StreamSpecification",
            map! { "StreamViewType" => view.as_str() },
        );
    }
    if let Some(tags) = stack.tags() {
        resource = resource.prop("Tags", tags);
    }
    let mut skips = vec![(
        "CKV_AWS_119",
        "Encrypted with the AWS managed KMS key (aws/dynamodb); a customer managed key is opt-in and costs $1 a month",
    )];
    if !spec.point_in_time_recovery {
        skips.push((
            "CKV_AWS_28",
            "point_in_time_recovery: false in gen.yaml (the default is on)",
        ));
    }
    resource.metadata.insert("checkov".into(), skip(&skips));
    stack.template.add(id.clone(), resource);
    stack.know(&id, None, crate::cfn::Sub::new().lit(&name));
    stack.know(&id, Some("Arn"), stack.table_arn(key, ""));
}

fn key_schema(partition: &KeySpec, sort: Option<&KeySpec>) -> Vec<Value> {
    std::iter::once(map! { "AttributeName" => partition.name.as_str(), "KeyType" => "HASH" })
        .chain(sort.map(|s| map! { "AttributeName" => s.name.as_str(), "KeyType" => "RANGE" }))
        .collect()
}

fn global_index(name: &str, index: &IndexSpec) -> Value {
    let projection = match &index.projection {
        ProjectionSpec::All => map! { "ProjectionType" => "ALL" },
        ProjectionSpec::KeysOnly => map! { "ProjectionType" => "KEYS_ONLY" },
        ProjectionSpec::Include(attributes) => map! {
            "ProjectionType" => "INCLUDE",
            "NonKeyAttributes" => attributes.iter().map(Value::str).collect::<Vec<_>>(),
        },
    };
    let mut value = map! {
        "IndexName" => name,
        "KeySchema" => key_schema(&index.partition_key, index.sort_key.as_ref()),
        "Projection" => projection,
    };
    if let (Some(capacity), Value::Map(fields)) = (index.capacity, &mut value) {
        fields.insert(
            "ProvisionedThroughput".into(),
            map! {
                "ReadCapacityUnits" => capacity.read,
                "WriteCapacityUnits" => capacity.write,
            },
        );
    }
    value
}
