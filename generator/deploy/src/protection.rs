//! A protected stage (`protect: true`): what guards its data, decided here without AWS.
//!
//! Two guards, both CloudFormation's own: termination protection (DeleteStack is refused) and a
//! stack policy that denies `Update:Replace` and `Update:Delete` on every data-holding resource
//! type, so no deploy can replace or drop a bucket, log group, secret, queue or table by
//! accident (a rename in gen.yaml, say). `gen destroy` refuses a protected stage before it
//! asks AWS anything.

/// Resource types whose replacement or removal loses data.
pub const DATA_HOLDING: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
];

/// The stack policy of a stage: every update allowed; for a protected one, replacing or
/// deleting a data-holding resource denied.
pub fn stack_policy(protect: bool) -> String {
    let allow = serde_json::json!({
        "Effect": "Allow",
        "Action": "Update:*",
        "Principal": "*",
        "Resource": "*",
    });
    let mut statements = vec![allow];
    if protect {
        statements.push(serde_json::json!({
            "Effect": "Deny",
            "Action": ["Update:Replace", "Update:Delete"],
            "Principal": "*",
            "Resource": "*",
            "Condition": { "StringEquals": { "ResourceType": DATA_HOLDING } },
        }));
    }
    serde_json::to_string(&serde_json::json!({ "Statement": statements })).expect("JSON serialises")
}

/// What a deploy does about protection, given the stage's wish and the stack as deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Turn termination protection on and set the denying stack policy.
    Apply,
    /// The stage is no longer protected but the stack still is: lift both, deliberately.
    Lift,
    /// Nothing to do.
    Leave,
}

/// `protect`: the stage's setting; `deployed`: whether the stack has termination protection
/// now (`None`: the stack does not exist yet).
pub fn protection(protect: bool, deployed: Option<bool>) -> Protection {
    match (protect, deployed) {
        (true, _) => Protection::Apply,
        (false, Some(true)) => Protection::Lift,
        (false, _) => Protection::Leave,
    }
}

/// Whether the credentials may deploy a stage that names `expected`.
pub fn account_matches(expected: Option<&str>, actual: &str) -> bool {
    expected.is_none_or(|e| e == actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protected_policy_denies_replacing_and_deleting_data_and_allows_the_rest() {
        let policy: serde_json::Value = serde_json::from_str(&stack_policy(true)).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements[0]["Effect"], "Allow");
        assert_eq!(statements[0]["Action"], "Update:*");
        assert_eq!(statements[1]["Effect"], "Deny");
        assert_eq!(
            statements[1]["Action"],
            serde_json::json!(["Update:Replace", "Update:Delete"])
        );
        let types = &statements[1]["Condition"]["StringEquals"]["ResourceType"];
        for ty in [
            "AWS::S3::Bucket",
            "AWS::Logs::LogGroup",
            "AWS::SecretsManager::Secret",
            "AWS::SQS::Queue",
        ] {
            assert!(types.as_array().unwrap().iter().any(|t| t == ty), "{ty}");
        }
        let open: serde_json::Value = serde_json::from_str(&stack_policy(false)).unwrap();
        assert_eq!(open["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn protection_is_applied_kept_or_lifted_deliberately() {
        assert_eq!(protection(true, None), Protection::Apply);
        assert_eq!(protection(true, Some(false)), Protection::Apply);
        assert_eq!(protection(false, Some(true)), Protection::Lift);
        assert_eq!(protection(false, Some(false)), Protection::Leave);
        assert_eq!(protection(false, None), Protection::Leave);
    }

    #[test]
    fn the_account_guard() {
        assert!(account_matches(None, "111111111111"));
        assert!(account_matches(Some("111111111111"), "111111111111"));
        assert!(!account_matches(Some("111111111111"), "222222222222"));
    }
}
