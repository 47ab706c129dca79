//! Benchmark: wall time of the whole `gen build` process (spawn, parse, validate, synthesize,
//! plan, write), on the built-in example and on large generated manifests.
//!
//! Targets (informational; this benchmark reports, it never fails on slowness):
//! - the built-in example: ≤ 10 ms per build;
//! - a manifest with 1,000 functions: ≤ 200 ms per build.
//!
//! Apps of 100, 300 and 1,000 functions (past about 80, `gen build` splits them into a root
//! and nested stacks): a full and a no-op build each, with the cost per function (growth
//! should be linear) and the peak memory (target ≤ 100 MiB at 1,000).
//!
//! Full builds write every file through a staged temp file and a rename (`workspace::apply`),
//! so their time depends somewhat on the filesystem under the scratch directory;
//! `TMPDIR=/dev/shm cargo bench --bench gen_build` puts it on a tmpfs to measure gen's own work.
//!
//! Run: `cargo bench --bench gen_build`. Without `--bench` (e.g. `cargo test --all-targets`)
//! every case runs once, as a smoke test.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

const GEN: &str = env!("CARGO_BIN_EXE_gen");

/// Targets, in milliseconds.
const EXAMPLE_TARGET_MS: f64 = 10.0;
const LARGE_TARGET_MS: f64 = 200.0;

/// Functions in the large manifest.
const LARGE_FUNCTIONS: usize = 1_000;
/// The growing apps timed, smallest first (the peak-memory reading relies on that order).
const SCALING: [usize; 3] = [100, 300, LARGE_FUNCTIONS];
/// Project name of generated manifests (3–24 lowercase characters).
const PROJECT: &str = "benchgen";
/// Data buckets the generated functions read, write and are triggered by.
const BUCKETS: usize = 6;

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let runs = |n: usize| if bench { n } else { 1 };
    if !bench {
        println!(
            "gen_build: smoke mode (one run per case); `cargo bench --bench gen_build` measures"
        );
    }

    let root = TempRoot::new();
    println!("gen: {GEN}");
    println!(
        "scratch: {} (full builds write every file: their time depends on this filesystem)",
        root.0.display()
    );
    println!();

    // (0) The small end: `gen new` and a no-op `gen build`, whole process (issue 15).
    bench_small_end(&root.0.join("small"), runs(50));

    // (a) The built-in example.
    let example = root.0.join("example");
    let out = gen_cmd(&[
        OsStr::new("new"),
        example.as_os_str(),
        OsStr::new("--name"),
        OsStr::new("bench"),
    ]);
    expect_code(&out, 0, "gen new");
    let manifest = example.join("gen.yaml");
    bench_case(
        &Case {
            title: "example, no-op rebuild (output up to date)",
            manifest: &manifest,
            target_ms: EXAMPLE_TARGET_MS,
            expect: 0,
            from_scratch: false,
        },
        runs(50),
    );
    bench_case(
        &Case {
            title: "example, full build (output deleted before each run)",
            manifest: &manifest,
            target_ms: EXAMPLE_TARGET_MS,
            expect: 0,
            from_scratch: true,
        },
        runs(20),
    );

    // (b) Growing apps: past about 80 functions gen splits the app into nested stacks.
    for functions in SCALING {
        let dir = root.0.join(format!("fn{functions}"));
        fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join("gen.yaml");
        fs::write(&manifest, manifest_text(functions)).unwrap();
        if validity(&manifest) == Validity::Refused {
            let out = gen_build(&manifest, &["--check"]);
            println!(
                "{functions} functions: refused ({})",
                first_line(&String::from_utf8_lossy(&out.stderr))
            );
            continue;
        }
        let target_ms = if functions == LARGE_FUNCTIONS {
            LARGE_TARGET_MS
        } else {
            LARGE_TARGET_MS * functions as f64 / LARGE_FUNCTIONS as f64
        };
        for (what, from_scratch) in [
            ("full build (output deleted before each run)", true),
            ("no-op rebuild", false),
        ] {
            let last = bench_case(
                &Case {
                    title: &format!("{functions} functions, {what}"),
                    manifest: &manifest,
                    target_ms,
                    expect: 0,
                    from_scratch,
                },
                runs(10),
            );
            println!(
                "  per function: {:.3} ms; peak memory of the last run: {:.1} MiB (target ≤ 100 MiB at {LARGE_FUNCTIONS})",
                last.median_ms / functions as f64,
                last.peak_rss_kib as f64 / 1024.0
            );
            println!();
        }
    }
}

/// Targets of the small end, in milliseconds (whole process, median).
const NEW_TARGET_MS: f64 = 5.0;
const NOOP_BUILD_TARGET_MS: f64 = 3.0;

/// `gen --version` (the floor: exec, page faults, relocations), `gen new` of the built-in
/// example into a fresh directory, and a no-op `gen build` of it, against the 5 ms and 3 ms
/// targets (informational).
fn bench_small_end(dir: &Path, runs: usize) {
    fs::create_dir_all(dir).unwrap();
    let time = |f: &mut dyn FnMut(usize) -> Duration| {
        let _ = f(usize::MAX); // warm-up
        let mut times: Vec<Duration> = (0..runs).map(&mut *f).collect();
        Stats::new(&mut times)
    };
    let report = |title: &str, stats: &Stats, target: Option<f64>| {
        println!("{title}");
        println!(
            "  {runs} run(s): min {:.2} ms, median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
            ms(stats.min),
            ms(stats.median),
            ms(stats.p90),
            ms(stats.max)
        );
        if let Some(target) = target {
            let verdict = if ms(stats.median) <= target {
                "PASS"
            } else {
                "OVER"
            };
            println!("  target ≤ {target} ms (median): {verdict}");
        }
        println!();
    };

    let version = time(&mut |_| {
        let start = Instant::now();
        let out = gen_cmd(&[OsStr::new("--version")]);
        let elapsed = start.elapsed();
        expect_code(&out, 0, "gen --version");
        elapsed
    });
    report("gen --version (process floor)", &version, None);

    let new = time(&mut |i| {
        let project = dir.join(format!("new-{i}"));
        let start = Instant::now();
        let out = gen_cmd(&[
            OsStr::new("new"),
            project.as_os_str(),
            OsStr::new("--name"),
            OsStr::new("bench"),
        ]);
        let elapsed = start.elapsed();
        expect_code(&out, 0, "gen new");
        fs::remove_dir_all(&project).unwrap();
        elapsed
    });
    report(
        "gen new of the built-in example (writes the project and builds it)",
        &new,
        Some(NEW_TARGET_MS),
    );

    // The floor for creating those files at all: `cp -a` of the tree gen new left (the same
    // files and directories, no generation), whole process, like gen new.
    let made = dir.join("made-by-new");
    expect_code(
        &gen_cmd(&[
            OsStr::new("new"),
            made.as_os_str(),
            OsStr::new("--name"),
            OsStr::new("bench"),
        ]),
        0,
        "gen new",
    );
    let files = walkdir::WalkDir::new(&made)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count();
    let copy = time(&mut |i| {
        let target = dir.join(format!("copy-{i}"));
        let start = Instant::now();
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(&made)
            .arg(&target)
            .status()
            .expect("cp runs");
        let elapsed = start.elapsed();
        assert!(status.success(), "cp -a failed");
        fs::remove_dir_all(&target).unwrap();
        elapsed
    });
    report(
        &format!("cp -a of that project ({files} files): the file system's floor for gen new"),
        &copy,
        None,
    );
    fs::remove_dir_all(&made).unwrap();

    let project = dir.join("example");
    expect_code(
        &gen_cmd(&[
            OsStr::new("new"),
            project.as_os_str(),
            OsStr::new("--name"),
            OsStr::new("bench"),
        ]),
        0,
        "gen new",
    );
    let manifest = project.join("gen.yaml");
    let noop = time(&mut |_| {
        let start = Instant::now();
        let out = gen_build(&manifest, &[]);
        let elapsed = start.elapsed();
        expect_code(&out, 0, "no-op gen build");
        elapsed
    });
    report(
        "no-op gen build of the example (nothing changed)",
        &noop,
        Some(NOOP_BUILD_TARGET_MS),
    );
}

/// One timed scenario.
struct Case<'a> {
    title: &'a str,
    manifest: &'a Path,
    target_ms: f64,
    /// The exit code every run must have (a different one is a bug, and panics).
    expect: i32,
    /// Delete everything next to the manifest (untimed) before each run.
    from_scratch: bool,
}

/// What the last run of a case printed.
struct LastRun {
    median_ms: f64,
    /// Peak resident memory of the last run's process (KiB, from wait4's rusage).
    peak_rss_kib: i64,
}

fn bench_case(case: &Case, runs: usize) -> LastRun {
    let dir = case.manifest.parent().unwrap();
    // One untimed warm-up run: page cache, binary mapped, output in place for no-op rebuilds.
    if case.from_scratch {
        clear_output(dir);
    }
    expect_code(&gen_build(case.manifest, &[]), case.expect, case.title);

    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        if case.from_scratch {
            clear_output(dir);
        }
        let before = Snapshot::of(dir);
        let start = Instant::now();
        let out = gen_build(case.manifest, &[]);
        let elapsed = start.elapsed();
        expect_code(&out, case.expect, case.title);
        times.push(elapsed);
        last = Some((out, before, Snapshot::of(dir)));
    }
    let (out, before, after) = last.unwrap();

    let stats = Stats::new(&mut times);
    println!("{}", case.title);
    println!(
        "  {} run(s): min {:.2} ms, median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        runs,
        ms(stats.min),
        ms(stats.median),
        ms(stats.p90),
        ms(stats.max)
    );
    let median = ms(stats.median);
    println!(
        "  target ≤ {} ms (median): {}",
        case.target_ms,
        if median <= case.target_ms {
            "PASS"
        } else {
            "OVER"
        }
    );
    let (files, bytes) = after.written_since(&before);
    // infra/template.json, or one per stage (infra/<stage>/template.json).
    let mut templates: Vec<_> = walkdir::WalkDir::new(dir.join("infra"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    templates.sort();
    if templates.is_empty() {
        println!("  infra/: no template");
    }
    for template in templates {
        let json = fs::read_to_string(&template).unwrap_or_default();
        println!(
            "  {}: {} resources, {} bytes",
            template.strip_prefix(dir).unwrap_or(&template).display(),
            count_resources(&json).map_or_else(|| "?".to_owned(), |n| n.to_string()),
            json.len()
        );
    }
    println!(
        "  written by the last run: {files} file(s), {bytes} bytes (project output on disk: {} files, {} bytes)",
        after.files.len().saturating_sub(1),
        after.total_bytes_except(&dir.join("gen.yaml"))
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    if let Some(summary) = stdout.lines().find(|l| l.starts_with("gen build")) {
        println!("  gen said: {summary}");
    }
    println!();
    LastRun {
        median_ms: median,
        peak_rss_kib: children_peak_rss_kib(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Validity {
    Accepted,
    Refused,
}

/// Whether gen accepts the manifest, asked without writing: `gen build --check` exits 1 on a
/// valid manifest whose output is missing or stale, 0 if up to date, 2 if it is refused.
fn validity(manifest: &Path) -> Validity {
    let out = gen_build(manifest, &["--check"]);
    match out.status.code() {
        Some(0 | 1) => Validity::Accepted,
        Some(2) => Validity::Refused,
        _ => panic!("gen build --check: unexpected {}", describe(&out)),
    }
}

/// A manifest with `functions` functions and varied settings: memory, timeout, architecture,
/// log retention, environment, reads and writes over a few buckets, and on every third
/// function an S3 trigger with a suffix of its own (so no two triggers overlap).
fn manifest_text(functions: usize) -> String {
    const MEMORY: [u32; 5] = [128, 256, 512, 1024, 2048];
    const TIMEOUT: [u32; 5] = [3, 10, 30, 60, 300];
    const RETENTION: [u32; 5] = [7, 14, 30, 90, 365];
    let mut s = String::new();
    writeln!(s, "name: {PROJECT}").unwrap();
    writeln!(s, "description: Benchmark app with {functions} functions").unwrap();
    s.push_str("region: eu-west-1\ntags:\n  app: bench\n  owner: perf\nbuckets:\n");
    for b in 0..BUCKETS {
        writeln!(s, "  data-{b}:\n    versioning: {}", b % 2 == 0).unwrap();
    }
    s.push_str("log_bucket:\n  expire_after_days: 90\nfunctions:\n");
    for i in 0..functions {
        writeln!(s, "  fn-{i:04}:").unwrap();
        writeln!(s, "    description: Benchmark function number {i}").unwrap();
        writeln!(s, "    memory: {}", MEMORY[i % 5]).unwrap();
        writeln!(s, "    timeout: {}", TIMEOUT[i / 5 % 5]).unwrap();
        writeln!(s, "    log_retention_days: {}", RETENTION[i / 25 % 5]).unwrap();
        if i % 2 == 1 {
            s.push_str("    architecture: arm64\n");
        }
        writeln!(
            s,
            "    environment:\n      INDEX: \"{i}\"\n      MODE: batch"
        )
        .unwrap();
        writeln!(s, "    reads: [data-{}]", i % BUCKETS).unwrap();
        if i % 4 != 3 {
            writeln!(s, "    writes: [data-{}]", (i + 1) % BUCKETS).unwrap();
        }
        if i % 3 == 0 {
            let events = if i % 6 == 0 {
                "[created, removed]"
            } else {
                "[created]"
            };
            writeln!(
                s,
                "    triggers:\n      - s3:\n          bucket: data-{}\n          events: {events}\n          suffix: .f{i:04}",
                i % BUCKETS
            )
            .unwrap();
        }
    }
    s.push_str("alerts:\n  emails: [ops@example.com]\n");
    s
}

/// Counts the keys of the top-level `Resources` object of a JSON document (std only).
fn count_resources(json: &str) -> Option<usize> {
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut next_object_is_resources = false;
    let mut resources_depth = None;
    let mut count = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let text = json.get(start..i)?;
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if bytes.get(j) == Some(&b':') {
                    if depth == 1 && text == "Resources" {
                        next_object_is_resources = true;
                    } else if resources_depth == Some(depth) {
                        count += 1;
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if next_object_is_resources {
                    next_object_is_resources = false;
                    resources_depth = Some(depth);
                }
            }
            b'}' | b']' => {
                if resources_depth == Some(depth) {
                    return Some(count);
                }
                depth = depth.checked_sub(1)?;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Files under a directory: path → (length, modification time).
struct Snapshot {
    files: BTreeMap<PathBuf, (u64, Option<SystemTime>)>,
}

impl Snapshot {
    fn of(dir: &Path) -> Snapshot {
        fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, (u64, Option<SystemTime>)>) {
            for entry in fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let meta = entry.metadata().unwrap();
                if meta.is_dir() {
                    walk(&entry.path(), files);
                } else {
                    files.insert(entry.path(), (meta.len(), meta.modified().ok()));
                }
            }
        }
        let mut files = BTreeMap::new();
        walk(dir, &mut files);
        Snapshot { files }
    }

    /// Files created or modified since `before`, and their bytes.
    fn written_since(&self, before: &Snapshot) -> (usize, u64) {
        self.files
            .iter()
            .filter(|(path, now)| before.files.get(*path) != Some(now))
            .fold((0, 0), |(n, bytes), (_, (len, _))| (n + 1, bytes + len))
    }

    fn total_bytes_except(&self, skip: &Path) -> u64 {
        self.files
            .iter()
            .filter(|(path, _)| path.as_path() != skip)
            .map(|(_, (len, _))| len)
            .sum()
    }
}

/// Deletes everything next to the manifest but the manifest: the build starts from nothing
/// (a leftover `.gitignore` would otherwise be found identical and not rewritten).
fn clear_output(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "gen.yaml" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            fs::remove_dir_all(entry.path()).unwrap();
        } else {
            fs::remove_file(entry.path()).unwrap();
        }
    }
}

struct Stats {
    min: Duration,
    median: Duration,
    p90: Duration,
    max: Duration,
}

impl Stats {
    fn new(times: &mut [Duration]) -> Stats {
        times.sort();
        let n = times.len();
        let median = if n % 2 == 1 {
            times[n / 2]
        } else {
            (times[n / 2 - 1] + times[n / 2]) / 2
        };
        // Nearest rank.
        let p90 = times[(n * 9).div_ceil(10).max(1) - 1];
        Stats {
            min: times[0],
            median,
            p90,
            max: times[n - 1],
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn gen_cmd(args: &[&OsStr]) -> Output {
    Command::new(GEN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {GEN}: {e}"))
}

fn gen_build(manifest: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        OsStr::new("build"),
        OsStr::new("--manifest"),
        manifest.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    gen_cmd(&args)
}

fn expect_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}, got {}",
        describe(out)
    );
}

fn describe(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The largest peak resident memory of any child process waited for so far (KiB). The cases
/// run smallest first, so after a case it is that case's peak.
fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_owned()
}

/// A scratch directory, removed when dropped (also on panic).
struct TempRoot(PathBuf);

impl TempRoot {
    fn new() -> TempRoot {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("stackgen-bench-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempRoot(dir)
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
