//! What the person running gen sees and answers.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::DeployError;

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// Whether a person can answer: stdin is a terminal.
    interactive: bool,
    /// Whether a person watches: stderr is a terminal (for the status line).
    watched: bool,
}

/// Whether a status line is on screen (it must be erased before the next line is printed).
static STATUS_SHOWN: AtomicBool = AtomicBool::new(false);

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

impl Default for Ui {
    fn default() -> Ui {
        Ui::new()
    }
}

impl Ui {
    pub fn new() -> Ui {
        Ui {
            interactive: std::io::stdin().is_terminal(),
            watched: std::io::stderr().is_terminal(),
        }
    }

    /// Fails at once when a later question could not be asked: off a terminal, without
    /// `--yes`, nothing is worth building or uploading.
    pub fn can_confirm(&self, yes: bool) -> Result<(), DeployError> {
        if yes || self.interactive {
            Ok(())
        } else {
            Err(DeployError::NeedsYes)
        }
    }

    /// Whether [`Ui::status`] shows anything (else callers print occasional plain lines).
    pub fn watched(&self) -> bool {
        self.watched
    }

    /// A one-line spinner on stderr while waiting, replaced by the next status or line.
    /// Only on a terminal: logs get the event lines alone.
    pub fn status(&self, tick: usize, text: impl AsRef<str>) {
        if !self.watched {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} {}",
            SPINNER[tick % SPINNER.len()],
            text.as_ref()
        );
        let _ = err.flush();
        STATUS_SHOWN.store(true, Ordering::Relaxed);
    }

    fn clear_status(&self) {
        if STATUS_SHOWN.swap(false, Ordering::Relaxed) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }

    /// One line to stdout, flushed at once (progress must show while waiting). A reader that
    /// went away does not stop a deploy half-way.
    pub fn say(&self, text: impl AsRef<str>) {
        self.clear_status();
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
        self.clear_status();
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
