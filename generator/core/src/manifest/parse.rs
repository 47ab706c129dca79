//! YAML text → [`Manifest`], with every failure turned into a [`Diagnostic`].

use serde_saphyr::Error as YamlError;

use super::{Manifest, Position, SourceMap};
use crate::diag::{Diagnostic, did_you_mean_hint, list};

/// Parses the manifest text. Returns the manifest and a map of where each path sits, or the
/// one diagnostic that stopped parsing (the first shape error: later ones may be knock-on).
pub fn parse(text: &str) -> Result<(Manifest, SourceMap), Diagnostic> {
    let mut failed_path = None;
    // YAML 1.2 booleans only, and no number or boolean silently read as text: exactly what the
    // JSON Schema (and so the user's editor) accepts.
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.no_schema = true;
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
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
            Err(diagnose(text, &error, path, &source_map))
        }
    }
}

fn diagnose(text: &str, error: &YamlError, path: String, source_map: &SourceMap) -> Diagnostic {
    let error = error.without_snippet();
    // serde_path_to_error writes `?` for a segment it could not name.
    let path = path
        .split('.')
        .filter(|segment| *segment != "?")
        .collect::<Vec<_>>()
        .join(".");
    let located = error.location().as_ref().and_then(Position::from_location);
    let position = located.or_else(|| source_map.value(&path));
    let last = path.rsplit('.').next().unwrap_or_default().to_owned();
    let diagnostic = match error {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => Diagnostic::new(&path, format!("unknown field `{field}`"))
            .expected(one_of(expected))
            .maybe_hint(
                did_you_mean_hint(field, expected.iter().copied()).or_else(|| {
                    // A stage's overrides take values only: say why a shape field is refused.
                    path.contains(".overrides")
                        .then(|| super::stage::SHAPE_HINT.to_owned())
                }),
            ),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => Diagnostic::new(&path, format!("unknown value `{variant}`"))
            .expected(one_of(expected))
            .maybe_hint(did_you_mean_hint(variant, expected.iter().copied())),
        YamlError::SerdeMissingField { field, .. } => {
            let hint = match *field {
                "name" => "add `name: my-app` (lowercase letters, digits and hyphens)",
                "region" => "add `region: us-east-1` (the AWS region to deploy to)",
                "bucket" => "add `bucket: <key>`, the key of a bucket under `buckets:`",
                "emails" => "add `emails: [you@example.com]`",
                _ => "see the schema (`gen schema`) for what this section needs",
            };
            // Point at the mapping that lacks the field, not at wherever parsing stopped.
            Diagnostic::new(&path, format!("missing field `{field}`"))
                .hint(hint)
                .at(source_map.value(&path).or(located))
        }
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => Diagnostic::new(&path, format!("found {unexpected}")).expected(expected.clone()),
        other => {
            let message = strip_location(&other.to_string());
            plain_language(&message, text, &path, &last, position)
        }
    };
    if diagnostic.position.is_some() {
        diagnostic
    } else {
        diagnostic.at(position)
    }
}

fn one_of(expected: &[&str]) -> String {
    match expected {
        [only] => format!("`{only}`"),
        _ => format!("one of {}", list(expected)),
    }
}

/// Fields that can be indented one level too shallow, landing where a key is expected.
const FUNCTION_FIELDS: &[&str] = &[
    "description",
    "memory",
    "timeout",
    "architecture",
    "environment",
    "log_retention_days",
    "reads",
    "writes",
    "triggers",
];
const BUCKET_FIELDS: &[&str] = &["versioning", "retain", "name", "expire_after_days"];

/// Turns the YAML parser's terms into what a manifest author needs to hear.
fn plain_language(
    message: &str,
    text: &str,
    path: &str,
    last: &str,
    position: Option<Position>,
) -> Diagnostic {
    let found = position.and_then(|p| scalar_at(text, p));
    if text.trim().is_empty() {
        return Diagnostic::new("", "the manifest is empty")
            .hint("start with `name: my-app` and `region: us-east-1`, or run `gen new <dir>`");
    }
    if message.starts_with("invalid u") || message.starts_with("invalid i") {
        let found = found.unwrap_or_else(|| "this".to_owned());
        return Diagnostic::new(path, format!("`{found}` is not a whole number"))
            .expected("a whole number, e.g. `256`");
    }
    if message.starts_with("invalid boolean") {
        let found = found.unwrap_or_else(|| "this".to_owned());
        return Diagnostic::new(path, format!("`{found}` is not a boolean"))
            .expected("`true` or `false`");
    }
    if let Some(rest) = message.strip_prefix("The string value [") {
        let value = rest.split("] must be quoted").next().unwrap_or(rest);
        return Diagnostic::new(
            path,
            format!("`{value}` would be read as a number or boolean, not text"),
        )
        .hint(format!("quote it: \"{value}\""));
    }
    if message == "expected sequence start" {
        return Diagnostic::new(path, "expected a list")
            .hint(format!("write a list, e.g. `{last}: [a, b]`"));
    }
    if message == "expected string scalar" {
        return Diagnostic::new(path, "expected a text value")
            .hint("quote it if it looks like something else, e.g. \"1.0\"");
    }
    if message == "expected mapping start" {
        let diagnostic = Diagnostic::new(path, "expected a mapping (`key: value` lines)");
        let parent = path.rsplit_once('.').map(|(p, _)| p).unwrap_or_default();
        return if path.is_empty() {
            diagnostic.hint(
                "the manifest is a mapping: start with `name: my-app` and `region: us-east-1`",
            )
        } else if parent == "functions" && FUNCTION_FIELDS.contains(&last) {
            diagnostic.hint(format!(
                "`{last}` is a function setting: indent it under a function"
            ))
        } else if parent == "buckets" && BUCKET_FIELDS.contains(&last) {
            diagnostic.hint(format!(
                "`{last}` is a bucket setting: indent it under a bucket"
            ))
        } else if found.is_none() {
            diagnostic.hint(format!("write `{last}: {{}}` to take every default"))
        } else {
            diagnostic
        };
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set ").next().unwrap_or(rest);
        return Diagnostic::new(path, format!("duplicate key `{key}`"))
            .hint("each key may appear once in a mapping; merge the two entries");
    }
    if message.contains("tabs disallowed") || message.contains("found a tab") {
        return Diagnostic::new(path, "a tab in the indentation")
            .hint("indent YAML with spaces only");
    }
    if message.contains("mapping values are not allowed") {
        return Diagnostic::new(path, "a `: ` where a value was expected")
            .hint("quote a value that contains `: `, e.g. `description: \"video: transcoded\"`");
    }
    Diagnostic::new(path, message)
}

/// The scalar written at `position` (to the end of the line, without a trailing comment).
fn scalar_at(text: &str, position: Position) -> Option<String> {
    let line = text.lines().nth(position.line.checked_sub(1)? as usize)?;
    let rest: String = line
        .chars()
        .skip(position.column.saturating_sub(1) as usize)
        .collect();
    // A missing value is located at the key's colon.
    let value = rest
        .trim_start_matches(':')
        .split(" #")
        .next()
        .unwrap_or_default()
        .trim();
    (!value.is_empty()).then(|| value.to_owned())
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
