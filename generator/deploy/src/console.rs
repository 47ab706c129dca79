//! What the person running gen sees and answers, as this crate needs it. The `gen` binary
//! implements [`Console`] for a terminal; this crate never prints or reads stdin itself
//! (only the cargo builds it runs inherit stderr), so it can be driven and watched in tests
//! through [`Recording`].

use std::cell::RefCell;
use std::collections::VecDeque;

use crate::DeployError;

/// Where progress goes and questions are asked.
pub trait Console {
    /// One line of progress, shown at once (a deploy waits minutes between lines). Replaces
    /// the status line if one is shown.
    fn line(&self, text: &str);

    /// Shows `text` as the one status line, replacing the previous one; `tick` advances a
    /// spinner. Only when someone [watches](Console::watched): logs get the lines alone.
    fn status(&self, tick: usize, text: &str);

    /// Erases the status line, if one is shown.
    fn clear_status(&self);

    /// Whether status lines are shown; when not, callers print an occasional plain line so a
    /// log still shows that a long wait goes on.
    fn watched(&self) -> bool;

    /// Whether a question can be answered (a person at a terminal).
    fn can_ask(&self) -> bool;

    /// Asks a y/N question and reads the answer: yes only when the person says so.
    fn ask(&self, question: &str) -> std::io::Result<bool>;
}

/// Fails at once when a later question could not be asked: off a terminal, without `--yes`,
/// nothing is worth building or uploading.
pub fn ensure_can_confirm(console: &dyn Console, yes: bool) -> Result<(), DeployError> {
    if yes || console.can_ask() {
        Ok(())
    } else {
        Err(DeployError::NeedsYes)
    }
}

/// Asks `question` (y/N). `--yes` answers for the user; without it, a console that cannot ask
/// is an error rather than a silent yes or no.
pub fn confirm(console: &dyn Console, question: &str, yes: bool) -> Result<bool, DeployError> {
    if yes {
        return Ok(true);
    }
    if !console.can_ask() {
        return Err(DeployError::NeedsYes);
    }
    console
        .ask(question)
        .map_err(|e| DeployError::Io(format!("reading the answer: {e}")))
}

/// One thing a [`Recording`] console was told or asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Line(String),
    Status(String),
    Cleared,
    Asked(String),
}

/// A console for tests: records everything, and answers questions from a script.
#[derive(Debug, Default)]
pub struct Recording {
    watched: bool,
    can_ask: bool,
    answers: RefCell<VecDeque<bool>>,
    seen: RefCell<Vec<Seen>>,
}

impl Recording {
    /// Nobody watches and nobody answers (like gen in CI).
    pub fn unattended() -> Recording {
        Recording::default()
    }

    /// A person watches and answers with `answers`, in order (then no).
    pub fn attended(answers: &[bool]) -> Recording {
        Recording {
            watched: true,
            can_ask: true,
            answers: RefCell::new(answers.iter().copied().collect()),
            seen: RefCell::default(),
        }
    }

    /// Everything so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.borrow().clone()
    }

    /// The lines so far, in order.
    pub fn lines(&self) -> Vec<String> {
        self.seen
            .borrow()
            .iter()
            .filter_map(|s| match s {
                Seen::Line(line) => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    /// The questions asked so far.
    pub fn questions(&self) -> Vec<String> {
        self.seen
            .borrow()
            .iter()
            .filter_map(|s| match s {
                Seen::Asked(question) => Some(question.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Console for Recording {
    fn line(&self, text: &str) {
        self.seen.borrow_mut().push(Seen::Line(text.to_owned()));
    }

    fn status(&self, _tick: usize, text: &str) {
        if self.watched {
            self.seen.borrow_mut().push(Seen::Status(text.to_owned()));
        }
    }

    fn clear_status(&self) {
        self.seen.borrow_mut().push(Seen::Cleared);
    }

    fn watched(&self) -> bool {
        self.watched
    }

    fn can_ask(&self) -> bool {
        self.can_ask
    }

    fn ask(&self, question: &str) -> std::io::Result<bool> {
        self.seen
            .borrow_mut()
            .push(Seen::Asked(question.to_owned()));
        Ok(self.answers.borrow_mut().pop_front().unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_answers_without_asking() {
        let console = Recording::unattended();
        assert!(ensure_can_confirm(&console, true).is_ok());
        assert!(confirm(&console, "Deploy?", true).unwrap());
        assert!(console.seen().is_empty());
    }

    #[test]
    fn without_yes_a_console_that_cannot_ask_refuses_before_and_at_the_question() {
        let console = Recording::unattended();
        assert!(matches!(
            ensure_can_confirm(&console, false),
            Err(DeployError::NeedsYes)
        ));
        assert!(matches!(
            confirm(&console, "Deploy?", false),
            Err(DeployError::NeedsYes)
        ));
        assert!(console.questions().is_empty());
    }

    #[test]
    fn a_person_is_asked_and_answered() {
        let console = Recording::attended(&[true, false]);
        assert!(ensure_can_confirm(&console, false).is_ok());
        assert!(confirm(&console, "Deploy a?", false).unwrap());
        assert!(!confirm(&console, "Deploy b?", false).unwrap());
        assert!(!confirm(&console, "Deploy c?", false).unwrap());
        assert_eq!(console.questions(), ["Deploy a?", "Deploy b?", "Deploy c?"]);
    }
}
