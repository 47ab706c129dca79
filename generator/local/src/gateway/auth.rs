//! TOKEN authorizer answers: the policy a Lambda authorizer returns, evaluated against a
//! method ARN, and the result cache.
//!
//! What API Gateway does (its developer guide, "Use API Gateway Lambda authorizers", and the
//! AWS compute blog that introduced them): for a *valid policy* it caches the returned policy
//! (with principalId and context), keyed by the token source's value, for
//! AuthorizerResultTtlInSeconds (default 300, 0 disables the cache, at most 3600). A later
//! request with the same token is decided by evaluating the CACHED policy against THAT
//! request's method ARN, without invoking the authorizer — so a policy that only names the
//! first method's ARN denies the others until it expires. Only policies are cached: an
//! `Unauthorized` error (401), any other error (500) and a malformed answer (500) are not, so
//! the next request invokes the authorizer again.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value};
use tokio::time::Instant;

/// A valid authorizer answer.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Policy {
    pub principal_id: String,
    statements: Vec<Statement>,
    /// The context, every value as a string (as the integration sees it).
    pub context: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// What a policy says about one method ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decision {
    Allow,
    /// An Allow-less policy for this ARN (no statement allows it).
    ImplicitDeny,
    ExplicitDeny,
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

impl Policy {
    /// Reads an authorizer's `/response` body; Err says why it is not a valid answer
    /// (API Gateway answers those 500, AuthorizerConfigurationException).
    pub fn parse(body: &[u8]) -> Result<Policy, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let principal_id = match value.get("principalId") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err("no principalId".to_owned()),
        };
        let document = value
            .get("policyDocument")
            .and_then(Value::as_object)
            .ok_or("no policyDocument")?;
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => return Err("policyDocument has no Statement".to_owned()),
        };
        let statements = statements
            .iter()
            .map(|statement| {
                let allow = match statement.get("Effect").and_then(Value::as_str) {
                    Some("Allow") => true,
                    Some("Deny") => false,
                    other => return Err(format!("a statement's Effect is {other:?}")),
                };
                if statement.get("NotAction").is_some() || statement.get("NotResource").is_some() {
                    return Err(
                        "NotAction/NotResource statements are not evaluated here".to_owned()
                    );
                }
                Ok(Statement {
                    allow,
                    actions: strings(statement.get("Action")).ok_or("a statement has no Action")?,
                    resources: strings(statement.get("Resource"))
                        .ok_or("a statement has no Resource")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut context = Map::new();
        match value.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::Object(entries)) => {
                for (key, value) in entries {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => continue,
                        _ => {
                            return Err(format!(
                                "context.{key} is not a string, number or boolean"
                            ));
                        }
                    };
                    context.insert(key.clone(), Value::String(text));
                }
            }
            Some(_) => return Err("context is not an object".to_owned()),
        }
        Ok(Policy {
            principal_id,
            statements,
            context,
        })
    }

    /// IAM's evaluation for `execute-api:Invoke` on `method_arn`: an explicit Deny wins,
    /// then an Allow, else an implicit deny.
    pub fn decide(&self, method_arn: &str) -> Decision {
        let applies = |s: &Statement| {
            s.actions
                .iter()
                .any(|a| wildcard(&a.to_ascii_lowercase(), "execute-api:invoke"))
                && s.resources.iter().any(|r| wildcard(r, method_arn))
        };
        if self.statements.iter().any(|s| !s.allow && applies(s)) {
            Decision::ExplicitDeny
        } else if self.statements.iter().any(|s| s.allow && applies(s)) {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

/// IAM's ARN wildcards: `*` any run of characters (`/` and `:` included), `?` one character.
pub(super) fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Policies by (authorizer logical id, token), until they expire.
#[derive(Default)]
pub(super) struct Cache {
    entries: Mutex<HashMap<(String, String), (Instant, Policy)>>,
}

impl Cache {
    pub fn get(&self, authorizer: &str, token: &str) -> Option<Policy> {
        let mut entries = self.entries.lock().expect("authorizer cache");
        let key = (authorizer.to_owned(), token.to_owned());
        match entries.get(&key) {
            Some((expires, policy)) if Instant::now() < *expires => Some(policy.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, authorizer: &str, token: &str, ttl: std::time::Duration, policy: Policy) {
        if ttl.is_zero() {
            return;
        }
        self.entries.lock().expect("authorizer cache").insert(
            (authorizer.to_owned(), token.to_owned()),
            (Instant::now() + ttl, policy),
        );
    }

    pub fn clear(&self) {
        self.entries.lock().expect("authorizer cache").clear();
    }
}
