//! `gen invoke`: the example's functions run on this machine, once, behind a local Lambda
//! Runtime API. The function crates build in debug into the shared `target/functions` (the
//! dir tests/run keeps warm), so only the first run compiles their dependencies.

mod common;

use std::process::Command;

use common::*;

/// `gen invoke …` in `project`, its function builds in the shared target dir.
fn invoke(project: &std::path::Path, args: &[&str]) -> std::process::Output {
    let target = std::env::var_os("STACKGEN_FUNCTIONS_TARGET")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/functions"));
    Command::new(gen_bin())
        .arg("invoke")
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("gen runs")
}

#[test]
fn the_transcode_function_answers_its_sample_s3_event() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "p", "demo");
    let output = invoke(&project, &["transcode", "--sample", "s3-put"]);
    assert_code(&output, 0);
    // Its handler returns `()`, and logs each object of the notification.
    assert_eq!(stdout(&output).trim(), "null");
    let logs = stderr(&output);
    assert!(
        logs.contains(
            "[transcode] received s3://demo-dev-upload-123456789012-us-east-1/sample-object.mp4"
        ),
        "{logs}"
    );
    assert!(logs.contains("`transcode` answered"), "{logs}");
    // Its only trigger's sample is the default; `--print` shows it and runs nothing.
    let printed = invoke(&project, &["transcode", "--print"]);
    assert_code(&printed, 0);
    let event: serde_json::Value = serde_json::from_str(&stdout(&printed)).unwrap();
    assert_eq!(event["Records"][0]["eventName"], "ObjectCreated:Put");
    assert!(
        !stderr(&printed).contains("Building"),
        "{}",
        stderr(&printed)
    );
}

#[test]
fn an_unknown_function_a_malformed_event_or_a_missing_trigger_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "p", "demo");
    let unknown = invoke(&project, &["transcod"]);
    assert_code(&unknown, 2);
    assert!(
        stderr(&unknown).contains("gen.yaml has no function `transcod`")
            && stderr(&unknown).contains("did you mean `transcode`?"),
        "{}",
        stderr(&unknown)
    );
    write(&project.join("event.json"), "{\n  \"Records\": [,]\n}\n");
    let malformed = invoke(&project, &["transcode", "--event", "event.json"]);
    assert_code(&malformed, 2);
    assert!(
        stderr(&malformed).contains("the event in event.json is not JSON: 2:15:"),
        "{}",
        stderr(&malformed)
    );
    let no_trigger = invoke(&project, &["transcode", "--sample", "api"]);
    assert_code(&no_trigger, 2);
    assert!(
        stderr(&no_trigger).contains("`transcode` has no `api` trigger; its samples: s3-put"),
        "{}",
        stderr(&no_trigger)
    );
    // None of these built or ran anything.
    for output in [&unknown, &malformed, &no_trigger] {
        assert!(!stderr(output).contains("Building"), "{}", stderr(output));
    }
}
