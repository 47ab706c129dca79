//! Building each function crate into the `bootstrap` Lambda runs: cargo-lambda when the user
//! has it (it can cross-compile, e.g. arm64 with zig), else plain cargo for the host.
//! One crate at a time (`-p`), because every crate's binary is named `bootstrap`.

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

fn failure(function: &FunctionAsset, message: impl Into<String>) -> DeployError {
    DeployError::Build {
        function: function.key.to_string(),
        message: message.into(),
    }
}

/// Builds `function` (release) and returns its `bootstrap` bytes. Cargo's own output goes
/// to stderr, so the user sees compile errors as cargo prints them.
pub fn build_function(
    functions_dir: &Path,
    function: &FunctionAsset,
    builder: Builder,
) -> Result<Vec<u8>, DeployError> {
    // Absolute: the builders run inside the workspace, and paths passed to them must not be
    // read relative to it.
    let functions_dir = &std::path::absolute(functions_dir).map_err(|e| {
        failure(
            function,
            format!("locating {}: {e}", functions_dir.display()),
        )
    })?;
    let native = host_architecture() == Some(function.architecture);
    let path = match builder {
        Builder::CargoLambda => build_with_cargo_lambda(functions_dir, function, native)?,
        Builder::Cargo | Builder::Auto => {
            if !native {
                return Err(failure(
                    function,
                    format!(
                        "its architecture is {:?}, which this machine cannot build with plain cargo\n  = hint: install cargo-lambda (it cross-compiles with zig), or set `architecture: x86_64` for it in gen.yaml",
                        function.architecture
                    ),
                ));
            }
            build_with_cargo(functions_dir, function)?
        }
    };
    std::fs::read(&path).map_err(|e| failure(function, format!("reading {}: {e}", path.display())))
}

fn build_with_cargo(
    functions_dir: &Path,
    function: &FunctionAsset,
) -> Result<PathBuf, DeployError> {
    let output = Command::new(cargo())
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
            "-p",
        ])
        .arg(&function.crate_name)
        .current_dir(functions_dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            failure(
                function,
                format!("running cargo: {e}\n  = hint: install Rust (https://rustup.rs)"),
            )
        })?;
    if !output.status.success() {
        return Err(failure(
            function,
            format!(
                "`cargo build --release -p {}` failed (its errors are above)",
                function.crate_name
            ),
        ));
    }
    // Cargo says where it put the executable (it honours CARGO_TARGET_DIR and .cargo/config).
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "bootstrap")
        .filter(|m| {
            m["manifest_path"]
                .as_str()
                .and_then(|p| {
                    Path::new(p)
                        .parent()?
                        .file_name()?
                        .to_str()
                        .map(str::to_owned)
                })
                .is_some_and(|dir| dir == function.crate_name)
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| failure(function, "cargo built no `bootstrap` executable for it"))
}

fn build_with_cargo_lambda(
    functions_dir: &Path,
    function: &FunctionAsset,
    native: bool,
) -> Result<PathBuf, DeployError> {
    // A directory of its own: every crate's binary is `bootstrap`, so outputs would collide.
    let lambda_dir = functions_dir
        .join("target")
        .join("stackgen-lambda")
        .join(&function.crate_name);
    let _ = std::fs::remove_dir_all(&lambda_dir);
    let mut command = Command::new(cargo());
    command
        .args(["lambda", "build", "--release", "-p"])
        .arg(&function.crate_name)
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .arg(match function.architecture {
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
        .map_err(|e| failure(function, format!("running cargo lambda: {e}")))?;
    if !status.success() {
        return Err(failure(
            function,
            format!(
                "`cargo lambda build --release -p {}` failed (its errors are above)\n  = hint: `gen deploy --builder cargo` builds with plain cargo",
                function.crate_name
            ),
        ));
    }
    walkdir::WalkDir::new(&lambda_dir)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_type().is_file() && e.file_name() == "bootstrap")
        .map(|e| e.into_path())
        .ok_or_else(|| {
            failure(
                function,
                format!(
                    "cargo lambda left no bootstrap under {}",
                    lambda_dir.display()
                ),
            )
        })
}
