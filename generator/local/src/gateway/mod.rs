//! `gen dev`'s local API Gateway: the REST API of the GENERATED template (not a second
//! description of it), served on 127.0.0.1 as API Gateway serves it: `/{stage}/{path}` URLs,
//! the resource tree with `{param}` and `{proxy+}` segments and `ANY`, Lambda proxy
//! integrations (the v1 proxy event, the proxy response), TOKEN Lambda authorizers with their
//! result cache, MOCK integrations (the CORS preflight the generator writes) and gateway
//! responses. What the template has that is not emulated is named by
//! [`Gateway::not_emulated`], never silently dropped.
//!
//! [`template`] reads the templates into a [`Gateway`]; [`handle`] decides one request (the
//! functions behind a [`Functions`] trait the CLI implements); [`server`] is the listener.

mod auth;
mod event;
mod handle;
mod server;
mod template;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use server::GatewayServer;

/// A template shape the gateway cannot read.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("`{logical_id}`: {message}")]
    Shape { logical_id: String, message: String },
    #[error("`{logical_id}` refers to `{reference}`, which the templates do not declare")]
    Unresolved {
        logical_id: String,
        reference: String,
    },
    #[error("`{logical_id}`: IdentityValidationExpression is not a regular expression: {source}")]
    Expression {
        logical_id: String,
        source: regex::Error,
    },
    #[error("the template declares {0} REST APIs; the local gateway serves one")]
    SeveralApis(usize),
    #[error("REST API `{0}` has no AWS::ApiGateway::Stage (nor a Deployment with a StageName)")]
    NoStage(String),
}

/// One route, for the CLI to print at start.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteSummary {
    pub method: String,
    /// `/user-profile/{id}`.
    pub path: String,
    /// The FunctionName of its Lambda proxy integration; `None` for MOCK and others.
    pub function: Option<String>,
    /// The authorizer's Name (its logical id when it has none).
    pub authorizer: Option<String>,
}

/// How the gateway reaches functions (the CLI implements it with long-lived processes).
pub trait Functions: Send + Sync + 'static {
    /// Invoke `function_name` (a FunctionName) with a JSON event; Ok(body of the Runtime API's
    /// /response), Err(Invocation failure). Must not panic.
    fn invoke(
        &self,
        function_name: &str,
        event: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, Failure>> + Send + '_>>;
}

/// Why an invocation gave no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The function's `/error` body.
    Error(crate::FunctionError),
    /// Timed out, exited, could not start.
    Crashed(String),
}

/// What the request context says about where the API runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub region: String,
    pub account: String,
    /// e.g. `local`: the API id in method ARNs and `requestContext.apiId`.
    pub api_id: String,
}

/// One handled request, for the CLI's log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    pub method: String,
    /// The request's path, stage included, without the query string.
    pub path: String,
    pub status: u16,
    /// The integration's function, when one was invoked.
    pub function: Option<String>,
    /// `Allow`, `Deny`, `Unauthorized`, `cached Allow`, `cached Deny`, `error`, `not invoked`…
    pub authorizer: Option<String>,
    pub duration: Duration,
    /// Why the answer is what it is, when it is not the function's own.
    pub note: Option<String>,
}

/// The REST API of a template, ready to serve.
#[derive(Debug)]
pub struct Gateway {
    stage: String,
    stage_variables: Option<BTreeMap<String, String>>,
    /// `resources[0]` is the root (`/`).
    resources: Vec<Resource>,
    authorizers: BTreeMap<String, Authorizer>,
    /// By ResponseType.
    responses: BTreeMap<String, GatewayResponse>,
    not_emulated: Vec<String>,
}

#[derive(Debug)]
struct Resource {
    /// A stable stand-in for API Gateway's resource id (`requestContext.resourceId`).
    id: String,
    /// `/user-profile/{id}`.
    path: String,
    segments: Vec<Segment>,
    /// By HttpMethod (`ANY` included).
    methods: BTreeMap<String, Method>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug)]
struct Method {
    auth: Auth,
    integration: Integration,
}

#[derive(Debug)]
enum Auth {
    None,
    /// A TOKEN authorizer, by logical id.
    Token(String),
    /// An authorization this gateway does not check (AWS_IAM, COGNITO_USER_POOLS, REQUEST):
    /// the request passes, and the log line says so.
    NotChecked(String),
}

#[derive(Debug)]
enum Integration {
    Lambda {
        function: String,
        timeout: Duration,
    },
    Mock(Mock),
    /// Not emulated: answered 500 with this note.
    Unsupported(String),
}

#[derive(Debug)]
struct Mock {
    status: u16,
    headers: Vec<(String, String)>,
    /// The generated CORS template: this header is set to the request's Origin when it is
    /// one of `origins`.
    echo_origin: Option<(String, Vec<String>)>,
    body: String,
}

#[derive(Debug)]
struct Authorizer {
    name: String,
    function: String,
    /// The header of `method.request.header.X`.
    header: String,
    validation: Option<regex::Regex>,
    ttl: Duration,
}

#[derive(Debug, Default)]
struct GatewayResponse {
    status: Option<u16>,
    headers: Vec<(String, HeaderValue)>,
    /// A template with only `$context.error.*` placeholders, or a literal.
    template: Option<String>,
}

#[derive(Debug)]
enum HeaderValue {
    Literal(String),
    /// `method.request.header.X`: the request's header X, when sent.
    RequestHeader(String),
}

impl Gateway {
    /// `root` is the template with the AWS::ApiGateway::RestApi; `nested` maps the logical id
    /// of each AWS::CloudFormation::Stack resource in `root` to that nested stack's template.
    /// Ok(None) when the template has no REST API.
    pub fn from_template(
        root: &serde_json::Value,
        nested: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Option<Gateway>, GatewayError> {
        template::read(root, nested)
    }

    /// The StageName of the AWS::ApiGateway::Stage.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Every method of every resource, sorted by path then method.
    pub fn routes(&self) -> Vec<RouteSummary> {
        let mut routes: Vec<RouteSummary> = self
            .resources
            .iter()
            .flat_map(|resource| {
                resource.methods.iter().map(|(verb, method)| RouteSummary {
                    method: verb.clone(),
                    path: resource.path.clone(),
                    function: match &method.integration {
                        Integration::Lambda { function, .. } => Some(function.clone()),
                        _ => None,
                    },
                    authorizer: match &method.auth {
                        Auth::Token(id) => Some(self.authorizers[id].name.clone()),
                        _ => None,
                    },
                })
            })
            .collect();
        routes.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        routes
    }

    /// The FunctionName of every function it invokes, authorizers included.
    pub fn functions(&self) -> BTreeSet<String> {
        let integrations = self
            .resources
            .iter()
            .flat_map(|r| r.methods.values())
            .filter_map(|m| match &m.integration {
                Integration::Lambda { function, .. } => Some(function.clone()),
                _ => None,
            });
        let authorizers = self.authorizers.values().map(|a| a.function.clone());
        integrations.chain(authorizers).collect()
    }

    /// One sentence per thing the template has that is not emulated.
    pub fn not_emulated(&self) -> Vec<String> {
        self.not_emulated.clone()
    }

    /// The resource a path (below the stage, as segments) routes to, with its path
    /// parameters. A literal segment beats a parameter, a parameter beats a greedy one,
    /// decided at the first segment where candidates differ (API Gateway's precedence).
    fn route(&self, segments: &[String]) -> Option<(&Resource, BTreeMap<String, String>)> {
        let mut best: Option<(Vec<u8>, &Resource, BTreeMap<String, String>)> = None;
        for resource in &self.resources {
            let Some((rank, parameters)) = matches(&resource.segments, segments) else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _, _)| rank < *b) {
                best = Some((rank, resource, parameters));
            }
        }
        best.map(|(_, resource, parameters)| (resource, parameters))
    }
}

/// Whether `pattern` matches `path`: per segment 0 (literal), 1 (parameter), 2 (greedy),
/// and the parameters (values percent-decoded).
fn matches(pattern: &[Segment], path: &[String]) -> Option<(Vec<u8>, BTreeMap<String, String>)> {
    let mut rank = Vec::new();
    let mut parameters = BTreeMap::new();
    for (i, segment) in pattern.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                if i >= path.len() {
                    return None;
                }
                rank.push(2);
                let rest: Vec<String> =
                    path[i..].iter().map(|s| event::percent_decode(s)).collect();
                parameters.insert(name.clone(), rest.join("/"));
                return Some((rank, parameters));
            }
            Segment::Literal(literal) => {
                if path.get(i) != Some(literal) {
                    return None;
                }
                rank.push(0);
            }
            Segment::Param(name) => {
                let value = path.get(i)?;
                if value.is_empty() {
                    return None;
                }
                rank.push(1);
                parameters.insert(name.clone(), event::percent_decode(value));
            }
        }
    }
    (pattern.len() == path.len()).then_some((rank, parameters))
}
