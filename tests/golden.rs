//! Golden files: the committed `output/` is `gen new` of the built-in example, each
//! `tests/golden/<case>/out/` is `gen build` of `tests/golden/<case>/gen.yaml`, and the
//! committed `schema/manifest.schema.json` is `gen schema`. Any byte difference fails; rerun
//! with `STACKGEN_BLESS=1` to accept a change, then review the diff like code.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const BLESS_HINT: &str = "STACKGEN_BLESS=1 cargo test --test golden";

fn bless() -> bool {
    std::env::var_os("STACKGEN_BLESS").is_some_and(|v| v == "1")
}

/// Compares the generated `actual` tree with the committed `golden` directory (`name` is how
/// messages call it, e.g. `output/`): missing files, extra files, then each file's bytes.
/// With `STACKGEN_BLESS=1` it rewrites `golden` to `actual` instead.
fn check_tree(golden: &Path, name: &str, actual: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    if bless() {
        if golden.exists() {
            fs::remove_dir_all(golden).unwrap();
        }
        for (path, bytes) in actual {
            let target = golden.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, bytes).unwrap();
        }
        return Ok(());
    }
    if !golden.is_dir() {
        return Err(format!(
            "{name} does not exist\n({BLESS_HINT} to create it, then review it)"
        ));
    }
    let expected = tree(golden);
    let missing: Vec<_> = expected
        .keys()
        .filter(|p| !actual.contains_key(*p))
        .collect();
    let extra: Vec<_> = actual
        .keys()
        .filter(|p| !expected.contains_key(*p))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!(
            "{name} files differ: no longer generated {missing:?}, newly generated {extra:?}\n({BLESS_HINT} to accept)"
        ));
    }
    for (path, bytes) in &expected {
        if &actual[path] != bytes {
            let line = first_differing_line(bytes, &actual[path]);
            return Err(format!(
                "{name}{path} differs from what gen generates now (first at line {line})\n--- generated\n{}\n({BLESS_HINT} to accept, then review `git diff {name}`)",
                String::from_utf8_lossy(&actual[path])
            ));
        }
    }
    Ok(())
}

/// 1-based number of the first line where `a` and `b` differ.
fn first_differing_line(a: &[u8], b: &[u8]) -> usize {
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    1 + a[..same].iter().filter(|&&c| c == b'\n').count()
}

#[test]
fn output_is_the_generated_example() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "video24", "video24");
    if let Err(message) = check_tree(&repo_root().join("output"), "output/", &tree(&project)) {
        panic!("{message}");
    }
}

/// Every `tests/golden/<case>/` holds a `gen.yaml` and `out/`, the whole tree `gen build`
/// makes in a directory holding that gen.yaml (gen.yaml and .gen/ included). A new case is a
/// new directory: bless it once with `STACKGEN_BLESS=1`.
#[test]
fn golden_projects_are_what_gen_build_makes() {
    let root = repo_root().join("tests/golden");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases in {}", root.display());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let manifest = case.join("gen.yaml");
        assert!(
            manifest.is_file(),
            "tests/golden/{name}/ has no gen.yaml (every case directory needs one)"
        );
        let tmp = tempfile::tempdir().unwrap();
        fs::copy(&manifest, tmp.path().join("gen.yaml")).unwrap();
        let output = run(tmp.path(), &["build"]);
        assert!(
            output.status.success(),
            "gen build of tests/golden/{name}/gen.yaml failed ({})\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            stdout(&output),
            stderr(&output)
        );
        let out = format!("tests/golden/{name}/out/");
        if let Err(message) = check_tree(&case.join("out"), &out, &tree(tmp.path())) {
            failures.push(format!("golden case `{name}`: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden case(s) differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn schema_file_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("schema.json");
    assert_code(
        &run(tmp.path(), &["schema", "--out", out.to_str().unwrap()]),
        0,
    );
    let generated = read(&out);
    let committed_path = repo_root().join("schema/manifest.schema.json");
    if bless() {
        write(&committed_path, &generated);
        return;
    }
    assert!(
        generated == read(&committed_path),
        "schema/manifest.schema.json is stale: run `cargo run -- schema` (or STACKGEN_BLESS=1 cargo test --test golden)"
    );
    // The project copy editors use is the same schema.
    assert_eq!(
        generated,
        read(&repo_root().join("output/.gen/manifest.schema.json"))
    );
}

#[test]
fn example_manifest_points_editors_at_the_schema() {
    let manifest = read(&repo_root().join("output/gen.yaml"));
    assert!(manifest.starts_with("# yaml-language-server: $schema=.gen/manifest.schema.json\n"));
}
