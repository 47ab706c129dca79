//! Bad input: every `tests/manifests/invalid/<case>.yaml` must make `gen build` fail with exit
//! code 2, print exactly `tests/manifests/invalid/<case>.stderr`, and write nothing.
//!
//! Each case is copied to `gen.yaml` in a fresh temporary directory and built from there with
//! `gen build --manifest gen.yaml`, so diagnostics read `gen.yaml:LINE:COL`.
//!
//! To add a case, add `<case>.yaml` and run
//! `STACKGEN_BLESS=1 cargo test --test bad_input`: that writes (or rewrites) every `.stderr`
//! file from the actual output. Review the diff before committing it.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The exit code of `gen` for an error (0 ok, 1 stale `--check`, 2 error).
const EXIT_ERROR: i32 = 2;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/invalid")
}

fn blessing() -> bool {
    std::env::var_os("STACKGEN_BLESS").is_some_and(|v| v == "1")
}

/// The case names (file stems of `*.yaml`), sorted, and any `.stderr` file without a case.
fn cases(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut yaml = Vec::new();
    let mut stderr = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("reading a directory entry").path();
        let stem = path.file_stem().and_then(OsStr::to_str).map(str::to_owned);
        match (path.extension().and_then(OsStr::to_str), stem) {
            (Some("yaml"), Some(stem)) => yaml.push(stem),
            (Some("stderr"), Some(stem)) => stderr.push(stem),
            _ => {}
        }
    }
    yaml.sort();
    let orphans = stderr
        .into_iter()
        .filter(|s| !yaml.contains(s))
        .map(|s| format!("{s}.stderr"))
        .collect();
    (yaml, orphans)
}

/// Runs one case; returns a description of what went wrong, if anything.
fn run_case(dir: &Path, case: &str, bless: bool) -> Option<String> {
    let source = dir.join(format!("{case}.yaml"));
    let expected_path = dir.join(format!("{case}.stderr"));
    let manifest =
        fs::read(&source).unwrap_or_else(|e| panic!("reading {}: {e}", source.display()));

    let project = tempfile::tempdir().expect("creating a temporary directory");
    fs::write(project.path().join("gen.yaml"), &manifest).expect("writing gen.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(["build", "--manifest", "gen.yaml"])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .output()
        .expect("running gen");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    let mut problems = Vec::new();
    if output.status.code() != Some(EXIT_ERROR) {
        problems.push(format!(
            "exit status: expected code {EXIT_ERROR}, got {}",
            output.status
        ));
    }
    if !stdout.is_empty() {
        problems.push(format!(
            "stdout: expected nothing, got:\n{}",
            indent(&stdout)
        ));
    }
    // `.gen/cache/` is machine-local and git-ignored: it holds the run lock, taken before the
    // manifest is read, so even a refused manifest leaves it (as cargo leaves its lock files).
    let mut left: Vec<String> = files_left(project.path())
        .into_iter()
        .filter(|p| !p.starts_with(".gen/cache/"))
        .collect();
    if left == [".gen/", "gen.yaml"] {
        left.remove(0);
    }
    if left != ["gen.yaml"] {
        problems.push(format!(
            "the project directory must hold only gen.yaml afterwards, but it holds:\n{}",
            indent(&left.join("\n"))
        ));
    }
    if fs::read(project.path().join("gen.yaml")).ok().as_deref() != Some(&manifest[..]) {
        problems.push("gen.yaml was modified".to_owned());
    }

    if bless {
        fs::write(&expected_path, stderr.as_bytes())
            .unwrap_or_else(|e| panic!("writing {}: {e}", expected_path.display()));
    } else {
        match fs::read_to_string(&expected_path) {
            Ok(expected) => {
                let expected = expected.replace("\r\n", "\n");
                if expected != stderr {
                    problems.push(format!(
                        "stderr differs from {case}.stderr (- expected, + actual):\n{}\
                         --- expected ---\n{}--- actual ---\n{}--- end ---",
                        diff(&expected, &stderr),
                        show(&expected),
                        show(&stderr),
                    ));
                }
            }
            Err(_) => problems.push(format!(
                "{case}.stderr is missing; actual stderr:\n{}\
                 (run `STACKGEN_BLESS=1 cargo test --test bad_input` to create it)",
                show(&stderr)
            )),
        }
    }

    if problems.is_empty() {
        None
    } else {
        let mut report = format!("case {case} (tests/manifests/invalid/{case}.yaml):\n");
        for problem in problems {
            let _ = writeln!(report, "  * {}", problem.trim_end().replace('\n', "\n    "));
        }
        Some(report)
    }
}

/// Every file and directory under `root`, relative and sorted (`/` separated).
fn files_left(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("listing the project directory") {
            let path = entry.expect("reading a directory entry").path();
            let relative = path.strip_prefix(root).expect("under root");
            let mut name = relative.to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                name.push('/');
                stack.push(path);
            }
            out.push(name);
        }
    }
    out.sort();
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// The text with each line ended by `⏎` so trailing whitespace and a missing final newline
/// are visible.
fn show(text: &str) -> String {
    if text.is_empty() {
        return "(empty)\n".to_owned();
    }
    let mut out: String = text
        .split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(line) => format!("{line}⏎\n"),
            None => format!("{l}\n"),
        })
        .collect();
    if !text.ends_with('\n') {
        out.push_str("(no newline at end)\n");
    }
    out
}

/// A line diff: ` ` common, `-` only in `expected`, `+` only in `actual` (longest common
/// subsequence; the texts are small).
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    out
}

#[test]
fn invalid_manifests_fail_with_expected_diagnostics_and_write_nothing() {
    let dir = cases_dir();
    let bless = blessing();
    let (cases, orphans) = cases(&dir);
    assert!(
        !cases.is_empty(),
        "no cases: {} holds no *.yaml files",
        dir.display()
    );

    let mut failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run_case(&dir, case, bless))
        .collect();
    if !orphans.is_empty() {
        failures.push(format!(
            "expected-output files without a case (delete them or add the .yaml): {}\n",
            orphans.join(", ")
        ));
    }

    if bless {
        eprintln!(
            "STACKGEN_BLESS=1: wrote {} .stderr file(s) in {}",
            cases.len(),
            dir.display()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad-input case(s) failed{}:\n\n{}",
        failures.len(),
        cases.len(),
        if bless {
            ""
        } else {
            " (if the new output is right: STACKGEN_BLESS=1 cargo test --test bad_input)"
        },
        failures.join("\n")
    );
}

#[test]
fn diff_marks_changed_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nx\nc\n"), "  a\n- b\n+ x\n  c\n");
    assert_eq!(diff("", "a\n"), "+ a\n");
}

#[test]
fn case_listing_pairs_yaml_with_stderr() {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    assert_eq!(cases(dir.path()), (vec![], vec![]));
    for file in ["b.yaml", "b.stderr", "a.yaml", "orphan.stderr", "notes.txt"] {
        fs::write(dir.path().join(file), "").expect("writing a file");
    }
    assert_eq!(
        cases(dir.path()),
        (
            vec!["a".to_owned(), "b".to_owned()],
            vec!["orphan.stderr".to_owned()]
        )
    );
}
