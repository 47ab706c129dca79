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

/// `text` (the example's manifest) without its `stages:` section and the comment above it:
/// the same app as one stack named after the project, as a manifest without stages has it.
/// The example keeps `stages:` last for this.
pub fn without_stages(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| *l == "stages:") else {
        return text.to_owned();
    };
    // The comment block (and blank line) that introduces the section goes with it.
    let mut cut = start;
    while cut > 0 && lines[cut - 1].starts_with('#') {
        cut -= 1;
    }
    let mut kept = lines[..cut].to_vec();
    while kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    let rest = lines[start + 1..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with([' ', '#']))
        .map_or(&[][..], |end| &lines[start + 1 + end..]);
    kept.push("");
    kept.extend(rest);
    kept.join("\n").trim_end().to_owned() + "\n"
}

/// The example as an app without stages (what most tests look at: one stack, `video24-*`).
pub fn unstaged() -> String {
    without_stages(MANIFEST)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_unstaged_example_is_the_example_minus_its_stages() {
        let text = super::unstaged();
        assert!(!text.contains("stages:"));
        assert!(!text.contains("Two environments"));
        assert!(text.ends_with("writes_per_month: 10000\n"), "{text}");
        let model = crate::load(&text).unwrap();
        assert_eq!(model.stage, None);
        assert_eq!(
            crate::load(super::MANIFEST)
                .unwrap()
                .stage
                .unwrap()
                .key
                .as_str(),
            "dev"
        );
    }

    #[test]
    fn renames_only_the_project() {
        let text = super::manifest_named("demo");
        assert!(text.contains("\nname: demo\n"));
        assert_eq!(text.lines().count(), super::MANIFEST.lines().count());
    }
}
