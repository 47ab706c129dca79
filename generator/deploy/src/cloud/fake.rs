//! A stand-in for CloudFormation behind the SDK's HTTP client: a test answers each call
//! (by its `Action` and parameters) with a status and a body in CloudFormation's XML, and
//! reads back which calls were made. No network, no emulator: the real SDK serializes the
//! requests and parses the answers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_types::body::SdkBody;

use super::Cloud;
use crate::DeployConfig;
use crate::console::Console;

/// One call as the stand-in received it: for the query protocol (CloudFormation, STS) its
/// `Action` and form parameters; for JSON protocols (Logs, Secrets Manager, SQS) the operation
/// its `X-Amz-Target` names; for S3 (REST) `"<METHOD> <path>"`, e.g. `HEAD /bucket`.
#[derive(Clone, Debug)]
pub struct Request {
    pub action: String,
    pub params: BTreeMap<String, String>,
    /// The body of a JSON-protocol call.
    pub json: Option<serde_json::Value>,
    /// The query string's parameters (`?tagging` → {tagging: ""}).
    pub query: BTreeMap<String, String>,
    /// The headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

impl Request {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

/// An answer: status, headers, body.
pub type Reply = (u16, Vec<(String, String)>, String);

type Answer = dyn Fn(&Request) -> Reply + Send + Sync;

#[derive(Clone)]
pub struct Fake {
    answer: Arc<Answer>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fake")
    }
}

impl Fake {
    pub fn new(answer: impl Fn(&Request) -> (u16, String) + Send + Sync + 'static) -> Fake {
        Fake::with_headers(move |request| {
            let (status, body) = answer(request);
            (status, Vec::new(), body)
        })
    }

    /// A stand-in whose answers carry headers too (S3 answers HeadObject in headers).
    pub fn with_headers(answer: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Fake {
        Fake {
            answer: Arc::new(answer),
            requests: Arc::default(),
        }
    }

    /// This fake, answering its first `n` calls with CloudFormation's `Throttling` error.
    pub fn throttling_first(self, n: usize) -> Fake {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let inner = self.answer;
        Fake {
            answer: Arc::new(move |request| {
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                    let (status, body) = error("Throttling", "Rate exceeded");
                    (status, Vec::new(), body)
                } else {
                    inner(request)
                }
            }),
            requests: self.requests,
        }
    }

    /// A connection through this fake, polling without waiting.
    pub fn cloud<'c>(&self, yes: bool, console: &'c dyn Console) -> Cloud<'c> {
        let fake = self.clone();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://cloudformation.test")
            // gen's retries, without their waits.
            .retry_config(
                super::retry_config()
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(1)),
            )
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .http_client(http_client_fn(move |_, _| {
                SharedHttpConnector::new(fake.clone())
            }))
            .build();
        let config = DeployConfig {
            yes,
            poll_interval: Duration::ZERO,
            ..DeployConfig::default()
        };
        Cloud::with_sdk(sdk, config, console)
    }

    /// The actions called so far, in order.
    pub fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.action.clone())
            .collect()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl HttpConnector for Fake {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
        let query = request
            .uri()
            .split_once('?')
            .map(|(_, query)| form(query))
            .unwrap_or_default();
        let headers: BTreeMap<String, String> = request
            .headers()
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        let request = match request.headers().get("x-amz-target") {
            Some(target) => Request {
                action: target.rsplit('.').next().unwrap_or(target).to_owned(),
                params: BTreeMap::new(),
                json: serde_json::from_str(&body).ok(),
                query,
                headers,
                body,
            },
            None => {
                let params = form(&body);
                let action = params.get("Action").cloned().unwrap_or_else(|| {
                    let path = request.uri().split("://").nth(1).unwrap_or(request.uri());
                    let path = path.find('/').map_or("/", |i| &path[i..]);
                    let path = path.split('?').next().unwrap_or(path);
                    format!("{} {path}", request.method())
                });
                Request {
                    action,
                    params,
                    json: None,
                    query,
                    headers,
                    body,
                }
            }
        };
        let (status, reply_headers, xml) = (self.answer)(&request);
        self.requests.lock().unwrap().push(request);
        let mut response = HttpResponse::new(
            status.try_into().expect("an HTTP status"),
            SdkBody::from(xml),
        );
        for (name, value) in reply_headers {
            response.headers_mut().insert(name, value);
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// `a=1&b=x%20y` → {a: 1, b: x y}.
fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- CloudFormation's answers, as XML

pub fn ok(action: &str, result: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{action}Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

/// An error answer, as CloudFormation sends them (HTTP 400).
pub fn error(code: &str, message: &str) -> (u16, String) {
    (
        400,
        format!(
            "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        ),
    )
}

/// DescribeStacks of a stack that is not there.
pub fn no_stack(name: &str) -> (u16, String) {
    error(
        "ValidationError",
        &format!("Stack with id {name} does not exist"),
    )
}

pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/app/1";
pub const CHANGE_SET_ID: &str =
    "arn:aws:cloudformation:us-east-1:111122223333:changeSet/gen-deploy-1/1";

/// DescribeStacks of `app` in `status`, with `outputs`.
pub fn stack(status: &str, outputs: &[(&str, &str)]) -> (u16, String) {
    let outputs: String = outputs
        .iter()
        .map(|(key, value)| {
            format!(
                "<member><OutputKey>{key}</OutputKey><OutputValue>{value}</OutputValue></member>"
            )
        })
        .collect();
    ok(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>app</StackName><StackId>{STACK_ID}</StackId><StackStatus>{status}</StackStatus><CreationTime>2024-01-01T00:00:00Z</CreationTime><Outputs>{outputs}</Outputs></member></Stacks>"
        ),
    )
}

pub fn change_set_created() -> (u16, String) {
    ok(
        "CreateChangeSet",
        &format!("<Id>{CHANGE_SET_ID}</Id><StackId>{STACK_ID}</StackId>"),
    )
}

/// DescribeChangeSet: its status, reason, and the (action, logical ID, type) of its changes.
pub fn change_set(status: &str, reason: &str, changes: &[(&str, &str, &str)]) -> (u16, String) {
    let changes: String = changes
        .iter()
        .map(|(action, id, ty)| {
            format!(
                "<member><Type>Resource</Type><ResourceChange><Action>{action}</Action><LogicalResourceId>{id}</LogicalResourceId><ResourceType>{ty}</ResourceType></ResourceChange></member>"
            )
        })
        .collect();
    ok(
        "DescribeChangeSet",
        &format!(
            "<ChangeSetId>{CHANGE_SET_ID}</ChangeSetId><StackId>{STACK_ID}</StackId><Status>{status}</Status><StatusReason>{reason}</StatusReason><Changes>{changes}</Changes>"
        ),
    )
}

/// DescribeStackEvents, newest first: (event ID, logical ID, type, status, reason).
pub fn events(events: &[(&str, &str, &str, &str, &str)]) -> (u16, String) {
    let members: String = events
        .iter()
        .map(|(id, logical, ty, status, reason)| {
            format!(
                "<member><EventId>{id}</EventId><StackId>{STACK_ID}</StackId><StackName>app</StackName><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{ty}</ResourceType><ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason><Timestamp>2024-01-01T00:00:00Z</Timestamp></member>"
            )
        })
        .collect();
    ok(
        "DescribeStackEvents",
        &format!("<StackEvents>{members}</StackEvents>"),
    )
}

/// ListStacks: (stack ID, name, status, created) of each stack.
pub fn stack_summaries(stacks: &[(&str, &str, &str, &str)]) -> (u16, String) {
    let members: String = stacks
        .iter()
        .map(|(id, name, status, created)| {
            format!(
                "<member><StackId>{id}</StackId><StackName>{name}</StackName><StackStatus>{status}</StackStatus><CreationTime>{created}</CreationTime></member>"
            )
        })
        .collect();
    ok(
        "ListStacks",
        &format!("<StackSummaries>{members}</StackSummaries>"),
    )
}

/// ListStackResources: (logical ID, type, physical ID, status) of each resource.
pub fn resource_summaries(resources: &[(&str, &str, &str, &str)]) -> (u16, String) {
    let members: String = resources
        .iter()
        .map(|(logical, ty, physical, status)| {
            format!(
                "<member><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{ty}</ResourceType><ResourceStatus>{status}</ResourceStatus><LastUpdatedTimestamp>2024-01-01T00:00:00Z</LastUpdatedTimestamp></member>"
            )
        })
        .collect();
    ok(
        "ListStackResources",
        &format!("<StackResourceSummaries>{members}</StackResourceSummaries>"),
    )
}

/// STS GetCallerIdentity of `account`.
pub fn caller(account: &str) -> (u16, String) {
    (
        200,
        format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/test</Arn><UserId>AIDTEST</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        ),
    )
}

/// A JSON-protocol answer (Logs, Secrets Manager, SQS).
pub fn json(status: u16, body: serde_json::Value) -> (u16, String) {
    (status, body.to_string())
}

/// The answer of a call whose result gen does not read.
pub fn done(action: &str) -> (u16, String) {
    ok(action, "")
}

mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let params = form("Action=CreateChangeSet&TemplateBody=%7B%22a%22%3A+1%7D&X=%&Y=");
        assert_eq!(params["Action"], "CreateChangeSet");
        assert_eq!(params["TemplateBody"], "{\"a\": 1}");
        assert_eq!(params["X"], "%");
        assert_eq!(params["Y"], "");
    }
}
