//! Which commands take the project's run lock, and how long they wait for it
//! (`stackgen_workspace::Project::lock` explains the lock itself).
//!
//! Exclusive: everything that writes the project (`gen new`, `gen build`, `gen deploy`,
//! `gen destroy`: generated files, the ledger, `.gen/outputs/`, `.gen/hotswap/`). Shared: the
//! readers `gen build --check` and `gen diff`, so they never see a writer's half-done renames
//! (a check would call that stale) yet run side by side. Not locked: `cost` and `schema` (they
//! read only the manifest), `bootstrap` (nothing in the project), `invoke` (it reads the
//! templates for seconds to minutes of a function's run; holding a lock that long would
//! refuse the builds a developer makes meanwhile).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use stackgen_workspace::{Access, Project, RunLock, Wait};

/// How long a second gen waits for the first by default: far longer than a build, short
/// enough that a deploy (minutes) in another terminal is reported rather than waited out.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Takes the lock for `command` once the manifest exists (without one this is not a project,
/// and the command's own "reading gen.yaml" error should come first, with no `.gen/` made).
/// `STACKGEN_LOCK_WAIT_MS` overrides the wait (tests; a CI that prefers to queue longer).
pub(crate) fn take(
    manifest: &Path,
    project: &Project,
    access: Access,
    command: &str,
) -> Result<Option<RunLock>> {
    if !manifest.is_file() {
        return Ok(None);
    }
    let at_most = std::env::var("STACKGEN_LOCK_WAIT_MS")
        .ok()
        .and_then(|ms| ms.trim().parse().ok())
        .map_or(DEFAULT_WAIT, Duration::from_millis);
    Ok(Some(project.lock(Wait {
        access,
        command,
        at_most,
    })?))
}
