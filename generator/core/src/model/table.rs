//! Tables in the validated model: key schema, global secondary indexes, billing, stream and
//! the data-protection switches (retain, point-in-time recovery, deletion protection), and
//! references to tables from functions and IAM statements.

use std::collections::{BTreeMap, BTreeSet};

use super::{Key, KeyKind, Validator};
use crate::cfn::RemovalPolicy;
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest::{self, AttributeType, Capacity, StreamView, TableBilling};

/// DynamoDB's limit on global secondary indexes per table.
const MAX_INDEXES: usize = 20;
/// DynamoDB's limit on projected non-key attributes over all of a table's indexes.
const MAX_PROJECTED: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    pub kind: AttributeType,
}

impl KeySpec {
    /// CloudFormation's `AttributeType`.
    pub fn type_code(&self) -> &'static str {
        match self.kind {
            AttributeType::String => "S",
            AttributeType::Number => "N",
            AttributeType::Binary => "B",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectionSpec {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSpec {
    pub partition_key: KeySpec,
    pub sort_key: Option<KeySpec>,
    pub projection: ProjectionSpec,
    /// Present exactly when the table is provisioned.
    pub capacity: Option<Capacity>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub partition_key: KeySpec,
    pub sort_key: Option<KeySpec>,
    /// By index name.
    pub indexes: BTreeMap<String, IndexSpec>,
    pub ttl_attribute: Option<String>,
    /// None: on demand.
    pub provisioned: Option<Capacity>,
    pub stream: Option<StreamView>,
    pub removal: RemovalPolicy,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
}

impl TableSpec {
    /// Every key attribute of the table and its indexes, each once, sorted by name (what
    /// `AttributeDefinitions` lists: DynamoDB refuses one that no key uses).
    pub fn attributes(&self) -> Vec<&KeySpec> {
        let mut by_name: BTreeMap<&str, &KeySpec> = BTreeMap::new();
        let keys = std::iter::once(&self.partition_key)
            .chain(&self.sort_key)
            .chain(
                self.indexes
                    .values()
                    .flat_map(|i| std::iter::once(&i.partition_key).chain(&i.sort_key)),
            );
        for key in keys {
            by_name.entry(key.name.as_str()).or_insert(key);
        }
        by_name.into_values().collect()
    }
}

impl Validator<'_> {
    pub(super) fn tables(
        &mut self,
        tables: &BTreeMap<String, manifest::Table>,
    ) -> BTreeMap<Key, TableSpec> {
        let protected = self.stage.is_some_and(|s| s.protect);
        tables
            .iter()
            .map(|(key, t)| {
                let path = format!("tables.{key}");
                let k = self.key(&path, key, KeyKind::Table);
                (k, self.table(&path, t, protected))
            })
            .collect()
    }

    fn table(&mut self, path: &str, t: &manifest::Table, protected: bool) -> TableSpec {
        // Each attribute's type, from wherever it is first given: one name, one type.
        let mut types: BTreeMap<String, (AttributeType, String)> = BTreeMap::new();
        let partition_key = self.table_key(&format!("{path}.partition_key"), &t.partition_key);
        types.insert(
            partition_key.name.clone(),
            (partition_key.kind, format!("{path}.partition_key")),
        );
        let sort_key = t.sort_key.as_ref().map(|sort| {
            let spath = format!("{path}.sort_key");
            let sort = self.table_key(&spath, sort);
            if sort.name == partition_key.name {
                self.error(
                    Diagnostic::new(
                        format!("{spath}.name"),
                        format!("`{}` is already the partition key", sort.name),
                    )
                    .expected("a sort key other than the partition key"),
                );
            }
            types.insert(sort.name.clone(), (sort.kind, spath));
            sort
        });
        let provisioned = match &t.billing {
            TableBilling::OnDemand => None,
            TableBilling::Provisioned(capacity) => {
                self.capacity(&format!("{path}.billing.provisioned"), capacity);
                Some(*capacity)
            }
        };
        if t.indexes.len() > MAX_INDEXES {
            self.error(
                Diagnostic::new(
                    format!("{path}.indexes"),
                    format!("{} indexes", t.indexes.len()),
                )
                .expected(format!(
                    "at most {MAX_INDEXES} global secondary indexes (DynamoDB's limit)"
                )),
            );
        }
        // Typed keys first, so that an index may leave out a type another index gives.
        for (name, index) in &t.indexes {
            for (field, key) in [
                ("partition_key", Some(&index.partition_key)),
                ("sort_key", index.sort_key.as_ref()),
            ] {
                if let Some(manifest::IndexKey {
                    name: attribute,
                    kind: Some(kind),
                }) = key
                {
                    let kpath = format!("{path}.indexes.{name}.{field}");
                    match types.get(attribute) {
                        Some((other, at)) if other != kind => {
                            let at = at.clone();
                            self.error(
                                Diagnostic::new(
                                    format!("{kpath}.type"),
                                    format!(
                                        "`{attribute}` is declared {} at `{at}`",
                                        type_name(*other)
                                    ),
                                )
                                .expected("one type per attribute name")
                                .hint(format!(
                                    "leave `type` out here, or use the type `{at}` gives"
                                )),
                            );
                        }
                        Some(_) => {}
                        None => {
                            types.insert(attribute.clone(), (*kind, kpath));
                        }
                    }
                }
            }
        }
        let mut projected = 0;
        let mut indexes = BTreeMap::new();
        for (name, index) in &t.indexes {
            let ipath = format!("{path}.indexes.{name}");
            let valid_name = (3..=255).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !valid_name {
                self.key_error(
                    Diagnostic::new(&ipath, format!("`{name}` is not a valid index name"))
                        .expected("3 to 255 letters, digits, `_`, `.` and `-` (DynamoDB's rule)"),
                );
            }
            let partition = self.index_key(
                &format!("{ipath}.partition_key"),
                &index.partition_key,
                &types,
            );
            let sort = index
                .sort_key
                .as_ref()
                .and_then(|k| self.index_key(&format!("{ipath}.sort_key"), k, &types));
            let projection = match &index.projection {
                manifest::Projection::All => ProjectionSpec::All,
                manifest::Projection::KeysOnly => ProjectionSpec::KeysOnly,
                manifest::Projection::Include(attributes) => {
                    let ppath = format!("{ipath}.projection.include");
                    if attributes.is_empty() {
                        self.error(
                            Diagnostic::new(&ppath, "no attributes")
                                .expected("at least one attribute")
                                .hint("`projection: keys_only` copies only the keys"),
                        );
                    }
                    let mut seen = BTreeSet::new();
                    for (i, attribute) in attributes.iter().enumerate() {
                        if types.contains_key(attribute) {
                            self.error(
                                Diagnostic::new(
                                    format!("{ppath}[{i}]"),
                                    format!("`{attribute}` is a key attribute"),
                                )
                                .expected("non-key attributes (every index copies the keys)"),
                            );
                        } else if attribute.is_empty() || !seen.insert(attribute) {
                            self.error(
                                Diagnostic::new(
                                    format!("{ppath}[{i}]"),
                                    format!("`{attribute}` is empty or listed twice"),
                                )
                                .expected("each attribute name once"),
                            );
                        }
                    }
                    projected += attributes.len();
                    ProjectionSpec::Include(attributes.clone())
                }
            };
            let capacity = match (provisioned, index.capacity) {
                (None, Some(_)) => {
                    self.error(
                        Diagnostic::new(
                            format!("{ipath}.capacity"),
                            "capacity on an on-demand table",
                        )
                        .hint("an on-demand table's indexes are on demand too: leave `capacity` out, or make the table `provisioned`"),
                    );
                    None
                }
                (None, None) => None,
                (Some(_), Some(capacity)) => {
                    self.capacity(&format!("{ipath}.capacity"), &capacity);
                    Some(capacity)
                }
                // An index of a provisioned table needs capacity of its own; the table's is
                // the least surprising default.
                (Some(table), None) => Some(table),
            };
            if let Some(partition) = partition {
                indexes.insert(
                    name.clone(),
                    IndexSpec {
                        partition_key: partition,
                        sort_key: sort,
                        projection,
                        capacity,
                    },
                );
            }
        }
        if projected > MAX_PROJECTED {
            self.error(
                Diagnostic::new(
                    format!("{path}.indexes"),
                    format!("the indexes project {projected} attributes"),
                )
                .expected(format!(
                    "at most {MAX_PROJECTED} non-key attributes over all indexes (DynamoDB's limit)"
                ))
                .hint("`projection: all` copies every attribute without listing them"),
            );
        }
        if let Some(ttl) = &t.ttl_attribute {
            let tpath = format!("{path}.ttl_attribute");
            if ttl.is_empty() || ttl.len() > 255 {
                self.error(
                    Diagnostic::new(&tpath, "not an attribute name")
                        .expected("1 to 255 characters"),
                );
            } else if let Some((kind, at)) = types.get(ttl)
                && *kind != AttributeType::Number
            {
                let at = at.clone();
                self.error(
                    Diagnostic::new(
                        &tpath,
                        format!("`{ttl}` is a {} key at `{at}`", type_name(*kind)),
                    )
                    .expected("an attribute holding a number (Unix epoch seconds)")
                    .hint("use an attribute of its own, e.g. `expires_at`"),
                );
            }
        }
        TableSpec {
            partition_key,
            sort_key,
            indexes,
            ttl_attribute: t.ttl_attribute.clone(),
            provisioned,
            stream: t.stream,
            removal: if t.retain {
                RemovalPolicy::Retain
            } else {
                RemovalPolicy::Delete
            },
            point_in_time_recovery: t.point_in_time_recovery,
            deletion_protection: t.deletion_protection.unwrap_or(protected),
        }
    }

    fn table_key(&mut self, path: &str, key: &manifest::KeyAttribute) -> KeySpec {
        self.attribute_name(&format!("{path}.name"), &key.name);
        KeySpec {
            name: key.name.clone(),
            kind: key.kind,
        }
    }

    /// An index key: typed, or naming an attribute whose type another key gives.
    fn index_key(
        &mut self,
        path: &str,
        key: &manifest::IndexKey,
        types: &BTreeMap<String, (AttributeType, String)>,
    ) -> Option<KeySpec> {
        self.attribute_name(&format!("{path}.name"), &key.name);
        match (key.kind, types.get(&key.name)) {
            (Some(kind), _) => Some(KeySpec {
                name: key.name.clone(),
                kind,
            }),
            (None, Some((kind, _))) => Some(KeySpec {
                name: key.name.clone(),
                kind: *kind,
            }),
            (None, None) => {
                let declared: Vec<&str> = types.keys().map(String::as_str).collect();
                self.error(
                    Diagnostic::new(
                        format!("{path}.name"),
                        format!("no key declares the attribute `{}`", key.name),
                    )
                    .expected("an attribute the table's keys or another index declare with a type, or `type:` here")
                    .hint(
                        did_you_mean_hint(&key.name, declared.iter().copied()).unwrap_or_else(
                            || format!("add `type: string` (or `number`, `binary`) to declare `{}`", key.name),
                        ),
                    ),
                );
                None
            }
        }
    }

    fn attribute_name(&mut self, path: &str, name: &str) {
        if name.is_empty() || name.len() > 255 {
            self.error(
                Diagnostic::new(path, format!("`{name}` is not a key attribute name"))
                    .expected("1 to 255 characters (DynamoDB's limit for key attributes)"),
            );
        }
    }

    fn capacity(&mut self, path: &str, capacity: &Capacity) {
        for (field, units) in [("read", capacity.read), ("write", capacity.write)] {
            if units == 0 {
                self.error(
                    Diagnostic::new(format!("{path}.{field}"), "0 capacity units")
                        .expected("at least 1")
                        .hint("`billing: on_demand` needs no capacity"),
                );
            }
        }
    }

    /// A reference to a declared table, with a suggestion when there is none.
    pub(super) fn table_ref(
        &mut self,
        path: &str,
        text: &str,
        tables: &BTreeSet<String>,
    ) -> Option<Key> {
        if tables.contains(text) {
            return Key::parse(text).ok();
        }
        let hint = did_you_mean_hint(text, tables.iter().map(String::as_str)).unwrap_or_else(|| {
            if tables.is_empty() {
                format!("declare it under `tables:`, e.g. `tables: {{{text}: {{partition_key: {{name: id, type: string}}}}}}`")
            } else {
                format!(
                    "declared tables: {}",
                    tables.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
        });
        self.error(
            Diagnostic::new(path, format!("no table `{text}` is declared"))
                .expected("the key of a table under `tables:`")
                .hint(hint),
        );
        None
    }
}

fn type_name(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String => "a string",
        AttributeType::Number => "a number",
        AttributeType::Binary => "binary",
    }
}

#[cfg(test)]
mod tests {
    use crate::model::tests::check;

    const TABLE: &str = "name: demo\nregion: us-east-1\ntables:\n  profiles:\n    partition_key: {name: sub, type: string}\n";

    #[test]
    fn a_table_takes_safe_defaults() {
        let model = check(TABLE).unwrap();
        let t = &model.tables[&crate::model::Key::parse_generated("profiles")];
        assert!(t.point_in_time_recovery);
        assert!(!t.deletion_protection);
        assert_eq!(t.removal, crate::cfn::RemovalPolicy::Retain);
        assert_eq!(t.provisioned, None);
        assert_eq!(t.attributes().len(), 1);
    }

    #[test]
    fn an_index_may_name_an_attribute_only_a_key_types() {
        let text = format!(
            "{TABLE}    sort_key: {{name: at, type: number}}\n    indexes:\n      by-at:\n        partition_key: {{name: at}}\n      by-email:\n        partition_key: {{name: emial}}\n"
        );
        let errs = check(&text).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            errs[0].path,
            "tables.profiles.indexes.by-email.partition_key.name"
        );
        assert_eq!(errs[0].message, "no key declares the attribute `emial`");
    }

    #[test]
    fn one_attribute_has_one_type() {
        let text = format!(
            "{TABLE}    indexes:\n      by-sub:\n        partition_key: {{name: sub, type: number}}\n"
        );
        let errs = check(&text).unwrap_err();
        assert_eq!(
            errs[0].path,
            "tables.profiles.indexes.by-sub.partition_key.type"
        );
    }

    #[test]
    fn indexes_of_a_provisioned_table_get_its_capacity() {
        let text = format!(
            "{TABLE}    billing: {{provisioned: {{read: 5, write: 2}}}}\n    indexes:\n      by-email:\n        partition_key: {{name: email, type: string}}\n"
        );
        let model = check(&text).unwrap();
        let t = model.tables.values().next().unwrap();
        assert_eq!(t.indexes["by-email"].capacity, t.provisioned);
        assert_eq!(t.attributes().len(), 2);
    }
}
