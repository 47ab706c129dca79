//! IAM identities: managed policies, groups (optionally forcing MFA) and users. Policies are
//! attached from the policy's side (`Groups`/`Roles`), so each attachment is stated once.
//! No user ever gets a password or an access key from a template.

use std::collections::BTreeSet;

use super::policy::{PolicyLimit, PolicyRecord, document};
use super::{Stack, ids};
use crate::cfn::iam::{PolicyDocument, Statement};
use crate::cfn::{LogicalId, Pseudo, Resource, Sub, Value};
use crate::map;
use crate::model::{IamSpec, Key};

/// Actions a member may use before signing in with MFA: enough to set up their own device.
const SELF_SERVICE_MFA: &[&str] = &[
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:GetMFADevice",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
];

/// AWS's published "force MFA" policy: members may manage their own MFA device and password;
/// everything else is denied until they sign in with MFA.
pub fn require_mfa_document() -> PolicyDocument {
    let iam_arn = |resource: &str| {
        // IAM is global: no region between the service and the account.
        Sub::arn("iam")
            .lit(":")
            .pseudo(Pseudo::AccountId)
            .lit(format!(":{resource}"))
    };
    PolicyDocument::new(vec![
        Statement::allow(&["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"])
            .sid("AllowViewAccountInfo")
            .resource("*"),
        Statement::allow(&["iam:CreateVirtualMFADevice"])
            .sid("AllowManageOwnVirtualMFADevice")
            .resource(iam_arn("mfa/*")),
        Statement::allow(&[
            "iam:ChangePassword",
            "iam:DeactivateMFADevice",
            "iam:EnableMFADevice",
            "iam:GetUser",
            "iam:GetMFADevice",
            "iam:ListMFADevices",
            "iam:ResyncMFADevice",
        ])
        .sid("AllowManageOwnUserMFA")
        // `${aws:username}` is IAM's policy variable, escaped from Fn::Sub by the Sub type.
        .resource(iam_arn("user/${aws:username}")),
        Statement::deny_all_except(SELF_SERVICE_MFA)
            .sid("DenyAllExceptListedIfNoMFA")
            .resource("*")
            .condition("BoolIfExists", "aws:MultiFactorAuthPresent", "false"),
    ])
}

pub(crate) fn synthesize(stack: &mut Stack) {
    identities(stack, &stack.model.iam);
}

fn identities(stack: &mut Stack, iam: &IamSpec) {
    let naming = stack.naming();
    let tags = stack.tags();

    for (key, group) in &iam.groups {
        let mut resource = Resource::new("AWS::IAM::Group").prop("GroupName", naming.group(key));
        if !group.statements.is_empty() {
            let doc = document(stack, &group.statements);
            resource = resource.prop(
                "Policies",
                vec![map! { "PolicyName" => "inline", "PolicyDocument" => doc.to_value() }],
            );
            stack.record_policy(PolicyRecord {
                name: format!("group-{key}"),
                manifest_path: format!("iam.groups.{key}.statements"),
                limit: PolicyLimit::GroupInline,
                trust: false,
                document: doc,
            });
        }
        stack.template.add(ids::group(key), resource);
    }

    for (key, policy) in &iam.policies {
        let groups: Vec<Value> = iam
            .groups
            .iter()
            .filter(|(_, g)| g.policies.contains(key))
            .map(|(g, _)| Value::reference(&ids::group(g)))
            .collect();
        let roles: Vec<Value> = stack
            .model
            .functions
            .iter()
            .filter(|(_, f)| f.policies.contains(key))
            .map(|(f, _)| Value::reference(&ids::function_role(f)))
            .collect();
        let doc = document(stack, &policy.statements);
        let mut resource = Resource::new("AWS::IAM::ManagedPolicy")
            .prop("ManagedPolicyName", naming.managed_policy(key))
            .prop("PolicyDocument", doc.to_value());
        if let Some(description) = &policy.description {
            resource = resource.prop("Description", description.as_str());
        }
        if !groups.is_empty() {
            resource = resource.prop("Groups", Value::List(groups));
        }
        if !roles.is_empty() {
            resource = resource.prop("Roles", Value::List(roles));
        }
        stack.template.add(ids::managed_policy(key), resource);
        stack.record_policy(PolicyRecord {
            name: format!("managed-{key}"),
            manifest_path: format!("iam.policies.{key}"),
            limit: PolicyLimit::Managed,
            trust: false,
            document: doc,
        });
    }

    let mfa_groups: Vec<Value> = iam
        .groups
        .iter()
        .filter(|(_, g)| g.require_mfa)
        .map(|(g, _)| Value::reference(&ids::group(g)))
        .collect();
    if !mfa_groups.is_empty() {
        let doc = require_mfa_document();
        stack.template.add(
            ids::require_mfa_policy(),
            Resource::new("AWS::IAM::ManagedPolicy")
                .prop("ManagedPolicyName", naming.require_mfa_policy())
                .prop(
                    "Description",
                    "Deny everything but managing your own MFA device and password until you sign in with MFA",
                )
                .prop("PolicyDocument", doc.to_value())
                .prop("Groups", Value::List(mfa_groups)),
        );
        stack.record_policy(PolicyRecord {
            name: "managed-require-mfa".into(),
            manifest_path: "iam.groups".into(),
            limit: PolicyLimit::Managed,
            trust: false,
            document: doc,
        });
    }

    for (name, user) in &iam.users {
        let mut resource = Resource::new("AWS::IAM::User").prop("UserName", naming.user(name));
        let groups: BTreeSet<&Key> = user.groups.iter().collect();
        if !groups.is_empty() {
            resource = resource.prop(
                "Groups",
                Value::List(
                    groups
                        .iter()
                        .map(|g| Value::reference(&ids::group(g)))
                        .collect(),
                ),
            );
        }
        if !user.statements.is_empty() {
            let doc = document(stack, &user.statements);
            resource = resource.prop(
                "Policies",
                vec![map! { "PolicyName" => "inline", "PolicyDocument" => doc.to_value() }],
            );
            stack.record_policy(PolicyRecord {
                name: format!("user-{name}"),
                manifest_path: format!("iam.users.{name}.statements"),
                limit: PolicyLimit::UserInline,
                trust: false,
                document: doc,
            });
        }
        if let Some(tags) = &tags {
            resource = resource.prop("Tags", tags.clone());
        }
        stack.template.add(ids::user(name), resource);
    }
}

/// IDs of the managed policies a function's role gets (its function waits for them).
pub(crate) fn attached_to_function(policies: &BTreeSet<Key>) -> Vec<LogicalId> {
    policies.iter().map(ids::managed_policy).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_mfa_policy_names_own_user_and_mfa_devices() {
        let json = require_mfa_document().to_value().to_json().to_string();
        assert!(
            json.contains(r#"arn:${AWS::Partition}:iam::${AWS::AccountId}:mfa/*"#),
            "{json}"
        );
        assert!(
            json.contains(r#"arn:${AWS::Partition}:iam::${AWS::AccountId}:user/${!aws:username}"#),
            "{json}"
        );
        assert!(
            json.contains(r#""BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}"#),
            "{json}"
        );
    }
}
