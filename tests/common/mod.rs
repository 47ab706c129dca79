//! Helpers shared by the integration tests: run the real `gen` binary, snapshot trees.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn gen_bin() -> &'static str {
    env!("CARGO_BIN_EXE_gen")
}

/// Runs `gen` with `args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(gen_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("gen runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
pub fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Every file below `root` (relative `/` paths → bytes), skipping build output.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        // `.gen/cache/` is machine-local state (file stamps), not output.
        .filter_entry(|e| e.file_name() != "target" && !e.path().ends_with(".gen/cache"))
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (relative, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Modification times of every file below `root`.
pub fn mtimes(root: &Path) -> BTreeMap<String, std::time::SystemTime> {
    tree(root)
        .keys()
        .map(|p| {
            (
                p.clone(),
                std::fs::metadata(root.join(p)).unwrap().modified().unwrap(),
            )
        })
        .collect()
}

/// `gen new <tmp>/<dir> --name <name>`; returns the project path.
pub fn new_project(tmp: &Path, dir: &str, name: &str) -> PathBuf {
    let output = run(tmp, &["new", dir, "--name", name]);
    assert_code(&output, 0);
    tmp.join(dir)
}

/// The example as an app without stages (one stack named after the project), built in
/// `<tmp>/<dir>`: what the regeneration and cloud tests start from.
pub fn unstaged_project(tmp: &Path, dir: &str, name: &str) -> PathBuf {
    let project = tmp.join(dir);
    std::fs::create_dir_all(&project).unwrap();
    let manifest =
        stackgen_core::example::without_stages(&stackgen_core::example::manifest_named(name));
    write(&project.join("gen.yaml"), &manifest);
    assert_code(&run(&project, &["build"]), 0);
    project
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Replaces exactly one occurrence of `from` in the file.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = read(path);
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` should occur once in {}",
        path.display()
    );
    write(path, &text.replacen(from, to, 1));
}
