//! The manifest (`gen.yaml`) as the user writes it: serde + JSON Schema types, nothing checked
//! beyond shape. [`crate::model`] turns it into a validated model.
//!
//! Every field has a doc comment: it becomes the description editors show. Maps are `BTreeMap`s
//! so the manifest's key order never influences output.

mod parse;
mod source_map;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use parse::parse;
pub use source_map::{Position, SourceMap};

/// Lowercase letters, digits and hyphens, starting with a letter; used for project, bucket and
/// function keys because they become parts of AWS physical names.
pub const KEY_PATTERN: &str = "^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$";

/// A stackgen project manifest (`gen.yaml`): everything `gen build` generates comes from it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "stackgen manifest")]
pub struct Manifest {
    /// Project name: lowercase letters, digits and hyphens, starting with a letter (3–24
    /// characters). It is the CloudFormation stack name and the prefix of every physical name
    /// (functions `<name>-<function>`, buckets `<name>-<bucket>-<account>-<region>`).
    #[schemars(regex(pattern = KEY_PATTERN), length(min = 3, max = 24))]
    pub name: String,

    /// One line saying what the app does; becomes the template's Description.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub description: Option<String>,

    /// The AWS region the app is deployed to, e.g. `us-east-1` or `eu-west-1`.
    #[schemars(regex(pattern = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"))]
    pub region: String,

    /// Tags put on every resource that supports tags (keys ≤ 128 characters, values ≤ 256;
    /// keys starting with `aws:` are reserved by AWS).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,

    /// S3 buckets for the app's data, by key (lowercase, e.g. `upload`). Every bucket is
    /// encrypted, TLS-only, blocks public access, and sends server access logs to the project's
    /// log bucket.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub buckets: BTreeMap<String, Bucket>,

    /// The project's log bucket, which receives the server access logs of every bucket (under
    /// `s3-access/<bucket>/`). Created whenever the project has a bucket.
    #[serde(default)]
    pub log_bucket: LogBucket,

    /// Lambda functions written in Rust, by key (lowercase, e.g. `transcode`).
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub functions: BTreeMap<String, Function>,

    /// Where alarms and notifications are sent.
    #[serde(default)]
    pub alerts: Option<Alerts>,
}

/// An S3 bucket.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Keep every version of every object (protects against overwrites and deletes; costs
    /// storage for old versions).
    #[serde(default)]
    pub versioning: bool,

    /// Keep the bucket and its objects when the stack is deleted or the bucket replaced
    /// (CloudFormation DeletionPolicy/UpdateReplacePolicy `Retain`). Default true: data outlives
    /// the stack. Set false only for scratch data.
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub retain: bool,

    /// The bucket's physical name, if you need a fixed one (S3 names are global). Default:
    /// `<project>-<key>-<account id>-<region>`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub name: Option<String>,

    /// Delete objects this many days after they were created (lifecycle rule). Default: never.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub expire_after_days: Option<u32>,
}

/// The log bucket's settings.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBucket {
    /// Delete log objects this many days after they were written.
    #[serde(default = "default_log_expiry")]
    #[schemars(default = "default_log_expiry", range(min = 1))]
    pub expire_after_days: u32,
}

impl Default for LogBucket {
    fn default() -> Self {
        LogBucket {
            expire_after_days: default_log_expiry(),
        }
    }
}

/// A Lambda function in Rust (runtime `provided.al2023`, handler `bootstrap`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// What the function does (shown in the Lambda console).
    #[serde(default)]
    #[schemars(length(max = 256))]
    pub description: Option<String>,

    /// Memory in MB, 128 to 10240. CPU is allocated in proportion to memory.
    #[serde(default = "default_memory")]
    #[schemars(default = "default_memory", range(min = 128, max = 10240))]
    pub memory: u32,

    /// Timeout in seconds, 1 to 900.
    #[serde(default = "default_timeout")]
    #[schemars(default = "default_timeout", range(min = 1, max = 900))]
    pub timeout: u32,

    /// The instruction set: `x86_64` or `arm64` (Graviton; cheaper per GB-second, needs an
    /// aarch64 build of the function).
    #[serde(default)]
    pub architecture: Architecture,

    /// Environment variables for the function. Names: letters, digits and underscores, starting
    /// with a letter; names Lambda reserves (`AWS_*`, `LAMBDA_*`, `_HANDLER`, …) are refused.
    /// Never put secrets here: they are visible in the console and the template.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,

    /// Days the function's CloudWatch logs are kept: one of 1, 3, 5, 7, 14, 30, 60, 90, 120,
    /// 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.
    #[serde(default = "default_log_retention")]
    #[schemars(default = "default_log_retention", extend("enum" = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]))]
    pub log_retention_days: u32,

    /// Buckets (by key) the function may read: `s3:GetObject` on their objects and
    /// `s3:ListBucket` on the bucket. Their names reach the function as `<KEY>_BUCKET`.
    #[serde(default)]
    pub reads: Vec<String>,

    /// Buckets (by key) the function may write objects to (`s3:PutObject`). Their names reach
    /// the function as `<KEY>_BUCKET`.
    #[serde(default)]
    pub writes: Vec<String>,

    /// Events that invoke the function.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
}

/// A Lambda instruction set architecture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Architecture {
    /// 64-bit x86.
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    /// 64-bit ARM (AWS Graviton).
    #[serde(rename = "arm64")]
    Arm64,
}

/// Something that invokes a function.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Trigger {
    /// Objects created in (or removed from) one of the project's buckets.
    S3(S3Trigger),
}

/// An S3 event notification from a project bucket.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3Trigger {
    /// The bucket (by key) whose events invoke the function.
    pub bucket: String,

    /// Which events: `created` (any `s3:ObjectCreated:*`) and/or `removed`
    /// (`s3:ObjectRemoved:*`). Default: `[created]`.
    #[serde(default = "default_s3_events")]
    #[schemars(default = "default_s3_events")]
    pub events: Vec<S3Event>,

    /// Only objects whose key starts with this, e.g. `uploads/`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 1024))]
    pub prefix: Option<String>,

    /// Only objects whose key ends with this, e.g. `.mp4`.
    #[serde(default)]
    #[schemars(length(min = 1, max = 1024))]
    pub suffix: Option<String>,
}

/// An S3 event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum S3Event {
    /// Any object created (`s3:ObjectCreated:*`: put, post, copy, multipart upload).
    Created,
    /// Any object removed (`s3:ObjectRemoved:*`).
    Removed,
}

/// Who hears about alarms.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// Email addresses subscribed to the project's alerts topic. AWS mails each address a
    /// confirmation link (valid 3 days); nothing is delivered to an address until it confirms.
    #[schemars(length(min = 1))]
    pub emails: Vec<String>,
}

fn yes() -> bool {
    true
}
fn default_log_expiry() -> u32 {
    365
}
fn default_memory() -> u32 {
    128
}
fn default_timeout() -> u32 {
    3
}
fn default_log_retention() -> u32 {
    30
}
fn default_s3_events() -> Vec<S3Event> {
    vec![S3Event::Created]
}

/// The JSON Schema (draft-07, what editors' YAML support handles best) of the manifest.
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Manifest>().to_value();
    // `$schema`, `title` and `description` first, as people read schemas top down.
    let serde_json::Value::Object(mut fields) = schema else {
        return schema;
    };
    let mut ordered = serde_json::Map::new();
    for key in ["$schema", "title", "description"] {
        if let Some(value) = fields.shift_remove(key) {
            ordered.insert(key.to_owned(), value);
        }
    }
    ordered.extend(fields);
    serde_json::Value::Object(ordered)
}
