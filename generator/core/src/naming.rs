//! Naming: every physical name stackgen gives AWS, made in one place.
//!
//! Physical names are part of an app's identity in an account: two names that collide are two
//! apps overwriting each other, and a renamed resource is a replaced one. So no construct
//! formats a name itself; it asks [`Naming`], which knows the rule (`<prefix>-<key>-<what>`,
//! where the prefix is the project name, and later the project and stage) and each name's AWS
//! limit. The validator calls [`Naming::problems`] once over the whole model and turns each
//! [`NameError`] into a manifest diagnostic, so a name too long for AWS is the user's error at
//! the key that makes it, never a failed deploy.
//!
//! Not here, on purpose: logical IDs (`cfn::LogicalId`, stable per manifest key, not physical)
//! and export names (stackgen emits no `Export`: an export in use cannot change, which is where
//! CDK users get stuck; cross-stack values go through the stack graph instead).

use std::fmt;

use crate::cfn::{Pseudo, Sub};
use crate::graph::StackRole;
use crate::model::{Key, Model};

/// The stack that holds the assets bucket in each account and region (like `cdk bootstrap`'s
/// CDKToolkit). Shared by every stackgen app there, so it carries no project name.
pub const TOOLKIT_STACK: &str = "stackgen-toolkit";

/// The 12 digits of an account ID, for the length of names that contain one.
const ACCOUNT_ID_LEN: usize = 12;

/// What a physical name names, with the AWS limit on its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Stack,
    Bucket,
    Function,
    LogGroup,
    Alarm,
    ManagedPolicy,
    Group,
    User,
    Topic,
    Queue,
    Secret,
    RestApi,
    Authorizer,
    Trail,
    MetricNamespace,
    /// A CloudFront origin access control.
    OriginAccessControl,
    /// A CloudFront response headers policy.
    ResponseHeadersPolicy,
    Table,
}

impl NameKind {
    /// The longest name AWS accepts, and whose limit it is.
    pub const fn limit(self) -> (usize, &'static str) {
        match self {
            NameKind::Stack => (128, "CloudFormation's limit"),
            NameKind::Bucket => (63, "S3's limit"),
            NameKind::Function => (64, "Lambda's limit"),
            NameKind::LogGroup => (512, "CloudWatch Logs' limit"),
            NameKind::Alarm => (255, "CloudWatch's limit"),
            NameKind::ManagedPolicy | NameKind::Group | NameKind::Authorizer => {
                (128, "IAM's limit")
            }
            NameKind::User => (64, "IAM's limit"),
            NameKind::Topic => (256, "SNS's limit"),
            NameKind::Queue => (80, "SQS's limit"),
            NameKind::Secret => (512, "Secrets Manager's limit"),
            NameKind::RestApi => (1024, "API Gateway's limit"),
            NameKind::Trail => (128, "CloudTrail's limit"),
            NameKind::MetricNamespace => (255, "CloudWatch's limit"),
            NameKind::OriginAccessControl => (64, "CloudFront's limit"),
            NameKind::ResponseHeadersPolicy => (128, "CloudFront's limit"),
            NameKind::Table => (255, "DynamoDB's limit"),
        }
    }

    /// How a message names it: "the function name `…` would be 70 characters".
    pub const fn noun(self) -> &'static str {
        match self {
            NameKind::Stack => "stack name",
            NameKind::Bucket => "bucket's name",
            NameKind::Function => "function name",
            NameKind::LogGroup => "log group name",
            NameKind::Alarm => "alarm name",
            NameKind::ManagedPolicy => "managed policy name",
            NameKind::Group => "IAM group name",
            NameKind::User => "IAM user name",
            NameKind::Topic => "topic name",
            NameKind::Queue => "queue name",
            NameKind::Secret => "secret name",
            NameKind::RestApi => "REST API name",
            NameKind::Authorizer => "authorizer name",
            NameKind::Trail => "trail name",
            NameKind::MetricNamespace => "metric namespace",
            NameKind::OriginAccessControl => "origin access control name",
            NameKind::ResponseHeadersPolicy => "response headers policy name",
            NameKind::Table => "table name",
        }
    }
}

/// One physical name. `length` is what AWS will count, which for a name with parts resolved at
/// deploy time (a bucket's account and region) is more than the text shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    kind: NameKind,
    text: String,
    length: usize,
}

impl Name {
    fn new(kind: NameKind, text: String) -> Name {
        let length = text.len();
        Name { kind, text, length }
    }

    pub fn kind(&self) -> NameKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// Whether AWS accepts its length.
    pub fn check(&self) -> Result<(), NameError> {
        let (limit, _) = self.kind.limit();
        if self.length > limit {
            Err(NameError {
                kind: self.kind,
                name: self.text.clone(),
                length: self.length,
            })
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.text
    }
}

impl From<Name> for crate::cfn::Value {
    fn from(name: Name) -> crate::cfn::Value {
        crate::cfn::Value::Str(name.text)
    }
}

/// A name longer than AWS allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {} `{name}` would be {length} characters", .kind.noun())]
pub struct NameError {
    pub kind: NameKind,
    pub name: String,
    pub length: usize,
}

impl NameError {
    /// "at most 64 characters (Lambda's limit)"
    pub fn expected(&self) -> String {
        let (limit, whose) = self.kind.limit();
        format!("at most {limit} characters ({whose})")
    }
}

/// A name the model would give AWS that AWS would refuse, at the manifest path that makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameProblem {
    /// The manifest entry whose key goes into the name (`functions.transcode`).
    pub path: String,
    pub error: NameError,
    pub hint: String,
}

/// Which alarm of a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionAlarm {
    Errors,
    AbnormalTerminations,
    DeadLetters,
}

/// The naming rule of one app, or of one stage of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    project: Key,
    /// `<project>` or `<project>-<stage>`: what every name starts with.
    prefix: String,
    /// The user names of a stage carry it (IAM names are global to the account).
    stage: Option<Key>,
}

impl Naming {
    /// The names of an app without stages (or of the stage that keeps the names it had
    /// before stages): `<project>-<key>`.
    pub fn new(project: &Key) -> Naming {
        Naming {
            project: project.clone(),
            prefix: project.to_string(),
            stage: None,
        }
    }

    /// The names of stage `stage`: `<project>-<stage>-<key>`, so that stages live side by
    /// side in one account.
    pub fn for_stage(project: &Key, stage: &Key) -> Naming {
        Naming {
            project: project.clone(),
            prefix: format!("{project}-{stage}"),
            stage: Some(stage.clone()),
        }
    }

    /// `<prefix>-<rest>`: the shape of most names.
    fn prefixed(&self, kind: NameKind, rest: &str) -> Name {
        Name::new(kind, format!("{}-{rest}", self.prefix))
    }

    /// The CloudFormation stack of each part of the app: the app's stack is named after the
    /// project and stage (a manifest without stages keeps the name it has always had).
    pub fn stack(&self, role: StackRole) -> Name {
        match role {
            StackRole::App => Name::new(NameKind::Stack, self.prefix.clone()),
            StackRole::Billing => self.prefixed(NameKind::Stack, "billing"),
            StackRole::Nested { parent, part } => {
                let parent = self.stack(*parent);
                Name::new(NameKind::Stack, format!("{parent}-{part}"))
            }
        }
    }

    /// A derived bucket name, `<prefix>-<key>-<account>-<region>`: readable, unique per account
    /// and region, and known before the bucket exists (no reference to the bucket needed).
    pub fn bucket(&self, key: &str) -> Sub {
        Sub::new()
            .lit(format!("{}-{key}-", self.prefix))
            .pseudo(Pseudo::AccountId)
            .lit("-")
            .pseudo(Pseudo::Region)
    }

    /// [`Naming::bucket`] as it is in `account` and `region`: for a sample event of a bucket
    /// not deployed yet (or whose account is not known here).
    pub fn bucket_in(&self, key: &str, account: &str, region: &str) -> Name {
        Name::new(
            NameKind::Bucket,
            format!("{}-{key}-{account}-{region}", self.prefix),
        )
    }

    /// [`Naming::bucket`] as a person reads it, with its length once deployed to `region`.
    pub fn bucket_shown(&self, key: &str, region: &str) -> Name {
        let text = format!("{}-{key}-<account id>-{region}", self.prefix);
        let length = self.prefix.len() + key.len() + ACCOUNT_ID_LEN + region.len() + 3;
        Name {
            kind: NameKind::Bucket,
            text,
            length,
        }
    }

    /// `<prefix>-<key>`: readable in the console, stable across deploys.
    pub fn function(&self, key: &Key) -> Name {
        self.prefixed(NameKind::Function, key.as_str())
    }

    /// The function's ARN in `account` and `region` (what a local run tells it it was
    /// invoked as).
    pub fn function_arn_in(&self, key: &Key, account: &str, region: &str) -> String {
        format!(
            "arn:aws:lambda:{region}:{account}:function:{}",
            self.function(key)
        )
    }

    /// `/aws/lambda/<function>`: where Lambda logs anyway, created up front with a retention.
    pub fn function_log_group(&self, key: &Key) -> Name {
        Name::new(
            NameKind::LogGroup,
            format!("/aws/lambda/{}", self.function(key)),
        )
    }

    pub fn function_alarm(&self, key: &Key, which: FunctionAlarm) -> Name {
        let suffix = match which {
            FunctionAlarm::Errors => "errors",
            FunctionAlarm::AbnormalTerminations => "abnormal-terminations",
            FunctionAlarm::DeadLetters => "dead-letters",
        };
        self.prefixed(NameKind::Alarm, &format!("{key}-{suffix}"))
    }

    /// `<prefix>-<key>`: table names are per account and region, like function names.
    pub fn table(&self, key: &Key) -> Name {
        self.prefixed(NameKind::Table, key.as_str())
    }

    pub fn dead_letter_queue(&self, key: &Key) -> Name {
        self.prefixed(NameKind::Queue, &format!("{key}-dead-letters"))
    }

    /// An alerts topic (`alerts`, or `billing-alerts` for the us-east-1 billing stack's own).
    pub fn topic(&self, purpose: &str) -> Name {
        self.prefixed(NameKind::Topic, purpose)
    }

    /// The sender name an alert email shows.
    pub fn topic_display(&self, purpose: &str) -> String {
        format!("{} {purpose}", self.prefix)
    }

    /// `<prefix>/<key>`: Secrets Manager names read as paths.
    pub fn secret(&self, key: &Key) -> Name {
        Name::new(NameKind::Secret, format!("{}/{key}", self.prefix))
    }

    pub fn managed_policy(&self, key: &Key) -> Name {
        self.prefixed(NameKind::ManagedPolicy, key.as_str())
    }

    /// The policy that denies everything but MFA set-up until the user signs in with MFA.
    pub fn require_mfa_policy(&self) -> Name {
        self.prefixed(NameKind::ManagedPolicy, "require-mfa")
    }

    pub fn group(&self, key: &Key) -> Name {
        self.prefixed(NameKind::Group, key.as_str())
    }

    /// IAM users keep the name the manifest gives (it is the person's sign-in name), with
    /// the stage's prefix when there is one: IAM names are global to the account, and two
    /// stages in one account must not fight over one user.
    pub fn user(&self, name: &str) -> Name {
        match &self.stage {
            None => Name::new(NameKind::User, name.to_owned()),
            Some(_) => self.prefixed(NameKind::User, name),
        }
    }

    pub fn rest_api(&self) -> Name {
        self.prefixed(NameKind::RestApi, "api")
    }

    pub fn authorizer(&self) -> Name {
        self.prefixed(NameKind::Authorizer, "jwt")
    }

    /// The API stage's access log group.
    pub fn api_access_log_group(&self, stage: &str) -> Name {
        Name::new(
            NameKind::LogGroup,
            format!("/aws/apigateway/{}-{stage}-access", self.prefix),
        )
    }

    pub fn trail(&self) -> Name {
        self.prefixed(NameKind::Trail, "audit")
    }

    pub fn trail_log_group(&self) -> Name {
        Name::new(
            NameKind::LogGroup,
            format!("/aws/cloudtrail/{}", self.prefix),
        )
    }

    /// The app's custom CloudWatch metrics.
    pub fn metric_namespace(&self) -> Name {
        Name::new(
            NameKind::MetricNamespace,
            format!("stackgen/{}", self.prefix),
        )
    }

    pub fn billing_alarm(&self) -> Name {
        self.prefixed(NameKind::Alarm, "monthly-charges")
    }

    /// The site's npm package name (not an AWS name, but the app's all the same).
    /// The hosted site's origin access control (names are unique per account).
    pub fn site_origin_access_control(&self) -> Name {
        self.prefixed(NameKind::OriginAccessControl, "site")
    }

    /// The hosted site's response headers policy (names are unique per account).
    pub fn site_headers_policy(&self) -> Name {
        self.prefixed(NameKind::ResponseHeadersPolicy, "site-headers")
    }

    /// The distribution's comment (distributions have no name; the console lists comments).
    pub fn site_distribution_comment(&self) -> String {
        format!("{} website", self.prefix)
    }

    pub fn site_package(&self) -> String {
        format!("{}-site", self.project)
    }

    /// Every name the model gives AWS that AWS would refuse. One pass over the model, so a
    /// new kind of name is checked by adding it here, next to its rule.
    pub fn problems(&self, model: &Model) -> Vec<NameProblem> {
        let mut problems = Vec::new();
        // With a stage in every name, a shorter stage key is the other way out.
        let staged = self.stage.is_some();
        let mut check = |path: String, name: Name, hint: &'static str| {
            if let Err(error) = name.check() {
                let hint = if staged {
                    format!("{hint}, or the stage key")
                } else {
                    hint.to_owned()
                };
                problems.push(NameProblem { path, error, hint });
            }
        };
        for (key, spec) in &model.buckets {
            if matches!(spec.name, crate::model::BucketName::Derived) {
                check(
                    format!("buckets.{key}"),
                    self.bucket_shown(key.as_str(), &model.region),
                    "shorten the bucket key or the project name, or set `name:` to a fixed bucket name",
                );
            }
        }
        for (key, spec) in &model.functions {
            let path = format!("functions.{key}");
            // The function's name is the shortest with its key: checking it first reports the
            // one problem a user sees, not five echoes of it.
            let function = self.function(key);
            if function.check().is_err() {
                check(path, function, "shorten the function key");
                continue;
            }
            let hint = "shorten the function key";
            check(path.clone(), self.function_log_group(key), hint);
            for which in [FunctionAlarm::Errors, FunctionAlarm::AbnormalTerminations] {
                check(path.clone(), self.function_alarm(key, which), hint);
            }
            if spec.has_dead_letter_queue() {
                check(path.clone(), self.dead_letter_queue(key), hint);
                check(
                    path.clone(),
                    self.function_alarm(key, FunctionAlarm::DeadLetters),
                    hint,
                );
            }
        }
        for key in model.tables.keys() {
            check(
                format!("tables.{key}"),
                self.table(key),
                "shorten the table key",
            );
        }
        for key in model.iam.policies.keys() {
            check(
                format!("iam.policies.{key}"),
                self.managed_policy(key),
                "shorten the policy key",
            );
        }
        for key in model.iam.groups.keys() {
            check(
                format!("iam.groups.{key}"),
                self.group(key),
                "shorten the group key",
            );
        }
        for name in model.iam.users.keys() {
            check(
                format!("iam.users.{name}"),
                self.user(name),
                "shorten the user name",
            );
        }
        for key in model.secrets.keys() {
            check(
                format!("secrets.{key}"),
                self.secret(key),
                "shorten the secret key",
            );
        }
        if model.site.as_ref().is_some_and(|s| s.hosting.is_some()) {
            let hint = "shorten the project name";
            check(
                "site".into(),
                self.bucket_shown(crate::model::SITE_BUCKET_KEY, &model.region),
                hint,
            );
            check("site".into(), self.site_origin_access_control(), hint);
            check("site".into(), self.site_headers_policy(), hint);
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming() -> Naming {
        Naming::new(&Key::parse_generated("video24"))
    }

    #[test]
    fn names_follow_the_rule() {
        let n = naming();
        let key = Key::parse_generated("transcode");
        assert_eq!(n.stack(StackRole::App).as_str(), "video24");
        assert_eq!(n.stack(StackRole::Billing).as_str(), "video24-billing");
        assert_eq!(n.function(&key).as_str(), "video24-transcode");
        assert_eq!(
            n.function_log_group(&key).as_str(),
            "/aws/lambda/video24-transcode"
        );
        assert_eq!(
            n.function_alarm(&key, FunctionAlarm::AbnormalTerminations)
                .as_str(),
            "video24-transcode-abnormal-terminations"
        );
        assert_eq!(
            n.dead_letter_queue(&key).as_str(),
            "video24-transcode-dead-letters"
        );
        assert_eq!(n.secret(&key).as_str(), "video24/transcode");
        assert_eq!(
            n.table(&Key::parse_generated("profiles")).as_str(),
            "video24-profiles"
        );
        assert_eq!(n.topic("alerts").as_str(), "video24-alerts");
        assert_eq!(
            n.api_access_log_group("v1").as_str(),
            "/aws/apigateway/video24-v1-access"
        );
        assert_eq!(n.metric_namespace().as_str(), "stackgen/video24");
    }

    #[test]
    fn a_stage_prefixes_every_name_and_keeps_apart_from_another() {
        let project = Key::parse_generated("video24");
        let prod = Naming::for_stage(&project, &Key::parse_generated("prod"));
        let dev = Naming::for_stage(&project, &Key::parse_generated("dev"));
        let key = Key::parse_generated("transcode");
        assert_eq!(prod.stack(StackRole::App).as_str(), "video24-prod");
        assert_eq!(
            prod.stack(StackRole::Billing).as_str(),
            "video24-prod-billing"
        );
        assert_eq!(prod.function(&key).as_str(), "video24-prod-transcode");
        assert_eq!(prod.secret(&key).as_str(), "video24-prod/transcode");
        assert_eq!(
            prod.table(&Key::parse_generated("profiles")).as_str(),
            "video24-prod-profiles"
        );
        assert_eq!(prod.user("alice").as_str(), "video24-prod-alice");
        assert_eq!(naming().user("alice").as_str(), "alice");
        assert_eq!(
            prod.bucket_shown("upload", "us-east-1").as_str(),
            "video24-prod-upload-<account id>-us-east-1"
        );
        assert_ne!(prod.function(&key), dev.function(&key));
        assert_ne!(prod.function_log_group(&key), dev.function_log_group(&key));
    }

    #[test]
    fn a_bucket_name_counts_the_account_and_region_it_gets_at_deploy_time() {
        let n = naming();
        let shown = n.bucket_shown("upload", "ap-southeast-2");
        assert_eq!(shown.as_str(), "video24-upload-<account id>-ap-southeast-2");
        // video24-upload-123456789012-ap-southeast-2
        assert_eq!(shown.length, 42);
        assert!(shown.check().is_ok());
        let long = n.bucket_shown(&"k".repeat(30), "ap-southeast-2");
        let error = long.check().unwrap_err();
        assert_eq!(error.length, 66);
        assert_eq!(error.expected(), "at most 63 characters (S3's limit)");
    }

    #[test]
    fn each_limit_is_the_services_own() {
        let n = naming();
        let key = Key::parse_generated(&"f".repeat(56));
        // 7 + 1 + 56 = 64: Lambda's limit exactly.
        assert!(n.function(&key).check().is_ok());
        let key = Key::parse_generated(&"f".repeat(57));
        let error = n.function(&key).check().unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "the function name `video24-{}` would be 65 characters",
                "f".repeat(57)
            )
        );
        assert_eq!(error.expected(), "at most 64 characters (Lambda's limit)");
    }
}
