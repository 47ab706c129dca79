//! Where each manifest path (`functions.transcode.memory`) sits in the YAML text, so that
//! semantic errors found after parsing can still point at a line and column.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A 1-based line and column in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    pub fn from_location(location: &serde_saphyr::Location) -> Option<Position> {
        (location.line() > 0).then(|| Position {
            line: location.line(),
            column: location.column(),
        })
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Paths use serde_path_to_error's syntax: `functions.transcode.reads[0]`.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
}

impl SourceMap {
    /// Builds the map from YAML text. Text that is not valid YAML gives an empty map (the
    /// parse error itself is reported by the typed parse).
    pub fn build(text: &str) -> SourceMap {
        let mut map = SourceMap::default();
        // Any float accepted: the map records where nodes are, so a value the manifest reads
        // as text (`1e309` in an env var) must not cost the whole document its positions
        // (found by fuzzing: errors printed with no line).
        let mut options = serde_saphyr::Options::default();
        options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
        if let Ok(root) = serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options) {
            map.visit("", &root);
        }
        map
    }

    fn visit(&mut self, path: &str, node: &Spanned<Node>) {
        if let Some(position) = Position::from_location(&node.referenced) {
            self.values.insert(path.to_owned(), position);
        }
        match &node.value {
            Node::Map(entries) => {
                for (key, value) in entries {
                    let child = if path.is_empty() {
                        key.value.clone()
                    } else {
                        format!("{path}.{}", key.value)
                    };
                    if let Some(position) = Position::from_location(&key.referenced) {
                        self.keys.insert(child.clone(), position);
                    }
                    self.visit(&child, value);
                }
            }
            Node::Seq(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.visit(&format!("{path}[{index}]"), item);
                }
            }
            Node::Scalar => {}
        }
    }

    /// Where the value at `path` starts, falling back to the nearest enclosing path.
    pub fn value(&self, path: &str) -> Option<Position> {
        let mut current = path;
        loop {
            if let Some(position) = self.values.get(current) {
                return Some(*position);
            }
            current = parent(current)?;
        }
    }

    /// The map a stage's merged manifest is validated with: paths its overrides set (under
    /// `prefix`, e.g. `stages.prod.overrides`) point at the override, the rest at the base.
    pub fn overlay(&self, prefix: &str) -> SourceMap {
        let mut map = self.clone();
        let strip = format!("{prefix}.");
        for (from, to) in [(&self.values, &mut map.values), (&self.keys, &mut map.keys)] {
            for (path, position) in from {
                if let Some(rest) = path.strip_prefix(&strip) {
                    to.insert(rest.to_owned(), *position);
                }
            }
        }
        map
    }

    /// Whether the text has a value at exactly `path`.
    pub fn has(&self, path: &str) -> bool {
        self.values.contains_key(path)
    }

    /// Where the key of the entry at `path` stands (for errors about a name itself).
    pub fn key(&self, path: &str) -> Option<Position> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// A YAML node that only remembers its structure; positions come from `Spanned`.
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key::<Spanned<String>>()? {
            entries.push((key, access.next_value()?));
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_values_and_keys() {
        let text =
            "name: x\nfunctions:\n  transcode:\n    memory: 64\n    reads: [upload, uplaod]\n";
        let map = SourceMap::build(text);
        assert_eq!(
            map.value("functions.transcode.memory"),
            Some(Position {
                line: 4,
                column: 13
            })
        );
        assert_eq!(
            map.key("functions.transcode"),
            Some(Position { line: 3, column: 3 })
        );
        assert_eq!(
            map.value("functions.transcode.reads[1]"),
            Some(Position {
                line: 5,
                column: 21
            })
        );
        // A path that is absent (a default) falls back to its parent.
        assert_eq!(
            map.value("functions.transcode.timeout"),
            Some(Position { line: 4, column: 5 })
        );
        // A non-finite float elsewhere does not cost the document its positions.
        let map = SourceMap::build("a: 1e309\nb:\n  c: .nan\n");
        assert_eq!(map.key("b.c"), Some(Position { line: 3, column: 3 }));
    }
}
