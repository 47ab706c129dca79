//! A debug build of one function crate, incremental: what a local run needs, in seconds once
//! warm (a release build is `gen deploy`'s).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::LocalError;

/// `cargo build -p <crate>` in the functions workspace; the executable as cargo reports it
/// (so CARGO_TARGET_DIR and .cargo/config are honoured). Cargo's diagnostics go to stderr.
pub fn build_debug(functions_dir: &Path, crate_name: &str) -> Result<PathBuf, LocalError> {
    let failure = |message: String| LocalError::Build {
        function: crate_name.to_owned(),
        message,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "build",
            "--message-format=json-render-diagnostics",
            "-p",
            crate_name,
        ])
        .current_dir(functions_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            failure(format!(
                "running cargo: {e}\n  = hint: install Rust (https://rustup.rs)"
            ))
        })?;
    if !output.status.success() {
        return Err(failure(
            "`cargo build` failed (its errors are above)".to_owned(),
        ));
    }
    executable(&String::from_utf8_lossy(&output.stdout), crate_name)
        .ok_or_else(|| failure(format!("the build left no `{crate_name}` executable")))
}

/// The executable of `crate_name`'s binary target in cargo's JSON messages.
fn executable(messages: &str, crate_name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == crate_name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_is_the_one_cargo_reports_for_the_crate() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"serde"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"transcode"},"executable":"/t/debug/transcode"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable(messages, "transcode"),
            Some(PathBuf::from("/t/debug/transcode"))
        );
        assert_eq!(executable(messages, "serde"), None);
    }
}
