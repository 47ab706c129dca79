//! checkov findings that are justified exceptions, written into the resource's
//! `Metadata.checkov.skip` next to the code that makes the choice.

/// A checkov `skip` list: each exception with its one-line reason.
pub(crate) fn skip(checks: &[(&str, &str)]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = checks
        .iter()
        .map(|(id, comment)| serde_json::json!({ "id": id, "comment": comment }))
        .collect();
    serde_json::json!({ "skip": list })
}
