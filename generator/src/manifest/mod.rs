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

    /// Where alarms and notifications are sent, and the defaults of every function's alarms.
    #[serde(default)]
    pub alerts: Option<Alerts>,

    /// A monthly budget alarm on the account's estimated charges.
    #[serde(default)]
    pub billing: Option<Billing>,

    /// A CloudTrail trail: who did what, and S3 data events on chosen buckets.
    #[serde(default)]
    pub audit: Option<Audit>,

    /// IAM groups, users and policies for the people who work on the app.
    #[serde(default)]
    pub iam: Option<Iam>,

    /// Sign-in for the app's users (Auth0): protects API routes with a generated JWT
    /// authorizer, and configures the website.
    #[serde(default)]
    pub auth: Option<Auth>,

    /// A REST API (API Gateway) whose routes invoke functions.
    #[serde(default)]
    pub api: Option<Api>,

    /// Assumptions about how much the app is used, for `gen cost`'s monthly estimate. Every
    /// figure has a default; set the ones you know.
    #[serde(default)]
    pub usage: Usage,
}

/// The identity provider. In the Auth0 dashboard: an application of type "Single Page
/// Application" (its client id goes here; callback, logout and web-origin URLs = the site's
/// URL) and an API (its identifier is `audience`, signing algorithm RS256).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Only `auth0` for now.
    pub provider: AuthProvider,
    /// The tenant's domain, e.g. `dev-abc123.us.auth0.com` (no scheme, no path).
    pub domain: String,
    /// The SPA application's client id (public by design: it goes into the site).
    pub client_id: String,
    /// The API identifier tokens are issued for, e.g. `https://api.example.com`.
    pub audience: String,
    /// Seconds API Gateway caches the authorizer's answer per token (0 disables caching).
    #[serde(default = "default_auth_cache")]
    #[schemars(default = "default_auth_cache", range(max = 3600))]
    pub cache_ttl_seconds: u32,
}

/// Supported identity providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthProvider {
    /// Auth0 (RS256 access tokens, JWKS at `https://<domain>/.well-known/jwks.json`).
    Auth0,
}

/// A REST API.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Routes as `METHOD /path` (e.g. `GET /user-profile`, `POST /videos/{id}`).
    #[schemars(extend("propertyNames" = { "pattern": "^(GET|POST|PUT|PATCH|DELETE|HEAD|ANY) /[A-Za-z0-9._{}/+-]*$" }))]
    pub routes: BTreeMap<String, Route>,
    /// The origin of the site calling the API (CORS), e.g. `http://127.0.0.1:8100` or
    /// `https://www.example.com`. Leave out to allow no browser origin.
    #[serde(default)]
    pub cors_origin: Option<String>,
    /// Stage name (part of the URL).
    #[serde(default = "default_stage")]
    #[schemars(default = "default_stage")]
    pub stage: String,
    /// Steady-state requests per second across the API.
    #[serde(default = "default_rate_limit")]
    #[schemars(default = "default_rate_limit", range(min = 1))]
    pub rate_limit: u32,
    /// Burst of requests above the rate.
    #[serde(default = "default_burst_limit")]
    #[schemars(default = "default_burst_limit", range(min = 1))]
    pub burst_limit: u32,
}

/// One route.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The function (by key) that answers.
    pub function: String,
    /// Answer without a signed-in user. Routes are protected whenever `auth:` is set, unless
    /// marked public.
    #[serde(default)]
    pub public: bool,
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

    /// Extra statements for the bucket's policy (a resource policy: each names `principals`).
    /// The policy always also denies requests that do not use TLS.
    #[serde(default)]
    pub policy: Vec<Statement>,
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

    /// Managed policies (keys under `iam.policies`) attached to the function's role, for
    /// access beyond its buckets.
    #[serde(default)]
    pub policies: Vec<String>,

    /// This function's error alarms; fields left out take `alerts.function_alarms`.
    #[serde(default)]
    pub alarm: Option<AlarmOverride>,
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

    /// ARN of a customer managed KMS key to encrypt the topic with. Its key policy must let
    /// `cloudwatch.amazonaws.com` use it (`kms:Decrypt`, `kms:GenerateDataKey*`). Never
    /// `alias/aws/sns`: CloudWatch alarms cannot publish to a topic under that key.
    #[serde(default)]
    pub kms_key_arn: Option<String>,

    /// Defaults for every function's two alarms (Lambda `Errors`, and abnormal terminations
    /// counted from its logs): by default 3 or more in 5 minutes.
    #[serde(default)]
    pub function_alarms: AlarmSettings,
}

/// When a function's error alarm fires.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmSettings {
    /// Errors in one period that fire the alarm.
    #[serde(default = "default_alarm_threshold")]
    #[schemars(default = "default_alarm_threshold", range(min = 1))]
    pub threshold: u32,
    /// Length of one period in seconds: 10, 30 or a multiple of 60.
    #[serde(default = "default_alarm_period")]
    #[schemars(default = "default_alarm_period", range(min = 10, max = 86400))]
    pub period_seconds: u32,
    /// Consecutive periods over the threshold before the alarm fires.
    #[serde(default = "default_evaluation_periods")]
    #[schemars(default = "default_evaluation_periods", range(min = 1))]
    pub evaluation_periods: u32,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        AlarmSettings {
            threshold: default_alarm_threshold(),
            period_seconds: default_alarm_period(),
            evaluation_periods: default_evaluation_periods(),
        }
    }
}

/// One function's alarm settings; what is left out comes from `alerts.function_alarms`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmOverride {
    /// Errors in one period that fire the alarm.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub threshold: Option<u32>,
    /// Length of one period in seconds: 10, 30 or a multiple of 60.
    #[serde(default)]
    #[schemars(range(min = 10, max = 86400))]
    pub period_seconds: Option<u32>,
    /// Consecutive periods over the threshold before the alarm fires.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub evaluation_periods: Option<u32>,
}

/// A billing alarm. AWS publishes billing metrics only in us-east-1, so for a project in
/// another region gen writes a second template, `infra/billing-us-east-1.template.json`, with
/// its own alerts topic. Billing alerts must first be enabled in the account's Billing
/// preferences ("Receive CloudWatch billing alerts").
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Billing {
    /// Alarm when the month's estimated charges exceed this many US dollars.
    #[schemars(range(min = 1))]
    pub monthly_limit_usd: u32,
}

/// A CloudTrail trail delivering to the project's log bucket (under `cloudtrail/`), with log
/// file validation. Data events cost $0.10 per 100,000 events: a busy bucket costs real money.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// Buckets (by key) whose object-level operations (S3 data events) are recorded. The log
    /// bucket itself is never included (the trail writes there: that would loop).
    #[serde(default)]
    pub buckets: Vec<String>,
    /// Record management events (who changed what in the account), in every region. The first
    /// trail's copy of management events is free; another trail's costs $2 per 100,000.
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub management_events: bool,
    /// Also deliver the trail to CloudWatch Logs (for metric filters and searching).
    #[serde(default)]
    pub cloudwatch_logs: Option<TrailLogs>,
}

/// The trail's CloudWatch Logs delivery.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailLogs {
    /// Days the trail's log group keeps events (a CloudWatch Logs retention value).
    #[serde(default = "default_trail_retention")]
    #[schemars(default = "default_trail_retention")]
    pub retention_days: u32,
}

/// IAM identities and policies.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Iam {
    /// Managed policies by key: reusable, attached to groups (and function roles) by key.
    /// Each is named `<project>-<key>` in IAM.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Groups by key (IAM name `<project>-<key>`): their members get the group's permissions.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": KEY_PATTERN }))]
    pub groups: BTreeMap<String, Group>,
    /// Users by IAM user name. gen never creates passwords or access keys: an administrator
    /// sets those, and each user then enables MFA.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Za-z0-9+=,.@_-]{1,64}$" }))]
    pub users: BTreeMap<String, User>,
}

/// A managed policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedPolicy {
    /// What the policy is for.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    /// The policy's statements.
    #[schemars(length(min = 1))]
    pub statements: Vec<Statement>,
}

/// An IAM group.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Deny everything except setting up one's own MFA device until the member signs in with
    /// MFA (AWS's standard "force MFA" policy, attached as `<project>-require-mfa`).
    #[serde(default)]
    pub require_mfa: bool,
    /// Managed policies (keys under `iam.policies`) attached to the group.
    #[serde(default)]
    pub policies: Vec<String>,
    /// The group's inline policy (at most 5,120 characters without whitespace).
    #[serde(default)]
    pub statements: Vec<Statement>,
}

/// An IAM user: a person. Permissions come from groups.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Groups (keys under `iam.groups`) the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The user's own inline policy (at most 2,048 characters without whitespace); prefer
    /// groups.
    #[serde(default)]
    pub statements: Vec<Statement>,
}

/// One statement of an IAM policy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// A label for the statement (letters and digits).
    #[serde(default)]
    pub sid: Option<String>,
    /// `allow` (default) or `deny`.
    #[serde(default)]
    pub effect: Effect,
    /// Who the statement is about; only in resource policies (`buckets.<key>.policy`).
    #[serde(default)]
    pub principals: Option<Principals>,
    /// Actions as `service:Action`, e.g. `s3:GetObject`; wildcards (`s3:Get*`) allowed.
    #[schemars(length(min = 1))]
    pub actions: Vec<String>,
    /// What the actions apply to: `bucket:<key>` (the bucket), `bucket:<key>/*` or
    /// `bucket:<key>/<prefix>*` (objects), `function:<key>`, an ARN, or `*`.
    #[schemars(length(min = 1))]
    pub resources: Vec<String>,
    /// When the statement holds. An `allow` applies only when every condition holds; a `deny`
    /// denies every request that fails any of them (one Deny statement per condition).
    #[serde(default)]
    pub conditions: Conditions,
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Grant the actions.
    #[default]
    Allow,
    /// Refuse the actions, whatever else allows them.
    Deny,
}

/// Principals of a resource-policy statement.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Principals {
    /// AWS accounts or IAM ARNs (`arn:aws:iam::123456789012:root`, a role ARN), or `*`.
    #[serde(default)]
    pub aws: Vec<String>,
    /// AWS service principals, e.g. `cloudfront.amazonaws.com`.
    #[serde(default)]
    pub service: Vec<String>,
}

/// Conditions as first-class options.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Require multi-factor authentication (`aws:MultiFactorAuthPresent`: `Bool` true for an
    /// allow, `BoolIfExists` false for a deny, as AWS recommends).
    #[serde(default)]
    pub mfa: bool,
    /// Only from these IP ranges (CIDR, e.g. `203.0.113.0/24`). Requests AWS services make on
    /// the user's behalf (`aws:ViaAWSService`) are not blocked.
    #[serde(default)]
    pub source_ip: Vec<String>,
    /// Only inside this time window (UTC, `aws:CurrentTime`).
    #[serde(default)]
    pub time: Option<TimeWindow>,
    /// Only over TLS (`aws:SecureTransport`).
    #[serde(default)]
    pub secure_transport: bool,
    /// Any other condition, checked: operator (e.g. `StringEquals`, `ArnLike`, with
    /// `IfExists` / `ForAnyValue:` forms), a known global key (`aws:RequestedRegion`) or a
    /// service key (`s3:prefix`), and its values.
    #[serde(default)]
    pub raw: Vec<RawCondition>,
}

/// A UTC time window; either end may be left out.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Start, as `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(default)]
    pub after: Option<String>,
    /// End, as `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(default)]
    pub before: Option<String>,
}

/// A condition written out in IAM's own terms.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    /// Condition operator, e.g. `StringEquals`.
    pub operator: String,
    /// Condition key, e.g. `aws:RequestedRegion`.
    pub key: String,
    /// Values (any one matching satisfies the condition).
    #[schemars(length(min = 1))]
    pub values: Vec<String>,
}

/// Monthly usage assumptions.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Per function (by key): invocations, duration, logs.
    #[serde(default)]
    pub functions: BTreeMap<String, FunctionUsage>,
    /// Per bucket (by key): storage and requests.
    #[serde(default)]
    pub buckets: BTreeMap<String, BucketUsage>,
    /// Gigabytes kept in the log bucket (access logs and trail files). Default 1.
    #[serde(default)]
    pub log_bucket_stored_gb: Option<f64>,
    /// Requests to the app's API per month, once the app has an API. Default 1,000,000.
    #[serde(default)]
    pub api_requests_per_month: Option<u64>,
    /// S3 data events the trail records per month. Default: every request of the audited
    /// buckets (their PUT + GET requests).
    #[serde(default)]
    pub trail_data_events_per_month: Option<u64>,
    /// Gigabytes of trail events delivered to CloudWatch Logs per month (only with
    /// `audit.cloudwatch_logs`). Default 1.
    #[serde(default)]
    pub trail_log_gb_per_month: Option<f64>,
    /// Alarm notifications per month (each is emailed to every alerts address). Default 30.
    #[serde(default)]
    pub alert_notifications_per_month: Option<u64>,
    /// Subtract the AWS Free Tier allowances (new accounts, 12 months, and the always-free
    /// ones). Default false: the estimate is what an established account pays.
    #[serde(default)]
    pub free_tier: bool,
}

/// One function's usage.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionUsage {
    /// Invocations per month. Default 100,000.
    #[serde(default)]
    pub invocations_per_month: Option<u64>,
    /// Average billed duration of one invocation, in milliseconds. Default 100.
    #[serde(default)]
    pub average_duration_ms: Option<u64>,
    /// Gigabytes of logs the function writes per month. Default 0.1.
    #[serde(default)]
    pub log_gb_per_month: Option<f64>,
}

/// One bucket's usage.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketUsage {
    /// Average gigabytes stored (S3 Standard). Default 1.
    #[serde(default)]
    pub stored_gb: Option<f64>,
    /// PUT, COPY, POST and LIST requests per month. Default 10,000.
    #[serde(default)]
    pub put_requests_per_month: Option<u64>,
    /// GET requests per month. Default 100,000.
    #[serde(default)]
    pub get_requests_per_month: Option<u64>,
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
fn default_auth_cache() -> u32 {
    300
}
fn default_stage() -> String {
    "prod".to_owned()
}
fn default_rate_limit() -> u32 {
    50
}
fn default_burst_limit() -> u32 {
    100
}
fn default_alarm_threshold() -> u32 {
    3
}
fn default_alarm_period() -> u32 {
    300
}
fn default_evaluation_periods() -> u32 {
    1
}
fn default_trail_retention() -> u32 {
    90
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
