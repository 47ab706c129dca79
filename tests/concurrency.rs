//! Several gens at once on one project (issue 18): writers queue on the run lock
//! (`.gen/cache/lock`), a run that waits too long names the holder and exits 2, and a killed
//! holder blocks nobody.

mod common;

use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use stackgen_core::ledger::{Ledger, sha256_hex};
use stackgen_core::project::{Owner, layout};

/// Holds the project's lock the way gen does (std's flock, then `PID command`).
fn hold(project: &Path, pid: u32, command: &str) -> File {
    std::fs::create_dir_all(project.join(layout::CACHE_DIR)).unwrap();
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(project.join(layout::LOCK))
        .unwrap();
    file.lock().unwrap();
    file.set_len(0).unwrap();
    writeln!(file, "{pid} {command}").unwrap();
    file
}

fn spawn(project: &Path, args: &[&str], wait_ms: &str) -> Child {
    Command::new(gen_bin())
        .args(args)
        .current_dir(project)
        .env("STACKGEN_LOCK_WAIT_MS", wait_ms)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gen starts")
}

fn run_waiting(project: &Path, args: &[&str], wait_ms: &str) -> std::process::Output {
    spawn(project, args, wait_ms).wait_with_output().unwrap()
}

/// Every file the ledger lists is there, and every managed one has the ledger's hash.
fn assert_ledger_matches_the_files(project: &Path) {
    let text = read(&project.join(layout::LEDGER));
    let ledger: Ledger = serde_json::from_str(&text).expect("the ledger is valid JSON");
    assert!(!ledger.files.is_empty());
    for (path, entry) in &ledger.files {
        let bytes = std::fs::read(project.join(path))
            .unwrap_or_else(|e| panic!("{path} is in the ledger: {e}"));
        if entry.owner == Owner::Managed {
            assert_eq!(sha256_hex(&bytes), entry.sha256, "{path}");
        }
    }
}

#[test]
fn eight_builds_at_once_after_an_edit_agree_and_leave_a_clean_project() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    // A rename: the generated files of `transcode` become orphans to remove. Without the lock,
    // a build that planned their removal before another removed them failed with "No such
    // file" (4 of 10 trials of eight staggered builds).
    let manifest = project.join("gen.yaml");
    write(&manifest, &read(&manifest).replace("transcode", "encode"));
    // All eight are started while the test holds the lock, so none can finish before the last
    // has started; then they race for it.
    let held = hold(&project, std::process::id(), "the test");
    let mut builds: Vec<Child> = (0..8)
        .map(|_| spawn(&project, &["build"], "30000"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for build in &mut builds {
        assert!(build.try_wait().unwrap().is_none(), "it waits for the lock");
    }
    drop(held);

    let outputs: Vec<_> = builds
        .into_iter()
        .map(|b| b.wait_with_output().unwrap())
        .collect();
    let mut wrote = 0;
    for output in &outputs {
        assert_code(output, 0);
        let (out, err) = (stdout(output), stderr(output));
        assert!(
            !err.contains("refusing") && !err.contains("another gen"),
            "{err}"
        );
        if !out.contains("(0 file writes;") {
            assert!(
                out.contains(" removed (") && !out.contains(" 0 removed"),
                "{out}"
            );
            wrote += 1;
        }
    }
    assert_eq!(wrote, 1, "the first build writes; the rest find it done");
    assert!(project.join("functions/encode/Cargo.toml").is_file());
    assert!(!project.join("functions/transcode/Cargo.toml").exists());
    assert_ledger_matches_the_files(&project);
    let check = run(&project, &["build", "--check"]);
    assert_code(&check, 0);
    assert!(stdout(&check).contains("up to date"), "{}", stdout(&check));
}

#[test]
fn a_run_that_cannot_get_the_lock_names_the_holder_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    edit(
        &project.join("gen.yaml"),
        "RENDITIONS: 720p,480p",
        "RENDITIONS: 1080p",
    );
    let before = tree(&project);
    let _held = hold(&project, 4242, "gen deploy");

    for args in [
        &["build"][..],
        &["build", "--check"],
        &["deploy", "--yes"],
        &["diff"],
        &["destroy", "--yes"],
    ] {
        let started = Instant::now();
        let output = run_waiting(&project, args, "300");
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{args:?} waited"
        );
        assert_code(&output, 2);
        assert_eq!(
            stderr(&output),
            "error: another gen is running here (PID 4242, `gen deploy`); wait for it to finish or stop it\n",
            "{args:?}"
        );
    }
    assert_eq!(tree(&project), before, "nothing was written");
}

#[test]
fn readers_run_side_by_side_but_keep_a_writer_waiting() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    std::fs::create_dir_all(project.join(layout::CACHE_DIR)).unwrap();
    let reader = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(project.join(layout::LOCK))
        .unwrap();
    reader.lock_shared().unwrap();

    assert_code(&run_waiting(&project, &["build", "--check"], "0"), 0);
    let output = run_waiting(&project, &["build"], "100");
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("another gen is reading this project"),
        "{}",
        stderr(&output)
    );
    drop(reader);
    assert_code(&run_waiting(&project, &["build"], "0"), 0);
}

#[test]
fn a_killed_holder_blocks_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "app", "app");
    std::fs::create_dir_all(project.join("site/vendor")).unwrap();
    write(&project.join("site/vendor/bootstrap.min.css"), "/* */");
    // An endpoint that accepts connections and never answers: the deploy hangs holding the
    // lock, as a real one does for minutes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut deploy = Command::new(gen_bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            deploy.env_remove(key);
        }
    }
    let mut deploy = deploy
        .args(["deploy", "--yes"])
        .current_dir(&project)
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_MAX_ATTEMPTS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let record = format!("{} gen deploy\n", deploy.id());
    let started = Instant::now();
    while std::fs::read_to_string(project.join(layout::LOCK)).ok() != Some(record.clone()) {
        assert!(
            deploy.try_wait().unwrap().is_none(),
            "the deploy ended early"
        );
        assert!(started.elapsed() < Duration::from_secs(30), "no lock taken");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = run_waiting(&project, &["build"], "0");
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains(&format!("(PID {}, `gen deploy`)", deploy.id())),
        "{}",
        stderr(&output)
    );

    deploy.kill().unwrap(); // SIGKILL: no destructor, no cleanup
    deploy.wait().unwrap();
    assert!(project.join(layout::LOCK).exists(), "the file stays");
    let output = run_waiting(&project, &["build"], "0");
    assert_code(&output, 0);
    assert_code(&run(&project, &["build", "--check"]), 0);
}
