//! What a deleted stack left behind, and whether it is in the way of a new stack of the same
//! name. Pure: the lookups are in `cloud/retained.rs`.
//!
//! `gen destroy` leaves every resource whose DeletionPolicy is `Retain` (data buckets, tables,
//! log groups, secrets, dead-letter queues). CloudFormation records them as `DELETE_SKIPPED`
//! resources of the deleted stack. A new stack of that name whose template gives the same
//! resource the same name would fail on "already exists" halfway through its CREATE, so a
//! fresh create first finds them ([`blockers`]) and, if any still exists, is refused before any
//! change with what to do about each ([`refusal`]).

use std::fmt::Write as _;

use serde_json::Value as J;

/// A resource a deleted stack kept (`DELETE_SKIPPED` in DescribeStackResources).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    pub logical_id: String,
    pub resource_type: String,
    /// As CloudFormation reports it: a bucket's or log group's name, a secret's ARN, a
    /// queue's URL.
    pub physical_id: String,
}

/// A leftover the new template would create again under the same name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    pub resource_type: String,
    pub logical_id: String,
    /// The name the template gives it (a bucket's, log group's, secret's or queue's name).
    pub name: String,
    /// Its physical ID (secret ARN, queue URL): what the delete command and the import take.
    pub physical_id: String,
}

/// A resource type whose physical name the template fixes.
struct Named {
    resource_type: &'static str,
    /// The property that holds the name.
    name_property: &'static str,
    /// The key of its `ResourceIdentifier` in a resource import.
    import_key: &'static str,
}

const NAMED: &[Named] = &[
    Named {
        resource_type: "AWS::S3::Bucket",
        name_property: "BucketName",
        import_key: "BucketName",
    },
    Named {
        resource_type: "AWS::Logs::LogGroup",
        name_property: "LogGroupName",
        import_key: "LogGroupName",
    },
    Named {
        resource_type: "AWS::SecretsManager::Secret",
        name_property: "Name",
        import_key: "Id",
    },
    Named {
        resource_type: "AWS::DynamoDB::Table",
        name_property: "TableName",
        import_key: "TableName",
    },
    Named {
        resource_type: "AWS::SQS::Queue",
        name_property: "QueueName",
        import_key: "QueueUrl",
    },
];

fn named(resource_type: &str) -> Option<&'static Named> {
    NAMED.iter().find(|n| n.resource_type == resource_type)
}

/// The values of the pseudo parameters a name may use.
#[derive(Clone, Debug)]
pub struct Pseudo {
    pub account: String,
    pub region: String,
    pub stack_name: String,
}

impl Pseudo {
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    fn value(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::AccountId" => self.account.clone(),
            "AWS::Region" => self.region.clone(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::Partition" => self.partition().to_owned(),
            "AWS::URLSuffix" if self.region.starts_with("cn-") => "amazonaws.com.cn".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            _ => return None,
        })
    }
}

/// The string `value` comes to: a literal, a `Ref` to a pseudo parameter, an `Fn::Sub` of
/// pseudo parameters (and literal variables), an `Fn::Join` of those. None for anything that
/// depends on a parameter or another resource: such a name cannot be known before the
/// deploy, and is not compared.
fn resolve(value: &J, pseudo: &Pseudo) -> Option<String> {
    match value {
        J::String(s) => Some(s.clone()),
        J::Object(o) if o.len() == 1 => {
            let (function, argument) = o.iter().next()?;
            match function.as_str() {
                "Ref" => pseudo.value(argument.as_str()?),
                "Fn::Sub" => match argument {
                    J::String(text) => substitute(text, pseudo, &serde_json::Map::new()),
                    J::Array(a) if a.len() == 2 => {
                        substitute(a[0].as_str()?, pseudo, a[1].as_object()?)
                    }
                    _ => None,
                },
                "Fn::Join" => {
                    let a = argument.as_array().filter(|a| a.len() == 2)?;
                    let parts = a[1]
                        .as_array()?
                        .iter()
                        .map(|p| resolve(p, pseudo))
                        .collect::<Option<Vec<_>>>()?;
                    Some(parts.join(a[0].as_str()?))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `Fn::Sub`'s text with `${Name}` replaced (`${!Literal}` stands for `${Literal}`).
fn substitute(
    text: &str,
    pseudo: &Pseudo,
    variables: &serde_json::Map<String, J>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if let Some(value) = variables.get(name) {
            out.push_str(&resolve(value, pseudo)?);
        } else {
            out.push_str(&pseudo.value(name)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The name in a physical ID: a secret's ARN ends in its name and `-` six random
/// characters; a queue's URL in its name; buckets and log groups are their names.
pub fn name_of(resource_type: &str, physical_id: &str) -> String {
    match resource_type {
        "AWS::SecretsManager::Secret" => {
            let name = physical_id
                .split_once(":secret:")
                .map_or(physical_id, |(_, name)| name);
            match name.len().checked_sub(7).map(|cut| name.split_at(cut)) {
                Some((base, suffix))
                    if suffix.starts_with('-')
                        && suffix[1..].chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    base.to_owned()
                }
                _ => name.to_owned(),
            }
        }
        "AWS::SQS::Queue" => physical_id
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(physical_id)
            .to_owned(),
        _ => physical_id.to_owned(),
    }
}

/// The leftovers `template` would create again under the same name: same logical ID, same
/// type, and the name it gives the resource is the leftover's. Sorted by type and logical ID,
/// once each. Types whose name the template does not fix (or fixes through a parameter) get
/// a new, different name, so they are never in the way.
pub fn blockers(leftovers: &[Leftover], template: &J, pseudo: &Pseudo) -> Vec<Blocker> {
    let resources = template.get("Resources").and_then(J::as_object);
    let mut found: Vec<Blocker> = leftovers
        .iter()
        .filter_map(|left| {
            let kind = named(&left.resource_type)?;
            let resource = resources?.get(&left.logical_id)?;
            if resource.get("Type").and_then(J::as_str) != Some(kind.resource_type) {
                return None;
            }
            let name = resolve(resource.get("Properties")?.get(kind.name_property)?, pseudo)?;
            (name == name_of(&left.resource_type, &left.physical_id)).then(|| Blocker {
                resource_type: left.resource_type.clone(),
                logical_id: left.logical_id.clone(),
                name,
                physical_id: left.physical_id.clone(),
            })
        })
        .collect();
    found.sort_by(|a, b| (&a.resource_type, &a.logical_id).cmp(&(&b.resource_type, &b.logical_id)));
    found.dedup_by(|a, b| a.resource_type == b.resource_type && a.logical_id == b.logical_id);
    found
}

/// The `aws` command that deletes the resource and its data.
fn delete_command(blocker: &Blocker) -> String {
    match blocker.resource_type.as_str() {
        "AWS::S3::Bucket" => format!("aws s3 rb s3://{} --force", blocker.name),
        "AWS::Logs::LogGroup" => format!(
            "aws logs delete-log-group --log-group-name {}",
            blocker.name
        ),
        "AWS::SecretsManager::Secret" => format!(
            "aws secretsmanager delete-secret --secret-id {} --force-delete-without-recovery",
            blocker.physical_id
        ),
        "AWS::DynamoDB::Table" => format!(
            "aws dynamodb update-table --table-name {0} --no-deletion-protection-enabled; aws dynamodb delete-table --table-name {0}",
            blocker.name
        ),
        "AWS::SQS::Queue" => format!(
            "aws sqs delete-queue --queue-url {}  # then wait 60 s: SQS refuses a new queue of a deleted one's name until then",
            blocker.physical_id
        ),
        other => format!("(delete the {other} {} yourself)", blocker.name),
    }
}

/// The `--resources-to-import` entry of the resource.
fn import_entry(blocker: &Blocker) -> J {
    let key = named(&blocker.resource_type).map_or("Id", |n| n.import_key);
    let identifier = match blocker.resource_type.as_str() {
        "AWS::SecretsManager::Secret" | "AWS::SQS::Queue" => &blocker.physical_id,
        _ => &blocker.name,
    };
    serde_json::json!({
        "ResourceType": blocker.resource_type,
        "LogicalResourceId": blocker.logical_id,
        "ResourceIdentifier": { key: identifier },
    })
}

/// AWS's guide to importing existing resources into a new stack.
pub const IMPORT_GUIDE: &str =
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-new-stack.html";

/// Why a fresh create of `stack` is refused, each resource in the way, and the two ways on.
/// `template_path`: the stack's template in the project, where the import template comes from.
pub fn refusal(stack: &str, region: &str, template_path: &str, blockers: &[Blocker]) -> String {
    let mut text = format!(
        "stack {stack} ({region}) cannot be created: {} resource(s) an earlier stack of that name kept (DeletionPolicy: Retain) when it was deleted or rolled back still exist under the names its template gives them, so CloudFormation would stop on \"already exists\" halfway through; nothing was built, uploaded or changed",
        blockers.len()
    );
    let type_width = blockers
        .iter()
        .map(|b| b.resource_type.len())
        .max()
        .unwrap_or(0);
    let id_width = blockers
        .iter()
        .map(|b| b.logical_id.len())
        .max()
        .unwrap_or(0);
    for b in blockers {
        let _ = write!(
            text,
            "\n    {:<type_width$}  {:<id_width$}  {}",
            b.resource_type, b.logical_id, b.name
        );
    }
    text.push_str("\n  = either: if their data may go, delete them, then run gen deploy again:");
    for b in blockers {
        let _ = write!(text, "\n      {}", delete_command(b));
    }
    let entries: Vec<J> = blockers.iter().map(import_entry).collect();
    let _ = write!(
        text,
        "\n  = or: keep them and import them into a new stack {stack} with an IMPORT change set, then run gen deploy again (it updates that stack with the rest). The change set's template holds only these resources, copied from {template_path} with their DeletionPolicy; see {IMPORT_GUIDE}\n      aws cloudformation create-change-set --region {region} --stack-name {stack} --change-set-name adopt --change-set-type IMPORT --template-body file://import.json --resources-to-import '{}'\n      aws cloudformation execute-change-set --region {region} --stack-name {stack} --change-set-name adopt",
        serde_json::to_string(&entries).expect("JSON serialises")
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pseudo() -> Pseudo {
        Pseudo {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            stack_name: "vid-dev".into(),
        }
    }

    fn left(logical_id: &str, resource_type: &str, physical_id: &str) -> Leftover {
        Leftover {
            logical_id: logical_id.into(),
            resource_type: resource_type.into(),
            physical_id: physical_id.into(),
        }
    }

    const SECRET_ARN: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:vid-dev/db-credentials-AbC123";
    const QUEUE_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/vid-dev-dlq";

    /// The shape of a stage's template: names fixed with literals and `Fn::Sub`.
    fn template() -> J {
        json!({"Resources": {
            "BucketUpload": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {
                "BucketName": {"Fn::Sub": "vid-dev-upload-${AWS::AccountId}-${AWS::Region}"}}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": {
                "LogGroupName": "/aws/lambda/vid-dev-transcode"}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "DeletionPolicy": "Retain", "Properties": {
                "Name": "vid-dev/db-credentials"}},
            "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain", "Properties": {
                "QueueName": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "dlq"]]}}},
            "Unnamed": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "ByParameter": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Name"}}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "vid-dev-alerts"}},
        }})
    }

    #[test]
    fn a_leftover_of_the_same_id_type_and_name_blocks() {
        let leftovers = [
            left(
                "BucketUpload",
                "AWS::S3::Bucket",
                "vid-dev-upload-123456789012-us-east-1",
            ),
            left(
                "Logs",
                "AWS::Logs::LogGroup",
                "/aws/lambda/vid-dev-transcode",
            ),
            left("Secret", "AWS::SecretsManager::Secret", SECRET_ARN),
            left("Queue", "AWS::SQS::Queue", QUEUE_URL),
        ];
        let found = blockers(&leftovers, &template(), &pseudo());
        let names: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|b| {
                (
                    b.resource_type.as_str(),
                    b.logical_id.as_str(),
                    b.name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (
                    "AWS::Logs::LogGroup",
                    "Logs",
                    "/aws/lambda/vid-dev-transcode"
                ),
                (
                    "AWS::S3::Bucket",
                    "BucketUpload",
                    "vid-dev-upload-123456789012-us-east-1"
                ),
                ("AWS::SQS::Queue", "Queue", "vid-dev-dlq"),
                (
                    "AWS::SecretsManager::Secret",
                    "Secret",
                    "vid-dev/db-credentials"
                ),
            ]
        );
        assert_eq!(found[3].physical_id, SECRET_ARN);
    }

    #[test]
    fn a_leftover_is_not_in_the_way_of_another_id_type_or_name() {
        let bucket = "vid-dev-upload-123456789012-us-east-1";
        for (leftover, why) in [
            (
                left("BucketOther", "AWS::S3::Bucket", bucket),
                "no template counterpart",
            ),
            (
                left("Logs", "AWS::S3::Bucket", "/aws/lambda/vid-dev-transcode"),
                "another type",
            ),
            (
                left(
                    "BucketUpload",
                    "AWS::S3::Bucket",
                    "vid-dev-upload-999999999999-us-east-1",
                ),
                "another name",
            ),
            (
                left(
                    "Logs",
                    "AWS::Logs::LogGroup",
                    "/aws/lambda/vid-dev-old-name",
                ),
                "renamed",
            ),
            (
                left("Unnamed", "AWS::S3::Bucket", "vid-dev-unnamed-1a2b3c"),
                "name not fixed",
            ),
            (
                left("ByParameter", "AWS::S3::Bucket", "chosen"),
                "name from a parameter",
            ),
            (
                left(
                    "Topic",
                    "AWS::SNS::Topic",
                    "arn:aws:sns:us-east-1:123456789012:vid-dev-alerts",
                ),
                "type without a name rule",
            ),
        ] {
            assert_eq!(blockers(&[leftover], &template(), &pseudo()), [], "{why}");
        }
        // In another account or region the same template names another bucket.
        let elsewhere = Pseudo {
            region: "eu-west-1".into(),
            ..pseudo()
        };
        assert_eq!(
            blockers(
                &[left("BucketUpload", "AWS::S3::Bucket", bucket)],
                &template(),
                &elsewhere
            ),
            []
        );
    }

    #[test]
    fn only_retained_resources_are_leftovers_and_each_counts_once() {
        // The caller passes only DELETE_SKIPPED resources; a resource met twice (the
        // rolled-back stack and the deleted one) is listed once.
        let log = left(
            "Logs",
            "AWS::Logs::LogGroup",
            "/aws/lambda/vid-dev-transcode",
        );
        assert_eq!(
            blockers(&[log.clone(), log], &template(), &pseudo()).len(),
            1
        );
        assert_eq!(blockers(&[], &template(), &pseudo()), []);
        assert_eq!(
            blockers(
                &[left(
                    "Logs",
                    "AWS::Logs::LogGroup",
                    "/aws/lambda/vid-dev-transcode"
                )],
                &json!({}),
                &pseudo()
            ),
            []
        );
    }

    #[test]
    fn names_come_out_of_physical_ids() {
        assert_eq!(
            name_of("AWS::SecretsManager::Secret", SECRET_ARN),
            "vid-dev/db-credentials"
        );
        assert_eq!(name_of("AWS::SQS::Queue", QUEUE_URL), "vid-dev-dlq");
        assert_eq!(name_of("AWS::S3::Bucket", "b-1"), "b-1");
        // A secret ARN without the random suffix keeps its whole name.
        assert_eq!(
            name_of(
                "AWS::SecretsManager::Secret",
                "arn:aws:secretsmanager:r:1:secret:ab"
            ),
            "ab"
        );
    }

    #[test]
    fn sub_resolves_pseudo_parameters_variables_and_escapes() {
        let p = pseudo();
        assert_eq!(
            resolve(
                &json!({"Fn::Sub": "${AWS::Partition}:${AWS::URLSuffix}:${!Kept}"}),
                &p
            )
            .as_deref(),
            Some("aws:amazonaws.com:${Kept}")
        );
        assert_eq!(
            resolve(
                &json!({"Fn::Sub": ["${Stage}-${AWS::Region}", {"Stage": "dev"}]}),
                &p
            )
            .as_deref(),
            Some("dev-us-east-1")
        );
        assert_eq!(resolve(&json!({"Fn::Sub": "${Param}"}), &p), None);
        assert_eq!(resolve(&json!({"Fn::GetAtt": ["A", "Arn"]}), &p), None);
        assert_eq!(resolve(&json!({"Fn::Sub": "${unclosed"}), &p), None);
    }

    #[test]
    fn the_refusal_names_each_resource_and_both_ways_on() {
        let blockers = [
            Blocker {
                resource_type: "AWS::S3::Bucket".into(),
                logical_id: "BucketUpload".into(),
                name: "vid-dev-upload-123456789012-us-east-1".into(),
                physical_id: "vid-dev-upload-123456789012-us-east-1".into(),
            },
            Blocker {
                resource_type: "AWS::SecretsManager::Secret".into(),
                logical_id: "Secret".into(),
                name: "vid-dev/db-credentials".into(),
                physical_id: SECRET_ARN.into(),
            },
        ];
        let text = refusal("vid-dev", "us-east-1", "infra/dev/template.json", &blockers);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "stack vid-dev (us-east-1) cannot be created: 2 resource(s) an earlier stack of that name kept (DeletionPolicy: Retain) when it was deleted or rolled back still exist under the names its template gives them, so CloudFormation would stop on \"already exists\" halfway through; nothing was built, uploaded or changed"
        );
        assert_eq!(
            lines[1..6],
            [
                "    AWS::S3::Bucket              BucketUpload  vid-dev-upload-123456789012-us-east-1",
                "    AWS::SecretsManager::Secret  Secret        vid-dev/db-credentials",
                "  = either: if their data may go, delete them, then run gen deploy again:",
                "      aws s3 rb s3://vid-dev-upload-123456789012-us-east-1 --force",
                &format!(
                    "      aws secretsmanager delete-secret --secret-id {SECRET_ARN} --force-delete-without-recovery"
                ),
            ]
        );
        assert!(lines[6].starts_with(
            "  = or: keep them and import them into a new stack vid-dev with an IMPORT change set"
        ));
        assert!(lines[6].contains(&format!(
            "copied from infra/dev/template.json with their DeletionPolicy; see {IMPORT_GUIDE}"
        )));
        assert!(lines[7].contains("--change-set-type IMPORT"));
        let entries = lines[7].split('\'').nth(1).unwrap();
        assert_eq!(
            serde_json::from_str::<J>(entries).unwrap(),
            json!([
                {"ResourceType": "AWS::S3::Bucket", "LogicalResourceId": "BucketUpload",
                 "ResourceIdentifier": {"BucketName": "vid-dev-upload-123456789012-us-east-1"}},
                {"ResourceType": "AWS::SecretsManager::Secret", "LogicalResourceId": "Secret",
                 "ResourceIdentifier": {"Id": SECRET_ARN}},
            ])
        );
        assert!(lines[8].starts_with("      aws cloudformation execute-change-set"));
        let queue = Blocker {
            resource_type: "AWS::SQS::Queue".into(),
            logical_id: "Queue".into(),
            name: "vid-dev-dlq".into(),
            physical_id: QUEUE_URL.into(),
        };
        assert!(
            delete_command(&queue)
                .starts_with(&format!("aws sqs delete-queue --queue-url {QUEUE_URL}"))
        );
        let log = Blocker {
            resource_type: "AWS::Logs::LogGroup".into(),
            logical_id: "Logs".into(),
            name: "/aws/lambda/x".into(),
            physical_id: "/aws/lambda/x".into(),
        };
        assert_eq!(
            delete_command(&log),
            "aws logs delete-log-group --log-group-name /aws/lambda/x"
        );
    }
}
