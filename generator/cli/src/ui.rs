//! The terminal the cloud commands talk through: progress lines on stdout, a spinner status
//! line on stderr while waiting, y/N questions answered on stdin.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

use stackgen_deploy::console::Console;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

#[derive(Debug)]
pub struct Terminal {
    /// Whether a person can answer: stdin is a terminal.
    interactive: bool,
    /// Whether a person watches: stderr is a terminal (for the status line).
    watched: bool,
    /// Whether a status line is on screen (it must be erased before the next line).
    status_shown: AtomicBool,
}

impl Terminal {
    pub fn new() -> Terminal {
        Terminal {
            interactive: std::io::stdin().is_terminal(),
            watched: std::io::stderr().is_terminal(),
            status_shown: AtomicBool::new(false),
        }
    }
}

/// A status line left on screen (an error stopped a wait) would run into the error message.
impl Drop for Terminal {
    fn drop(&mut self) {
        self.clear_status();
    }
}

impl Console for Terminal {
    /// One line to stdout, flushed at once. A reader that went away does not stop a deploy
    /// half-way: write errors are ignored.
    fn line(&self, text: &str) {
        self.clear_status();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn status(&self, tick: usize, text: &str) {
        if !self.watched {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{} {text}", SPINNER[tick % SPINNER.len()]);
        let _ = err.flush();
        self.status_shown.store(true, Ordering::Relaxed);
    }

    fn clear_status(&self) {
        if self.status_shown.swap(false, Ordering::Relaxed) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }

    fn watched(&self) -> bool {
        self.watched
    }

    fn can_ask(&self) -> bool {
        self.interactive
    }

    fn ask(&self, question: &str) -> std::io::Result<bool> {
        self.clear_status();
        {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{question} [y/N] ");
            let _ = out.flush();
        }
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
    }
}
