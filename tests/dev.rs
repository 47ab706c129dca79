//! `gen dev`'s refusals, before anything is built or served: a port in use and an `--env` for
//! a function gen.yaml lacks exit 2 with a hint and leave nothing running. (The whole loop —
//! gateway, authorizer, site, a handler edit, Ctrl-C — is tests/site_e2e/run.mjs --dev, step
//! 10 of tests/run.)

mod common;

use std::process::Command;

use common::*;

fn dev(project: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(gen_bin())
        .arg("dev")
        .args(args)
        .current_dir(project)
        .output()
        .expect("gen runs")
}

#[test]
fn a_port_in_use_is_refused_with_the_flag_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "p", "demo");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = dev(&project, &["--port", &port]);
    assert_code(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains(&format!("the API cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.contains("pass --port N (0: any free port)"), "{err}");
    let site = dev(&project, &["--port", "0", "--site-port", &port]);
    assert_code(&site, 2);
    assert!(
        stderr(&site).contains(&format!("the site cannot listen on 127.0.0.1:{port}")),
        "{}",
        stderr(&site)
    );
}

#[test]
fn an_env_override_for_an_unknown_function_is_refused_with_a_did_you_mean() {
    let tmp = tempfile::tempdir().unwrap();
    let project = new_project(tmp.path(), "p", "demo");
    let output = dev(
        &project,
        &[
            "--port",
            "0",
            "--site-port",
            "0",
            "--env",
            "authoriser:AUTH_ISSUER=x",
        ],
    );
    assert_code(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("--env authoriser:…: gen.yaml has no function `authoriser`"),
        "{err}"
    );
    assert!(err.contains("authorizer"), "{err}");
    assert!(!err.contains("Building"), "nothing is built: {err}");
    let bad = dev(&project, &["--env", "1X=y"]);
    assert_code(&bad, 2);
    assert!(
        stderr(&bad).contains("is not a variable name"),
        "{}",
        stderr(&bad)
    );
}
