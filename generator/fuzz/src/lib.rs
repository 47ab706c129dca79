//! What must hold for every manifest, however broken: the fuzz drivers' oracle.
//!
//! [`check`] runs the whole pure pipeline (`parse` → `validate` → `synthesize` → `project`, as
//! `gen build` does through [`stackgen_core::compile`]) on one input and says how it ended, or
//! which invariant it broke:
//! - a rejected manifest has at least one diagnostic, each one's position inside the text, and
//!   at least one with a position (the user is told where to look);
//! - an accepted manifest never meets a stackgen bug (`Error::Generate`: a template that fails
//!   `Template::check`, a dangling reference), every stage compiles, every generated JSON file
//!   parses, and compiling again gives the same bytes.
//!
//! Panics are the drivers' to catch (AFL counts them as crashes; `fuzz-mutate` catches them),
//! and so is time: a slow input is a hang.

use std::fmt;

use stackgen_core::outputs::Deployed;
use stackgen_core::{Error, compile, compile_with};

/// How an input ended when it broke no invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not UTF-8: gen refuses such a gen.yaml before parsing (reading it as text fails).
    NotText,
    /// Rejected with `count` diagnostics, the first at manifest path `path` saying `message`.
    Rejected {
        count: usize,
        path: String,
        message: String,
    },
    /// Accepted: this many files generated.
    Accepted(usize),
}

/// An invariant the input broke: a bug to fix and a test to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs the pipeline on `data` and checks every invariant (see the module docs).
pub fn check(data: &[u8]) -> Result<Verdict, Violation> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(Verdict::NotText);
    };
    match compile(text) {
        Err(Error::Manifest(diagnostics)) => rejected(text, &diagnostics),
        Err(Error::UnknownStage { given, .. }) => Err(Violation(format!(
            "compile without --stage reported an unknown stage `{given}`"
        ))),
        Err(Error::Generate(e)) => Err(Violation(format!(
            "a manifest that validated failed to generate (a stackgen bug): {e}"
        ))),
        Ok(output) => {
            for file in &output.files {
                if file.path.ends_with(".json")
                    && let Err(e) = serde_json::from_str::<serde_json::Value>(&file.contents)
                {
                    return Err(Violation(format!("{} is not JSON: {e}", file.path)));
                }
            }
            let again = compile(text).map_err(|e| {
                Violation(format!("the second compile of the same text failed: {e}"))
            })?;
            if again.files != output.files {
                return Err(Violation(
                    "two compiles of the same text generated different files".to_owned(),
                ));
            }
            for stage in &output.stages {
                if let Err(e) = compile_with(text, &Deployed::default(), Some(stage)) {
                    return Err(Violation(format!(
                        "stage `{stage}` of an accepted manifest failed to compile: {e}"
                    )));
                }
            }
            Ok(Verdict::Accepted(output.files.len()))
        }
    }
}

/// The AFL entry point: panics on a violation, which AFL records as a crash.
pub fn run(data: &[u8]) {
    if let Err(violation) = check(data) {
        panic!("invariant broken: {violation}");
    }
}

fn rejected(
    text: &str,
    diagnostics: &[stackgen_core::diag::Diagnostic],
) -> Result<Verdict, Violation> {
    if diagnostics.is_empty() {
        return Err(Violation("rejected with no diagnostic".to_owned()));
    }
    let lines = yaml_lines(text);
    for d in diagnostics {
        let Some(position) = d.position else { continue };
        let inside = usize::try_from(position.line)
            .ok()
            .filter(|&line| line >= 1 && line <= lines.len())
            .is_some_and(|line| {
                let columns = lines[line - 1].chars().count() as u64 + 1;
                position.column >= 1 && position.column <= columns
            });
        if !inside {
            return Err(Violation(format!(
                "diagnostic at {}:{} is outside the text ({} lines): {} ({})",
                position.line,
                position.column,
                lines.len(),
                d.message,
                d.path
            )));
        }
    }
    if diagnostics.iter().all(|d| d.position.is_none()) {
        return Err(Violation(format!(
            "no diagnostic says where: {}",
            diagnostics
                .iter()
                .map(|d| format!("`{}`: {}", d.path, d.message))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    Ok(Verdict::Rejected {
        count: diagnostics.len(),
        path: diagnostics[0].path.clone(),
        message: diagnostics[0].message.clone(),
    })
}

/// The text's lines as YAML (and editors) count them: `\r\n`, `\n` and a lone `\r` each end
/// one.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\n', '\r']) {
        lines.push(&rest[..i]);
        let width = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + width..];
    }
    lines.push(rest);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_accepted_and_garbage_is_rejected_with_a_position() {
        let example = stackgen_core::example::manifest_named("demo");
        assert!(matches!(check(example.as_bytes()), Ok(Verdict::Accepted(n)) if n > 10));
        assert!(matches!(
            check(b"project: [\n"),
            Ok(Verdict::Rejected { .. })
        ));
        assert_eq!(check(&[0xff, 0xfe]), Ok(Verdict::NotText));
    }
}
