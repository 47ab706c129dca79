//! Keys: the validated names (project, bucket, function, …) that go into AWS physical names
//! and Rust crate names.

use std::fmt;

/// A validated manifest key (project, bucket or function): `[a-z][a-z0-9-]*`, no trailing or
/// double hyphen. Safe to embed in AWS physical names and Rust crate names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub(super) String);

impl Key {
    pub(super) fn parse(text: &str) -> Result<Key, String> {
        let valid = text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !text.ends_with('-')
            && !text.contains("--");
        if valid {
            Ok(Key(text.to_owned()))
        } else {
            Err(text.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key stackgen itself chooses (always valid).
    pub fn parse_generated(text: &str) -> Key {
        Key::parse(text).expect("stackgen's own keys are valid")
    }

    /// `user-profile` → `USER_PROFILE` (environment variable stem).
    pub fn upper_snake(&self) -> String {
        self.0.replace('-', "_").to_ascii_uppercase()
    }

    /// `user-profile` → `user_profile` (Rust identifier).
    pub fn snake(&self) -> String {
        self.0.replace('-', "_")
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
