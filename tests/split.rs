//! Apps past CloudFormation's limits: `gen build` splits them into a root stack and nested
//! stacks, and growing or shrinking the app never moves a placed function.
//!
//! The golden part compares what a reviewer reads (the placement record, the root template,
//! the first nested template, and every template's resource count) in `tests/split/`; the
//! 300-function manifest itself is generated here. `STACKGEN_BLESS=1` rewrites them.

mod common;

#[path = "common/split_manifest.rs"]
mod split_manifest;

use common::*;
use serde_json::Value;
use split_manifest::split_manifest;
use stackgen_core::graph::nested_stack_id;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn build(dir: &Path, manifest: &str) -> String {
    fs::write(dir.join("gen.yaml"), manifest).unwrap();
    let output = run(dir, &["build"]);
    assert_code(&output, 0);
    stdout(&output)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Function key → the part holding it, from `.gen/placement.json`.
fn placement(dir: &Path) -> BTreeMap<String, String> {
    let record = json(&dir.join(".gen/placement.json"));
    record["functions"]
        .as_object()
        .expect("a manifest without stages records `functions`")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// Every template file (project-relative path → bytes).
fn templates(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| path.starts_with("infra/"))
        .collect()
}

/// Function key → logical ID of the nested stack resource whose template declares it, read
/// from the templates themselves (not from the record).
fn function_homes(dir: &Path) -> BTreeMap<String, String> {
    let mut homes = BTreeMap::new();
    for path in templates(dir).keys() {
        let template = json(&dir.join(path));
        for resource in template["Resources"].as_object().unwrap().values() {
            if resource["Type"] == "AWS::Lambda::Function" {
                let name = resource["Properties"]["FunctionName"].as_str().unwrap();
                homes.insert(name.trim_start_matches("bigapp-").to_owned(), path.clone());
            }
        }
    }
    homes
}

fn resource_count(dir: &Path, path: &str) -> usize {
    json(&dir.join(path))["Resources"]
        .as_object()
        .unwrap()
        .len()
}

#[test]
fn a_300_function_app_is_a_root_and_nested_stacks_within_every_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir, &split_manifest(300, &[], &[]));
    let homes = function_homes(dir);
    // 300 + the generated authorizer, each declared exactly once.
    assert_eq!(homes.len(), 301);
    let root = json(&dir.join("infra/template.json"));
    let nested: Vec<String> = templates(dir)
        .into_keys()
        .filter(|p| p.starts_with("infra/nested/"))
        .collect();
    assert!(nested.len() >= 8, "{nested:?}");
    // Every function is in a nested stack: a fresh split app's root keeps its room.
    assert!(homes.values().all(|p| p.starts_with("infra/nested/")));
    let stacks: Vec<_> = root["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudFormation::Stack")
        .collect();
    assert_eq!(stacks.len(), nested.len());
    for (id, stack) in &stacks {
        // Its URL is a root parameter gen deploy sets; whatever it passes, the child declares.
        let url = stack["Properties"]["TemplateURL"]["Ref"].as_str().unwrap();
        assert!(root["Parameters"].get(url).is_some(), "{id}: {url}");
        assert_eq!(stack["DeletionPolicy"], "Delete");
    }
    for path in &nested {
        let template = json(&dir.join(path));
        let count = template["Resources"].as_object().unwrap().len();
        assert!(count <= 400, "{path}: {count} resources");
        assert!(template["Parameters"].as_object().unwrap().len() <= 200);
        assert!(template["Outputs"].as_object().unwrap().len() <= 200);
        // No Export/ImportValue anywhere: siblings share through their parent.
        let text = read(&dir.join(path));
        assert!(!text.contains("Fn::ImportValue") && !text.contains("\"Export\""));
    }
    // Each parameter a parent passes is declared by the child.
    let record = placement(dir);
    for (id, stack) in &stacks {
        let part = record
            .values()
            .find(|part| nested_stack_id(part).as_str() == id.as_str())
            .unwrap_or_else(|| panic!("no part for {id}"));
        let child = json(&dir.join(format!("infra/nested/{part}.template.json")));
        for passed in stack["Properties"]["Parameters"]
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(
                child["Parameters"].get(passed).is_some(),
                "{part}: {passed}"
            );
        }
    }
    assert!(resource_count(dir, "infra/template.json") <= 500);

    // The golden part: what a reviewer reads.
    let first = nested[0].clone();
    let mut summary = String::new();
    for path in templates(dir).keys() {
        summary.push_str(&format!(
            "{path}: {} resources\n",
            resource_count(dir, path)
        ));
    }
    let golden = repo_root().join("tests/split");
    let mut files = vec![
        (
            ".gen/placement.json".to_owned(),
            read(&dir.join(".gen/placement.json")),
        ),
        (
            "infra/template.json".to_owned(),
            read(&dir.join("infra/template.json")),
        ),
        (first.clone(), read(&dir.join(&first))),
        ("templates.txt".to_owned(), summary),
    ];
    // The standalone policies of what those templates hold (the linters compare the two).
    let first_part = first
        .trim_start_matches("infra/nested/")
        .trim_end_matches(".template.json");
    for path in tree(dir).into_keys().filter(|p| p.starts_with("policies/")) {
        let name = path
            .trim_start_matches("policies/")
            .trim_end_matches(".json");
        let function = name
            .strip_prefix("function-")
            .map(|f| f.trim_end_matches("-trust"));
        if function.is_none_or(|f| record.get(f).is_some_and(|p| p == first_part)) {
            files.push((path.clone(), read(&dir.join(&path))));
        }
    }
    if std::env::var_os("STACKGEN_BLESS").is_some_and(|v| v == "1") {
        if golden.exists() {
            fs::remove_dir_all(&golden).unwrap();
        }
        for (path, text) in &files {
            let target = golden.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            write(&target, text);
        }
        return;
    }
    for (path, text) in &files {
        let committed = golden.join(path);
        assert!(
            committed.is_file() && &read(&committed) == text,
            "tests/split/{path} differs from what gen generates now (STACKGEN_BLESS=1 cargo test --test split to accept, then review the diff)"
        );
    }
}

#[test]
fn adding_a_function_changes_the_root_and_one_nested_stack_and_moves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir, &split_manifest(300, &[], &[]));
    let (before, placed) = (templates(dir), placement(dir));
    // A key that sorts in the middle: a rule by key order would shift everything after it.
    build(dir, &split_manifest(300, &[], &["fn-0150a"]));
    let after = templates(dir);
    let changed: Vec<&String> = after
        .keys()
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    // The root changes only where the function touches it (a route, a trigger): this one has
    // neither. Deployed, the root changes too: the nested template's URL is its parameter.
    let nested_changed = changed
        .iter()
        .filter(|p| p.starts_with("infra/nested/"))
        .count();
    assert_eq!(nested_changed, 1, "{changed:?}");
    assert!(
        changed
            .iter()
            .all(|p| p.starts_with("infra/nested/") || *p == "infra/template.json"),
        "{changed:?}"
    );
    assert!(before.keys().all(|p| after.contains_key(p)));
    let now = placement(dir);
    for (key, part) in &placed {
        assert_eq!(&now[key], part, "{key} moved");
    }
    assert!(now.contains_key("fn-0150a"));
}

#[test]
fn removing_a_function_moves_no_other_and_the_record_survives_a_fresh_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir, &split_manifest(300, &[], &[]));
    let homes = function_homes(dir);
    let before = templates(dir);
    build(dir, &split_manifest(300, &[10], &[]));
    let after_homes = function_homes(dir);
    assert!(!after_homes.contains_key("fn-0010"));
    for (key, home) in &after_homes {
        assert_eq!(&homes[key], home, "{key} moved");
    }
    // Only its own nested stack (and the root, which lost its route and trigger) changed.
    let after = templates(dir);
    let changed: Vec<&String> = after
        .keys()
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(
        changed
            .iter()
            .filter(|p| p.starts_with("infra/nested/"))
            .count()
            <= 1,
        "{changed:?}"
    );
    // Functions re-added after a removal go where there is room, never displacing others.
    build(dir, &split_manifest(300, &[], &[]));
    for (key, home) in function_homes(dir) {
        if key != "fn-0010" {
            assert_eq!(homes[&key], home, "{key} moved");
        }
    }
}

#[test]
fn an_app_that_outgrows_one_stack_keeps_its_functions_in_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 40 functions fit one stack: no nested stack, every function recorded in the root.
    build(dir, &split_manifest(40, &[], &[]));
    assert!(!dir.join("infra/nested").exists());
    let small = placement(dir);
    assert!(small.values().all(|p| p == "app"), "{small:?}");
    // Grown past 500 resources: the 41 placed functions stay (moving one would delete and
    // recreate it); the new ones go to nested stacks.
    build(dir, &split_manifest(120, &[], &[]));
    let grown = placement(dir);
    for key in small.keys() {
        assert_eq!(grown[key], "app", "{key} moved out of the root");
    }
    assert!(
        grown
            .iter()
            .filter(|(k, _)| !small.contains_key(*k))
            .all(|(_, p)| p != "app")
    );
    assert!(resource_count(dir, "infra/template.json") <= 500);
    // Shrunk back: the split stays as it is rather than moving functions back.
    build(dir, &split_manifest(45, &[], &[]));
    let shrunk = placement(dir);
    for (key, part) in &shrunk {
        assert_eq!(&grown[key], part, "{key} moved");
    }
}

#[test]
fn a_corrupt_placement_record_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir, &split_manifest(10, &[], &[]));
    fs::write(dir.join(".gen/placement.json"), "{ not json").unwrap();
    let before = tree(dir);
    let output = run(dir, &["build"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains(".gen/placement.json is not a placement record"));
    assert_eq!(tree(dir), before);
}
