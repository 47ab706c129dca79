//! Function construct: a Rust Lambda function on `provided.al2023` with its own log group, an
//! execution role limited to that log group and the buckets it declares, and the permissions
//! its S3 triggers need.

use std::collections::BTreeSet;

use super::checkov::skip;
use super::policy::{PolicyLimit, PolicyRecord, regional_arn};
use super::{Stack, ids};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{
    LogicalId, Output, Parameter, ParameterType, Pseudo, RemovalPolicy, Resource, Value,
};
use crate::manifest::{Architecture, StartingPosition};
use crate::map;
use crate::model::{FunctionSpec, Key};
use crate::naming::FunctionAlarm;

/// The runtime every stackgen function uses: an OS-only runtime for a native `bootstrap`.
pub const RUNTIME: &str = "provided.al2023";

/// What `reads: [table:<key>]` grants on the table: every read, nothing that changes it.
const TABLE_READS: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];

/// What `writes: [table:<key>]` grants on the table: item writes, never table changes.
const TABLE_WRITES: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

/// Every function, and the assets-bucket parameter their code comes from.
pub(crate) fn synthesize(stack: &mut Stack) {
    if stack.model.functions.is_empty() {
        return;
    }
    stack.template.add_parameter(
        ids::assets_bucket(),
        Parameter {
            parameter_type: ParameterType::String,
            description: "S3 bucket holding the functions' code (gen deploy sets it)".into(),
            allowed_pattern: Some("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$".into()),
            constraint_description: Some("an S3 bucket name".into()),
        },
    );
    for (key, spec) in &stack.model.functions {
        function(stack, key, spec);
    }
}

fn function(stack: &mut Stack, key: &Key, spec: &FunctionSpec) {
    stack.template.set_group(Some(key.as_str()));
    function_resources(stack, key, spec);
    stack.template.set_group(None);
}

/// Everything of one function (its group: what stays together in one stack).
fn function_resources(stack: &mut Stack, key: &Key, spec: &FunctionSpec) {
    let naming = stack.naming();
    let name = naming.function(key).into_string();
    let id = ids::function(key);
    let role_id = ids::function_role(key);
    let log_group_id = ids::function_log_group(key);
    let code_key_id = ids::function_code_key(key);

    let log_group_name = naming.function_log_group(key).into_string();
    stack.add_log_group(&log_group_id, &log_group_name, spec.log_retention_days);

    // S3 invokes asynchronously: after Lambda's two retries a failed event would be dropped.
    // A dead-letter queue keeps it (14 days) and an alarm says it is there.
    // A stream mapping likewise drops a batch once its retries are spent: its on-failure
    // destination is the same queue.
    let dead_letters = spec
        .has_dead_letter_queue()
        .then(|| dead_letter_queue(stack, key));

    let trust = PolicyDocument::new(vec![
        Statement::allow(&["sts:AssumeRole"])
            .principal(Principal::Service("lambda.amazonaws.com".into())),
    ]);
    let execution = execution_policy(stack, spec, &log_group_id, dead_letters.as_ref());
    for (file, document, is_trust) in [
        (format!("function-{key}-trust"), trust.clone(), true),
        (format!("function-{key}"), execution.clone(), false),
    ] {
        stack.record_policy(PolicyRecord {
            name: file,
            manifest_path: format!("functions.{key}"),
            limit: if is_trust {
                PolicyLimit::None
            } else {
                PolicyLimit::RoleInline
            },
            trust: is_trust,
            document,
        });
    }
    let mut role = Resource::new("AWS::IAM::Role")
        .prop(
            "Description",
            format!("Execution role of the Lambda function {name}"),
        )
        .prop("AssumeRolePolicyDocument", trust.to_value())
        .prop(
            "Policies",
            vec![map! {
                "PolicyName" => "least-privilege",
                "PolicyDocument" => execution.to_value(),
            }],
        );
    if let Some(tags) = stack.tags() {
        role = role.prop("Tags", tags);
    }
    stack.template.add(role_id.clone(), role);

    stack.template.add_parameter(
        code_key_id.clone(),
        Parameter {
            parameter_type: ParameterType::String,
            description: format!("S3 key of the zipped `bootstrap` of {name} (gen deploy sets it)"),
            allowed_pattern: Some("^.+\\.zip$".into()),
            constraint_description: Some("the S3 key of a .zip file".into()),
        },
    );

    let mut variables: Vec<(String, Value)> = spec
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), Value::str(v)))
        .collect();
    if let Some(api) = &stack.model.api
        && api.functions().contains(key)
    {
        let origins = super::api::cors_origins(stack);
        if !origins.is_empty() {
            // Read by the HTTP glue to answer the site's browser (CORS).
            variables.push((
                "CORS_ORIGINS".to_owned(),
                super::api::joined(&origins).into(),
            ));
        }
    }
    for secret in &spec.secrets {
        // The ARN, never the value: the code fetches the value at run time.
        variables.push((
            FunctionSpec::secret_env_var(secret),
            super::secrets::arn(stack, secret),
        ));
    }
    for bucket in spec.buckets() {
        variables.push((
            FunctionSpec::bucket_env_var(bucket),
            stack.bucket_name(bucket.as_str()).into(),
        ));
    }
    for table in spec.tables() {
        variables.push((
            FunctionSpec::table_env_var(table),
            naming.table(table).into(),
        ));
    }
    let mut function = Resource::new("AWS::Lambda::Function")
        .prop("FunctionName", name.as_str())
        .prop("Runtime", RUNTIME)
        .prop("Handler", "bootstrap")
        .prop(
            "Architectures",
            vec![match spec.architecture {
                Architecture::X86_64 => "x86_64",
                Architecture::Arm64 => "arm64",
            }],
        )
        .prop("MemorySize", spec.memory_mb)
        .prop("Timeout", spec.timeout_seconds)
        .prop("Role", Value::get_att(&role_id, "Arn"))
        .prop(
            "Code",
            map! {
                "S3Bucket" => Value::reference(&ids::assets_bucket()),
                "S3Key" => Value::reference(&code_key_id),
            },
        )
        .prop(
            "LoggingConfig",
            map! { "LogGroup" => Value::reference(&log_group_id) },
        );
    if let Some(description) = &spec.description {
        function = function.prop("Description", description.as_str());
    }
    if !variables.is_empty() {
        function = function.prop(
            "Environment",
            map! { "Variables" => Value::Map(variables.into_iter().collect()) },
        );
    }
    if let Some(tags) = stack.tags() {
        function = function.prop("Tags", tags);
    }
    // Its managed policies are attached by their own resources: wait for them.
    for policy in super::iam::attached_to_function(&spec.policies) {
        function = function.depends_on(&policy);
    }
    let mut skips = vec![
        (
            "CKV_AWS_117",
            "The function reaches only AWS APIs; a VPC would add NAT cost and cold-start latency for no isolation gain",
        ),
        (
            "CKV_AWS_115",
            "Concurrency is left to the account pool; a per-function reservation is a capacity decision for the user",
        ),
        (
            "CKV_AWS_173",
            "Environment variables hold bucket names and user settings only, never secrets; Lambda encrypts them at rest with an AWS key",
        ),
    ];
    match dead_letters.as_ref().filter(|_| !spec.s3_triggers.is_empty()) {
        Some(queue) => {
            function = function.prop("DeadLetterConfig", map! { "TargetArn" => Value::get_att(queue, "Arn") });
        }
        None if spec.dynamodb_triggers.is_empty() => skips.push((
            "CKV_AWS_116",
            "No asynchronous trigger: callers get errors back directly (S3-triggered functions get a dead-letter queue)",
        )),
        None => skips.push((
            "CKV_AWS_116",
            "Invoked by a stream mapping, not asynchronously: a batch that fails every retry goes to the dead-letter queue through the mapping's on-failure destination",
        )),
    }
    function.metadata.insert("checkov".into(), skip(&skips));
    stack.template.add(id.clone(), function);
    stack.know(&id, Some("Arn"), stack.function_arn(key));

    let trigger_buckets: BTreeSet<&Key> = spec.s3_triggers.iter().map(|t| &t.bucket).collect();
    for bucket in trigger_buckets {
        stack.template.add(
            ids::s3_permission(key, bucket),
            Resource::new("AWS::Lambda::Permission")
                .prop("Action", "lambda:InvokeFunction")
                .prop("FunctionName", Value::get_att(&id, "Arn"))
                .prop("Principal", "s3.amazonaws.com")
                // Both: an ARN alone would let a same-named bucket in another account invoke.
                .prop("SourceArn", stack.bucket_arn(bucket.as_str(), ""))
                .prop("SourceAccount", Value::pseudo(Pseudo::AccountId)),
        );
    }

    for trigger in &spec.dynamodb_triggers {
        let queue = dead_letters
            .as_ref()
            .expect("a function with a stream trigger has a dead-letter queue");
        let mapping = Resource::new("AWS::Lambda::EventSourceMapping")
            .prop("FunctionName", Value::reference(&id))
            .prop(
                "EventSourceArn",
                Value::get_att(&ids::table(&trigger.table), "StreamArn"),
            )
            .prop(
                "StartingPosition",
                match trigger.starting_position {
                    StartingPosition::Latest => "LATEST",
                    StartingPosition::TrimHorizon => "TRIM_HORIZON",
                },
            )
            .prop("BatchSize", trigger.batch_size)
            // A failing record is isolated by halving the batch, not retried with the
            // whole batch until the stream's 24 hours run out.
            .prop("BisectBatchOnFunctionError", true)
            .prop("MaximumRetryAttempts", trigger.retry_attempts)
            .prop(
                "DestinationConfig",
                map! { "OnFailure" => map! { "Destination" => Value::get_att(queue, "Arn") } },
            )
            .prop("FunctionResponseTypes", vec!["ReportBatchItemFailures"]);
        stack
            .template
            .add(ids::stream_mapping(key, &trigger.table), mapping);
    }

    stack.template.add_output(
        LogicalId::from_path(&["function", key.as_str(), "Arn"]),
        Output {
            description: format!("ARN of the function {name}"),
            value: Value::get_att(&id, "Arn"),
        },
    );
}

/// Least privilege: write to its own log group; per declared bucket, exactly the object
/// actions on `bucket/*` and listing on the bucket itself.
fn execution_policy(
    stack: &Stack,
    spec: &FunctionSpec,
    log_group: &LogicalId,
    dead_letters: Option<&LogicalId>,
) -> PolicyDocument {
    let mut statements = vec![
        Statement::allow(&["logs:CreateLogStream", "logs:PutLogEvents"])
            .sid("WriteOwnLogs")
            .resource(Value::get_att(log_group, "Arn")),
    ];
    for secret in &spec.secrets {
        statements.push(
            Statement::allow(&["secretsmanager:GetSecretValue"])
                .sid(&format!(
                    "Read{}Secret",
                    crate::cfn::pascal_case(secret.as_str())
                ))
                .resource(super::secrets::arn(stack, secret)),
        );
    }
    if let Some(queue) = dead_letters {
        statements.push(
            Statement::allow(&["sqs:SendMessage"])
                .sid("SendFailedEventsToDeadLetterQueue")
                .resource(Value::get_att(queue, "Arn")),
        );
    }
    for bucket in &spec.reads {
        let pascal = crate::cfn::pascal_case(bucket.as_str());
        statements.push(
            Statement::allow(&["s3:ListBucket"])
                .sid(&format!("List{pascal}"))
                .resource(stack.bucket_arn(bucket.as_str(), "")),
        );
        statements.push(
            Statement::allow(&["s3:GetObject"])
                .sid(&format!("Read{pascal}Objects"))
                .resource(stack.bucket_arn(bucket.as_str(), "/*")),
        );
    }
    for bucket in &spec.writes {
        statements.push(
            Statement::allow(&["s3:PutObject"])
                .sid(&format!(
                    "Write{}Objects",
                    crate::cfn::pascal_case(bucket.as_str())
                ))
                .resource(stack.bucket_arn(bucket.as_str(), "/*")),
        );
    }
    for table in &spec.table_reads {
        let pascal = crate::cfn::pascal_case(table.as_str());
        statements.push(
            Statement::allow(TABLE_READS)
                .sid(&format!("Read{pascal}Table"))
                .resource(stack.table_arn(table, "")),
        );
        if stack
            .model
            .tables
            .get(table)
            .is_some_and(|t| !t.indexes.is_empty())
        {
            statements.push(
                Statement::allow(&["dynamodb:Query", "dynamodb:Scan"])
                    .sid(&format!("Query{pascal}Indexes"))
                    .resource(stack.table_arn(table, "/index/*")),
            );
        }
    }
    for table in &spec.table_writes {
        statements.push(
            Statement::allow(TABLE_WRITES)
                .sid(&format!(
                    "Write{}Table",
                    crate::cfn::pascal_case(table.as_str())
                ))
                .resource(stack.table_arn(table, "")),
        );
    }
    if !spec.dynamodb_triggers.is_empty() {
        // The stream's ARN ends in a label DynamoDB picks when the stream is created; this
        // table's streams are `table/<name>/stream/*`.
        let mut read_streams = Statement::allow(&[
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        ])
        .sid("ReadTriggerStreams");
        for trigger in &spec.dynamodb_triggers {
            read_streams = read_streams.resource(stack.table_arn(&trigger.table, "/stream/*"));
        }
        statements.push(read_streams);
        // Lambda's poller lists the streams first; ListStreams has no resource but `*`.
        statements.push(
            Statement::allow(&["dynamodb:ListStreams"])
                .sid("ListStreams")
                .resource(Value::str("*")),
        );
    }
    PolicyDocument::new(statements)
}

/// The function's dead-letter queue (SSE, 14 days) and an alarm on anything landing in it.
fn dead_letter_queue(stack: &mut Stack, key: &Key) -> LogicalId {
    let naming = stack.naming();
    let queue_name = naming.dead_letter_queue(key).into_string();
    let function_name = naming.function(key);
    let alarm_name = naming.function_alarm(key, FunctionAlarm::DeadLetters);
    let queue_id = LogicalId::from_path(&["function", key.as_str(), "DeadLetterQueue"]);
    let mut queue = Resource::new("AWS::SQS::Queue")
        .prop("QueueName", queue_name.as_str())
        .prop("MessageRetentionPeriod", 1_209_600u32)
        .prop("SqsManagedSseEnabled", true)
        // Failed events are evidence too.
        .removal(RemovalPolicy::Retain);
    if let Some(tags) = stack.tags() {
        queue = queue.prop("Tags", tags);
    }
    queue.metadata.insert("checkov".into(), skip(&[(
        "CKV_AWS_27",
        "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); this checkov version only recognises KMS keys",
    )]));
    stack.template.add(queue_id.clone(), queue);
    stack.know(&queue_id, Some("Arn"), regional_arn("sqs", &queue_name));
    let alarm = Resource::new("AWS::CloudWatch::Alarm")
        .prop("AlarmName", alarm_name)
        .prop(
            "AlarmDescription",
            format!("{function_name}: an event failed every retry and waits in {queue_name}"),
        )
        .prop("Namespace", "AWS/SQS")
        .prop("MetricName", "ApproximateNumberOfMessagesVisible")
        .prop(
            "Dimensions",
            vec![map! { "Name" => "QueueName", "Value" => Value::get_att(&queue_id, "QueueName") }],
        )
        .prop("Statistic", "Maximum")
        .prop("Period", 300u32)
        .prop("EvaluationPeriods", 1u32)
        .prop("Threshold", 1u32)
        .prop("ComparisonOperator", "GreaterThanOrEqualToThreshold")
        .prop("TreatMissingData", "notBreaching");
    let alarm = stack.notify(alarm);
    stack.template.add(
        LogicalId::from_path(&["function", key.as_str(), "DeadLettersAlarm"]),
        alarm,
    );
    queue_id
}
