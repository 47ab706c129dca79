//! A change set, as the person deploying reads it: one line per resource, replacements
//! marked, and a loud warning when a resource that holds data would be replaced or removed.

use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Add,
    Modify,
    Remove,
    Import,
    /// CloudFormation cannot tell until it runs (e.g. a nested stack).
    Dynamic,
}

impl Action {
    pub fn parse(text: &str) -> Action {
        match text {
            "Add" => Action::Add,
            "Modify" => Action::Modify,
            "Remove" => Action::Remove,
            "Import" => Action::Import,
            _ => Action::Dynamic,
        }
    }

    fn sign(self) -> char {
        match self {
            Action::Add => '+',
            Action::Modify => '~',
            Action::Remove => '-',
            Action::Import => '>',
            Action::Dynamic => '?',
        }
    }
}

/// CloudFormation's `Replacement` of a `Modify`: whether the resource gets a new physical
/// resource (a new bucket, a new table: the old one and its data go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    Yes,
    /// Depends on a value CloudFormation resolves while deploying.
    Conditional,
    No,
    /// Not reported (an Add or Remove, or an endpoint that does not say).
    Unknown,
}

impl Replacement {
    pub fn parse(text: Option<&str>) -> Replacement {
        match text {
            Some("True") => Replacement::Yes,
            Some("Conditional") => Replacement::Conditional,
            Some("False") => Replacement::No,
            _ => Replacement::Unknown,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceChange {
    pub action: Action,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Replacement,
    /// What changes in a Modify: property names (`MemorySize`), or scopes (`Tags`).
    pub details: Vec<String>,
}

/// Resource types whose replacement or removal loses data (or an identity others hold, such
/// as a secret's value or a key).
pub fn is_stateful(resource_type: &str) -> bool {
    matches!(
        resource_type,
        "AWS::S3::Bucket"
            | "AWS::Logs::LogGroup"
            | "AWS::SecretsManager::Secret"
            | "AWS::DynamoDB::Table"
            | "AWS::DynamoDB::GlobalTable"
            | "AWS::RDS::DBInstance"
            | "AWS::RDS::DBCluster"
            | "AWS::EFS::FileSystem"
            | "AWS::SQS::Queue"
            | "AWS::KMS::Key"
            | "AWS::Cognito::UserPool"
            | "AWS::Kinesis::Stream"
            | "AWS::CloudTrail::Trail"
    )
}

/// The change set, sorted (adds, modifies, removes; then by logical ID): one line each.
pub fn render(changes: &[ResourceChange]) -> String {
    let mut sorted: Vec<&ResourceChange> = changes.iter().collect();
    sorted.sort_by(|a, b| (a.action, &a.logical_id).cmp(&(b.action, &b.logical_id)));
    let width = sorted
        .iter()
        .map(|c| c.resource_type.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for change in sorted {
        let mut line = format!(
            "  {} {:<width$}  {}",
            change.action.sign(),
            change.resource_type,
            change.logical_id
        );
        match change.replacement {
            Replacement::Yes => line.push_str("  REPLACED"),
            Replacement::Conditional => line.push_str("  may be REPLACED"),
            Replacement::No | Replacement::Unknown => {}
        }
        if !change.details.is_empty() {
            let _ = write!(line, "  ({})", change.details.join(", "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// How many adds, modifies and removes: `2 to add, 1 to modify, 0 to remove`.
pub fn tally(changes: &[ResourceChange]) -> String {
    let count = |action| changes.iter().filter(|c| c.action == action).count();
    format!(
        "{} to add, {} to modify, {} to remove",
        count(Action::Add),
        count(Action::Modify),
        count(Action::Remove)
    )
}

/// One warning per data-holding resource the change set would replace or delete.
pub fn warnings(changes: &[ResourceChange]) -> Vec<String> {
    let mut warnings: Vec<String> = changes
        .iter()
        .filter(|c| is_stateful(&c.resource_type))
        .filter_map(|c| {
            let what = match (c.action, c.replacement) {
                (Action::Remove, _) => "would be REMOVED from the stack (deleted unless its DeletionPolicy retains it)",
                (Action::Modify, Replacement::Yes) => "would be REPLACED: a new one is created and the old one, with its data, is deleted unless its UpdateReplacePolicy retains it",
                (Action::Modify, Replacement::Conditional) => "MAY be REPLACED (CloudFormation decides while deploying): a new one would be created and the old one deleted unless retained",
                _ => return None,
            };
            Some(format!("{} {} {what}", c.resource_type, c.logical_id))
        })
        .collect();
    warnings.sort();
    warnings
}

/// The changes a change set makes inside one nested stack (`IncludeNestedStacks`): the
/// parent's line for the nested stack says only that it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedChanges {
    /// The parent's `AWS::CloudFormation::Stack` resource.
    pub logical_id: String,
    pub changes: Vec<ResourceChange>,
}

/// What `gen deploy` shows of a change set before asking: a header with the tally
/// (`Stack app (us-east-1, update): 0 to add, 1 to modify, 0 to remove`), the changes (one
/// entry, a line each), each nested stack's changes under its own header, then the warnings
/// (a nested stack's named after it).
pub fn report(
    stack: &str,
    region: &str,
    creating: bool,
    changes: &[ResourceChange],
    nested: &[NestedChanges],
) -> Vec<String> {
    let mut lines = vec![
        format!(
            "Stack {stack} ({region}, {}): {}",
            if creating { "new" } else { "update" },
            tally(changes)
        ),
        render(changes).trim_end_matches('\n').to_owned(),
    ];
    let mut sorted: Vec<&NestedChanges> = nested.iter().collect();
    sorted.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    for stack in &sorted {
        lines.push(format!(
            "  Nested stack {}: {}",
            stack.logical_id,
            tally(&stack.changes)
        ));
        lines.extend(
            render(&stack.changes)
                .lines()
                .map(|line| format!("  {line}")),
        );
    }
    lines.extend(
        warnings(changes)
            .into_iter()
            .chain(sorted.iter().flat_map(|stack| {
                warnings(&stack.changes)
                    .into_iter()
                    .map(move |w| format!("{w} (in nested stack {})", stack.logical_id))
            }))
            .map(|warning| format!("  WARNING: {warning}")),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, id: &str, ty: &str, replacement: Replacement) -> ResourceChange {
        ResourceChange {
            action,
            logical_id: id.into(),
            resource_type: ty.into(),
            replacement,
            details: Vec::new(),
        }
    }

    #[test]
    fn renders_sorted_with_signs_replacements_and_details() {
        let mut modify = change(
            Action::Modify,
            "FunctionA",
            "AWS::Lambda::Function",
            Replacement::No,
        );
        modify.details = vec!["MemorySize".into()];
        let changes = vec![
            change(
                Action::Remove,
                "Old",
                "AWS::SNS::Topic",
                Replacement::Unknown,
            ),
            modify,
            change(Action::Modify, "Data", "AWS::S3::Bucket", Replacement::Yes),
            change(Action::Add, "New", "AWS::IAM::Role", Replacement::Unknown),
        ];
        assert_eq!(
            render(&changes),
            "  + AWS::IAM::Role         New\n\
             \x20 ~ AWS::S3::Bucket        Data  REPLACED\n\
             \x20 ~ AWS::Lambda::Function  FunctionA  (MemorySize)\n\
             \x20 - AWS::SNS::Topic        Old\n"
        );
        assert_eq!(tally(&changes), "1 to add, 2 to modify, 1 to remove");
    }

    #[test]
    fn warns_only_for_data_that_would_go() {
        let changes = vec![
            change(Action::Modify, "Data", "AWS::S3::Bucket", Replacement::Yes),
            change(Action::Modify, "Calm", "AWS::S3::Bucket", Replacement::No),
            change(
                Action::Remove,
                "Logs",
                "AWS::Logs::LogGroup",
                Replacement::Unknown,
            ),
            change(
                Action::Modify,
                "Fn",
                "AWS::Lambda::Function",
                Replacement::Yes,
            ),
            change(
                Action::Add,
                "NewBucket",
                "AWS::S3::Bucket",
                Replacement::Unknown,
            ),
        ];
        let warnings = warnings(&changes);
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(warnings[0].starts_with("AWS::Logs::LogGroup Logs would be REMOVED"));
        assert!(warnings[1].starts_with("AWS::S3::Bucket Data would be REPLACED"));
    }

    #[test]
    fn parses_what_cloudformation_sends() {
        assert_eq!(Action::parse("Modify"), Action::Modify);
        assert_eq!(Action::parse("Something"), Action::Dynamic);
        assert_eq!(Replacement::parse(Some("True")), Replacement::Yes);
        assert_eq!(
            Replacement::parse(Some("Conditional")),
            Replacement::Conditional
        );
        assert_eq!(Replacement::parse(None), Replacement::Unknown);
    }

    #[test]
    fn the_report_heads_the_changes_with_the_tally_and_ends_with_the_warnings() {
        let changes = [
            change(
                Action::Add,
                "Thumbnail",
                "AWS::Lambda::Function",
                Replacement::Unknown,
            ),
            change(
                Action::Modify,
                "Uploads",
                "AWS::S3::Bucket",
                Replacement::Yes,
            ),
        ];
        let lines = report("app", "eu-west-1", false, &changes, &[]);
        assert_eq!(
            lines[0],
            "Stack app (eu-west-1, update): 1 to add, 1 to modify, 0 to remove"
        );
        assert_eq!(lines[1], render(&changes).trim_end());
        assert_eq!(lines.len(), 3);
        assert!(lines[2].starts_with("  WARNING: AWS::S3::Bucket Uploads would be REPLACED"));
        let new = report("app", "eu-west-1", true, &changes[..1], &[]);
        assert_eq!(
            new,
            [
                "Stack app (eu-west-1, new): 1 to add, 0 to modify, 0 to remove",
                "  + AWS::Lambda::Function  Thumbnail",
            ]
        );
    }

    #[test]
    fn each_nested_stack_s_changes_come_under_its_own_header() {
        let root = [change(
            Action::Modify,
            "StackFunctionsA",
            "AWS::CloudFormation::Stack",
            Replacement::No,
        )];
        let nested = [NestedChanges {
            logical_id: "StackFunctionsA".into(),
            changes: vec![
                change(
                    Action::Add,
                    "FunctionNew",
                    "AWS::Lambda::Function",
                    Replacement::Unknown,
                ),
                change(
                    Action::Remove,
                    "FunctionOldLogs",
                    "AWS::Logs::LogGroup",
                    Replacement::Unknown,
                ),
            ],
        }];
        assert_eq!(
            report("app", "eu-west-1", false, &root, &nested),
            [
                "Stack app (eu-west-1, update): 0 to add, 1 to modify, 0 to remove",
                "  ~ AWS::CloudFormation::Stack  StackFunctionsA",
                "  Nested stack StackFunctionsA: 1 to add, 0 to modify, 1 to remove",
                "    + AWS::Lambda::Function  FunctionNew",
                "    - AWS::Logs::LogGroup    FunctionOldLogs",
                "  WARNING: AWS::Logs::LogGroup FunctionOldLogs would be REMOVED from the stack (deleted unless its DeletionPolicy retains it) (in nested stack StackFunctionsA)",
            ]
        );
    }
}
