//! IAM policy documents as types: statements with effect, principals, actions, resources and
//! conditions. Used for identity policies (roles) and resource policies (buckets, topics).

use std::collections::BTreeMap;

use super::Value;

pub const POLICY_VERSION: &str = "2012-10-17";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// `{"Service": "lambda.amazonaws.com"}`
    Service(String),
    /// `{"AWS": "*"}` — everyone, used only in Deny statements.
    Anyone,
    /// Accounts/ARNs and service principals named by the user (resource policies).
    Named {
        aws: Vec<String>,
        service: Vec<String>,
    },
}

/// One IAM statement. Conditions are `operator → key → value(s)`, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub actions: Vec<String>,
    /// When non-empty, the statement is about every action EXCEPT these (`NotAction`).
    pub not_actions: Vec<String>,
    pub resources: Vec<Value>,
    pub conditions: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Statement {
    pub fn allow(actions: &[&str]) -> Statement {
        Statement::new(Effect::Allow, actions)
    }

    pub fn deny(actions: &[&str]) -> Statement {
        Statement::new(Effect::Deny, actions)
    }

    fn new(effect: Effect, actions: &[&str]) -> Statement {
        Statement {
            sid: None,
            effect,
            principal: None,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            not_actions: Vec::new(),
            resources: Vec::new(),
            conditions: BTreeMap::new(),
        }
    }

    /// A statement about every action except `actions`.
    pub fn deny_all_except(actions: &[&str]) -> Statement {
        let mut statement = Statement::new(Effect::Deny, &[]);
        statement.not_actions = actions.iter().map(|a| (*a).to_owned()).collect();
        statement
    }

    pub fn sid(mut self, sid: &str) -> Statement {
        self.sid = Some(sid.to_owned());
        self
    }

    pub fn principal(mut self, principal: Principal) -> Statement {
        self.principal = Some(principal);
        self
    }

    pub fn resource(mut self, resource: impl Into<Value>) -> Statement {
        self.resources.push(resource.into());
        self
    }

    pub fn condition(mut self, operator: &str, key: &str, value: impl Into<Value>) -> Statement {
        self.conditions
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), value.into());
        self
    }

    pub fn to_value(&self) -> Value {
        let mut m: Vec<(String, Value)> = Vec::new();
        if let Some(sid) = &self.sid {
            m.push(("Sid".to_owned(), Value::str(sid)));
        }
        m.push((
            "Effect".to_owned(),
            Value::str(match self.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            }),
        ));
        if let Some(principal) = &self.principal {
            m.push((
                "Principal".to_owned(),
                match principal {
                    Principal::Service(service) => crate::map! { "Service" => service.as_str() },
                    Principal::Anyone => crate::map! { "AWS" => "*" },
                    Principal::Named { aws, service } => {
                        let mut m = std::collections::BTreeMap::new();
                        if !aws.is_empty() {
                            m.insert(
                                "AWS".to_owned(),
                                one_or_many(aws.iter().map(Value::str).collect()),
                            );
                        }
                        if !service.is_empty() {
                            m.insert(
                                "Service".to_owned(),
                                one_or_many(service.iter().map(Value::str).collect()),
                            );
                        }
                        Value::Map(m)
                    }
                },
            ));
        }
        if self.not_actions.is_empty() {
            m.push((
                "Action".to_owned(),
                one_or_many(self.actions.iter().map(Value::str).collect()),
            ));
        } else {
            m.push((
                "NotAction".to_owned(),
                one_or_many(self.not_actions.iter().map(Value::str).collect()),
            ));
        }
        // Trust policies name a principal and no resource.
        if !self.resources.is_empty() {
            m.push(("Resource".to_owned(), one_or_many(self.resources.clone())));
        }
        if !self.conditions.is_empty() {
            m.push((
                "Condition".to_owned(),
                Value::Map(
                    self.conditions
                        .iter()
                        .map(|(op, keys)| (op.clone(), Value::Map(keys.clone())))
                        .collect(),
                ),
            ));
        }
        Value::Ordered(m)
    }
}

fn one_or_many(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Value::List(items)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statements: Vec<Statement>) -> PolicyDocument {
        PolicyDocument { statements }
    }

    pub fn to_value(&self) -> Value {
        Value::Ordered(vec![
            ("Version".to_owned(), Value::str(POLICY_VERSION)),
            (
                "Statement".to_owned(),
                Value::List(self.statements.iter().map(Statement::to_value).collect()),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_shape() {
        let doc = PolicyDocument::new(vec![
            Statement::deny(&["s3:*"])
                .sid("DenyInsecureTransport")
                .principal(Principal::Anyone)
                .resource("arn:aws:s3:::b")
                .resource("arn:aws:s3:::b/*")
                .condition("Bool", "aws:SecureTransport", "false"),
        ]);
        assert_eq!(
            serde_json::to_string(&doc.to_value().to_json()).unwrap(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#
        );
    }
}
