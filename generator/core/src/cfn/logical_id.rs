//! Logical IDs derived from manifest keys, never from order or counters.

use sha2::{Digest, Sha256};
use std::fmt;

/// CloudFormation's limit on logical ID length.
const MAX_LEN: usize = 255;
/// Hex digits of the path hash appended to every ID (as AWS CDK does).
const HASH_LEN: usize = 8;

/// A CloudFormation logical ID: an alphanumeric readable part plus 8 hex digits of a hash of the
/// construct path, e.g. path `["function", "user-profile", "Role"]` →
/// `FunctionUserProfileRole3F2A9B1C`. Two different paths that read the same (`a-b` and `ab`)
/// still get different IDs because the hash covers the exact path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalId(String);

impl LogicalId {
    /// The ID of the construct at `path` (manifest keys and fixed construct names).
    pub fn from_path(path: &[&str]) -> LogicalId {
        let readable: String = path.iter().map(|segment| pascal_case(segment)).collect();
        let digest = Sha256::digest(path.join("/").as_bytes());
        let hash: String = digest
            .iter()
            .take(HASH_LEN / 2)
            .map(|b| format!("{b:02X}"))
            .collect();
        let readable: String = readable.chars().take(MAX_LEN - HASH_LEN).collect();
        LogicalId(format!("{readable}{hash}"))
    }

    /// An ID taken verbatim (fixed, well-known names; tests).
    pub fn from_raw(id: &str) -> LogicalId {
        debug_assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad logical id {id}"
        );
        LogicalId(id.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `user-profile` → `UserProfile`, `s3_access` → `S3Access`; drops anything not alphanumeric.
pub fn pascal_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut upper_next = true;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if upper_next {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper_next = false;
        } else {
            upper_next = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_part_plus_stable_hash() {
        let id = LogicalId::from_path(&["function", "user-profile", "Role"]);
        assert!(id.as_str().starts_with("FunctionUserProfileRole"));
        assert_eq!(id.as_str().len(), "FunctionUserProfileRole".len() + 8);
        // Stable across runs and machines: pinned.
        assert_eq!(
            id,
            LogicalId::from_path(&["function", "user-profile", "Role"])
        );
        // Pinned: a change here renames (replaces) resources in every deployed stack.
        assert_eq!(
            LogicalId::from_path(&["bucket", "upload"]).as_str(),
            "BucketUpload27410616"
        );
    }

    #[test]
    fn paths_that_read_alike_get_different_ids() {
        let a = LogicalId::from_path(&["function", "a-b"]);
        let b = LogicalId::from_path(&["function", "a_b"]);
        assert_ne!(a, b);
        assert_eq!(a.as_str()[..10], b.as_str()[..10]);
    }

    #[test]
    fn ids_are_alphanumeric_and_bounded() {
        let long = "x".repeat(400);
        let id = LogicalId::from_path(&["function", &long]);
        assert_eq!(id.as_str().len(), 255);
        assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
