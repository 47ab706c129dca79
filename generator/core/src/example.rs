//! The built-in example, 24-Hour Video, that `gen new` starts every project from.

/// The example manifest as shipped (project name `video24`).
pub const MANIFEST: &str = include_str!("../../example/gen.yaml");

/// The example manifest with its project name replaced. `name` must already be a valid
/// project name: the caller validates the result like any manifest.
pub fn manifest_named(name: &str) -> String {
    MANIFEST
        .lines()
        .map(|line| {
            if line.starts_with("name: ") {
                format!("name: {name}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn renames_only_the_project() {
        let text = super::manifest_named("demo");
        assert!(text.contains("\nname: demo\n"));
        assert_eq!(text.lines().count(), super::MANIFEST.lines().count());
    }
}
