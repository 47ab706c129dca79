//! What the person running gen sees and answers.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use super::DeployError;

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// Whether a person can answer: stdin is a terminal.
    interactive: bool,
}

impl Default for Ui {
    fn default() -> Ui {
        Ui::new()
    }
}

impl Ui {
    pub fn new() -> Ui {
        Ui {
            interactive: std::io::stdin().is_terminal(),
        }
    }

    /// One line to stdout, flushed at once (progress must show while waiting). A reader that
    /// went away does not stop a deploy half-way.
    pub fn say(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.as_ref());
        let _ = out.flush();
    }

    /// Asks `question` (y/N). `--yes` answers for the user; without it, a non-terminal stdin
    /// is an error rather than a silent yes or no.
    pub fn confirm(&self, question: &str, yes: bool) -> Result<bool, DeployError> {
        if yes {
            return Ok(true);
        }
        if !self.interactive {
            return Err(DeployError::NeedsYes);
        }
        {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{question} [y/N] ");
            let _ = out.flush();
        }
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| DeployError::Io(format!("reading the answer: {e}")))?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
    }
}
