//! Manifest statements → IAM statements, and the record of every policy document a template
//! holds (for the standalone `policies/*.json` files and AWS's size limits).

use super::Stack;
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{Pseudo, Sub, Value};
use crate::manifest::Effect;
use crate::model::{ResourceRef, StatementSpec};

/// AWS's size limits on policy documents (characters, whitespace excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyLimit {
    Managed,
    /// All inline policies of one role together.
    RoleInline,
    GroupInline,
    UserInline,
    /// S3 bucket policies: 20 KB.
    Bucket,
    /// No documented limit we check (trust policies, topic policies).
    None,
}

impl PolicyLimit {
    pub fn max_chars(self) -> Option<usize> {
        match self {
            PolicyLimit::Managed => Some(6_144),
            PolicyLimit::RoleInline => Some(10_240),
            PolicyLimit::GroupInline => Some(5_120),
            PolicyLimit::UserInline => Some(2_048),
            PolicyLimit::Bucket => Some(20_480),
            PolicyLimit::None => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PolicyLimit::Managed => "a managed policy",
            PolicyLimit::RoleInline => "a role's inline policies",
            PolicyLimit::GroupInline => "a group's inline policies",
            PolicyLimit::UserInline => "a user's inline policies",
            PolicyLimit::Bucket => "a bucket policy",
            PolicyLimit::None => "this policy",
        }
    }
}

/// One policy document of a template.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRecord {
    /// File name under `policies/`, without `.json`.
    pub name: String,
    /// The manifest path an oversized policy is reported at.
    pub manifest_path: String,
    pub limit: PolicyLimit,
    /// Trust policies name a principal and no resource; auditors read them differently.
    pub trust: bool,
    pub document: PolicyDocument,
}

/// The statements a manifest statement stands for. An allow holds only when all its
/// conditions do; a deny refuses whatever fails any one of them, so it becomes one Deny per
/// condition (BoolIfExists for MFA, NotIpAddress + aws:ViaAWSService for IP ranges).
pub(crate) fn statements(stack: &Stack, spec: &StatementSpec) -> Vec<Statement> {
    let actions: Vec<&str> = spec.actions.iter().map(String::as_str).collect();
    let sid = spec.sid.clone().unwrap_or_default();
    let mut base = match spec.effect {
        Effect::Allow => Statement::allow(&actions),
        Effect::Deny => Statement::deny(&actions),
    };
    base.resources = spec.resources.iter().map(|r| resource(stack, r)).collect();
    if let Some(p) = &spec.principals {
        base.principal = Some(Principal::Named {
            aws: p.aws.clone(),
            service: p.service.clone(),
        });
    }
    for (operator, key, values) in &spec.conditions.raw {
        let value = if values.len() == 1 {
            Value::str(&values[0])
        } else {
            Value::List(values.iter().map(Value::str).collect())
        };
        base = base.condition(operator, key, value);
    }
    let c = &spec.conditions;
    let with_sid = |statement: Statement, suffix: &str| {
        if sid.is_empty() {
            statement
        } else {
            statement.sid(&format!("{sid}{suffix}"))
        }
    };
    let ip_list = || Value::List(c.source_ip.iter().map(Value::str).collect());
    match spec.effect {
        Effect::Allow => {
            let mut allow = base;
            if c.mfa {
                allow = allow.condition("Bool", "aws:MultiFactorAuthPresent", "true");
            }
            if c.secure_transport {
                allow = allow.condition("Bool", "aws:SecureTransport", "true");
            }
            if let Some(after) = &c.after {
                allow = allow.condition("DateGreaterThan", "aws:CurrentTime", after.as_str());
            }
            if let Some(before) = &c.before {
                allow = allow.condition("DateLessThan", "aws:CurrentTime", before.as_str());
            }
            if c.source_ip.is_empty() {
                return vec![with_sid(allow, "")];
            }
            // Two statements, because one statement's conditions are ANDed: from the ranges,
            // or through an AWS service acting for the caller (CloudFormation, Athena, …).
            let via_service = allow.clone().condition("Bool", "aws:ViaAWSService", "true");
            let from_ranges = allow.condition("IpAddress", "aws:SourceIp", ip_list());
            vec![
                with_sid(from_ranges, ""),
                with_sid(via_service, "ViaAwsService"),
            ]
        }
        Effect::Deny => {
            let mut denies = Vec::new();
            if c.mfa {
                denies.push(with_sid(
                    base.clone()
                        .condition("BoolIfExists", "aws:MultiFactorAuthPresent", "false"),
                    "WithoutMfa",
                ));
            }
            if c.secure_transport {
                denies.push(with_sid(
                    base.clone()
                        .condition("Bool", "aws:SecureTransport", "false"),
                    "WithoutTls",
                ));
            }
            if !c.source_ip.is_empty() {
                denies.push(with_sid(
                    base.clone()
                        .condition("NotIpAddress", "aws:SourceIp", ip_list())
                        .condition("Bool", "aws:ViaAWSService", "false"),
                    "OutsideIpRanges",
                ));
            }
            if let Some(after) = &c.after {
                denies.push(with_sid(
                    base.clone()
                        .condition("DateLessThan", "aws:CurrentTime", after.as_str()),
                    "BeforeWindow",
                ));
            }
            if let Some(before) = &c.before {
                denies.push(with_sid(
                    base.clone()
                        .condition("DateGreaterThan", "aws:CurrentTime", before.as_str()),
                    "AfterWindow",
                ));
            }
            if denies.is_empty() {
                denies.push(with_sid(base, ""));
            }
            denies
        }
    }
}

/// The documents of many manifest statements.
pub(crate) fn document(stack: &Stack, specs: &[StatementSpec]) -> PolicyDocument {
    PolicyDocument::new(specs.iter().flat_map(|s| statements(stack, s)).collect())
}

fn resource(stack: &Stack, r: &ResourceRef) -> Value {
    match r {
        ResourceRef::Any => Value::str("*"),
        ResourceRef::Bucket(key) => stack.bucket_arn(key.as_str(), "").into(),
        ResourceRef::BucketObjects(key, pattern) => stack
            .bucket_arn(key.as_str(), &format!("/{pattern}"))
            .into(),
        ResourceRef::Function(key) => stack.function_arn(key).into(),
        ResourceRef::Table(key) => stack.table_arn(key, "").into(),
        ResourceRef::TableIndex(key, pattern) => {
            stack.table_arn(key, &format!("/index/{pattern}")).into()
        }
        ResourceRef::Arn(arn) => Value::str(arn),
    }
}

/// `arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<resource>`
pub(crate) fn regional_arn(service: &str, resource: &str) -> Sub {
    Sub::arn(service)
        .pseudo(Pseudo::Region)
        .lit(":")
        .pseudo(Pseudo::AccountId)
        .lit(format!(":{resource}"))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as J, json};

    /// The statements the example-like manifest `iam` section turns into, as JSON.
    fn statements_of(statement_yaml: &str) -> Vec<J> {
        let manifest = format!(
            "name: demo\nregion: us-east-1\nbuckets:\n  b: {{}}\niam:\n  policies:\n    p:\n      statements:\n        - {}\n",
            statement_yaml.replace('\n', "\n          ")
        );
        let model = crate::load(&manifest).expect("valid manifest");
        let t = super::super::synthesize(&model)
            .unwrap()
            .into_stacks()
            .remove(0)
            .template
            .to_json();
        let policy = t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(id, _)| id.starts_with("IamPolicyP"))
            .unwrap()
            .1;
        policy["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn allow_with_mfa_tls_and_time_is_one_statement() {
        let s = statements_of(
            "sid: Read\nactions: [s3:GetObject]\nresources: [\"bucket:b/*\"]\nconditions:\n  mfa: true\n  secure_transport: true\n  time: {after: \"2026-01-01T00:00:00Z\", before: \"2026-02-01T00:00:00Z\"}",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0]["Condition"],
            json!({
                "Bool": {"aws:MultiFactorAuthPresent": "true", "aws:SecureTransport": "true"},
                "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2026-02-01T00:00:00Z"}
            })
        );
    }

    #[test]
    fn allow_from_ip_ranges_also_allows_aws_services_acting_for_the_caller() {
        let s = statements_of(
            "sid: Office\nactions: [s3:GetObject]\nresources: [\"bucket:b/*\"]\nconditions:\n  source_ip: [203.0.113.0/24]",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["Sid"], "Office");
        assert_eq!(
            s[0]["Condition"],
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})
        );
        assert_eq!(s[1]["Sid"], "OfficeViaAwsService");
        assert_eq!(
            s[1]["Condition"],
            json!({"Bool": {"aws:ViaAWSService": "true"}})
        );
    }

    #[test]
    fn deny_refuses_whatever_fails_any_condition() {
        let s = statements_of(
            "sid: Guard\neffect: deny\nactions: [\"s3:*\"]\nresources: [\"bucket:b\", \"bucket:b/*\"]\nconditions:\n  mfa: true\n  time: {after: \"2026-01-01T00:00:00Z\", before: \"2026-02-01T00:00:00Z\"}",
        );
        let sids: Vec<&str> = s.iter().map(|x| x["Sid"].as_str().unwrap()).collect();
        assert_eq!(
            sids,
            ["GuardWithoutMfa", "GuardBeforeWindow", "GuardAfterWindow"]
        );
        assert_eq!(
            s[0]["Condition"],
            json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
        );
        assert_eq!(
            s[1]["Condition"],
            json!({"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}})
        );
        assert_eq!(
            s[2]["Condition"],
            json!({"DateGreaterThan": {"aws:CurrentTime": "2026-02-01T00:00:00Z"}})
        );
        assert!(s.iter().all(|x| x["Effect"] == "Deny"));
    }

    #[test]
    fn raw_conditions_are_kept_as_written() {
        let s = statements_of(
            "actions: [s3:GetObject]\nresources: [\"*\"]\nconditions:\n  raw:\n    - {operator: StringEquals, key: aws:RequestedRegion, values: [us-east-1, eu-west-1]}",
        );
        assert_eq!(
            s[0]["Condition"],
            json!({"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})
        );
    }
}
