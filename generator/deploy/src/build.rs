//! Building the function crates into the executables Lambda runs as `bootstrap`: cargo-lambda
//! when the user has it (it can cross-compile, e.g. arm64 with zig), else plain cargo for the
//! host. Each crate's binary is named after the crate, so all of them build in one cargo
//! invocation (shared dependencies compiled once, crates in parallel); the zip names it
//! `bootstrap`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::DeployError;
use stackgen_core::deploy::FunctionAsset;
use stackgen_core::manifest::Architecture;

/// Which tool builds the functions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Builder {
    /// cargo-lambda if `cargo lambda --version` works, else cargo.
    #[default]
    Auto,
    /// `cargo build --release` for the host (x86_64 on x86_64 machines).
    Cargo,
    /// `cargo lambda build --release`.
    CargoLambda,
}

impl Builder {
    /// Resolves `Auto` by looking for cargo-lambda.
    pub fn resolve(self) -> Builder {
        match self {
            Builder::Auto => {
                let found = Command::new(cargo())
                    .args(["lambda", "--version"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if found {
                    Builder::CargoLambda
                } else {
                    Builder::Cargo
                }
            }
            other => other,
        }
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn host_architecture() -> Option<Architecture> {
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        Some(Architecture::X86_64)
    } else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
        Some(Architecture::Arm64)
    } else {
        None
    }
}

/// A build failure of the listed functions (`crate` names when cargo said which failed).
fn failure_of(crates: &[&str], message: impl Into<String>) -> DeployError {
    let function = match crates {
        [one] => (*one).to_owned(),
        many if many.len() <= 5 => many.join("`, `"),
        many => format!("{}`, …, `{}", many[..3].join("`, `"), many[many.len() - 1]),
    };
    DeployError::Build {
        function,
        message: message.into(),
    }
}

fn failure(function: &FunctionAsset, message: impl Into<String>) -> DeployError {
    failure_of(&[function.crate_name.as_str()], message)
}

/// Builds `functions` (release) and returns each one's executable's path, in their order
/// (read one at a time: a thousand functions' binaries need not be in memory at once). Cargo's
/// own output goes to stderr, so the user sees compile errors as cargo prints them.
pub fn build_functions(
    functions_dir: &Path,
    functions: &[FunctionAsset],
    builder: Builder,
) -> Result<Vec<PathBuf>, DeployError> {
    let Some(first) = functions.first() else {
        return Ok(Vec::new());
    };
    // Absolute: the builders run inside the workspace, and paths passed to them must not be
    // read relative to it.
    let functions_dir = &std::path::absolute(functions_dir)
        .map_err(|e| failure(first, format!("locating {}: {e}", functions_dir.display())))?;
    let host = host_architecture();
    let mut paths: BTreeMap<&str, PathBuf> = BTreeMap::new();
    match builder {
        Builder::CargoLambda => {
            // One build per architecture: cargo-lambda targets one at a time.
            for architecture in [Architecture::X86_64, Architecture::Arm64] {
                let group: Vec<&FunctionAsset> = functions
                    .iter()
                    .filter(|f| f.architecture == architecture)
                    .collect();
                if !group.is_empty() {
                    let native = host == Some(architecture);
                    paths.extend(build_with_cargo_lambda(
                        functions_dir,
                        &group,
                        architecture,
                        native,
                    )?);
                }
            }
        }
        Builder::Cargo | Builder::Auto => {
            if let Some(foreign) = functions.iter().find(|f| host != Some(f.architecture)) {
                return Err(failure(
                    foreign,
                    format!(
                        "its architecture is {:?}, which this machine cannot build with plain cargo\n  = hint: install cargo-lambda (it cross-compiles with zig), or set `architecture: x86_64` for it in gen.yaml",
                        foreign.architecture
                    ),
                ));
            }
            let all: Vec<&FunctionAsset> = functions.iter().collect();
            paths = build_with_cargo(functions_dir, &all)?;
        }
    }
    functions
        .iter()
        .map(|function| {
            paths.remove(function.crate_name.as_str()).ok_or_else(|| {
                failure(
                    function,
                    format!(
                        "the build left no `{}` executable for it",
                        function.crate_name
                    ),
                )
            })
        })
        .collect()
}

/// `cargo build --release -p A -p B …`; each crate's executable by crate name, as cargo
/// reports it (it honours CARGO_TARGET_DIR and .cargo/config).
fn build_with_cargo<'f>(
    functions_dir: &Path,
    functions: &[&'f FunctionAsset],
) -> Result<BTreeMap<&'f str, PathBuf>, DeployError> {
    let crates: Vec<&str> = functions.iter().map(|f| f.crate_name.as_str()).collect();
    let mut command = Command::new(cargo());
    command.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]);
    for name in &crates {
        command.args(["-p", name]);
    }
    let output = command
        .current_dir(functions_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            failure_of(
                &crates,
                format!("running cargo: {e}\n  = hint: install Rust (https://rustup.rs)"),
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let messages: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    if !output.status.success() {
        let failed = failed_crates(&messages, &crates);
        return Err(failure_of(
            if failed.is_empty() { &crates } else { &failed },
            "`cargo build --release` failed (its errors are above)",
        ));
    }
    Ok(functions
        .iter()
        .filter_map(|function| {
            let name = function.crate_name.as_str();
            messages
                .iter()
                .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
                .filter(|m| crate_dir(m["manifest_path"].as_str()) == Some(name))
                .find_map(|m| m["executable"].as_str().map(PathBuf::from))
                .map(|path| (name, path))
        })
        .collect())
}

/// The directory name of a crate's manifest path: the crate's name in a generated workspace.
fn crate_dir(manifest_path: Option<&str>) -> Option<&str> {
    Path::new(manifest_path?).parent()?.file_name()?.to_str()
}

/// The crates cargo reported errors in (`compiler-message` of level `error`).
fn failed_crates<'c>(messages: &[serde_json::Value], crates: &[&'c str]) -> Vec<&'c str> {
    crates
        .iter()
        .copied()
        .filter(|name| {
            messages.iter().any(|m| {
                m["reason"] == "compiler-message"
                    && m["message"]["level"] == "error"
                    && crate_dir(m["manifest_path"].as_str()) == Some(*name)
            })
        })
        .collect()
}

/// `cargo lambda build --release -p A -p B … --lambda-dir DIR`, which leaves each binary as
/// `DIR/<binary>/bootstrap`.
fn build_with_cargo_lambda<'f>(
    functions_dir: &Path,
    functions: &[&'f FunctionAsset],
    architecture: Architecture,
    native: bool,
) -> Result<BTreeMap<&'f str, PathBuf>, DeployError> {
    let crates: Vec<&str> = functions.iter().map(|f| f.crate_name.as_str()).collect();
    let lambda_dir =
        functions_dir
            .join("target")
            .join("stackgen-lambda")
            .join(match architecture {
                Architecture::X86_64 => "x86_64",
                Architecture::Arm64 => "arm64",
            });
    let _ = std::fs::remove_dir_all(&lambda_dir);
    let mut command = Command::new(cargo());
    command.args(["lambda", "build", "--release"]);
    for name in &crates {
        command.args(["-p", name]);
    }
    command
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .arg(match architecture {
            Architecture::X86_64 => "--x86-64",
            Architecture::Arm64 => "--arm64",
        });
    if native {
        // No zig needed (and no prompt to install it) for the host's own architecture.
        command.args(["--compiler", "cargo"]);
    }
    let status = command
        .current_dir(functions_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| failure_of(&crates, format!("running cargo lambda: {e}")))?;
    if !status.success() {
        return Err(failure_of(
            &crates,
            "`cargo lambda build --release` failed (its errors are above)\n  = hint: `gen deploy --builder cargo` builds with plain cargo",
        ));
    }
    Ok(functions
        .iter()
        .map(|f| {
            let name = f.crate_name.as_str();
            (name, lambda_dir.join(name).join("bootstrap"))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_batch_names_the_crates_cargo_reported_errors_in() {
        let messages = [
            json!({"reason": "compiler-message", "manifest_path": "/w/functions/b/Cargo.toml",
                   "message": {"level": "error"}}),
            json!({"reason": "compiler-message", "manifest_path": "/w/functions/a/Cargo.toml",
                   "message": {"level": "warning"}}),
            json!({"reason": "compiler-artifact", "manifest_path": "/w/functions/c/Cargo.toml"}),
        ];
        assert_eq!(failed_crates(&messages, &["a", "b", "c"]), ["b"]);
        let error = failure_of(&["b"], "failed");
        assert_eq!(error.to_string(), "building function `b`: failed");
        let many = failure_of(&["a", "b", "c", "d", "e", "f"], "failed");
        assert_eq!(
            many.to_string(),
            "building function `a`, `b`, `c`, …, `f`: failed"
        );
    }
}
