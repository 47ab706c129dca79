//! The `gen` command line: new, build, schema, exit codes.

mod common;

use common::*;

#[test]
fn new_scaffolds_and_builds_the_example() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(tmp.path(), &["new", "demo"]);
    assert_code(&output, 0);
    let project = tmp.path().join("demo");
    let files = tree(&project);
    for path in [
        "gen.yaml",
        ".gen/ledger.json",
        ".gen/manifest.schema.json",
        "infra/dev/template.json",
        "infra/prod/template.json",
        "policies/prod/function-transcode.json",
        "functions/Cargo.toml",
        "functions/transcode/src/handler.rs",
        "functions/transcode/src/main.rs",
    ] {
        assert!(
            files.contains_key(path),
            "{path} missing: {:?}",
            files.keys()
        );
    }
    // The project name defaults to the directory's name.
    assert!(read(&project.join("gen.yaml")).contains("\nname: demo\n"));
    // Each stage is the same app under its own names, with its own settings.
    let dev = read(&project.join("infra/dev/template.json"));
    let prod = read(&project.join("infra/prod/template.json"));
    assert!(dev.contains("\"demo-dev-transcode\""));
    assert!(prod.contains("\"demo-prod-transcode\""));
    assert!(dev.contains("\"MemorySize\": 512") && !dev.contains("\"MemorySize\": 2048"));
    assert!(prod.contains("\"MemorySize\": 2048"));
    assert!(
        stdout(&output).contains("gen build: 60 created, 0 updated, 0 unchanged, 0 removed"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_stage_is_picked_for_the_site_and_an_unknown_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "p", "demo");
    let output = run(&project, &["build", "--stage", "prd"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("gen.yaml has no stage `prd`; its stages: dev, prod")
            && stderr(&output).contains("did you mean `prod`?"),
        "{}",
        stderr(&output)
    );
    // Every stage is built whichever is picked: only the site follows the pick.
    let before = tree(&project);
    assert_code(&run(&project, &["build", "--stage", "prod"]), 0);
    let after = tree(&project);
    let changed: Vec<&String> = after
        .keys()
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(
        changed.iter().all(|p| p.starts_with(".gen/")),
        "{changed:?}"
    );
    assert_code(&run(&project, &["cost", "--stage", "prod", "--json"]), 0);
}

#[test]
fn new_refuses_a_non_empty_directory_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("taken")).unwrap();
    write(&tmp.path().join("taken/notes.txt"), "mine");
    let output = run(tmp.path(), &["new", "taken"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("already exists and is not empty"));
    assert!(stderr(&output).contains("hint:"));
    assert_eq!(tree(&tmp.path().join("taken")).len(), 1);
}

#[test]
fn new_with_an_invalid_name_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(tmp.path(), &["new", "demo", "--name", "My_App"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("`My_App` is not a valid project name"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("try `my-app`"));
    assert!(!tmp.path().join("demo").exists());
}

#[test]
fn build_without_a_manifest_explains() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(tmp.path(), &["build"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("gen.yaml"));
    assert!(stderr(&output).contains("gen new"));
}

#[test]
fn check_reports_stale_output_with_exit_1_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    assert_code(&run(&project, &["build", "--check"]), 0);
    edit(&project.join("gen.yaml"), "memory: 1024", "memory: 2048");
    let before = tree(&project);
    let output = run(&project, &["build", "--check"]);
    assert_code(&output, 1);
    assert!(
        stdout(&output).contains("update     infra/template.json"),
        "{}",
        stdout(&output)
    );
    assert_eq!(tree(&project), before);
}

#[test]
fn schema_goes_to_a_file_or_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(tmp.path(), &["schema", "--out", "-"]);
    assert_code(&output, 0);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema["properties"]["functions"].is_object());
    assert_code(&run(tmp.path(), &["schema"]), 0);
    assert_eq!(
        read(&tmp.path().join("schema/manifest.schema.json")),
        stdout(&output)
    );
}

#[test]
fn same_manifest_in_any_key_order_gives_identical_output() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let ordered = "name: demo\nregion: eu-west-1\nbuckets:\n  alpha: {}\n  beta: {versioning: true}\nfunctions:\n  one:\n    reads: [alpha, beta]\n  two:\n    writes: [beta]\n    triggers: [{s3: {bucket: alpha}}]\n";
    let shuffled = "functions:\n  two:\n    triggers: [{s3: {bucket: alpha}}]\n    writes: [beta]\n  one:\n    reads: [beta, alpha]\nbuckets:\n  beta: {versioning: true}\n  alpha: {}\nregion: eu-west-1\nname: demo\n";
    write(&a.join("gen.yaml"), ordered);
    write(&b.join("gen.yaml"), shuffled);
    assert_code(&run(&a, &["build"]), 0);
    assert_code(&run(&b, &["build"]), 0);
    let (ta, tb) = (tree(&a), tree(&b));
    for (path, bytes) in &ta {
        if path != "gen.yaml" {
            assert!(
                tb.get(path) == Some(bytes),
                "{path} differs between key orders"
            );
        }
    }
}

#[test]
fn cost_prints_a_table_or_json_and_build_shows_the_total() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(tmp.path(), &["new", "demo"]);
    assert_code(&output, 0);
    let project = tmp.path().join("demo");
    let table = run(&project, &["cost"]);
    assert_code(&table, 0);
    let text = stdout(&table);
    assert!(
        text.starts_with("Monthly estimate for demo in us-east-1 (USD, prices read "),
        "{text}"
    );
    let total_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .unwrap();
    let total = total_line.split_whitespace().last().unwrap().to_owned();
    // gen build's summary states the same total.
    assert!(
        stdout(&output).contains(&format!("estimated {total}/month")),
        "{}",
        stdout(&output)
    );

    let json = run(&project, &["cost", "--json"]);
    assert_code(&json, 0);
    let estimate: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let sum: f64 = estimate["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["usd"].as_f64().unwrap())
        .sum();
    assert!((sum - estimate["total_usd"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(format!("${:.2}", sum), total);
}

#[test]
fn cost_in_a_region_without_prices_names_the_ones_with_prices() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("gen.yaml"),
        "name: demo\nregion: ap-south-1\nbuckets:\n  b: {}\n",
    );
    let output = run(tmp.path(), &["cost"]);
    assert_code(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("no prices for region `ap-south-1`; regions with prices: "),
        "{err}"
    );
    assert!(err.contains("us-east-1"));
    // A build still works, and says why there is no estimate.
    let build = run(tmp.path(), &["build"]);
    assert_code(&build, 0);
    assert!(stdout(&build).contains("no estimate: no prices for region `ap-south-1`"));
}
