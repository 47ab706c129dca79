//! `gen diff`: the local template against the deployed one, resource by resource. Pure: both
//! templates come in as JSON; what differs comes out sorted, so the report is stable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value as J;

/// One property (or attribute: `DeletionPolicy`, `DependsOn`) that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyChange {
    /// Dotted path inside the resource: `Properties.MemorySize`, `Properties.Tags[2].Value`.
    pub path: String,
    pub deployed: Option<J>,
    pub local: Option<J>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ResourceDiff {
    Added {
        logical_id: String,
        resource_type: String,
    },
    Removed {
        logical_id: String,
        resource_type: String,
    },
    Changed {
        logical_id: String,
        resource_type: String,
        properties: Vec<PropertyChange>,
    },
}

impl ResourceDiff {
    pub fn logical_id(&self) -> &str {
        match self {
            ResourceDiff::Added { logical_id, .. }
            | ResourceDiff::Removed { logical_id, .. }
            | ResourceDiff::Changed { logical_id, .. } => logical_id,
        }
    }
}

/// Differences in a template section other than Resources (Parameters, Outputs, …), by key.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryDiff {
    pub section: String,
    pub key: String,
    pub change: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateDiff {
    pub resources: Vec<ResourceDiff>,
    pub other: Vec<EntryDiff>,
}

impl TemplateDiff {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.other.is_empty()
    }

    /// Human-readable, one block per resource.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for diff in &self.resources {
            match diff {
                ResourceDiff::Added {
                    logical_id,
                    resource_type,
                } => {
                    let _ = writeln!(out, "  + {resource_type} {logical_id}");
                }
                ResourceDiff::Removed {
                    logical_id,
                    resource_type,
                } => {
                    let _ = writeln!(out, "  - {resource_type} {logical_id}");
                }
                ResourceDiff::Changed {
                    logical_id,
                    resource_type,
                    properties,
                } => {
                    let _ = writeln!(out, "  ~ {resource_type} {logical_id}");
                    for p in properties {
                        let _ = writeln!(
                            out,
                            "      {}: {} -> {}",
                            p.path,
                            show(p.deployed.as_ref()),
                            show(p.local.as_ref())
                        );
                    }
                }
            }
        }
        for entry in &self.other {
            let _ = writeln!(out, "  {} {} {}", entry.change, entry.section, entry.key);
        }
        out
    }
}

/// Removes the `Default` gen deploy gave each of `parameters` in a deployed nested
/// template (see `stackgen_core::deploy::bind_defaults`), so that only template edits differ.
pub fn unbind_defaults(template: &mut J, parameters: &[String]) {
    if let Some(declared) = template.get_mut("Parameters").and_then(J::as_object_mut) {
        for name in parameters {
            if let Some(parameter) = declared.get_mut(name).and_then(J::as_object_mut) {
                parameter.remove("Default");
            }
        }
    }
}

/// Compact JSON, cut short so one line stays readable.
fn show(value: Option<&J>) -> String {
    const MAX: usize = 100;
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = serde_json::to_string(value).expect("JSON serialises");
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn section<'a>(template: &'a J, name: &str) -> BTreeMap<&'a str, &'a J> {
    template
        .get(name)
        .and_then(J::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

fn resource_type(resource: &J) -> String {
    resource
        .get("Type")
        .and_then(J::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// What changes when `local` replaces `deployed`.
pub fn diff(deployed: &J, local: &J) -> TemplateDiff {
    let before = section(deployed, "Resources");
    let after = section(local, "Resources");
    let ids: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    let mut resources = Vec::new();
    for id in ids {
        match (before.get(id), after.get(id)) {
            (None, Some(new)) => resources.push(ResourceDiff::Added {
                logical_id: id.to_owned(),
                resource_type: resource_type(new),
            }),
            (Some(old), None) => resources.push(ResourceDiff::Removed {
                logical_id: id.to_owned(),
                resource_type: resource_type(old),
            }),
            (Some(old), Some(new)) if resource_type(old) != resource_type(new) => {
                // A new type is a new resource under an old name.
                resources.push(ResourceDiff::Removed {
                    logical_id: id.to_owned(),
                    resource_type: resource_type(old),
                });
                resources.push(ResourceDiff::Added {
                    logical_id: id.to_owned(),
                    resource_type: resource_type(new),
                });
            }
            (Some(old), Some(new)) => {
                let mut properties = Vec::new();
                compare(String::new(), Some(old), Some(new), &mut properties);
                if !properties.is_empty() {
                    resources.push(ResourceDiff::Changed {
                        logical_id: id.to_owned(),
                        resource_type: resource_type(new),
                        properties,
                    });
                }
            }
            (None, None) => unreachable!("the id came from one of the two"),
        }
    }

    let mut other = Vec::new();
    for name in ["Parameters", "Conditions", "Mappings", "Outputs"] {
        let before = section(deployed, name);
        let after = section(local, name);
        let keys: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
        for key in keys {
            let change = match (before.get(key), after.get(key)) {
                (None, Some(_)) => "+",
                (Some(_), None) => "-",
                (Some(a), Some(b)) if a != b => "~",
                _ => continue,
            };
            other.push(EntryDiff {
                section: name.to_owned(),
                key: key.to_owned(),
                change,
            });
        }
    }
    for name in ["Description", "AWSTemplateFormatVersion", "Transform"] {
        if deployed.get(name) != local.get(name) {
            other.push(EntryDiff {
                section: name.to_owned(),
                key: String::new(),
                change: "~",
            });
        }
    }
    TemplateDiff { resources, other }
}

fn compare(path: String, old: Option<&J>, new: Option<&J>, out: &mut Vec<PropertyChange>) {
    if old == new {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (old, new) {
        (Some(J::Object(a)), Some(J::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                if key == "Type" && path.is_empty() {
                    continue;
                }
                compare(join(key), a.get(key), b.get(key), out);
            }
        }
        (Some(J::Array(a)), Some(J::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(format!("{path}[{i}]"), Some(x), Some(y), out);
            }
        }
        _ => out.push(PropertyChange {
            path,
            deployed: old.cloned(),
            local: new.cloned(),
        }),
    }
}

/// Resources CloudFormation keeps when the stack is deleted (`DeletionPolicy: Retain` or
/// `RetainExceptOnCreate`): `(logical ID, type)`, sorted.
pub fn retained(template: &J) -> Vec<(String, String)> {
    section(template, "Resources")
        .into_iter()
        .filter(|(_, r)| {
            matches!(
                r.get("DeletionPolicy").and_then(J::as_str),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, r)| (id.to_owned(), resource_type(r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_keys_gen_deploy_bound_are_not_template_differences() {
        let local =
            json!({"Parameters": {"CodeKey": {"Type": "String"}, "Other": {"Type": "String"}}});
        let mut deployed = json!({"Parameters": {
            "CodeKey": {"Type": "String", "Default": "assets/1.zip"},
            "Other": {"Type": "String", "Default": "x"}
        }});
        unbind_defaults(&mut deployed, &["CodeKey".to_owned()]);
        assert_eq!(
            deployed["Parameters"]["CodeKey"],
            local["Parameters"]["CodeKey"]
        );
        // Only gen's own bindings go: any other default is a real difference.
        assert_eq!(deployed["Parameters"]["Other"]["Default"], "x");
    }
    use serde_json::json;

    fn template(resources: J) -> J {
        json!({ "AWSTemplateFormatVersion": "2010-09-09", "Resources": resources })
    }

    #[test]
    fn identical_templates_have_no_diff() {
        let t = template(json!({"A": {"Type": "AWS::SNS::Topic", "Properties": {}}}));
        let d = diff(&t, &t);
        assert!(d.is_empty());
        assert_eq!(d.render(), "");
    }

    #[test]
    fn reports_added_removed_and_changed_properties() {
        let deployed = template(json!({
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128, "Tags": [{"Key": "a", "Value": "1"}]}},
            "Gone": {"Type": "AWS::SNS::Topic"},
        }));
        let local = template(json!({
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512, "Tags": [{"Key": "a", "Value": "2"}], "Timeout": 9}},
            "New": {"Type": "AWS::SQS::Queue"},
        }));
        let d = diff(&deployed, &local);
        assert_eq!(
            d.render(),
            "  ~ AWS::Lambda::Function Fn\n\
             \x20     Properties.MemorySize: 128 -> 512\n\
             \x20     Properties.Tags[0].Value: \"1\" -> \"2\"\n\
             \x20     Properties.Timeout: (absent) -> 9\n\
             \x20 - AWS::SNS::Topic Gone\n\
             \x20 + AWS::SQS::Queue New\n"
        );
    }

    #[test]
    fn a_changed_type_is_a_removal_and_an_addition() {
        let d = diff(
            &template(json!({"X": {"Type": "AWS::SNS::Topic"}})),
            &template(json!({"X": {"Type": "AWS::SQS::Queue"}})),
        );
        assert_eq!(d.resources.len(), 2);
        assert!(matches!(d.resources[0], ResourceDiff::Removed { .. }));
        assert!(matches!(d.resources[1], ResourceDiff::Added { .. }));
    }

    #[test]
    fn other_sections_are_compared_by_key() {
        let mut a = template(json!({}));
        let mut b = template(json!({}));
        a["Outputs"] = json!({"Url": {"Value": "x"}, "Old": {"Value": 1}});
        b["Outputs"] = json!({"Url": {"Value": "y"}});
        b["Description"] = json!("new");
        let d = diff(&a, &b);
        assert_eq!(
            d.render(),
            "  - Outputs Old\n  ~ Outputs Url\n  ~ Description \n"
        );
    }

    #[test]
    fn retained_resources_come_from_the_deletion_policy() {
        let t = template(json!({
            "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "RetainExceptOnCreate"},
            "Tmp": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
            "Plain": {"Type": "AWS::SNS::Topic"},
        }));
        assert_eq!(
            retained(&t),
            [
                ("Data".to_owned(), "AWS::S3::Bucket".to_owned()),
                ("Logs".to_owned(), "AWS::Logs::LogGroup".to_owned())
            ]
        );
    }

    #[test]
    fn long_values_are_cut_short() {
        let long = J::String("x".repeat(500));
        assert!(show(Some(&long)).chars().count() <= 101);
    }
}
