//! The cloud commands' failure paths that need no AWS endpoint: missing credentials, an
//! unreachable endpoint. (Deploys themselves run against moto's server: tests/deploy_e2e.py.)

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// `gen` with an AWS environment of our choosing: nothing from the machine leaks in.
fn run_cloud(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = Command::new(gen_bin());
    command
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("gen runs")
}

/// The example without stages: one stack, no `--stage` needed; its site as `npm install`
/// leaves it (a vendored bundle), so a deploy gets as far as AWS.
fn new_project(tmp: &Path) -> std::path::PathBuf {
    let project = unstaged_project(tmp, "app", "app");
    std::fs::create_dir_all(project.join("site/vendor")).unwrap();
    write(
        &project.join("site/vendor/bootstrap.min.css"),
        "/* vendored */",
    );
    project
}

#[test]
fn deploying_a_hosted_site_without_its_vendored_bundles_is_refused_before_aws() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "app", "app");
    // An endpoint nobody answers: the refusal must come before any call.
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ];
    let output = run_cloud(&project, &["deploy", "--yes"], &env);
    assert_code(&output, 2);
    let err = stderr(&output);
    assert!(err.contains("site/vendor/ is missing"), "{err}");
    assert!(err.contains("cd site && npm install"), "{err}");
    assert!(!err.contains("127.0.0.1:9"), "no AWS call was made: {err}");
    assert!(
        !project.join("functions/target").exists(),
        "nothing was built"
    );
}

#[test]
fn deploy_without_credentials_says_how_to_provide_them_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path());
    let before = tree(&project);
    let output = run_cloud(&project, &["deploy", "--yes"], &[]);
    assert_code(&output, 2);
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no AWS credentials found"), "{err}");
    assert!(err.contains("AWS_PROFILE"), "{err}");
    let after = tree(&project);
    assert!(!after.keys().any(|p| p.starts_with(".gen/outputs")));
    // Nothing but the scratch HOME appeared; nothing was built.
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after
            .keys()
            .filter(|p| !p.starts_with("home/"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_unreachable_endpoint_names_the_call_and_the_endpoint_and_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path());
    // Port 9 (discard) on loopback: nothing listens there.
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "not-printed-secret"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ];
    for args in [&["deploy", "--yes"][..], &["diff"], &["destroy", "--yes"]] {
        let output = run_cloud(&project, args, &env);
        assert_code(&output, 2);
        let err = stderr(&output);
        assert!(
            err.contains("cannot reach http://127.0.0.1:9 (calling DescribeStacks)"),
            "{args:?}: {err}"
        );
        assert!(err.contains("Connection refused"), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(
            !err.contains("not-printed-secret") && !stdout(&output).contains("not-printed-secret")
        );
    }
    assert!(!tree(&project).keys().any(|p| p.starts_with(".gen/outputs")));
    assert!(
        !project.join("functions/target").exists(),
        "no function was built before the endpoint answered"
    );
}

#[test]
fn bootstrap_shows_the_toolkit_template() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run_cloud(tmp.path(), &["bootstrap", "--show-template"], &[]);
    assert_code(&output, 0);
    let template: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        template["Resources"]["AssetsBucket"]["Type"],
        "AWS::S3::Bucket"
    );
    assert!(template["Outputs"]["AssetsBucketName"].is_object());
}

#[test]
fn off_a_terminal_deploy_and_destroy_need_yes_before_doing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path());
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    for args in [&["deploy"][..], &["destroy"]] {
        let output = run_cloud(&project, args, &env);
        assert_code(&output, 2);
        let err = stderr(&output);
        assert!(err.contains("rerun with --yes"), "{args:?}: {err}");
        // Refused before any call: the endpoint was never tried.
        assert!(!err.contains("cannot reach"), "{err}");
    }
    assert!(!project.join("functions/target").exists());
}

#[test]
fn with_several_stages_the_cloud_commands_need_one_and_a_protected_stage_is_not_destroyed() {
    let tmp = tempfile::tempdir().unwrap();
    assert_code(&run(tmp.path(), &["new", "app"]), 0);
    let project = tmp.path().join("app");
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    let before = tree(&project);
    for args in [&["deploy", "--yes"][..], &["diff"], &["destroy", "--yes"]] {
        let output = run_cloud(&project, args, &env);
        assert_code(&output, 2);
        let err = stderr(&output);
        assert!(
            err.contains("gen.yaml declares 2 stages (dev, prod): say which with --stage"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("cannot reach"), "{err}");
    }
    // prod is protected: refused before any call, with the way to lift it.
    let output = run_cloud(&project, &["destroy", "--stage", "prod", "--yes"], &env);
    assert_code(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("stage prod is protected (`protect: true`)")
            && err.contains("set `protect: false` under `stages.prod`"),
        "{err}"
    );
    assert!(!err.contains("cannot reach"), "{err}");
    assert_eq!(tree(&project), before, "nothing was written or built");
}
