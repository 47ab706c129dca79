//! Before a fresh create: what a deleted stack of the same name kept, and whether it still
//! exists. Which of those resources are in the way is decided in [`crate::retained`]; here are
//! only the lookups. An existing stack that gen updates costs nothing here but the
//! DescribeStacks that tells it exists.

use aws_sdk_cloudformation::error::ProvideErrorMetadata as _;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{ResourceStatus, StackStatus};

use super::error::{
    DESCRIBE_LOG_GROUPS, DESCRIBE_SECRET, DESCRIBE_TABLE, GET_QUEUE_URL, HEAD_BUCKET,
    LIST_STACK_RESOURCES, LIST_STACKS, classify,
};
use super::{Cloud, Regional, status_of};
use crate::DeployError;
use crate::retained::{self, Blocker, Leftover, Pseudo};
use crate::status;

impl<'c> Cloud<'c> {
    /// Refuses to deploy `name` when CloudFormation would create it afresh (no stack, one in
    /// REVIEW_IN_PROGRESS, or a ROLLBACK_COMPLETE one that is recreated) and resources a
    /// deleted stack of that name kept still exist under the names `template` gives them.
    /// Looks at the newest deleted stack of the name, and at the ROLLBACK_COMPLETE stack
    /// itself (a rolled-back create keeps what it made with DeletionPolicy Retain).
    ///
    /// `nested` are the stack's nested stacks (logical ID, template): what a deleted nested
    /// stack of the same logical ID kept is in the way of the new one in the same way.
    pub async fn check_retained(
        &self,
        regional: &Regional,
        name: &str,
        template_path: &str,
        template: &str,
        nested: &[(&str, &str)],
    ) -> Result<(), DeployError> {
        let existing = regional.describe_stack(name).await?;
        let existing_status = existing.as_ref().map(status_of);
        if !status::approach(existing_status.as_ref()).creates() {
            return Ok(());
        }
        let mut kept = Kept::default();
        if existing_status == Some(StackStatus::RollbackComplete) {
            let id = existing.as_ref().and_then(|s| s.stack_id()).unwrap_or(name);
            regional.kept_by(id, nested, &mut kept).await?;
        }
        if let Some(id) = regional.newest_deleted(name).await? {
            regional.kept_by(&id, nested, &mut kept).await?;
        }
        if kept.is_empty() {
            return Ok(());
        }
        let pseudo = Pseudo {
            account: self.caller_account().await?,
            region: regional.region.clone(),
            stack_name: name.to_owned(),
        };
        let mut candidates = Vec::new();
        let parse = |text: &str| -> serde_json::Value {
            serde_json::from_str(text).expect("generated templates are JSON")
        };
        candidates.extend(retained::blockers(&kept.own, &parse(template), &pseudo));
        for (logical_id, template) in nested {
            let Some(leftovers) = kept.nested.get(*logical_id) else {
                continue;
            };
            candidates.extend(
                retained::blockers(leftovers, &parse(template), &pseudo)
                    .into_iter()
                    .map(|mut blocker| {
                        // Said as the path to it: the nested stack, then its resource.
                        blocker.logical_id = format!("{logical_id}.{}", blocker.logical_id);
                        blocker
                    }),
            );
        }
        let mut blocking = Vec::new();
        for mut blocker in candidates {
            if let Some(physical_id) = regional.still_there(&blocker).await? {
                blocker.physical_id = physical_id;
                blocking.push(blocker);
            }
        }
        if blocking.is_empty() {
            return Ok(());
        }
        Err(DeployError::RetainedInTheWay {
            stack: name.to_owned(),
            region: regional.region.clone(),
            template_path: template_path.to_owned(),
            blockers: blocking,
        })
    }
}

/// What deleted stacks kept: their own resources, and their nested stacks' by logical ID.
#[derive(Default)]
struct Kept {
    own: Vec<Leftover>,
    nested: std::collections::BTreeMap<String, Vec<Leftover>>,
}

impl Kept {
    fn is_empty(&self) -> bool {
        self.own.is_empty() && self.nested.values().all(Vec::is_empty)
    }
}

impl Regional {
    /// The ID of the newest deleted stack named `name` (CloudFormation lists deleted stacks
    /// for 90 days). Stacks of one name never overlap, so the newest created is the newest
    /// deleted.
    async fn newest_deleted(&self, name: &str) -> Result<Option<String>, DeployError> {
        let mut newest: Option<(DateTime, String)> = None;
        let mut token: Option<String> = None;
        loop {
            let out = self
                .cfn
                .list_stacks()
                .stack_status_filter(StackStatus::DeleteComplete)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify(LIST_STACKS, &self.endpoint, e))?;
            for summary in out.stack_summaries() {
                let (Some(id), Some(created)) = (summary.stack_id(), summary.creation_time())
                else {
                    continue;
                };
                if summary.stack_name() == Some(name)
                    && newest.as_ref().is_none_or(|(t, _)| created > t)
                {
                    newest = Some((*created, id.to_owned()));
                }
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        Ok(newest.map(|(_, id)| id))
    }

    /// The resources stack `id` kept (`DELETE_SKIPPED`), page by page (ListStackResources
    /// answers for deleted stacks by ID, and has no 100-resource cap), and those its nested
    /// stacks named in `nested` kept.
    async fn kept_by(
        &self,
        id: &str,
        nested: &[(&str, &str)],
        kept: &mut Kept,
    ) -> Result<(), DeployError> {
        let mut children = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .cfn
                .list_stack_resources()
                .stack_name(id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify(LIST_STACK_RESOURCES, &self.endpoint, e))?;
            for r in out.stack_resource_summaries() {
                let (Some(logical_id), Some(resource_type), Some(physical_id)) = (
                    r.logical_resource_id(),
                    r.resource_type(),
                    r.physical_resource_id(),
                ) else {
                    continue;
                };
                if r.resource_status() == Some(&ResourceStatus::DeleteSkipped) {
                    kept.own.push(Leftover {
                        logical_id: logical_id.to_owned(),
                        resource_type: resource_type.to_owned(),
                        physical_id: physical_id.to_owned(),
                    });
                } else if resource_type == "AWS::CloudFormation::Stack"
                    && !physical_id.is_empty()
                    && nested.iter().any(|(n, _)| *n == logical_id)
                {
                    children.push((logical_id.to_owned(), physical_id.to_owned()));
                }
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        for (logical_id, child) in children {
            let mut inner = Kept::default();
            // One level: gen's nested stacks hold no stacks.
            Box::pin(self.kept_by(&child, &[], &mut inner)).await?;
            kept.nested.entry(logical_id).or_default().extend(inner.own);
        }
        Ok(())
    }

    /// The physical ID of the resource named as `blocker` is, if it exists (a secret's ARN and
    /// a queue's URL as they are now); None when it is gone.
    async fn still_there(&self, blocker: &Blocker) -> Result<Option<String>, DeployError> {
        let name = blocker.name.as_str();
        match blocker.resource_type.as_str() {
            "AWS::S3::Bucket" => match self.s3.head_bucket().bucket(name).send().await {
                Ok(_) => Ok(Some(name.to_owned())),
                Err(e)
                    if e.as_service_error().is_some_and(|s| s.is_not_found())
                        || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
                {
                    Ok(None)
                }
                // 403 (another account's, or no s3:ListBucket) and 301 (another region's):
                // the name is taken all the same.
                Err(e) if e.raw_response().is_some() => Ok(Some(name.to_owned())),
                Err(e) => Err(classify(HEAD_BUCKET, &self.endpoint, e)),
            },
            "AWS::Logs::LogGroup" => {
                let mut token: Option<String> = None;
                loop {
                    let out = self
                        .logs
                        .describe_log_groups()
                        .log_group_name_prefix(name)
                        .set_next_token(token.take())
                        .send()
                        .await
                        .map_err(|e| classify(DESCRIBE_LOG_GROUPS, &self.endpoint, e))?;
                    if out
                        .log_groups()
                        .iter()
                        .any(|g| g.log_group_name() == Some(name))
                    {
                        return Ok(Some(name.to_owned()));
                    }
                    match out.next_token() {
                        Some(next) => token = Some(next.to_owned()),
                        None => return Ok(None),
                    }
                }
            }
            // By name: one scheduled for deletion still holds it.
            "AWS::SecretsManager::Secret" => {
                match self.secrets.describe_secret().secret_id(name).send().await {
                    Ok(out) => Ok(Some(out.arn().unwrap_or(&blocker.physical_id).to_owned())),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_not_found_exception()) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(classify(DESCRIBE_SECRET, &self.endpoint, e)),
                }
            }
            "AWS::SQS::Queue" => match self.sqs.get_queue_url().queue_name(name).send().await {
                Ok(out) => Ok(Some(
                    out.queue_url().unwrap_or(&blocker.physical_id).to_owned(),
                )),
                // The query-compatible code, or the JSON protocol's own.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_queue_does_not_exist())
                        || e.code() == Some("QueueDoesNotExist") =>
                {
                    Ok(None)
                }
                Err(e) => Err(classify(GET_QUEUE_URL, &self.endpoint, e)),
            },
            "AWS::DynamoDB::Table" => {
                match self.dynamodb.describe_table().table_name(name).send().await {
                    Ok(_) => Ok(Some(name.to_owned())),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_not_found_exception()) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(classify(DESCRIBE_TABLE, &self.endpoint, e)),
                }
            }
            // Not looked up: taken to be there.
            _ => Ok(Some(blocker.physical_id.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::{self, Fake, Request};
    use crate::console::Recording;

    const BUCKET: &str = "app-uploads-111122223333-us-east-1";
    const OLD: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/app/old";
    const OLDER: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/app/older";
    const SECRET_ARN: &str =
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-credentials-AbC123";
    const QUEUE_URL: &str = "https://sqs.us-east-1.amazonaws.com/111122223333/app-dead-letters";

    const TEMPLATE: &str = r#"{"Resources": {
        "Uploads": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
            "Properties": {"BucketName": {"Fn::Sub": "app-uploads-${AWS::AccountId}-${AWS::Region}"}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
            "Properties": {"LogGroupName": "/aws/lambda/app-fn"}},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "DeletionPolicy": "Retain",
            "Properties": {"Name": "app/db-credentials"}},
        "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain",
            "Properties": {"QueueName": "app-dead-letters"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "app-fn"}}
    }}"#;

    async fn check(fake: &Fake) -> Result<(), DeployError> {
        let console = Recording::unattended();
        let cloud = fake.cloud(true, &console);
        let regional = cloud.regional("us-east-1");
        cloud
            .check_retained(&regional, "app", "infra/template.json", TEMPLATE, &[])
            .await
    }

    /// The resources of the newest deleted `app` (`OLD`): the bucket and log group kept, the
    /// function deleted.
    fn deleted_app(r: &Request) -> (u16, String) {
        match r.action.as_str() {
            "DescribeStacks" => fake::no_stack("app"),
            "ListStacks" => {
                assert_eq!(
                    r.param("StackStatusFilter.member.1"),
                    Some("DELETE_COMPLETE")
                );
                fake::stack_summaries(&[
                    (OLDER, "app", "DELETE_COMPLETE", "2024-01-01T00:00:00Z"),
                    (OLD, "app", "DELETE_COMPLETE", "2024-06-01T00:00:00Z"),
                    (
                        "other-id",
                        "other",
                        "DELETE_COMPLETE",
                        "2024-09-01T00:00:00Z",
                    ),
                ])
            }
            "ListStackResources" => {
                assert_eq!(
                    r.param("StackName"),
                    Some(OLD),
                    "only the newest deleted stack"
                );
                fake::resource_summaries(&[
                    ("Uploads", "AWS::S3::Bucket", BUCKET, "DELETE_SKIPPED"),
                    (
                        "Logs",
                        "AWS::Logs::LogGroup",
                        "/aws/lambda/app-fn",
                        "DELETE_SKIPPED",
                    ),
                    ("Fn", "AWS::Lambda::Function", "app-fn", "DELETE_COMPLETE"),
                ])
            }
            "GetCallerIdentity" => fake::caller("111122223333"),
            other => panic!("unexpected {other}"),
        }
    }

    #[tokio::test]
    async fn a_fresh_create_is_refused_while_a_kept_bucket_still_exists() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            a if a == format!("HEAD /{BUCKET}/") => (200, String::new()),
            // The log group was deleted since: only the bucket is in the way.
            "DescribeLogGroups" => {
                assert_eq!(
                    r.json.as_ref().unwrap()["logGroupNamePrefix"],
                    "/aws/lambda/app-fn"
                );
                fake::json(
                    200,
                    serde_json::json!({"logGroups": [{"logGroupName": "/aws/lambda/app-fn-2"}]}),
                )
            }
            _ => deleted_app(r),
        });
        let error = check(&fake).await.unwrap_err();
        let DeployError::RetainedInTheWay {
            stack, blockers, ..
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(stack, "app");
        assert_eq!(
            blockers,
            &[Blocker {
                resource_type: "AWS::S3::Bucket".into(),
                logical_id: "Uploads".into(),
                name: BUCKET.into(),
                physical_id: BUCKET.into(),
            }]
        );
        let text = error.to_string();
        assert!(
            text.starts_with("stack app (us-east-1) cannot be created: 1 resource(s)"),
            "{text}"
        );
        assert!(
            text.contains(&format!("aws s3 rb s3://{BUCKET} --force")),
            "{text}"
        );
        assert!(text.contains("--change-set-type IMPORT"), "{text}");
        // Lookups only: no change set, no upload, no stack.
        assert_eq!(
            fake.actions(),
            [
                "DescribeStacks",
                "ListStacks",
                "ListStackResources",
                "GetCallerIdentity",
                "DescribeLogGroups",
                &format!("HEAD /{BUCKET}/"),
            ]
        );
    }

    #[tokio::test]
    async fn what_a_deleted_nested_stack_kept_is_in_the_way_of_the_new_one() {
        const NESTED: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/app-StackA-X/1";
        const NESTED_TEMPLATE: &str = r#"{"Resources": {
            "FnLogs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
                "Properties": {"LogGroupName": "/aws/lambda/app-nested-fn"}}
        }}"#;
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "ListStackResources" if r.param("StackName") == Some(NESTED) => {
                fake::resource_summaries(&[(
                    "FnLogs",
                    "AWS::Logs::LogGroup",
                    "/aws/lambda/app-nested-fn",
                    "DELETE_SKIPPED",
                )])
            }
            "ListStackResources" => fake::resource_summaries(&[
                (
                    "StackA",
                    "AWS::CloudFormation::Stack",
                    NESTED,
                    "DELETE_COMPLETE",
                ),
                // Not one of this app's nested stacks any more: not looked into.
                (
                    "StackGone",
                    "AWS::CloudFormation::Stack",
                    "gone-id",
                    "DELETE_COMPLETE",
                ),
            ]),
            "DescribeLogGroups" => fake::json(
                200,
                serde_json::json!({"logGroups": [{"logGroupName": "/aws/lambda/app-nested-fn"}]}),
            ),
            _ => deleted_app(r),
        });
        let console = Recording::unattended();
        let cloud = fake.cloud(true, &console);
        let regional = cloud.regional("us-east-1");
        let error = cloud
            .check_retained(
                &regional,
                "app",
                "infra/template.json",
                TEMPLATE,
                &[("StackA", NESTED_TEMPLATE)],
            )
            .await
            .unwrap_err();
        let DeployError::RetainedInTheWay { blockers, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(
            blockers,
            &[Blocker {
                resource_type: "AWS::Logs::LogGroup".into(),
                logical_id: "StackA.FnLogs".into(),
                name: "/aws/lambda/app-nested-fn".into(),
                physical_id: "/aws/lambda/app-nested-fn".into(),
            }]
        );
        assert!(
            !fake
                .requests()
                .iter()
                .any(|r| r.param("StackName") == Some("gone-id"))
        );
    }

    #[tokio::test]
    async fn what_was_kept_but_is_gone_since_is_not_in_the_way() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            a if a.starts_with("HEAD /") => (404, String::new()),
            "DescribeLogGroups" => fake::json(200, serde_json::json!({"logGroups": []})),
            _ => deleted_app(r),
        });
        check(&fake).await.unwrap();
    }

    #[tokio::test]
    async fn a_deployed_stack_costs_one_describe_and_a_new_name_one_list() {
        let healthy = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack("UPDATE_COMPLETE", &[]),
            other => panic!("unexpected {other}"),
        });
        check(&healthy).await.unwrap();
        assert_eq!(healthy.actions(), ["DescribeStacks"]);
        let never_deleted = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::no_stack("app"),
            "ListStacks" => fake::stack_summaries(&[]),
            other => panic!("unexpected {other}"),
        });
        check(&never_deleted).await.unwrap();
        assert_eq!(never_deleted.actions(), ["DescribeStacks", "ListStacks"]);
    }

    #[tokio::test]
    async fn a_rolled_back_first_deploy_counts_what_it_kept_itself() {
        let fake = Fake::new(|r: &Request| match r.action.as_str() {
            "DescribeStacks" => fake::stack("ROLLBACK_COMPLETE", &[]),
            "ListStackResources" => {
                assert_eq!(r.param("StackName"), Some(fake::STACK_ID));
                fake::resource_summaries(&[
                    (
                        "Secret",
                        "AWS::SecretsManager::Secret",
                        SECRET_ARN,
                        "DELETE_SKIPPED",
                    ),
                    ("Queue", "AWS::SQS::Queue", QUEUE_URL, "DELETE_SKIPPED"),
                    ("Fn", "AWS::Lambda::Function", "app-fn", "DELETE_COMPLETE"),
                ])
            }
            "ListStacks" => fake::stack_summaries(&[]),
            "GetCallerIdentity" => fake::caller("111122223333"),
            "DescribeSecret" => {
                assert_eq!(r.json.as_ref().unwrap()["SecretId"], "app/db-credentials");
                fake::json(
                    200,
                    serde_json::json!({"ARN": SECRET_ARN, "Name": "app/db-credentials"}),
                )
            }
            "GetQueueUrl" => {
                assert_eq!(r.json.as_ref().unwrap()["QueueName"], "app-dead-letters");
                fake::json(
                    400,
                    serde_json::json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}),
                )
            }
            other => panic!("unexpected {other}"),
        });
        let error = check(&fake).await.unwrap_err();
        let DeployError::RetainedInTheWay { blockers, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(blockers.len(), 1, "{blockers:?}");
        assert_eq!(blockers[0].logical_id, "Secret");
        assert!(
            error.to_string().contains(&format!(
                "aws secretsmanager delete-secret --secret-id {SECRET_ARN} --force-delete-without-recovery"
            )),
            "{error}"
        );
    }
}
