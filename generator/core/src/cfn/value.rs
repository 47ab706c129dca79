//! A JSON-like value tree in which CloudFormation intrinsic functions are typed variants.
//!
//! Constructs build property trees out of [`Value`]; references are [`Intrinsic`]s that name a
//! [`LogicalId`], so the template can check every reference before anything is serialised.

use std::collections::BTreeMap;

use super::LogicalId;

/// A property value in a CloudFormation template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    /// Keys are sorted on output (BTreeMap), which keeps templates deterministic.
    Map(BTreeMap<String, Value>),
    /// Keys in a fixed, conventional order chosen by the code that builds it (IAM documents
    /// read `Version, Statement` and `Sid, Effect, Principal, Action, Resource, Condition`).
    Ordered(Vec<(String, Value)>),
    Intrinsic(Box<Intrinsic>),
}

/// CloudFormation pseudo parameters; `Ref`-able without declaring anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pseudo {
    AccountId,
    Partition,
    Region,
    StackName,
    StackId,
    UrlSuffix,
}

impl Pseudo {
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }

    fn from_name(name: &str) -> Option<Pseudo> {
        [
            Pseudo::AccountId,
            Pseudo::Partition,
            Pseudo::Region,
            Pseudo::StackName,
            Pseudo::StackId,
            Pseudo::UrlSuffix,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }
}

/// The intrinsic functions stackgen emits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    /// `Ref` to a resource or parameter of this template.
    Ref(LogicalId),
    /// `Ref` to a pseudo parameter.
    RefPseudo(Pseudo),
    /// `Fn::GetAtt` of a resource attribute.
    GetAtt(LogicalId, String),
    /// `Fn::Sub` with `${Name}` / `${Name.Attr}` placeholders referring to this template or to
    /// pseudo parameters. The string is parsed ([`Sub::parse`]) so references can be checked.
    Sub(Sub),
    /// `Fn::Join` with a separator.
    Join(String, Vec<Value>),
    /// A resource of another stack of the app. Never serialised: the stack graph links it
    /// into a parameter or a nested stack's output, or refuses it (`graph::link`), and
    /// [`Template::check`](super::Template::check) refuses one left unlinked.
    Import(Import),
}

/// A reference to `Ref id` / `GetAtt id.attribute` in the stack the graph knows as `stack`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    /// The graph's stable key of the stack holding the resource (`StackRole::key`).
    pub stack: String,
    pub id: LogicalId,
    pub attribute: Option<String>,
}

impl Import {
    /// The same reference inside the stack that holds it.
    pub fn local(&self) -> Value {
        match &self.attribute {
            Some(attribute) => Value::get_att(&self.id, attribute),
            None => Value::reference(&self.id),
        }
    }
}

impl std::fmt::Display for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.stack, self.id)?;
        if let Some(attribute) = &self.attribute {
            write!(f, ".{attribute}")?;
        }
        Ok(())
    }
}

/// One placeholder in a `Fn::Sub` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubRef {
    Pseudo(Pseudo),
    Ref(LogicalId),
    GetAtt(LogicalId, String),
    /// One of the Sub's own variables (`Fn::Sub: [text, {Name: value}]`).
    Var(String),
}

/// A `Fn::Sub` template string; built from typed parts so a placeholder can never be misspelt.
/// Variables carry values the text cannot name directly: another stack's resource, which the
/// stack graph links into a parameter or a nested stack's output.
#[derive(Clone, PartialEq, Eq)]
pub struct Sub {
    parts: Vec<SubPart>,
    vars: BTreeMap<String, Value>,
}

/// Without variables, as it always printed: the API's deployment ID hashes this text, and a
/// new ID would make a needless new deployment.
impl std::fmt::Debug for Sub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Sub");
        s.field("parts", &self.parts);
        if !self.vars.is_empty() {
            s.field("vars", &self.vars);
        }
        s.finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SubPart {
    Lit(String),
    Ref(SubRef),
}

impl Sub {
    pub fn new() -> Sub {
        Sub {
            parts: Vec::new(),
            vars: BTreeMap::new(),
        }
    }

    /// Appends literal text (a `$` in it is escaped on output as CloudFormation requires: `${!`).
    pub fn lit(mut self, text: impl Into<String>) -> Sub {
        self.parts.push(SubPart::Lit(text.into()));
        self
    }

    /// Appends another Sub's parts.
    pub fn append(mut self, other: Sub) -> Sub {
        self.parts.extend(other.parts);
        self.vars.extend(other.vars);
        self
    }

    /// The variables of `Fn::Sub: [text, {Name: value}]`.
    pub fn vars(&self) -> &BTreeMap<String, Value> {
        &self.vars
    }

    pub fn vars_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.vars
    }

    /// Replaces each placeholder for which `replace` returns a value by a variable holding
    /// that value (named after the placeholder, so the text still reads the same).
    pub fn with_vars(mut self, replace: &mut impl FnMut(&SubRef) -> Option<Value>) -> Sub {
        for part in &mut self.parts {
            if let SubPart::Ref(r) = part
                && let Some(value) = replace(r)
            {
                let name = match &*r {
                    SubRef::Ref(id) => id.to_string(),
                    SubRef::GetAtt(id, attribute) => format!("{id}{attribute}"),
                    SubRef::Pseudo(_) | SubRef::Var(_) => continue,
                };
                self.vars.insert(name.clone(), value);
                *part = SubPart::Ref(SubRef::Var(name));
            }
        }
        self
    }

    pub fn pseudo(mut self, pseudo: Pseudo) -> Sub {
        self.parts.push(SubPart::Ref(SubRef::Pseudo(pseudo)));
        self
    }

    pub fn reference(mut self, id: &LogicalId) -> Sub {
        self.parts.push(SubPart::Ref(SubRef::Ref(id.clone())));
        self
    }

    pub fn get_att(mut self, id: &LogicalId, attribute: &str) -> Sub {
        self.parts.push(SubPart::Ref(SubRef::GetAtt(
            id.clone(),
            attribute.to_owned(),
        )));
        self
    }

    /// `arn:${AWS::Partition}:` — every ARN starts here; never a literal `arn:aws:`.
    pub fn arn(service: &str) -> Sub {
        Sub::new()
            .lit("arn:")
            .pseudo(Pseudo::Partition)
            .lit(format!(":{service}:"))
    }

    /// Parses a literal Sub string such as `arn:${AWS::Partition}:s3:::${Bucket}` (used by tests).
    pub fn parse(text: &str) -> Sub {
        let mut sub = Sub::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (lit, tail) = rest.split_at(start);
            if !lit.is_empty() {
                sub = sub.lit(lit);
            }
            let end = tail.find('}').unwrap_or(tail.len());
            let name = &tail[2..end];
            sub.parts.push(SubPart::Ref(match Pseudo::from_name(name) {
                Some(p) => SubRef::Pseudo(p),
                None => match name.split_once('.') {
                    Some((id, att)) => SubRef::GetAtt(LogicalId::from_raw(id), att.to_owned()),
                    None => SubRef::Ref(LogicalId::from_raw(name)),
                },
            }));
            rest = &tail[(end + 1).min(tail.len())..];
        }
        if !rest.is_empty() {
            sub = sub.lit(rest);
        }
        sub
    }

    pub fn refs(&self) -> impl Iterator<Item = &SubRef> {
        self.parts.iter().filter_map(|p| match p {
            SubPart::Ref(r) => Some(r),
            SubPart::Lit(_) => None,
        })
    }

    /// True when the string has no placeholder at all (then a plain string is emitted instead).
    pub fn is_literal(&self) -> bool {
        self.refs().next().is_none()
    }

    /// The CloudFormation text of this Sub.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                SubPart::Lit(text) => out.push_str(&text.replace("${", "${!")),
                SubPart::Ref(SubRef::Pseudo(p)) => {
                    out.push_str("${");
                    out.push_str(p.name());
                    out.push('}');
                }
                SubPart::Ref(SubRef::Ref(id)) => {
                    out.push_str("${");
                    out.push_str(id.as_str());
                    out.push('}');
                }
                SubPart::Ref(SubRef::GetAtt(id, att)) => {
                    out.push_str("${");
                    out.push_str(id.as_str());
                    out.push('.');
                    out.push_str(att);
                    out.push('}');
                }
                SubPart::Ref(SubRef::Var(name)) => {
                    out.push_str("${");
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        out
    }

    /// The text with pseudo parameters replaced by the given values and resource references
    /// left as `${...}` (used to show users the ARN a policy will have).
    pub fn render_with(&self, pseudo: impl Fn(Pseudo) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                SubPart::Lit(text) => out.push_str(text),
                SubPart::Ref(SubRef::Pseudo(p)) => out.push_str(&pseudo(*p)),
                other => out.push_str(
                    &Sub {
                        parts: vec![other.clone()],
                        vars: BTreeMap::new(),
                    }
                    .render(),
                ),
            }
        }
        out
    }
}

impl Default for Sub {
    fn default() -> Self {
        Sub::new()
    }
}

impl Value {
    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    pub fn reference(id: &LogicalId) -> Value {
        Value::Intrinsic(Box::new(Intrinsic::Ref(id.clone())))
    }

    pub fn pseudo(pseudo: Pseudo) -> Value {
        Value::Intrinsic(Box::new(Intrinsic::RefPseudo(pseudo)))
    }

    pub fn get_att(id: &LogicalId, attribute: &str) -> Value {
        Value::Intrinsic(Box::new(Intrinsic::GetAtt(
            id.clone(),
            attribute.to_owned(),
        )))
    }

    /// A `Fn::Sub`, or a plain string when the Sub has no placeholder.
    pub fn sub(sub: Sub) -> Value {
        if sub.is_literal() {
            Value::Str(sub.render_with(|_| unreachable!("literal Sub has no placeholder")))
        } else {
            Value::Intrinsic(Box::new(Intrinsic::Sub(sub)))
        }
    }

    pub fn join(separator: &str, parts: Vec<Value>) -> Value {
        Value::Intrinsic(Box::new(Intrinsic::Join(separator.to_owned(), parts)))
    }

    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(items.into_iter().collect())
    }

    /// A reference to a resource of another stack of the app (see [`Import`]).
    pub fn import(stack: impl Into<String>, id: &LogicalId, attribute: Option<&str>) -> Value {
        Value::Intrinsic(Box::new(Intrinsic::Import(Import {
            stack: stack.into(),
            id: id.clone(),
            attribute: attribute.map(str::to_owned),
        })))
    }

    /// Replaces every [`Import`] in the tree by what `link` returns for it.
    pub fn link_imports<E>(
        &mut self,
        link: &mut impl FnMut(&Import) -> Result<Value, E>,
    ) -> Result<(), E> {
        match self {
            Value::Bool(_) | Value::Int(_) | Value::Str(_) => Ok(()),
            Value::List(items) => items.iter_mut().try_for_each(|v| v.link_imports(link)),
            Value::Map(map) => map.values_mut().try_for_each(|v| v.link_imports(link)),
            Value::Ordered(entries) => entries
                .iter_mut()
                .try_for_each(|(_, v)| v.link_imports(link)),
            Value::Intrinsic(intrinsic) => match intrinsic.as_mut() {
                Intrinsic::Import(import) => {
                    *self = link(import)?;
                    Ok(())
                }
                Intrinsic::Join(_, parts) => {
                    parts.iter_mut().try_for_each(|v| v.link_imports(link))
                }
                Intrinsic::Sub(sub) => sub.vars.values_mut().try_for_each(|v| v.link_imports(link)),
                Intrinsic::Ref(_) | Intrinsic::RefPseudo(_) | Intrinsic::GetAtt(..) => Ok(()),
            },
        }
    }

    /// Visits every intrinsic in the tree (depth first).
    pub fn for_each_intrinsic<'a>(&'a self, f: &mut impl FnMut(&'a Intrinsic)) {
        match self {
            Value::Bool(_) | Value::Int(_) | Value::Str(_) => {}
            Value::List(items) => items.iter().for_each(|v| v.for_each_intrinsic(f)),
            Value::Map(map) => map.values().for_each(|v| v.for_each_intrinsic(f)),
            Value::Ordered(entries) => entries.iter().for_each(|(_, v)| v.for_each_intrinsic(f)),
            Value::Intrinsic(intrinsic) => {
                f(intrinsic);
                match intrinsic.as_ref() {
                    Intrinsic::Join(_, parts) => parts.iter().for_each(|v| v.for_each_intrinsic(f)),
                    Intrinsic::Sub(sub) => sub.vars.values().for_each(|v| v.for_each_intrinsic(f)),
                    _ => {}
                }
            }
        }
    }

    /// Plain JSON with every intrinsic replaced by text from `resolve` (for documents shown
    /// outside CloudFormation, such as standalone policy files). `None` from `resolve` keeps
    /// the placeholder's CloudFormation spelling, `${Id.Attr}`.
    pub fn resolve(&self, resolve: &impl Fn(&SubRef) -> Option<String>) -> serde_json::Value {
        use serde_json::Value as J;
        let text = |r: SubRef| {
            resolve(&r).unwrap_or_else(|| {
                Sub {
                    parts: vec![SubPart::Ref(r)],
                    vars: BTreeMap::new(),
                }
                .render()
            })
        };
        match self {
            Value::Bool(_) | Value::Int(_) | Value::Str(_) => self.to_json(),
            Value::List(items) => J::Array(items.iter().map(|v| v.resolve(resolve)).collect()),
            Value::Map(map) => J::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.resolve(resolve)))
                    .collect(),
            ),
            Value::Ordered(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.resolve(resolve)))
                    .collect(),
            ),
            Value::Intrinsic(intrinsic) => J::String(match intrinsic.as_ref() {
                Intrinsic::Ref(id) => text(SubRef::Ref(id.clone())),
                Intrinsic::RefPseudo(p) => text(SubRef::Pseudo(*p)),
                Intrinsic::GetAtt(id, att) => text(SubRef::GetAtt(id.clone(), att.clone())),
                Intrinsic::Sub(sub) => sub
                    .parts
                    .iter()
                    .map(|part| match part {
                        SubPart::Lit(t) => t.clone(),
                        SubPart::Ref(SubRef::Var(name)) => match sub.vars.get(name) {
                            Some(value) => match value.resolve(resolve) {
                                J::String(s) => s,
                                other => other.to_string(),
                            },
                            None => text(SubRef::Var(name.clone())),
                        },
                        SubPart::Ref(r) => text(r.clone()),
                    })
                    .collect(),
                Intrinsic::Join(sep, parts) => parts
                    .iter()
                    .map(|p| match p.resolve(resolve) {
                        J::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(sep),
                Intrinsic::Import(import) => format!("${{{import}}}"),
            }),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value as J, json};
        match self {
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Str(s) => J::String(s.clone()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(map) => {
                J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Ordered(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Intrinsic(intrinsic) => match intrinsic.as_ref() {
                Intrinsic::Ref(id) => json!({ "Ref": id.as_str() }),
                Intrinsic::RefPseudo(p) => json!({ "Ref": p.name() }),
                Intrinsic::GetAtt(id, att) => json!({ "Fn::GetAtt": [id.as_str(), att] }),
                Intrinsic::Sub(sub) if sub.vars.is_empty() => json!({ "Fn::Sub": sub.render() }),
                Intrinsic::Sub(sub) => json!({
                    "Fn::Sub": [
                        sub.render(),
                        sub.vars.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>(),
                    ]
                }),
                Intrinsic::Join(sep, parts) => json!({
                    "Fn::Join": [sep, parts.iter().map(Value::to_json).collect::<Vec<_>>()]
                }),
                Intrinsic::Import(import) => {
                    unreachable!(
                        "cross-stack reference {import} serialised before the graph linked it (Template::check refuses this)"
                    )
                }
            },
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<Sub> for Value {
    fn from(sub: Sub) -> Value {
        Value::sub(sub)
    }
}

impl<V: Into<Value>> From<Vec<V>> for Value {
    fn from(items: Vec<V>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

/// Builds a [`Value::Map`]: `map! { "Key" => value, ... }`. Values go through `Into<Value>`.
#[macro_export]
macro_rules! map {
    () => { $crate::cfn::Value::Map(::std::collections::BTreeMap::new()) };
    ($($key:expr => $value:expr),+ $(,)?) => {{
        let mut m = ::std::collections::BTreeMap::<String, $crate::cfn::Value>::new();
        $( m.insert(::std::string::String::from($key), $crate::cfn::Value::from($value)); )+
        $crate::cfn::Value::Map(m)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_round_trips_and_escapes_literal_dollars() {
        let id = LogicalId::from_raw("UploadBucketAB12CD34");
        let sub = Sub::arn("s3")
            .lit("::")
            .get_att(&id, "Arn")
            .lit("/${not-a-ref}");
        assert_eq!(
            sub.render(),
            "arn:${AWS::Partition}:s3:::${UploadBucketAB12CD34.Arn}/${!not-a-ref}"
        );
        let parsed = Sub::parse("arn:${AWS::Partition}:s3:::${Bucket}/x");
        assert_eq!(parsed.render(), "arn:${AWS::Partition}:s3:::${Bucket}/x");
        assert_eq!(parsed.refs().count(), 2);
    }

    #[test]
    fn literal_sub_becomes_plain_string() {
        assert_eq!(Value::sub(Sub::new().lit("abc")), Value::str("abc"));
    }

    #[test]
    fn intrinsics_serialise_in_cloudformation_syntax() {
        let id = LogicalId::from_raw("Fn1");
        let v = map! {
            "A" => Value::reference(&id),
            "B" => Value::get_att(&id, "Arn"),
            "C" => Value::pseudo(Pseudo::Region),
            "D" => Value::join(",", vec![Value::str("x"), Value::reference(&id)]),
        };
        assert_eq!(
            serde_json::to_string(&v.to_json()).unwrap(),
            r#"{"A":{"Ref":"Fn1"},"B":{"Fn::GetAtt":["Fn1","Arn"]},"C":{"Ref":"AWS::Region"},"D":{"Fn::Join":[",",["x",{"Ref":"Fn1"}]]}}"#
        );
    }
}
