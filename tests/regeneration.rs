//! Regeneration scenarios in the style of cargo's in/ → out/ tests: start from `gen new`,
//! change something, rebuild, and check exactly what happened to every file.

mod common;

use common::*;

/// Renames the example's function everywhere the manifest names it.
fn rename_transcode(project: &std::path::Path, to: &str) {
    let manifest = project.join("gen.yaml");
    edit(&manifest, "\n  transcode:\n", &format!("\n  {to}:\n"));
    edit(
        &manifest,
        "[function:transcode]",
        &format!("[function:{to}]"),
    );
    edit(
        &manifest,
        "\n    transcode:\n      invocations",
        &format!("\n    {to}:\n      invocations"),
    );
}

fn files_exist(project: &std::path::Path, paths: &[&str]) -> bool {
    paths.iter().all(|p| project.join(p).is_file())
}

#[test]
fn rebuilding_twice_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    let (files, times) = (tree(&project), mtimes(&project));
    std::thread::sleep(std::time::Duration::from_millis(20));
    for _ in 0..2 {
        let output = run(&project, &["build"]);
        assert_code(&output, 0);
        assert!(
            stdout(&output)
                .contains("0 created, 0 updated, 42 unchanged, 0 removed (0 file writes"),
            "{}",
            stdout(&output)
        );
    }
    assert_eq!(tree(&project), files);
    assert_eq!(
        mtimes(&project),
        times,
        "an unchanged file must keep its mtime"
    );
}

#[test]
fn edited_handler_survives_a_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    let handler = project.join("functions/transcode/src/handler.rs");
    let mine = "// my transcoder\n".to_owned() + &read(&handler);
    write(&handler, &mine);
    edit(&project.join("gen.yaml"), "timeout: 120", "timeout: 300");
    let output = run(&project, &["build"]);
    assert_code(&output, 0);
    assert_eq!(read(&handler), mine);
    assert!(read(&project.join("infra/template.json")).contains("\"Timeout\": 300"));
}

#[test]
fn edited_managed_file_is_refused_untouched_then_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    let template = project.join("infra/template.json");
    let edited = read(&template).replace("\"MemorySize\": 1024", "\"MemorySize\": 999");
    write(&template, &edited);
    edit(
        &project.join("gen.yaml"),
        "RENDITIONS: 720p,480p",
        "RENDITIONS: 1080p",
    );
    let before = tree(&project);

    let output = run(&project, &["build"]);
    assert_code(&output, 2);
    let err = stderr(&output);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert!(err.contains("  infra/template.json\n"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        tree(&project),
        before,
        "a refused build writes nothing at all"
    );

    // The refusal is stable: nothing was recorded that would let the next run through.
    assert_code(&run(&project, &["build"]), 2);

    let output = run(&project, &["build", "--force"]);
    assert_code(&output, 0);
    let rebuilt = read(&template);
    assert!(
        rebuilt.contains("\"MemorySize\": 1024") && rebuilt.contains("\"RENDITIONS\": \"1080p\"")
    );
}

#[test]
fn renaming_a_function_removes_its_generated_files_but_keeps_user_code() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    rename_transcode(&project, "encode");
    let output = run(&project, &["build"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains("kept functions/transcode/src/handler.rs (no longer generated; your code)"),
        "{out}"
    );
    // Cargo.toml, main.rs, config.rs and the role's two policy files.
    assert!(out.contains("5 removed"), "{out}");
    assert!(files_exist(&project, &["policies/function-encode.json"]));
    let files = tree(&project);
    assert!(files.contains_key("functions/transcode/src/handler.rs"));
    for gone in [
        "functions/transcode/Cargo.toml",
        "functions/transcode/src/main.rs",
        "functions/transcode/src/config.rs",
    ] {
        assert!(!files.contains_key(gone), "{gone} should be removed");
    }
    assert!(files.contains_key("functions/encode/src/handler.rs"));
    let workspace = read(&project.join("functions/Cargo.toml"));
    assert!(workspace.contains("\"encode\"") && !workspace.contains("\"transcode\""));
    let ledger = read(&project.join(".gen/ledger.json"));
    assert!(
        !ledger.contains("functions/transcode/"),
        "orphans leave the ledger"
    );

    // Removing every function removes the workspace's generated files, and nothing else.
    let manifest = read(&project.join("gen.yaml"));
    let without = manifest[..manifest.find("functions:").unwrap()].to_owned()
        + &manifest[manifest.find("alerts:").unwrap()..manifest.find("iam:").unwrap()];
    write(&project.join("gen.yaml"), &without);
    assert_code(&run(&project, &["build"]), 0);
    let files = tree(&project);
    assert!(!files.contains_key("functions/Cargo.toml"));
    assert!(
        files.contains_key("functions/encode/src/handler.rs"),
        "user code is never deleted"
    );
    assert!(!project.join("functions/encode/src/main.rs").exists());
}

#[test]
fn modified_orphan_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    let main_rs = project.join("functions/transcode/src/main.rs");
    write(&main_rs, &(read(&main_rs) + "// tuned by hand\n"));
    rename_transcode(&project, "encode");
    let output = run(&project, &["build"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output)
            .contains("kept functions/transcode/src/main.rs (no longer generated; you edited it)")
    );
    assert!(main_rs.exists());
}

#[test]
fn invalid_edit_leaves_everything_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    edit(
        &project.join("gen.yaml"),
        "reads: [upload]",
        "reads: [uplaod]",
    );
    let before = tree(&project);
    let output = run(&project, &["build"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("did you mean `upload`?"));
    assert!(stderr(&output).contains("nothing was written"));
    assert_eq!(tree(&project), before);
}

#[test]
fn a_failed_write_leaves_the_previous_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    // A new function whose directory cannot be created (a file is in the way), plus a change
    // to the template: the template must not be updated either.
    write(
        &project.join("functions/thumbnail"),
        "a file where a directory must go",
    );
    edit(
        &project.join("gen.yaml"),
        "          suffix: .mp4\n",
        "          suffix: .mp4\n  thumbnail:\n    reads: [upload]\n",
    );
    let before = tree(&project);
    let output = run(&project, &["build"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("functions/thumbnail"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        tree(&project),
        before,
        "no file changed, no temporary file left behind"
    );
}

/// A project whose build record trusts every file's stamp: built, then rebuilt a tick later
/// (the first no-op rebuild hashes what `gen new` wrote in the record's own tick and records
/// their stamps), so the next `gen build` takes the fast path and reads no file it need not.
fn fast_path_project(tmp: &std::path::Path) -> std::path::PathBuf {
    let project = unstaged_project(tmp, "p", "demo");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_code(&run(&project, &["build"]), 0);
    std::thread::sleep(std::time::Duration::from_millis(20));
    project
}

#[test]
fn the_fast_path_reports_what_a_full_no_op_build_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let project = unstaged_project(tmp.path(), "p", "demo");
    let full = stdout(&run(&project, &["build"]));
    // Without its record gen runs the whole pipeline: the same words either way.
    std::fs::remove_dir_all(project.join(".gen/cache")).unwrap();
    assert_eq!(stdout(&run(&project, &["build"])), full);
    assert_eq!(stdout(&run(&project, &["build"])), full);
    assert!(
        full.contains("42 unchanged, 0 removed (0 file writes"),
        "{full}"
    );
    assert_eq!(
        read(&project.join(".gen/cache/.gitignore")).lines().last(),
        Some("*")
    );
}

#[test]
fn an_edit_of_the_same_size_is_caught_on_the_fast_path() {
    let tmp = tempfile::tempdir().unwrap();
    let project = fast_path_project(tmp.path());
    let template = project.join("infra/template.json");
    let original = std::fs::metadata(&template).unwrap().modified().unwrap();
    write(
        &template,
        &read(&template).replace("\"MemorySize\": 1024", "\"MemorySize\": 2048"),
    );
    let output = run(&project, &["build"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("  infra/template.json\n"));
    // Even with its mtime put back (the change time cannot be).
    std::fs::File::options()
        .write(true)
        .open(&template)
        .unwrap()
        .set_modified(original)
        .unwrap();
    assert_code(&run(&project, &["build"]), 2);
    assert_code(&run(&project, &["build", "--check"]), 1);
}

#[test]
fn files_deleted_behind_the_fast_path_are_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let project = fast_path_project(tmp.path());
    let (managed, mine) = (
        project.join("infra/template.json"),
        project.join("functions/transcode/src/handler.rs"),
    );
    let (template, handler) = (read(&managed), read(&mine));
    std::fs::remove_file(&managed).unwrap();
    std::fs::remove_file(&mine).unwrap();
    let output = run(&project, &["build"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains("2 created, 0 updated, 40 unchanged"));
    assert_eq!((read(&managed), read(&mine)), (template, handler));
}

#[test]
fn an_edited_manifest_or_record_is_never_served_from_the_fast_path() {
    let tmp = tempfile::tempdir().unwrap();
    let project = fast_path_project(tmp.path());
    edit(&project.join("gen.yaml"), "timeout: 120", "timeout: 300");
    let output = run(&project, &["build"]);
    assert!(stdout(&output).contains("1 updated"), "{}", stdout(&output));
    assert!(read(&project.join("infra/template.json")).contains("\"Timeout\": 300"));

    // A deploy record changes config.js: it is an input too.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let outputs = [("ApiUrl1A532EBE".to_owned(), "https://x.example".to_owned())].into();
    std::fs::create_dir_all(project.join(".gen/outputs")).unwrap();
    write(
        &project.join(".gen/outputs/demo.json"),
        &stackgen_core::outputs::render_outputs("demo", "us-east-1", &outputs),
    );
    let output = run(&project, &["build"]);
    assert!(stdout(&output).contains("1 updated"), "{}", stdout(&output));
    assert!(read(&project.join("site/js/config.js")).contains("https://x.example"));

    // A corrupt record is only a lost shortcut.
    write(&project.join(".gen/cache/build.json"), "{ not json");
    let output = run(&project, &["build"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains("0 created, 0 updated, 42 unchanged"));
}
