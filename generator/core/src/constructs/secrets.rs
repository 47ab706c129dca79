//! Secrets construct: Secrets Manager secrets created with a random value (never written in
//! a template) or referenced by ARN. Functions that list a secret may read exactly that one.

use super::Stack;
use super::checkov::skip;
use super::policy::regional_arn;
use crate::cfn::{LogicalId, RemovalPolicy, Resource, Value};
use crate::map;
use crate::model::{Key, SecretSource, SecretSpec};

pub(crate) fn id(key: &Key) -> LogicalId {
    LogicalId::from_path(&["secret", key.as_str()])
}

/// The secret's ARN as templates use it: a `Ref` to the created secret, or the given ARN.
pub(crate) fn arn(stack: &Stack, key: &Key) -> Value {
    match &stack.model.secrets[key].source {
        SecretSource::Created { .. } => Value::reference(&id(key)),
        SecretSource::Existing(arn) => Value::str(arn),
    }
}

pub(crate) fn synthesize(stack: &mut Stack) {
    for (key, spec) in &stack.model.secrets {
        secret(stack, key, spec);
    }
}

fn secret(stack: &mut Stack, key: &Key, spec: &SecretSpec) {
    let SecretSource::Created {
        username,
        password_length,
    } = &spec.source
    else {
        return;
    };
    let name = stack.model.naming.secret(key).into_string();
    let generate = match username {
        // The value becomes {"username": "...", "password": "<random>"}.
        Some(user) => map! {
            "SecretStringTemplate" => serde_json::json!({ "username": user }).to_string(),
            "GenerateStringKey" => "password",
            "PasswordLength" => *password_length,
            "ExcludePunctuation" => true,
        },
        None => map! {
            "PasswordLength" => *password_length,
            "ExcludePunctuation" => true,
        },
    };
    let mut secret = Resource::new("AWS::SecretsManager::Secret")
        .prop("Name", name.as_str())
        .prop("GenerateSecretString", generate)
        // Credentials outlive the stack: deleting them could lock the app out of its data.
        .removal(RemovalPolicy::Retain);
    if let Some(description) = &spec.description {
        secret = secret.prop("Description", description.as_str());
    }
    if let Some(tags) = stack.tags() {
        secret = secret.prop("Tags", tags);
    }
    secret.metadata.insert(
        "checkov".into(),
        skip(&[(
            "CKV_AWS_149",
            "Encrypted with the AWS managed key aws/secretsmanager; a customer KMS key is opt-in",
        )]),
    );
    stack.template.add(id(key), secret);
    // Secret ARNs end in 6 random characters: `-??????` in standalone policies.
    stack.know(
        &id(key),
        None,
        regional_arn("secretsmanager", &format!("secret:{name}-??????")),
    );
}
