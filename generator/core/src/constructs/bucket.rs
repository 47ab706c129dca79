//! Bucket construct: an S3 bucket that is encrypted, TLS-only, private, owner-enforced and
//! access-logged; and the project's log bucket that receives those logs.

use std::collections::BTreeMap;

use super::checkov::skip;
use super::policy::{self, PolicyLimit, PolicyRecord};
use super::{Stack, ids};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{LogicalId, Output};
use crate::cfn::{Pseudo, RemovalPolicy, Resource, Sub, Value};
use crate::manifest::S3Event;
use crate::map;
use crate::model::{BucketSpec, Key, LOG_BUCKET_KEY, LogBucketSpec};

/// Prefix under which a bucket's server access logs land in the log bucket.
pub fn access_log_prefix(bucket: &str) -> String {
    format!("s3-access/{bucket}/")
}

/// The log bucket and every data bucket.
pub(crate) fn synthesize(stack: &mut Stack) {
    if let Some(log_bucket) = &stack.model.log_bucket {
        self::log_bucket(stack, log_bucket);
    }
    for (key, spec) in &stack.model.buckets {
        bucket(stack, key, spec);
    }
}

fn bucket(stack: &mut Stack, key: &Key, spec: &BucketSpec) {
    let id = ids::bucket(key);
    let mut resource = secure_bucket(stack, key.as_str())
        .prop(
            "LoggingConfiguration",
            map! {
                "DestinationBucketName" => Value::reference(&ids::log_bucket()),
                "LogFilePrefix" => access_log_prefix(key.as_str()),
            },
        )
        .removal(spec.removal)
        // Logs are accepted from the first request only once the log bucket's policy exists.
        .depends_on(&ids::log_bucket_policy());
    if spec.versioning {
        resource = resource.prop("VersioningConfiguration", map! { "Status" => "Enabled" });
    } else {
        resource.metadata.insert("checkov".into(), skip(&[(
            "CKV_AWS_21",
            "Versioning is off in gen.yaml for this bucket (`versioning: true` keeps overwritten and deleted objects)",
        )]));
    }
    let mut rules = vec![abort_incomplete_uploads_rule()];
    if let Some(days) = spec.expire_after_days {
        rules.push(map! {
            "Id" => "ExpireObjects",
            "Status" => "Enabled",
            "ExpirationInDays" => days,
        });
    }
    resource = resource.prop(
        "LifecycleConfiguration",
        map! { "Rules" => Value::List(rules) },
    );

    // S3 notifications to functions triggered by this bucket. S3 checks it may invoke each
    // function when the configuration is put, so the bucket waits for the permissions.
    let mut lambda_configurations = Vec::new();
    for (function, fspec) in &stack.model.functions {
        for trigger in fspec.s3_triggers.iter().filter(|t| &t.bucket == key) {
            let mut rules = Vec::new();
            if let Some(prefix) = &trigger.prefix {
                rules.push(map! { "Name" => "prefix", "Value" => prefix.as_str() });
            }
            if let Some(suffix) = &trigger.suffix {
                rules.push(map! { "Name" => "suffix", "Value" => suffix.as_str() });
            }
            for event in &trigger.events {
                let mut configuration = BTreeMap::from([
                    (
                        "Event".to_owned(),
                        Value::str(match event {
                            S3Event::Created => "s3:ObjectCreated:*",
                            S3Event::Removed => "s3:ObjectRemoved:*",
                        }),
                    ),
                    (
                        "Function".to_owned(),
                        Value::get_att(&ids::function(function), "Arn"),
                    ),
                ]);
                if !rules.is_empty() {
                    configuration.insert(
                        "Filter".into(),
                        map! { "S3Key" => map! { "Rules" => Value::List(rules.clone()) } },
                    );
                }
                lambda_configurations.push(Value::Map(configuration));
            }
            resource = resource.depends_on(&ids::s3_permission(function, key));
        }
    }
    if !lambda_configurations.is_empty() {
        resource = resource.prop(
            "NotificationConfiguration",
            map! { "LambdaConfigurations" => Value::List(lambda_configurations) },
        );
    }
    stack.template.add(id.clone(), resource);
    know_bucket(stack, &id, key.as_str());

    let mut statements = vec![deny_insecure_transport(&id)];
    for extra in &spec.policy {
        statements.extend(policy::statements(stack, extra));
    }
    let document = PolicyDocument::new(statements);
    stack.template.add(
        ids::bucket_policy(key),
        bucket_policy(&id, document.clone()),
    );
    stack.record_policy(PolicyRecord {
        name: format!("bucket-{key}"),
        manifest_path: format!("buckets.{key}.policy"),
        limit: PolicyLimit::Bucket,
        trust: false,
        document,
    });
    stack.template.add_output(
        LogicalId::from_path(&["bucket", key.as_str(), "Name"]),
        Output {
            description: format!("Name of the `{key}` bucket"),
            value: Value::reference(&id),
        },
    );
}

fn log_bucket(stack: &mut Stack, spec: &LogBucketSpec) {
    let id = ids::log_bucket();
    let hosted = stack
        .model
        .site
        .as_ref()
        .is_some_and(|s| s.hosting.is_some());
    let mut resource = secure_bucket(stack, LOG_BUCKET_KEY);
    if hosted {
        // CloudFront's standard logs are delivered by ACL (its log-delivery account writes
        // them), so ACLs stay enabled here; objects others write with
        // bucket-owner-full-control become the bucket owner's.
        resource = resource.prop(
            "OwnershipControls",
            map! { "Rules" => vec![map! { "ObjectOwnership" => "BucketOwnerPreferred" }] },
        );
    }
    let resource = resource
        .prop(
            "LifecycleConfiguration",
            map! {
                "Rules" => vec![
                    abort_incomplete_uploads_rule(),
                    map! {
                        "Id" => "ExpireLogs",
                        "Status" => "Enabled",
                        "ExpirationInDays" => spec.expire_after_days,
                    },
                ],
            },
        )
        // Logs are evidence: they outlive the stack.
        .removal(RemovalPolicy::Retain);
    let mut resource = resource;
    resource.metadata.insert("checkov".into(), skip(&[
        ("CKV_AWS_18", "This is the access-log target; logging it into itself would loop"),
        ("CKV_AWS_21", "Log objects are written once and expire (log_bucket.expire_after_days); versions would only keep expired logs"),
    ]));
    stack.template.add(id.clone(), resource);
    know_bucket(stack, &id, LOG_BUCKET_KEY);

    let mut statements = vec![deny_insecure_transport(&id)];
    // One statement per source bucket: each may write only under its own prefix.
    let site = hosted.then_some(crate::model::SITE_BUCKET_KEY);
    let sources: Vec<&str> = stack
        .model
        .buckets
        .keys()
        .map(Key::as_str)
        .chain(site)
        .collect();
    for key in sources {
        statements.push(
            Statement::allow(&["s3:PutObject"])
                .sid(&format!("ServerAccessLogs{}", crate::cfn::pascal_case(key)))
                .principal(Principal::Service("logging.s3.amazonaws.com".into()))
                .resource(
                    Sub::new()
                        .get_att(&id, "Arn")
                        .lit(format!("/{}*", access_log_prefix(key))),
                )
                .condition("ArnLike", "aws:SourceArn", stack.bucket_arn(key, ""))
                .condition(
                    "StringEquals",
                    "aws:SourceAccount",
                    Value::pseudo(Pseudo::AccountId),
                ),
        );
    }
    if stack.model.audit.is_some() {
        statements.extend(super::audit::log_bucket_statements(stack, &id));
    }
    let document = PolicyDocument::new(statements);
    stack.template.add(
        ids::log_bucket_policy(),
        bucket_policy(&id, document.clone()),
    );
    stack.record_policy(PolicyRecord {
        name: format!("bucket-{LOG_BUCKET_KEY}"),
        manifest_path: "log_bucket".into(),
        limit: PolicyLimit::Bucket,
        trust: false,
        document,
    });
    stack.template.add_output(
        LogicalId::from_path(&[LOG_BUCKET_KEY, "Name"]),
        Output {
            description: "Name of the log bucket".into(),
            value: Value::reference(&id),
        },
    );
}

/// Records what the bucket's `Ref` and `Arn` are, for standalone policy files.
fn know_bucket(stack: &mut Stack, id: &LogicalId, key: &str) {
    let name = stack.bucket_name(key);
    let arn = stack.bucket_arn(key, "");
    stack.know(id, None, name);
    stack.know(id, Some("Arn"), arn);
}

/// The properties every stackgen bucket has.
pub(crate) fn secure_bucket(stack: &Stack, key: &str) -> Resource {
    let mut resource = private_encrypted_bucket().prop("BucketName", stack.bucket_name(key));
    if let Some(tags) = stack.tags() {
        resource = resource.prop("Tags", tags);
    }
    resource
}

/// A bucket that is SSE-S3 encrypted, blocks every form of public access and ignores ACLs.
pub(crate) fn private_encrypted_bucket() -> Resource {
    Resource::new("AWS::S3::Bucket")
        .prop(
            "BucketEncryption",
            map! {
                "ServerSideEncryptionConfiguration" => vec![map! {
                    // SSE-S3: the only encryption S3 server access logging can write to.
                    "ServerSideEncryptionByDefault" => map! { "SSEAlgorithm" => "AES256" },
                }],
            },
        )
        .prop(
            "PublicAccessBlockConfiguration",
            map! {
                "BlockPublicAcls" => true,
                "BlockPublicPolicy" => true,
                "IgnorePublicAcls" => true,
                "RestrictPublicBuckets" => true,
            },
        )
        .prop(
            "OwnershipControls",
            map! { "Rules" => vec![map! { "ObjectOwnership" => "BucketOwnerEnforced" }] },
        )
}

pub(crate) fn abort_incomplete_uploads_rule() -> Value {
    map! {
        "Id" => "AbortIncompleteMultipartUploads",
        "Status" => "Enabled",
        "AbortIncompleteMultipartUpload" => map! { "DaysAfterInitiation" => 7u32 },
    }
}

/// Deny any request not made over TLS, on the bucket AND its objects (covering only one of the
/// two is a classic mistake).
pub(crate) fn deny_insecure_transport(bucket: &LogicalId) -> Statement {
    Statement::deny(&["s3:*"])
        .sid("DenyInsecureTransport")
        .principal(Principal::Anyone)
        .resource(Value::get_att(bucket, "Arn"))
        .resource(Sub::new().get_att(bucket, "Arn").lit("/*"))
        .condition("Bool", "aws:SecureTransport", "false")
}

pub(crate) fn bucket_policy(bucket: &LogicalId, document: PolicyDocument) -> Resource {
    Resource::new("AWS::S3::BucketPolicy")
        .prop("Bucket", Value::reference(bucket))
        .prop("PolicyDocument", document.to_value())
}
