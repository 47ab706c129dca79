//! Diagnostics about the user's manifest: where (file:line:col and manifest path), what is
//! wrong, what was expected, and a hint. The core returns them; the CLI prints them.

use std::fmt::Write as _;

use crate::manifest::Position;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Manifest path such as `functions.transcode.memory`; empty for the whole document.
    pub path: String,
    pub position: Option<Position>,
    /// What is wrong, e.g. "memory is 64".
    pub message: String,
    /// What would have been accepted.
    pub expected: Option<String>,
    /// How to fix it ("did you mean …?").
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            path: path.into(),
            position: None,
            message: message.into(),
            expected: None,
            hint: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Diagnostic {
        self.expected = Some(expected.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn maybe_hint(mut self, hint: Option<String>) -> Diagnostic {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    pub fn at(mut self, position: Option<Position>) -> Diagnostic {
        self.position = position;
        self
    }

    /// rustc-style text: headline, `--> file:line:col`, the source line with a caret, then the
    /// expectation and the hint, aligned on the line-number gutter.
    pub fn render(&self, file: &str, source: &str) -> String {
        let mut out = String::new();
        if self.path.is_empty() {
            let _ = writeln!(out, "error: {}", self.message);
        } else {
            let _ = writeln!(out, "error: {}: {}", self.path, self.message);
        }
        let line = self.position.and_then(|position| {
            let text = source.lines().nth(position.line.checked_sub(1)? as usize)?;
            Some((position, text))
        });
        let width = line.map_or(1, |(position, _)| position.line.to_string().len());
        let gutter = " ".repeat(width + 1);
        match (self.position, line) {
            (Some(position), Some((_, text))) => {
                let _ = writeln!(out, "{}--> {file}:{position}", " ".repeat(width));
                let caret_pad = " ".repeat(position.column.saturating_sub(1) as usize);
                let _ = writeln!(out, "{gutter}|");
                let _ = writeln!(out, "{} | {text}", position.line);
                let _ = writeln!(out, "{gutter}| {caret_pad}^");
            }
            (Some(position), None) => {
                let _ = writeln!(out, "{}--> {file}:{position}", " ".repeat(width));
            }
            (None, _) => {
                let _ = writeln!(out, "{}--> {file}", " ".repeat(width));
            }
        }
        if let Some(expected) = &self.expected {
            let _ = writeln!(out, "{gutter}= expected: {expected}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{gutter}= hint: {hint}");
        }
        out
    }
}

/// "1 error", "2 errors".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| {
            // A truncated word (`arm` for `arm64`) counts as one edit.
            let truncated = word.len() >= 3 && candidate.starts_with(word);
            let distance = if truncated {
                1
            } else {
                strsim::damerau_levenshtein(word, candidate)
            };
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            // Allow roughly one edit per three characters, at least one.
            *distance <= (candidate.len().max(word.len()) / 3).max(1)
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, candidate)| candidate)
}

/// "did you mean `x`?" as a hint, if some candidate is close.
pub fn did_you_mean_hint<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `a`, `b` and `c` for messages.
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.len() {
        0 => "nothing".to_owned(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["memory", "timeout", "reads", "writes"];
        assert_eq!(did_you_mean("memroy", fields), Some("memory"));
        assert_eq!(
            did_you_mean("uplaod", ["upload", "transcoded"]),
            Some("upload")
        );
        assert_eq!(did_you_mean("banana", fields), None);
    }

    #[test]
    fn gutter_follows_line_number_width() {
        let source = "a\n".repeat(12);
        let d = Diagnostic::new("x", "bad")
            .at(Some(Position {
                line: 12,
                column: 1,
            }))
            .hint("h");
        assert_eq!(
            d.render("f", &source),
            "error: x: bad\n  --> f:12:1\n   |\n12 | a\n   | ^\n   = hint: h\n"
        );
    }

    #[test]
    fn renders_location_snippet_expected_and_hint() {
        let source = "name: demo\nfunctions:\n  a:\n    memory: 64\n";
        let d = Diagnostic::new("functions.a.memory", "64 MB is out of range")
            .at(Some(Position {
                line: 4,
                column: 13,
            }))
            .expected("an integer from 128 to 10240")
            .hint("Lambda memory is set in MB");
        assert_eq!(
            d.render("gen.yaml", source),
            "error: functions.a.memory: 64 MB is out of range\n --> gen.yaml:4:13\n  |\n4 |     memory: 64\n  |             ^\n  = expected: an integer from 128 to 10240\n  = hint: Lambda memory is set in MB\n"
        );
    }
}
