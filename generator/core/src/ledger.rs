//! The ledger (`.gen/ledger.json`) records every file `gen build` wrote, with its hash and
//! owner. [`plan`] compares it with the new output and the files on disk and decides, without
//! touching anything, what a build may do. It is the only source of truth for what stackgen
//! owns: a file not in the ledger is never changed or deleted without `--force`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::project::{GeneratedFile, Owner};

pub const LEDGER_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    pub version: u32,
    pub files: BTreeMap<String, LedgerEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    pub sha256: String,
    pub owner: Owner,
}

impl Ledger {
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("ledger serialises");
        text.push('\n');
        text
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex, without a `format!` per byte (thousands of hashes per build).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 15)] as char);
    }
    text
}

/// What is on disk at a path, as far as planning cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDisk {
    Absent,
    Present { sha256: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// New file.
    Create,
    /// Managed file, unmodified since gen wrote it, with new contents.
    Update,
    /// Already what gen would write.
    Unchanged,
    /// A user-owned file that exists: never touched.
    KeepUser,
    /// Managed file that is no longer generated and was not modified: deleted.
    Remove,
    /// No longer generated, but the user edited it (or owns it): kept, and no longer tracked.
    KeepOrphan,
    /// A managed file that differs from what gen last wrote (edited by the user, or not
    /// written by gen): the build refuses unless forced.
    Conflict,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanItem {
    pub path: String,
    pub action: Action,
    pub owner: Owner,
    /// Contents to write, for Create and Update (and a forced Conflict).
    pub contents: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub items: Vec<PlanItem>,
    /// The ledger after the plan is carried out.
    pub ledger: Ledger,
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.items.iter().filter(|i| i.action == action).count()
    }

    pub fn with_action(&self, action: Action) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(move |i| i.action == action)
    }

    /// True when carrying out the plan would change nothing on disk.
    pub fn is_up_to_date(&self, previous: &Ledger) -> bool {
        self.items
            .iter()
            .all(|i| matches!(i.action, Action::Unchanged | Action::KeepUser))
            && &self.ledger == previous
    }
}

/// Options for [`plan`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanConfig {
    /// Overwrite managed files the user edited (they become Update instead of Conflict).
    pub force: bool,
}

/// Decides what to do with every generated file and every file the previous ledger lists.
pub fn plan(
    previous: &Ledger,
    files: &[GeneratedFile],
    on_disk: impl Fn(&str) -> OnDisk,
    config: PlanConfig,
) -> Plan {
    let mut items = Vec::new();
    let mut ledger = Ledger {
        version: LEDGER_VERSION,
        files: BTreeMap::new(),
    };
    for file in files {
        let new_hash = sha256_hex(file.contents.as_bytes());
        let recorded = previous.files.get(&file.path);
        let disk = on_disk(&file.path);
        let action = match (file.owner, &disk) {
            (_, OnDisk::Absent) => Action::Create,
            (Owner::User, OnDisk::Present { .. }) => Action::KeepUser,
            (Owner::Managed, OnDisk::Present { sha256 }) if *sha256 == new_hash => {
                Action::Unchanged
            }
            (Owner::Managed, OnDisk::Present { sha256 }) => {
                let written_by_gen = recorded
                    .is_some_and(|entry| entry.owner == Owner::Managed && entry.sha256 == *sha256);
                if written_by_gen || config.force {
                    Action::Update
                } else {
                    Action::Conflict
                }
            }
        };
        // A user file keeps the hash of the sample gen wrote, for reference; a refused
        // managed file keeps its old entry so the next run sees the same conflict.
        let entry = match action {
            Action::KeepUser | Action::Conflict => recorded.cloned(),
            _ => None,
        }
        .unwrap_or(LedgerEntry {
            sha256: new_hash,
            owner: file.owner,
        });
        ledger.files.insert(file.path.clone(), entry);
        items.push(PlanItem {
            path: file.path.clone(),
            action,
            owner: file.owner,
            contents: matches!(action, Action::Create | Action::Update)
                .then(|| file.contents.clone()),
        });
    }
    for (path, entry) in &previous.files {
        if ledger.files.contains_key(path) {
            continue;
        }
        let action = match (entry.owner, on_disk(path)) {
            (_, OnDisk::Absent) => continue,
            (Owner::Managed, OnDisk::Present { sha256 }) if sha256 == entry.sha256 => {
                Action::Remove
            }
            (_, OnDisk::Present { .. }) => Action::KeepOrphan,
        };
        items.push(PlanItem {
            path: path.clone(),
            action,
            owner: entry.owner,
            contents: None,
        });
    }
    items.sort_by(|a, b| a.path.cmp(&b.path));
    Plan { items, ledger }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn file(path: &str, contents: &str, owner: Owner) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
            owner,
        }
    }

    fn disk(entries: &[(&str, &str)]) -> impl Fn(&str) -> OnDisk {
        let map: HashMap<String, String> = entries
            .iter()
            .map(|(p, c)| ((*p).to_owned(), sha256_hex(c.as_bytes())))
            .collect();
        move |path| match map.get(path) {
            Some(sha256) => OnDisk::Present {
                sha256: sha256.clone(),
            },
            None => OnDisk::Absent,
        }
    }

    fn actions(plan: &Plan) -> Vec<(&str, Action)> {
        plan.items
            .iter()
            .map(|i| (i.path.as_str(), i.action))
            .collect()
    }

    fn built(files: &[GeneratedFile]) -> Ledger {
        plan(
            &Ledger::default(),
            files,
            |_| OnDisk::Absent,
            PlanConfig::default(),
        )
        .ledger
    }

    #[test]
    fn first_build_creates_everything() {
        let files = [
            file("a.json", "1", Owner::Managed),
            file("h.rs", "fn x(){}", Owner::User),
        ];
        let p = plan(
            &Ledger::default(),
            &files,
            |_| OnDisk::Absent,
            PlanConfig::default(),
        );
        assert_eq!(
            actions(&p),
            [("a.json", Action::Create), ("h.rs", Action::Create)]
        );
    }

    #[test]
    fn rebuild_without_change_is_a_no_op() {
        let files = [
            file("a.json", "1", Owner::Managed),
            file("h.rs", "x", Owner::User),
        ];
        let ledger = built(&files);
        let p = plan(
            &ledger,
            &files,
            disk(&[("a.json", "1"), ("h.rs", "edited")]),
            PlanConfig::default(),
        );
        assert_eq!(
            actions(&p),
            [("a.json", Action::Unchanged), ("h.rs", Action::KeepUser)]
        );
        assert!(p.is_up_to_date(&ledger));
    }

    #[test]
    fn unmodified_managed_file_is_updated() {
        let ledger = built(&[file("a.json", "1", Owner::Managed)]);
        let p = plan(
            &ledger,
            &[file("a.json", "2", Owner::Managed)],
            disk(&[("a.json", "1")]),
            PlanConfig::default(),
        );
        assert_eq!(actions(&p), [("a.json", Action::Update)]);
        assert_eq!(p.items[0].contents.as_deref(), Some("2"));
    }

    #[test]
    fn edited_managed_file_conflicts_unless_forced() {
        let ledger = built(&[file("a.json", "1", Owner::Managed)]);
        let new = [file("a.json", "2", Owner::Managed)];
        let p = plan(
            &ledger,
            &new,
            disk(&[("a.json", "user edit")]),
            PlanConfig::default(),
        );
        assert_eq!(actions(&p), [("a.json", Action::Conflict)]);
        assert_eq!(
            p.ledger, ledger,
            "a refused file keeps its old ledger entry"
        );
        let forced = plan(
            &ledger,
            &new,
            disk(&[("a.json", "user edit")]),
            PlanConfig { force: true },
        );
        assert_eq!(actions(&forced), [("a.json", Action::Update)]);
    }

    #[test]
    fn foreign_file_in_the_way_conflicts() {
        let p = plan(
            &Ledger::default(),
            &[file("a.json", "2", Owner::Managed)],
            disk(&[("a.json", "mine")]),
            PlanConfig::default(),
        );
        assert_eq!(actions(&p), [("a.json", Action::Conflict)]);
    }

    #[test]
    fn orphans_are_removed_only_when_unmodified() {
        let ledger = built(&[
            file("old.json", "1", Owner::Managed),
            file("edited.json", "1", Owner::Managed),
            file("old/handler.rs", "x", Owner::User),
            file("gone.json", "1", Owner::Managed),
        ]);
        let p = plan(
            &ledger,
            &[],
            disk(&[
                ("old.json", "1"),
                ("edited.json", "2"),
                ("old/handler.rs", "x"),
            ]),
            PlanConfig::default(),
        );
        assert_eq!(
            actions(&p),
            [
                ("edited.json", Action::KeepOrphan),
                ("old.json", Action::Remove),
                ("old/handler.rs", Action::KeepOrphan)
            ]
        );
        assert!(p.ledger.files.is_empty(), "orphans leave the ledger");
    }

    #[test]
    fn deleted_user_file_is_recreated() {
        let files = [file("h.rs", "x", Owner::User)];
        let ledger = built(&files);
        let p = plan(&ledger, &files, |_| OnDisk::Absent, PlanConfig::default());
        assert_eq!(actions(&p), [("h.rs", Action::Create)]);
    }
}
