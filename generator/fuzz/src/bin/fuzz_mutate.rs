//! The structure-aware driver, on stable Rust with no extra tool: it mutates valid and invalid
//! manifests line by line and token by token (keys from the manifest's JSON Schema, values
//! that sit on the edges of what the validator accepts, YAML's own syntax) and runs every
//! mutant through [`stackgen_fuzz::check`] in process. A mutant that ends in an outcome not
//! seen before (a new first diagnostic, or an accepted manifest of a new shape) joins the
//! corpus: a coarse feedback in place of AFL's edge coverage.
//!
//! Usage: fuzz-mutate [--seconds N] [--execs N] [--seed N] [--slow-ms N] [--out DIR] SEED_FILES...
//! Prints a line of figures every 10 s and a summary; exit 1 when any input broke an
//! invariant, panicked or took longer than --slow-ms (each is saved under DIR/crashes/).

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use std::{env, fs};

use stackgen_fuzz::{Verdict, check};

/// Whether a panic now is the input's (reported as a failure) or the driver's own (a bug here).
static IN_CHECK: AtomicBool = AtomicBool::new(false);

struct Options {
    seconds: u64,
    execs: u64,
    seed: u64,
    slow: Duration,
    out: PathBuf,
    schema: Option<PathBuf>,
    seeds: Vec<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        seconds: 60,
        execs: u64::MAX,
        seed: 1,
        slow: Duration::from_millis(1000),
        out: PathBuf::from("target/fuzz/mutate"),
        schema: None,
        seeds: Vec::new(),
    };
    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |text: String| text.parse::<u64>().map_err(|e| format!("{text}: {e}"));
        match arg.as_str() {
            "--seconds" => o.seconds = number(value("--seconds")?)?,
            "--execs" => o.execs = number(value("--execs")?)?,
            "--seed" => o.seed = number(value("--seed")?)?,
            "--slow-ms" => o.slow = Duration::from_millis(number(value("--slow-ms")?)?),
            "--out" => o.out = PathBuf::from(value("--out")?),
            "--schema" => o.schema = Some(PathBuf::from(value("--schema")?)),
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            path => o.seeds.push(PathBuf::from(path)),
        }
    }
    if o.seeds.is_empty() {
        return Err("no seed files given".to_owned());
    }
    Ok(o)
}

/// xorshift64*: deterministic for a given --seed, so a run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values on the edges of what the manifest accepts, and YAML's own syntax.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "3",
    "128",
    "129",
    "10240",
    "10241",
    "900",
    "901",
    "4294967296",
    "18446744073709551616",
    "1e309",
    "-0",
    "0x10",
    "1.5",
    ".nan",
    ".inf",
    "true",
    "false",
    "yes",
    "no",
    "~",
    "null",
    "\"\"",
    "''",
    "[]",
    "{}",
    "[a, b]",
    "{a: 1}",
    "\"*\"",
    "'*'",
    "arn:aws:s3:::*",
    "s3:*",
    "s3:GetObject",
    "bucket:uploads",
    "table:x",
    "x",
    "a-b",
    "A_B",
    "-",
    "--",
    "a..b",
    "é",
    "\u{202e}",
    "\u{0}",
    "\"\\u0000\"",
    "!!binary aGk=",
    "!!str 1",
    "!custom x",
    "&a x",
    "*a",
    "*undefined",
    "<<: *a",
    "|",
    ">-",
    "\"\\",
    "'",
    "\"",
    "#",
    "%",
    "@",
    "`",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "? x",
    "---",
    "...",
    "10.0.0.0/8",
    "999.1.1.1/33",
    "user@example.com",
    "not-an-email",
    "eu-west-1",
    "us-east-1",
    "mars-1",
    "arm64",
    "x86_64",
    "rate(5 minutes)",
    "GET /x",
    "ANY /{proxy+}",
    "/",
    "",
    " ",
];

/// Keys anywhere in the manifest's JSON Schema (or a few, without one).
fn schema_keys(schema: Option<&PathBuf>) -> Vec<String> {
    let mut keys = BTreeSet::new();
    if let Some(text) = schema.and_then(|p| fs::read_to_string(p).ok())
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
    {
        collect_keys(&value, &mut keys);
    }
    for key in [
        "project",
        "functions",
        "buckets",
        "stages",
        "memory",
        "timeout",
        "reads",
    ] {
        keys.insert(key.to_owned());
    }
    keys.into_iter().collect()
}

fn collect_keys(value: &serde_json::Value, keys: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                keys.extend(properties.keys().cloned());
            }
            map.values().for_each(|v| collect_keys(v, keys));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

struct Mutator {
    keys: Vec<String>,
}

impl Mutator {
    fn mutate(&self, rng: &mut Rng, text: &str, donor: &str) -> String {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let rounds = 1 + rng.below(4);
        for _ in 0..rounds {
            let n = lines.len().max(1);
            let at = rng.below(n).min(lines.len().saturating_sub(1));
            match rng.below(14) {
                0 if !lines.is_empty() => {
                    lines.remove(at);
                }
                1 if !lines.is_empty() => {
                    let line = lines[at].clone();
                    lines.insert(at, line);
                }
                2 if lines.len() > 1 => {
                    let other = rng.below(lines.len());
                    lines.swap(at, other);
                }
                3 if !lines.is_empty() => lines[at].insert_str(0, "  "),
                4 if !lines.is_empty() => {
                    let trimmed = lines[at].strip_prefix("  ").map(str::to_owned);
                    if let Some(t) = trimmed {
                        lines[at] = t;
                    }
                }
                5 | 6 if !lines.is_empty() => {
                    // A new value for the line's key (or a value where there was none).
                    let line = &lines[at];
                    let value = *rng.pick(VALUES);
                    lines[at] = match line.find(": ") {
                        Some(i) => format!("{}: {value}", &line[..i]),
                        None if line.trim_start().starts_with("- ") => {
                            let indent = line.len() - line.trim_start().len();
                            format!("{}- {value}", &line[..indent])
                        }
                        None => format!("{line} {value}"),
                    };
                }
                7 => {
                    // A key from the schema, at the indentation of a neighbour or one deeper.
                    let indent = lines.get(at).map_or(0, |l| l.len() - l.trim_start().len())
                        + 2 * rng.below(2);
                    let key = rng.pick(&self.keys);
                    let value = *rng.pick(VALUES);
                    lines.insert(
                        (at + 1).min(lines.len()),
                        format!("{}{key}: {value}", " ".repeat(indent)),
                    );
                }
                8 => {
                    // A line of another manifest.
                    let donor_lines: Vec<&str> = donor.split('\n').collect();
                    let line = rng.pick(&donor_lines).to_string();
                    lines.insert(at.min(lines.len()), line);
                }
                9 if !lines.is_empty() => {
                    // A key with a typo: one character dropped.
                    let line = &lines[at];
                    if let Some(i) = line.find(':') {
                        let key_start = line.len() - line.trim_start().len();
                        if i > key_start + 1 {
                            let cut = key_start + rng.below(i - key_start);
                            if line.is_char_boundary(cut) && line.is_char_boundary(cut + 1) {
                                let mut l = line.clone();
                                l.remove(cut);
                                lines[at] = l;
                            }
                        }
                    }
                }
                10 if !lines.is_empty() => {
                    // A character of YAML's syntax (or a control one) somewhere in a line.
                    const CHARS: &[char] = &[
                        ':', '-', '#', '&', '*', '!', '|', '>', '\'', '"', '{', '[', '\t', '\r',
                        '\0', ' ', '?', '%', '@', '\u{feff}',
                    ];
                    let line = &mut lines[at];
                    let mut cut = rng.below(line.len() + 1);
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    line.insert(cut, *rng.pick(CHARS));
                }
                11 => {
                    // Truncated: an editor saving half a file.
                    let keep = rng.below(lines.len() + 1);
                    lines.truncate(keep.max(1));
                }
                12 if !lines.is_empty() => {
                    // A block of lines repeated (deep or long documents).
                    let len = (1 + rng.below(8)).min(lines.len() - at);
                    let block: Vec<String> = lines[at..at + len].to_vec();
                    for _ in 0..1 + rng.below(4) {
                        for (i, l) in block.iter().enumerate() {
                            lines.insert(at + i, l.clone());
                        }
                    }
                }
                _ => {
                    // A long scalar.
                    if let Some(line) = lines.get_mut(at)
                        && let Some(i) = line.find(": ")
                    {
                        let len = [63, 64, 255, 256, 4097][rng.below(5)];
                        *line = format!("{}: {}", &line[..i], "a".repeat(len));
                    }
                }
            }
        }
        lines.join("\n")
    }
}

/// The outcome's shape, for the corpus feedback: the first diagnostic's manifest path with the
/// user's keys blanked, and its message up to the first quote; or the accepted file count.
fn signature(verdict: &Verdict) -> String {
    match verdict {
        Verdict::NotText => "not text".to_owned(),
        Verdict::Accepted(files) => format!("accepted {files}"),
        Verdict::Rejected { path, message, .. } => {
            let message: String = message
                .chars()
                .take_while(|c| !matches!(c, '`' | '"' | '\''))
                .filter(|c| !c.is_ascii_digit())
                .take(40)
                .collect();
            let path: String = path
                .split('.')
                .enumerate()
                .map(|(i, p)| if i % 2 == 1 { "*" } else { p })
                .collect::<Vec<_>>()
                .join(".");
            format!("{path}: {message}")
        }
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "fuzz-mutate: {e}\nusage: fuzz-mutate [--seconds N] [--execs N] [--seed N] [--slow-ms N] [--out DIR] [--schema FILE] SEED_FILES..."
            );
            return ExitCode::from(2);
        }
    };
    let mut corpus: Vec<String> = o
        .seeds
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .collect();
    if corpus.is_empty() {
        eprintln!("fuzz-mutate: none of the seed files could be read");
        return ExitCode::from(2);
    }
    let seeds = corpus.len();
    let mutator = Mutator {
        keys: schema_keys(o.schema.as_ref()),
    };
    let crashes = o.out.join("crashes");
    // A panic is an outcome here: keep its message, print nothing.
    let last_panic = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let last_panic = last_panic.clone();
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_CHECK.load(Ordering::Relaxed) {
                *last_panic.lock().unwrap() = info.to_string();
            } else {
                default(info);
            }
        }));
    }
    let mut rng = Rng(o.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut failures: BTreeMap<u64, String> = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.seconds);
    let mut next_report = start + Duration::from_secs(10);
    let mut execs: u64 = 0;
    while execs < o.execs && Instant::now() < deadline {
        let base = &corpus[rng.below(corpus.len())];
        let donor = &corpus[rng.below(corpus.len())];
        let input = mutator.mutate(&mut rng, base, donor);
        let began = Instant::now();
        IN_CHECK.store(true, Ordering::Relaxed);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| check(input.as_bytes())));
        IN_CHECK.store(false, Ordering::Relaxed);
        let took = began.elapsed();
        slowest = slowest.max(took);
        execs += 1;
        let failure = match outcome {
            Ok(Ok(verdict)) => {
                *counts
                    .entry(match verdict {
                        Verdict::NotText => "not text",
                        Verdict::Rejected { .. } => "rejected",
                        Verdict::Accepted(_) => "accepted",
                    })
                    .or_default() += 1;
                if took > o.slow {
                    Some(format!(
                        "took {} ms (limit {} ms)",
                        took.as_millis(),
                        o.slow.as_millis()
                    ))
                } else {
                    // New outcome shape: keep the mutant as a seed (bounded corpus).
                    if seen.insert(signature(&verdict)) && corpus.len() < 20_000 {
                        corpus.push(input.clone());
                    }
                    None
                }
            }
            Ok(Err(violation)) => Some(violation.0),
            Err(_) => Some(format!("panic: {}", last_panic.lock().unwrap())),
        };
        if let Some(why) = failure {
            let hash = fnv(input.as_bytes());
            if failures.insert(hash, why.clone()).is_none() {
                let _ = fs::create_dir_all(&crashes);
                let _ = fs::write(crashes.join(format!("{hash:016x}.yaml")), &input);
                let _ = fs::write(crashes.join(format!("{hash:016x}.txt")), &why);
                eprintln!("fuzz-mutate: FAIL {hash:016x}: {why}");
            }
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(10);
            report(
                start,
                execs,
                &counts,
                seen.len(),
                corpus.len(),
                failures.len(),
                slowest,
            );
        }
    }
    println!("fuzz-mutate: done (seed {}, {seeds} seed files)", o.seed);
    report(
        start,
        execs,
        &counts,
        seen.len(),
        corpus.len(),
        failures.len(),
        slowest,
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!(
            "fuzz-mutate: {} failing inputs in {}",
            failures.len(),
            crashes.display()
        );
        ExitCode::from(1)
    }
}

fn report(
    start: Instant,
    execs: u64,
    counts: &BTreeMap<&str, u64>,
    shapes: usize,
    corpus: usize,
    failures: usize,
    slowest: Duration,
) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  {:>6.0} s  {execs} execs ({:.0}/s)  accepted {}  rejected {}  not text {}  outcome shapes {shapes}  corpus {corpus}  failing {failures}  slowest {} ms",
        secs,
        execs as f64 / secs.max(1e-9),
        counts.get("accepted").unwrap_or(&0),
        counts.get("rejected").unwrap_or(&0),
        counts.get("not text").unwrap_or(&0),
        slowest.as_millis()
    );
}
