//! Golden files: the committed `output/` is `gen new` of the built-in example, and the
//! committed `schema/manifest.schema.json` is `gen schema`. Any byte difference fails; rerun
//! with `STACKGEN_BLESS=1` to accept a change, then review the diff like code.

mod common;

use common::*;
use std::fs;

fn bless() -> bool {
    std::env::var_os("STACKGEN_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn output_is_the_generated_example() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "video24", "video24");
    let golden = repo_root().join("output");
    let actual = tree(&project);
    if bless() {
        if golden.exists() {
            fs::remove_dir_all(&golden).unwrap();
        }
        for (path, bytes) in &actual {
            let target = golden.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, bytes).unwrap();
        }
        return;
    }
    let expected = tree(&golden);
    let missing: Vec<_> = expected
        .keys()
        .filter(|p| !actual.contains_key(*p))
        .collect();
    let extra: Vec<_> = actual
        .keys()
        .filter(|p| !expected.contains_key(*p))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "output/ files differ: no longer generated {missing:?}, newly generated {extra:?}\n(STACKGEN_BLESS=1 cargo test --test golden to accept)"
    );
    for (path, bytes) in &expected {
        assert!(
            &actual[path] == bytes,
            "output/{path} differs from what gen generates now\n--- generated\n{}\n(STACKGEN_BLESS=1 cargo test --test golden to accept, then review `git diff output/`)",
            String::from_utf8_lossy(&actual[path])
        );
    }
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
