//! YAML text → [`Manifest`], with every failure turned into a [`Diagnostic`].

use serde_saphyr::Error as YamlError;

use super::{Manifest, Position, SourceMap};
use crate::diag::{Diagnostic, did_you_mean_hint, list};

/// Parses the manifest text. Returns the manifest and a map of where each path sits, or the
/// one diagnostic that stopped parsing (the first shape error: later ones may be knock-on).
pub fn parse(text: &str) -> Result<(Manifest, SourceMap), Diagnostic> {
    let mut failed_path = None;
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize::<_, Manifest>(de).map_err(|e| {
            failed_path = Some(e.path().to_string());
            e.into_inner()
        })
    });
    let source_map = SourceMap::build(text);
    match result {
        Ok(manifest) => Ok((manifest, source_map)),
        Err(error) => {
            let path = failed_path.filter(|p| p != ".").unwrap_or_default();
            Err(diagnose(&error, path, &source_map))
        }
    }
}

fn diagnose(error: &YamlError, path: String, source_map: &SourceMap) -> Diagnostic {
    let error = error.without_snippet();
    let position = error
        .location()
        .as_ref()
        .and_then(Position::from_location)
        .or_else(|| source_map.value(&path));
    let diagnostic = match error {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => Diagnostic::new(path, format!("unknown field `{field}`"))
            .expected(format!("one of {}", list(expected)))
            .maybe_hint(did_you_mean_hint(field, expected.iter().copied())),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => Diagnostic::new(path, format!("unknown value `{variant}`"))
            .expected(format!("one of {}", list(expected)))
            .maybe_hint(did_you_mean_hint(variant, expected.iter().copied())),
        YamlError::SerdeMissingField { field, .. } => {
            let hint = match *field {
                "name" => "add `name: my-app` (lowercase letters, digits and hyphens)",
                "region" => "add `region: us-east-1` (the AWS region to deploy to)",
                _ => "see the schema (`gen schema`) for what this section needs",
            };
            Diagnostic::new(path, format!("missing field `{field}`")).hint(hint)
        }
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => Diagnostic::new(path, format!("found {unexpected}")).expected(expected.clone()),
        other => {
            let message = strip_location(&other.to_string());
            let hint = if message.contains("duplicate") {
                Some("each key may appear once in a mapping".to_owned())
            } else if path.is_empty() {
                Some("the manifest must be a YAML mapping with `name`, `region`, …".to_owned())
            } else {
                None
            };
            Diagnostic::new(path, message).maybe_hint(hint)
        }
    };
    diagnostic.at(position)
}

/// serde-saphyr appends or prepends positions in its messages; ours carries them separately.
fn strip_location(message: &str) -> String {
    let mut text = message.trim().to_owned();
    if let Some(rest) = text.strip_prefix("error: ") {
        text = rest.to_owned();
    }
    if let Some((_, rest)) = text.split_once(": ").filter(|_| text.starts_with("line ")) {
        text = rest.to_owned();
    }
    if let Some(cut) = text.rfind(" at line ") {
        text.truncate(cut);
    }
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name: demo\nregion: us-east-1\n";

    fn error_of(text: &str) -> Diagnostic {
        parse(text).expect_err("should fail")
    }

    #[test]
    fn unknown_field_has_path_position_and_suggestion() {
        let d = error_of(&format!(
            "{BASE}functions:\n  transcode:\n    memroy: 256\n"
        ));
        assert_eq!(d.path, "functions.transcode.memroy");
        assert_eq!(d.message, "unknown field `memroy`");
        assert_eq!(d.hint.as_deref(), Some("did you mean `memory`?"));
        assert_eq!(d.position, Some(Position { line: 5, column: 5 }));
    }

    #[test]
    fn wrong_type_names_expectation() {
        let d = error_of(&format!(
            "{BASE}functions:\n  transcode:\n    memory: lots\n"
        ));
        assert_eq!(d.path, "functions.transcode.memory");
        assert_eq!(
            d.position,
            Some(Position {
                line: 5,
                column: 13
            })
        );
        assert!(d.message.contains("u32") || d.expected.is_some(), "{d:?}");
    }

    #[test]
    fn unknown_enum_value_suggests() {
        let d = error_of(&format!("{BASE}functions:\n  t:\n    architecture: arm\n"));
        assert_eq!(d.path, "functions.t.architecture");
        assert_eq!(d.hint.as_deref(), Some("did you mean `arm64`?"));
    }

    #[test]
    fn missing_required_field() {
        let d = error_of("name: demo\n");
        assert_eq!(d.message, "missing field `region`");
        assert!(d.hint.unwrap().contains("region: us-east-1"));
    }

    #[test]
    fn syntax_error_has_position() {
        let d = error_of("name: demo\nregion: [us-east-1\n");
        assert!(d.position.is_some(), "{d:?}");
    }

    #[test]
    fn valid_manifest_parses_with_defaults() {
        let (m, _) = parse(&format!("{BASE}functions:\n  t: {{}}\n")).unwrap();
        let f = &m.functions["t"];
        assert_eq!((f.memory, f.timeout, f.log_retention_days), (128, 3, 30));
    }
}
