//! Secrets in the validated model: created by the stack (a random password) or existing (by
//! ARN), and references to them.

use std::collections::{BTreeMap, BTreeSet};

use super::{Key, KeyKind, Names, Validator};
use crate::diag::Diagnostic;
use crate::manifest;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretSpec {
    pub description: Option<String>,
    pub source: SecretSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// Created by the stack with a random password (and optionally a user name).
    Created {
        username: Option<String>,
        password_length: u32,
    },
    /// An existing secret, by ARN.
    Existing(String),
}

impl Validator<'_> {
    pub(super) fn secrets(
        &mut self,
        secrets: &BTreeMap<String, manifest::Secret>,
    ) -> BTreeMap<Key, SecretSpec> {
        let mut out = BTreeMap::new();
        for (key, s) in secrets {
            let path = format!("secrets.{key}");
            let k = self.key(&path, key, KeyKind::Secret);
            let source = match &s.existing_arn {
                Some(arn) => {
                    let parts: Vec<&str> = arn.splitn(7, ':').collect();
                    let valid = parts.len() == 7
                        && parts[0] == "arn"
                        && parts[1].starts_with("aws")
                        && parts[2] == "secretsmanager"
                        && parts[4].len() == 12
                        && parts[5] == "secret";
                    if !valid {
                        self.error(
                            Diagnostic::new(format!("{path}.existing_arn"), format!("`{arn}` is not a secret's ARN"))
                                .expected("arn:aws:secretsmanager:<region>:<account id>:secret:<name>-<6 characters>"),
                        );
                    }
                    if s.username.is_some() {
                        self.error(
                            Diagnostic::new(format!("{path}.username"), "a user name for an existing secret")
                                .hint("`username` shapes a secret gen creates; an existing secret keeps its own value"),
                        );
                    }
                    SecretSource::Existing(arn.clone())
                }
                None => {
                    if !(16..=4096).contains(&s.password_length) {
                        self.error(
                            Diagnostic::new(
                                format!("{path}.password_length"),
                                format!("{} characters", s.password_length),
                            )
                            .expected("16 to 4096"),
                        );
                    }
                    if s.username.as_deref() == Some("") {
                        self.error(Diagnostic::new(
                            format!("{path}.username"),
                            "an empty user name",
                        ));
                    }
                    SecretSource::Created {
                        username: s.username.clone(),
                        password_length: s.password_length,
                    }
                }
            };
            out.insert(
                k,
                SecretSpec {
                    description: s.description.clone(),
                    source,
                },
            );
        }
        out
    }

    pub(super) fn secret_refs(
        &mut self,
        path: &str,
        keys: &[String],
        names: &Names,
    ) -> BTreeSet<Key> {
        let declared = names.secrets.clone();
        self.key_refs(path, keys, &declared, ("secret", "secret", "secrets:"))
    }
}
