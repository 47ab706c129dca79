//! The layering rules the compiler alone cannot state (ARCHITECTURE.md, "Crates"):
//! - the core crate's dependency tree holds no AWS SDK, clap or tokio, and the deploy crate's
//!   no clap;
//! - the library crates print nothing and prompt for nothing (only `gen` does), and the core
//!   touches no file system, environment or process;
//! - no physical name is formatted outside the naming layer (`generator/core/src/naming.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo_root;

/// The normal and build dependencies of `package`, one crate name per line.
fn dependency_tree(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            package,
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn assert_no_dependency(package: &str, forbidden: &[&str]) {
    let tree = dependency_tree(package);
    assert!(
        tree.iter().any(|c| c == package),
        "cargo tree printed no {package}: {tree:?}"
    );
    let found: Vec<&String> = tree
        .iter()
        .filter(|c| forbidden.iter().any(|f| c.starts_with(f)))
        .collect();
    assert!(
        found.is_empty(),
        "{package} must not depend on {forbidden:?}, but its tree has {found:?}"
    );
}

#[test]
fn the_core_depends_on_no_aws_sdk_clap_or_tokio() {
    let forbidden = [
        "aws-",
        "clap",
        "tokio",
        "hyper",
        "stackgen-deploy",
        "stackgen-workspace",
    ];
    assert_no_dependency("stackgen-core", &forbidden);
}

#[test]
fn only_the_binary_parses_flags() {
    assert_no_dependency("stackgen-deploy", &["clap"]);
    assert_no_dependency("stackgen-workspace", &["clap", "aws-", "tokio"]);
    // The local runner needs no cloud and makes no other layer's decisions.
    assert_no_dependency(
        "stackgen-local",
        &["clap", "aws-", "stackgen-deploy", "stackgen-workspace"],
    );
}

/// Every `.rs` file below `dir`, with its text up to its first `#[cfg(test)]` (tests may do
/// what the code may not).
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            (e.path().to_owned(), code)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no sources below {}", dir.display());
    files
}

/// `(file:line, line)` of every code line (comments aside) containing one of `needles`.
fn find(dir: &Path, needles: &[&str], skip: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for (path, code) in sources(dir) {
        let name = path.file_name().unwrap().to_string_lossy();
        if skip.iter().any(|s| *s == name) {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            if needles.iter().any(|needle| line.contains(needle)) {
                hits.push(format!("{}:{}: {}", path.display(), n + 1, trimmed));
            }
        }
    }
    hits
}

const PRINTING: &[&str] = &[
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "dbg!(",
    "io::stdout",
    "io::stderr",
    "io::stdin",
];

#[test]
fn library_crates_print_nothing() {
    for krate in ["core", "workspace", "deploy", "local"] {
        let hits = find(&repo_root().join("generator").join(krate), PRINTING, &[]);
        assert!(
            hits.is_empty(),
            "only the gen binary prints or prompts; generator/{krate} does:\n{}",
            hits.join("\n")
        );
    }
}

#[test]
fn the_core_does_no_io() {
    let io = [
        "std::fs",
        "fs::",
        "File::",
        "std::env",
        "std::process",
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "SystemTime::now",
        "Instant::now",
    ];
    let hits = find(&repo_root().join("generator/core/src"), &io, &[]);
    assert!(
        hits.is_empty(),
        "the core is pure (no file system, environment, process, network or clock):\n{}",
        hits.join("\n")
    );
}

#[test]
fn no_physical_name_is_formatted_outside_the_naming_layer() {
    // The shapes a hand-made name takes: a name property filled by format!, or a format
    // string that starts like one of the app's names.
    let shapes = [
        "Name\", format!",
        "format!(\"{project}-",
        "format!(\"{}-",
        "format!(\"/aws/",
        "format!(\"stackgen/",
        "format!(\"{project}/",
    ];
    let hits = find(
        &repo_root().join("generator/core/src"),
        &shapes,
        &["naming.rs"],
    );
    assert!(
        hits.is_empty(),
        "physical names are made in generator/core/src/naming.rs only:\n{}",
        hits.join("\n")
    );
}
