//! A debug build of one function crate, incremental: what a local run needs, in seconds once
//! warm (a release build is `gen deploy`'s).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::LocalError;

/// `cargo build -p <crate>` in the functions workspace; the executable as cargo reports it
/// (so CARGO_TARGET_DIR and .cargo/config are honoured). Cargo's diagnostics go to stderr.
pub fn build_debug(functions_dir: &Path, crate_name: &str) -> Result<PathBuf, LocalError> {
    let mut built = build_debug_all(functions_dir, &[crate_name])?;
    built.remove(crate_name).ok_or_else(|| LocalError::Build {
        function: crate_name.to_owned(),
        message: format!("the build left no `{crate_name}` executable"),
    })
}

/// [`build_debug`] of several crates in one `cargo build -p A -p B …` (cargo builds them in
/// parallel and shares their dependencies); each crate's executable.
pub fn build_debug_all(
    functions_dir: &Path,
    crates: &[&str],
) -> Result<BTreeMap<String, PathBuf>, LocalError> {
    let output = Command::new(cargo())
        .args(cargo_args(crates))
        .current_dir(functions_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    built(output, crates)
}

/// [`build_debug_all`] for an async caller (`gen dev` goes on serving meanwhile). Cargo is
/// killed when the future is dropped, so a stopped `gen dev` leaves no build running.
pub async fn build_debug_all_async(
    functions_dir: &Path,
    crates: &[&str],
) -> Result<BTreeMap<String, PathBuf>, LocalError> {
    // Not `output()`: tokio's pipes stderr too, and cargo's errors are for the person.
    let run = async {
        let mut child = tokio::process::Command::new(cargo())
            .args(cargo_args(crates))
            .current_dir(functions_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let mut stdout = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut stdout).await?;
        }
        let status = child.wait().await?;
        Ok(std::process::Output {
            status,
            stdout,
            stderr: Vec::new(),
        })
    };
    built(run.await, crates)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn cargo_args<'a>(crates: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["build", "--message-format=json-render-diagnostics"];
    for name in crates {
        args.extend(["-p", name]);
    }
    args
}

/// Each crate's executable from cargo's finished run, or why there is none.
fn built(
    output: std::io::Result<std::process::Output>,
    crates: &[&str],
) -> Result<BTreeMap<String, PathBuf>, LocalError> {
    let failure = |message: String| LocalError::Build {
        function: crates.join(", "),
        message,
    };
    let output = output.map_err(|e| {
        failure(format!(
            "running cargo: {e}\n  = hint: install Rust (https://rustup.rs)"
        ))
    })?;
    if !output.status.success() {
        return Err(failure(
            "`cargo build` failed (its errors are above)".to_owned(),
        ));
    }
    let messages = String::from_utf8_lossy(&output.stdout);
    crates
        .iter()
        .map(|name| {
            executable(&messages, name)
                .map(|path| ((*name).to_owned(), path))
                .ok_or_else(|| failure(format!("the build left no `{name}` executable")))
        })
        .collect()
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
