//! `gen deploy --hotswap`: when the only difference from a deployed stack is function code,
//! the new code goes straight to Lambda (UpdateFunctionCode) instead of through a change set.
//! The stack then drifts (its parameters still name the old zips) until the next normal
//! deploy; `.gen/hotswap/<stack>.json` records what each function runs, so `gen diff` shows
//! the drift and the next hotswap pushes only what changed since. Pure: the calls are in
//! `cloud/lambda.rs`, the flow in `app.rs`.

use std::collections::BTreeMap;

use serde_json::Value as J;

/// Where the hotswap record of `stack` lives (project-relative).
pub fn record_path(stack: &str) -> String {
    format!(".gen/hotswap/{stack}.json")
}

/// What each hotswapped function runs: its code-key parameter → the zip's S3 key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub code: BTreeMap<String, String>,
}

impl Record {
    pub fn parse(text: &str) -> Option<Record> {
        let value: J = serde_json::from_str(text).ok()?;
        let code = value
            .get("code")?
            .as_object()?
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect::<Option<_>>()?;
        Some(Record { code })
    }

    pub fn render(&self, stack: &str) -> String {
        let value = serde_json::json!({
            "about": format!("Function code gen deploy --hotswap gave stack {stack}'s functions directly, so the stack's parameters do not name it; the next normal gen deploy reconciles the stack and removes this file."),
            "code": self.code,
        });
        let mut text = serde_json::to_string_pretty(&value).expect("JSON serialises");
        text.push('\n');
        text
    }
}

/// One function whose code a hotswap replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Swap {
    pub parameter: String,
    pub function_name: String,
    /// What it runs now (the record's, else the stack's), if known.
    pub from: Option<String>,
    pub to: String,
}

/// What a hotswap of the app comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Only code differs: these functions get new code (none: everything is current).
    Swap(Vec<Swap>),
    /// Something else differs: a normal deploy, for this reason.
    FallBack(String),
}

/// Decides, from what differs in the templates (`template_differences`: one line per
/// differing stack or nested stack, empty when every template matches), the code keys the
/// deployed stacks name (`deployed`), the hotswap record (`record`, which wins: it is what
/// the functions run) and the fresh build (`built`: parameter → (function name, key)).
pub fn plan(
    template_differences: &[String],
    deployed: &BTreeMap<String, String>,
    record: &Record,
    built: &BTreeMap<String, (String, String)>,
) -> Plan {
    if let Some(first) = template_differences.first() {
        let more = template_differences.len() - 1;
        return Plan::FallBack(if more == 0 {
            format!("{first}, which only a change set can deploy")
        } else {
            format!("{first} (and {more} more), which only a change set can deploy")
        });
    }
    let mut swaps = Vec::new();
    for (parameter, (function_name, key)) in built {
        let current = record
            .code
            .get(parameter)
            .or_else(|| deployed.get(parameter));
        let Some(current) = current else {
            return Plan::FallBack(format!(
                "function {function_name} is not deployed yet (its stack has no {parameter})"
            ));
        };
        if current != key {
            swaps.push(Swap {
                parameter: parameter.clone(),
                function_name: function_name.clone(),
                from: Some(current.clone()),
                to: key.clone(),
            });
        }
    }
    Plan::Swap(swaps)
}

/// The functions whose running code (per the record) is not what their stack names: the drift
/// `gen diff` shows. (function's parameter, stack's key, running key)
pub fn drift<'r>(
    record: &'r Record,
    deployed: &'r BTreeMap<String, String>,
) -> Vec<(&'r str, Option<&'r str>, &'r str)> {
    record
        .code
        .iter()
        .filter(|(parameter, key)| deployed.get(*parameter) != Some(*key))
        .map(|(parameter, key)| {
            (
                parameter.as_str(),
                deployed.get(parameter).map(String::as_str),
                key.as_str(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn built(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
        pairs
            .iter()
            .map(|(p, f, k)| ((*p).to_owned(), ((*f).to_owned(), (*k).to_owned())))
            .collect()
    }

    #[test]
    fn only_changed_code_is_swapped_and_the_record_wins_over_the_stack() {
        let deployed = map(&[("ACode", "a1"), ("BCode", "b1"), ("CCode", "c1")]);
        let record = Record {
            code: map(&[("BCode", "b2")]),
        };
        let fresh = built(&[
            ("ACode", "app-a", "a1"),
            ("BCode", "app-b", "b2"),
            ("CCode", "app-c", "c3"),
        ]);
        assert_eq!(
            plan(&[], &deployed, &record, &fresh),
            Plan::Swap(vec![Swap {
                parameter: "CCode".into(),
                function_name: "app-c".into(),
                from: Some("c1".into()),
                to: "c3".into(),
            }])
        );
    }

    #[test]
    fn a_template_difference_or_a_new_function_falls_back_saying_why() {
        let deployed = map(&[("ACode", "a1")]);
        let fresh = built(&[("ACode", "app-a", "a2")]);
        let Plan::FallBack(why) = plan(
            &["infra/template.json: 1 resource(s) differ".into()],
            &deployed,
            &Record::default(),
            &fresh,
        ) else {
            panic!()
        };
        assert_eq!(
            why,
            "infra/template.json: 1 resource(s) differ, which only a change set can deploy"
        );
        let fresh = built(&[("ACode", "app-a", "a1"), ("NewCode", "app-new", "n1")]);
        let Plan::FallBack(why) = plan(&[], &deployed, &Record::default(), &fresh) else {
            panic!()
        };
        assert!(why.contains("app-new is not deployed yet"), "{why}");
    }

    #[test]
    fn the_record_round_trips_and_drift_is_what_it_holds_that_the_stack_does_not() {
        let record = Record {
            code: map(&[("ACode", "a2"), ("BCode", "b1")]),
        };
        assert_eq!(Record::parse(&record.render("app")), Some(record.clone()));
        assert_eq!(Record::parse("{}"), None);
        let deployed = map(&[("ACode", "a1"), ("BCode", "b1")]);
        assert_eq!(drift(&record, &deployed), [("ACode", Some("a1"), "a2")]);
    }
}
