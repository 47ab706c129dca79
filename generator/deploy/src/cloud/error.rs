//! Which call failed and why: every SDK error becomes a [`DeployError`] that names the call,
//! and for a denial the IAM permission it needs.

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use crate::DeployError;

/// An AWS API call, named as in error messages and IAM.
#[derive(Clone, Copy, Debug)]
pub(super) struct Call {
    pub(super) operation: &'static str,
    permission: &'static str,
}

const fn call(operation: &'static str, permission: &'static str) -> Call {
    Call {
        operation,
        permission,
    }
}

pub(super) const DESCRIBE_STACKS: Call = call("DescribeStacks", "cloudformation:DescribeStacks");
pub(super) const DESCRIBE_STACK_EVENTS: Call =
    call("DescribeStackEvents", "cloudformation:DescribeStackEvents");
pub(super) const DESCRIBE_STACK_RESOURCES: Call = call(
    "DescribeStackResources",
    "cloudformation:DescribeStackResources",
);
pub(super) const CREATE_STACK: Call = call("CreateStack", "cloudformation:CreateStack");
pub(super) const DELETE_STACK: Call = call("DeleteStack", "cloudformation:DeleteStack");
pub(super) const CREATE_CHANGE_SET: Call =
    call("CreateChangeSet", "cloudformation:CreateChangeSet");
pub(super) const DESCRIBE_CHANGE_SET: Call =
    call("DescribeChangeSet", "cloudformation:DescribeChangeSet");
pub(super) const EXECUTE_CHANGE_SET: Call =
    call("ExecuteChangeSet", "cloudformation:ExecuteChangeSet");
pub(super) const DELETE_CHANGE_SET: Call =
    call("DeleteChangeSet", "cloudformation:DeleteChangeSet");
pub(super) const GET_TEMPLATE: Call = call("GetTemplate", "cloudformation:GetTemplate");
pub(super) const GET_CALLER_IDENTITY: Call = call("GetCallerIdentity", "sts:GetCallerIdentity");
pub(super) const UPDATE_TERMINATION_PROTECTION: Call = call(
    "UpdateTerminationProtection",
    "cloudformation:UpdateTerminationProtection",
);
pub(super) const SET_STACK_POLICY: Call = call("SetStackPolicy", "cloudformation:SetStackPolicy");
pub(super) const HEAD_OBJECT: Call = call(
    "HeadObject",
    "s3:GetObject (and s3:ListBucket, or a missing object reads as 403)",
);
pub(super) const PUT_OBJECT: Call = call("PutObject", "s3:PutObject");
pub(super) const LIST_STACKS: Call = call("ListStacks", "cloudformation:ListStacks");
pub(super) const LIST_STACK_RESOURCES: Call =
    call("ListStackResources", "cloudformation:ListStackResources");
pub(super) const HEAD_BUCKET: Call = call("HeadBucket", "s3:ListBucket");
pub(super) const DESCRIBE_LOG_GROUPS: Call = call("DescribeLogGroups", "logs:DescribeLogGroups");
pub(super) const DESCRIBE_SECRET: Call = call("DescribeSecret", "secretsmanager:DescribeSecret");
pub(super) const GET_QUEUE_URL: Call = call("GetQueueUrl", "sqs:GetQueueUrl");
pub(super) const DESCRIBE_TABLE: Call = call("DescribeTable", "dynamodb:DescribeTable");
pub(super) const LIST_OBJECTS_V2: Call = call("ListObjectsV2", "s3:ListBucket");
pub(super) const LIST_OBJECT_VERSIONS: Call = call("ListObjectVersions", "s3:ListBucketVersions");
pub(super) const GET_OBJECT_TAGGING: Call = call("GetObjectTagging", "s3:GetObjectTagging");
pub(super) const PUT_OBJECT_TAGGING: Call = call("PutObjectTagging", "s3:PutObjectTagging");
pub(super) const DELETE_OBJECTS: Call = call(
    "DeleteObjects",
    "s3:DeleteObject (and s3:DeleteObjectVersion for a versioned bucket)",
);
pub(super) const CREATE_INVALIDATION: Call =
    call("CreateInvalidation", "cloudfront:CreateInvalidation");
pub(super) const UPDATE_FUNCTION_CODE: Call =
    call("UpdateFunctionCode", "lambda:UpdateFunctionCode");
pub(super) const GET_FUNCTION_CONFIGURATION: Call = call(
    "GetFunctionConfiguration",
    "lambda:GetFunctionConfiguration",
);
pub(super) const GET_INVALIDATION: Call = call("GetInvalidation", "cloudfront:GetInvalidation");

/// The codes AWS services throttle with (the SDK's standard retry treats the same ones as
/// throttling): by the time one reaches [`classify`], every attempt was throttled.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
];

/// Turns an SDK error into what the user needs: which call, and why.
pub(super) fn classify<E>(call: Call, endpoint: &str, error: SdkError<E>) -> DeployError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if matches!(
        error,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        return DeployError::Unreachable {
            operation: call.operation,
            endpoint: endpoint.to_owned(),
            message: causes(&error),
        };
    }
    let status = error.raw_response().map(|r| r.status().as_u16());
    // The service's own words when it sent some; the SDK's Debug dump helps nobody.
    let message = match (error.message(), status) {
        (Some(message), _) => message.to_owned(),
        (None, Some(status)) => format!("HTTP {status} with no error message"),
        (None, None) => causes(&error),
    };
    match (error.code(), status) {
        (
            Some(
                "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "AuthorizationError",
            ),
            _,
        )
        | (None, Some(403)) => DeployError::AccessDenied {
            operation: call.operation,
            permission: call.permission,
            message,
        },
        (
            Some(
                code @ ("ExpiredToken"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "UnrecognizedClientException"
                | "InvalidAccessKeyId"),
            ),
            _,
        ) => DeployError::BadCredentials {
            operation: call.operation,
            code: code.to_owned(),
            message,
        },
        (Some(code), _) if THROTTLING.contains(&code) => DeployError::Throttled {
            operation: call.operation,
            attempts: super::MAX_ATTEMPTS,
            message: format!("{code}: {message}"),
        },
        (None, Some(429)) => DeployError::Throttled {
            operation: call.operation,
            attempts: super::MAX_ATTEMPTS,
            message,
        },
        // S3 answers a HEAD request (HeadObject, HeadBucket) without a body, so its SlowDown
        // arrives as a bare 503 with no code: read as throttling, as SlowDown is elsewhere.
        (None, Some(503)) if call.operation.starts_with("Head") => DeployError::Throttled {
            operation: call.operation,
            attempts: super::MAX_ATTEMPTS,
            message: "HTTP 503 with no body, how S3 sends SlowDown to a HEAD request".to_owned(),
        },
        (code, Some(status @ 500..=599)) => DeployError::Unavailable {
            operation: call.operation,
            attempts: super::MAX_ATTEMPTS,
            status,
            message: match code {
                Some(code) => format!("{code}: {message}"),
                None => message,
            },
        },
        (Some("ValidationError"), _) => DeployError::Rejected {
            operation: call.operation,
            message,
        },
        (code, _) => DeployError::Aws {
            operation: call.operation,
            message: match code {
                Some(code) => format!("{code}: {message}"),
                None => message,
            },
        },
    }
}

/// An error and its sources, one clause each: `dispatch failure: … Connection refused`.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

pub(super) fn is_missing_stack<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.code() == Some("ValidationError")
        && error
            .message()
            .is_some_and(|m| m.contains("does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::error::ErrorMetadata;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;

    fn service_error(code: Option<&str>, status: u16) -> SdkError<DescribeStacksError> {
        let mut meta = ErrorMetadata::builder().message("the service's words");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        SdkError::service_error(
            DescribeStacksError::generic(meta.build()),
            HttpResponse::new(status.try_into().unwrap(), SdkBody::empty()),
        )
    }

    fn classified(error: SdkError<DescribeStacksError>) -> DeployError {
        classify(DESCRIBE_STACKS, "http://127.0.0.1:1", error)
    }

    #[test]
    fn access_denied_names_the_call_and_the_permission() {
        for (code, status) in [(Some("AccessDenied"), 403), (None, 403)] {
            let error = classified(service_error(code, status));
            assert!(
                matches!(error, DeployError::AccessDenied { .. }),
                "{error:?}"
            );
            let text = error.to_string();
            assert!(text.contains("calling DescribeStacks"), "{text}");
            assert!(text.contains("`cloudformation:DescribeStacks`"), "{text}");
        }
    }

    #[test]
    fn rejected_credentials_and_validation_errors_are_told_apart() {
        let error = classified(service_error(Some("ExpiredToken"), 400));
        assert!(
            error
                .to_string()
                .contains("rejected the credentials (ExpiredToken)")
        );
        let error = classified(service_error(Some("ValidationError"), 400));
        assert_eq!(
            error.to_string(),
            "CloudFormation rejected DescribeStacks: the service's words"
        );
        let error = classified(service_error(Some("SomethingElse"), 400));
        assert!(matches!(error, DeployError::Aws { .. }), "{error:?}");
    }

    #[test]
    fn throttling_and_5xx_that_outlast_the_retries_say_so_and_what_to_do() {
        for (code, status) in [
            (Some("Throttling"), 400),
            (Some("SlowDown"), 503),
            (None, 429),
        ] {
            let text = classified(service_error(code, status)).to_string();
            assert!(
                text.starts_with(&format!(
                    "AWS throttled DescribeStacks after {} attempts (",
                    crate::cloud::MAX_ATTEMPTS
                )),
                "{text}"
            );
            assert!(text.contains("wait a minute and rerun"), "{text}");
        }
        let text = classified(service_error(Some("InternalFailure"), 500)).to_string();
        assert_eq!(
            text.lines().next().unwrap(),
            format!(
                "DescribeStacks failed after {} attempts with HTTP 500 (InternalFailure: the service's words): a problem on AWS's side",
                crate::cloud::MAX_ATTEMPTS
            )
        );
    }

    #[test]
    fn a_bare_503_to_a_head_request_is_s3_throttling() {
        // What the SDK makes of S3's SlowDown to HeadObject: no body, so no code or message.
        let bare = || {
            SdkError::service_error(
                DescribeStacksError::generic(ErrorMetadata::builder().build()),
                HttpResponse::new(503.try_into().unwrap(), SdkBody::empty()),
            )
        };
        let text = classify(HEAD_OBJECT, "http://127.0.0.1:1", bare()).to_string();
        assert_eq!(
            text.lines().next().unwrap(),
            format!(
                "AWS throttled HeadObject after {} attempts (HTTP 503 with no body, how S3 sends SlowDown to a HEAD request): too many calls to this account and region at once",
                crate::cloud::MAX_ATTEMPTS
            )
        );
        // Another call's bare 503 is still AWS's side.
        let text = classify(PUT_OBJECT, "http://127.0.0.1:1", bare()).to_string();
        assert!(
            text.starts_with(
                "PutObject failed after 6 attempts with HTTP 503 (HTTP 503 with no error message)"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_connection_failure_names_the_endpoint_and_the_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let error = classified(SdkError::dispatch_failure(ConnectorError::io(io.into())));
        let text = error.to_string();
        assert!(
            text.starts_with("cannot reach http://127.0.0.1:1 (calling DescribeStacks)"),
            "{text}"
        );
        assert!(text.contains("Connection refused"), "{text}");
    }
}
