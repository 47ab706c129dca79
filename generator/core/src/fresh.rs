//! The no-op fast path of `gen build`. A build's output is a function of its inputs (the
//! manifest, the deploy and placement records, the stage picked, and the generator itself), so
//! when those are byte-identical to the last successful build's and every file that build left
//! is still on disk as it left it, the plan would be all Unchanged/KeepUser: the pipeline can
//! be skipped and the last build's report repeated.
//!
//! The [`BuildRecord`] lives in `.gen/cache/`, which is machine-local (it holds file stamps:
//! inode, size, times) and never committed. Deciding is pure; the caller supplies the disk.
//! A record that is missing, corrupt or from another generator only costs the fast path, never
//! correctness: [`still_fresh`] says no, and the full pipeline decides as it always did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ledger::Ledger;
use crate::project::Owner;

pub const RECORD_VERSION: u32 = 1;

/// What `stat` says about a file: if a file's stamp is what it was when its hash was checked,
/// its bytes are too (git's index rule), except when it changed within the same clock tick as
/// that check, which [`still_fresh`] guards against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub len: u64,
    /// Seconds and nanoseconds.
    pub mtime: [i64; 2],
    /// The change time: a user cannot set it back (`touch -r` sets only mtime).
    pub ctime: [i64; 2],
    pub ino: u64,
    pub dev: u64,
}

/// What the last successful `gen build` saw and left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildRecord {
    pub version: u32,
    /// [`input_key`] of everything the build read.
    pub inputs: String,
    /// sha256 of `.gen/ledger.json` as the build left it.
    pub ledger: String,
    /// What the build reported (the CLI's words; repeated as is).
    pub report: String,
    /// The stamps of the managed files, taken when their hashes matched the ledger.
    pub stamps: BTreeMap<String, Stamp>,
}

impl BuildRecord {
    pub fn render(&self) -> String {
        serde_json::to_string(self).expect("a build record serialises")
    }

    pub fn parse(text: &str) -> Option<BuildRecord> {
        serde_json::from_str(text)
            .ok()
            .filter(|r: &BuildRecord| r.version == RECORD_VERSION)
    }
}

/// One hash of every input, each length-prefixed so no two different lists collide.
pub fn input_key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    crate::ledger::hex(&hasher.finalize())
}

/// The outcome of [`still_fresh`] when the last build's output is still what is on disk.
#[derive(Debug)]
pub struct Fresh {
    /// The managed files' stamps now.
    pub stamps: BTreeMap<String, Stamp>,
    /// Some file had to be hashed: rewriting the record with `stamps` spares the next run.
    pub rehashed: bool,
}

/// Whether a build with inputs `inputs`, finding ledger text hashing to `ledger_sha256`, would
/// change nothing. `record_mtime` is the record file's own modification time: a stamp taken in
/// the same tick as the record was written is not trusted (an edit right after it, of the same
/// size, could leave every field equal), so such a file is hashed. `stamp` is `None` for a file
/// that is absent or unreadable; `hash` `None` when it cannot be read.
pub fn still_fresh(
    record: &BuildRecord,
    record_mtime: [i64; 2],
    inputs: &str,
    ledger_sha256: &str,
    ledger: &Ledger,
    stamp: impl Fn(&str) -> Option<Stamp>,
    hash: impl Fn(&str) -> Option<String>,
) -> Option<Fresh> {
    if record.inputs != inputs || record.ledger != ledger_sha256 {
        return None;
    }
    let mut fresh = Fresh {
        stamps: BTreeMap::new(),
        rehashed: false,
    };
    for (path, entry) in &ledger.files {
        let now = stamp(path)?;
        // A user file only has to exist (an absent one would be created again).
        if entry.owner == Owner::User {
            continue;
        }
        let trusted = record.stamps.get(path) == Some(&now) && now.mtime < record_mtime;
        if !trusted {
            if hash(path)? != entry.sha256 {
                return None;
            }
            fresh.rehashed = true;
        }
        fresh.stamps.insert(path.clone(), now);
    }
    Some(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerEntry;

    const T: [i64; 2] = [100, 0];

    fn stamp(mtime: i64) -> Stamp {
        Stamp {
            len: 1,
            mtime: [mtime, 0],
            ctime: [mtime, 0],
            ino: 7,
            dev: 1,
        }
    }

    fn ledger() -> Ledger {
        let mut ledger = Ledger::default();
        for (path, owner) in [("a.json", Owner::Managed), ("h.rs", Owner::User)] {
            ledger.files.insert(
                path.into(),
                LedgerEntry {
                    sha256: format!("hash of {path}"),
                    owner,
                },
            );
        }
        ledger
    }

    fn record() -> BuildRecord {
        BuildRecord {
            version: RECORD_VERSION,
            inputs: "in".into(),
            ledger: "led".into(),
            report: "r".into(),
            stamps: [("a.json".to_owned(), stamp(50))].into(),
        }
    }

    fn check(record: &BuildRecord, a: Option<Stamp>, a_hash: &str) -> Option<Fresh> {
        still_fresh(
            record,
            T,
            "in",
            "led",
            &ledger(),
            |p| if p == "a.json" { a } else { Some(stamp(1)) },
            |p| (p == "a.json").then(|| a_hash.to_owned()),
        )
    }

    #[test]
    fn same_stamps_are_trusted_without_hashing() {
        let fresh = check(&record(), Some(stamp(50)), "edited").unwrap();
        assert!(!fresh.rehashed);
    }

    #[test]
    fn a_changed_stamp_is_settled_by_the_hash() {
        let fresh = check(&record(), Some(stamp(60)), "hash of a.json").unwrap();
        assert!(fresh.rehashed, "touched but equal");
        assert!(check(&record(), Some(stamp(60)), "edited").is_none());
    }

    #[test]
    fn a_stamp_from_the_records_own_tick_is_hashed() {
        let mut racy = record();
        racy.stamps.insert("a.json".into(), stamp(100));
        assert!(check(&racy, Some(stamp(100)), "edited").is_none());
    }

    #[test]
    fn other_inputs_a_missing_file_or_another_ledger_are_stale() {
        assert!(check(&record(), None, "hash of a.json").is_none());
        let stale = |inputs: &str, led: &str| {
            still_fresh(
                &record(),
                T,
                inputs,
                led,
                &ledger(),
                |_| Some(stamp(50)),
                |_| None,
            )
            .is_none()
        };
        assert!(stale("other", "led") && stale("in", "other"));
    }

    #[test]
    fn input_key_separates_parts() {
        assert_ne!(input_key([&b"ab"[..], b"c"]), input_key([&b"a"[..], b"bc"]));
    }
}
