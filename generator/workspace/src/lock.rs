//! One gen at a time per project: an advisory lock on `.gen/cache/lock`.
//!
//! Why a lock: two runs at once (an editor's save hook and a terminal, two CI jobs) would both
//! read the ledger, both plan, and the second would see the first's fresh files as edits of
//! gen's output (a false conflict), or interleave their renames and leave a ledger that
//! describes neither. The writers (`gen build`, `new`, `deploy`, `destroy`) therefore take the
//! lock exclusively, *before* they read anything that decides what they write (manifest,
//! ledger, records, disk hashes), so a second run plans from the first one's result. Readers
//! (`gen build --check`, `gen diff`) take it shared: any number of them at once, but never
//! while a writer is half-way through its renames (a check would report a false "stale").
//!
//! Why flock(2) (std's [`File::lock`] on Unix): the kernel releases it when the holder's last
//! descriptor closes, so a crashed or SIGKILLed gen leaves the file but no lock, and there is
//! no stale-lock cleanup to get wrong. The file is never deleted: unlinking a lock file lets a
//! waiter holding the old inode and a newcomer creating a new one both "hold" it. std opens
//! files close-on-exec, so the cargo builds and tools a deploy spawns do not inherit the lock.
//!
//! Why in `.gen/cache/`: the lock is machine-local state like the fast path's stamps, so it
//! lives in the directory that ignores itself in git (its `.gitignore` is written here too),
//! and a no-op build still writes nothing outside `.gen/cache/`.
//!
//! The exclusive holder writes `PID command` into the file after locking; a waiter that gives
//! up reads it to say who is running. Shared holders write nothing (several share the file);
//! a waiter tells them apart by probing for a shared lock: it is granted exactly when the
//! holders are readers.

use std::fs::{self, File, TryLockError};
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use stackgen_core::project::layout;

use crate::Project;

/// How often a waiting run tries again. `gen build` of the example takes milliseconds, so a
/// queue of builds drains in a few polls each.
const POLL: Duration = Duration::from_millis(50);

/// What a run does with the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// It writes (generated files, the ledger, `.gen/` records): alone.
    Exclusive,
    /// It only reads: alongside other readers, never during a write.
    Shared,
}

/// What a run asks for: its access, its name for the message a waiter prints
/// (`gen deploy`), and how long it waits for the holder before giving up.
#[derive(Clone, Copy, Debug)]
pub struct Wait<'a> {
    pub access: Access,
    pub command: &'a str,
    pub at_most: Duration,
}

/// Who held the lock when a run gave up waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A writer, as it recorded itself (`None` where the record is missing or unreadable:
    /// the writer had not written it yet, or is not a gen of this version).
    Writer {
        pid: Option<u32>,
        command: Option<String>,
    },
    /// One or more readers (`gen build --check`, `gen diff`).
    Readers,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}", busy_message(holder))]
    Busy { holder: Holder },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Workspace(#[from] crate::WorkspaceError),
}

fn busy_message(holder: &Holder) -> String {
    match holder {
        Holder::Writer { pid, command } => {
            let who = match (pid, command) {
                (Some(pid), Some(command)) => format!(" (PID {pid}, `{command}`)"),
                (Some(pid), None) => format!(" (PID {pid})"),
                (None, Some(command)) => format!(" (`{command}`)"),
                (None, None) => String::new(),
            };
            format!("another gen is running here{who}; wait for it to finish or stop it")
        }
        Holder::Readers => "another gen is reading this project (`gen build --check` or `gen diff`); wait for it to finish or stop it".to_owned(),
    }
}

/// The held lock. Dropping it (or the process ending, however it ends) releases it.
#[derive(Debug)]
pub struct RunLock {
    // Held for its descriptor: closing it is what releases the lock.
    _file: File,
}

impl Project {
    /// Takes the project's run lock, waiting up to `wait.at_most` for the holder.
    pub fn lock(&self, wait: Wait) -> Result<RunLock, LockError> {
        let path = self.path(layout::LOCK);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        self.ensure_cache_dir()?;
        // Never truncated on open: the holder's record must survive a waiter's open.
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let deadline = Instant::now() + wait.at_most;
        loop {
            let attempt = match wait.access {
                Access::Exclusive => file.try_lock(),
                Access::Shared => file.try_lock_shared(),
            };
            match attempt {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(LockError::Busy {
                            holder: holder(&file, &path),
                        });
                    }
                    std::thread::sleep(POLL.min(deadline - now));
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
        }
        if wait.access == Access::Exclusive {
            // Alone now: the previous holder's line is overwritten in place, then cut to
            // length. Not truncated to 0 first: ext4 (auto_da_alloc) flushes a file truncated
            // to 0 and rewritten when it is closed, which made every no-op build wait ~2 ms
            // for the disk.
            let line = format!("{} {}\n", std::process::id(), wait.command);
            // Just opened: the file's offset is 0.
            (&file).write_all(line.as_bytes()).map_err(io)?;
            file.set_len(line.len() as u64).map_err(io)?;
        }
        Ok(RunLock { _file: file })
    }
}

/// Who holds the lock `file` could not get.
fn holder(file: &File, path: &std::path::Path) -> Holder {
    // A shared lock is granted exactly when no writer holds the file.
    if file.try_lock_shared().is_ok() {
        let _ = file.unlock();
        return Holder::Readers;
    }
    let text = fs::read_to_string(path).unwrap_or_default();
    let (pid, command) = parse_record(&text);
    Holder::Writer { pid, command }
}

/// `1234 gen deploy\n` → (1234, "gen deploy").
fn parse_record(text: &str) -> (Option<u32>, Option<String>) {
    let line = text.lines().next().unwrap_or("").trim();
    let (pid, command) = line.split_once(' ').unwrap_or((line, ""));
    let command = command.trim();
    (
        pid.parse().ok(),
        (!command.is_empty()).then(|| command.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(access: Access, ms: u64) -> Wait<'static> {
        Wait {
            access,
            command: "gen test",
            at_most: Duration::from_millis(ms),
        }
    }

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_and_command() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        // flock belongs to the open file description: a second open in the same process
        // conflicts like a second process would.
        let held = project.lock(wait(Access::Exclusive, 0)).unwrap();
        let started = Instant::now();
        let error = project.lock(wait(Access::Exclusive, 120)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(120), "it waited");
        let LockError::Busy { holder } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(
            holder,
            &Holder::Writer {
                pid: Some(std::process::id()),
                command: Some("gen test".to_owned())
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "another gen is running here (PID {}, `gen test`); wait for it to finish or stop it",
                std::process::id()
            )
        );
        // Readers wait for a writer too.
        assert!(project.lock(wait(Access::Shared, 0)).is_err());
        drop(held);
        project.lock(wait(Access::Exclusive, 0)).unwrap();
    }

    #[test]
    fn readers_share_and_keep_writers_out() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        let first = project.lock(wait(Access::Shared, 0)).unwrap();
        let second = project.lock(wait(Access::Shared, 0)).unwrap();
        let error = project.lock(wait(Access::Exclusive, 0)).unwrap_err();
        assert!(
            matches!(
                error,
                LockError::Busy {
                    holder: Holder::Readers
                }
            ),
            "{error:?}"
        );
        drop((first, second));
        project.lock(wait(Access::Exclusive, 0)).unwrap();
    }

    #[test]
    fn a_waiter_gets_the_lock_once_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        let held = project.lock(wait(Access::Exclusive, 0)).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        let started = Instant::now();
        project.lock(wait(Access::Exclusive, 10_000)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(150));
        releaser.join().unwrap();
    }

    #[test]
    fn the_lock_lives_in_the_git_ignored_cache_and_replaces_the_last_holders_record() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        fs::create_dir_all(project.path(layout::CACHE_DIR)).unwrap();
        fs::write(
            project.path(layout::LOCK),
            "99999999 gen deploy --yes\nmore\n",
        )
        .unwrap();
        let _held = project.lock(wait(Access::Exclusive, 0)).unwrap();
        assert_eq!(
            fs::read_to_string(project.path(layout::LOCK)).unwrap(),
            format!("{} gen test\n", std::process::id())
        );
        let ignore = fs::read_to_string(project.path(".gen/cache/.gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    }

    #[test]
    fn a_record_that_is_not_one_names_nobody() {
        assert_eq!(
            parse_record("1234 gen deploy\n"),
            (Some(1234), Some("gen deploy".to_owned()))
        );
        assert_eq!(parse_record("1234"), (Some(1234), None));
        assert_eq!(parse_record(""), (None, None));
        assert_eq!(
            parse_record("not-a-pid gen build"),
            (None, Some("gen build".to_owned()))
        );
    }
}
