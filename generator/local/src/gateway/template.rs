//! Reading a [`Gateway`] from the generated CloudFormation: the root template (with the
//! REST API) and the nested stacks' templates, through which a split app's function ARNs
//! reach the root (`Fn::GetAtt [StackX, Outputs.Y]`). Every property is either read, known
//! to have no local effect, or named in `not_emulated`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Map, Value};

use super::{
    Auth, Authorizer, Gateway, GatewayError, GatewayResponse, HeaderValue, Integration, Method,
    Mock, Resource, Segment,
};

/// API Gateway's integration timeout (REST APIs, the default and the usual maximum).
pub(super) const INTEGRATION_TIMEOUT: Duration = Duration::from_millis(29_000);
/// AuthorizerResultTtlInSeconds when the template does not say.
const DEFAULT_TTL: u64 = 300;

type Result<T> = std::result::Result<T, GatewayError>;

fn shape(logical_id: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::Shape {
        logical_id: logical_id.to_owned(),
        message: message.into(),
    }
}

/// One template and the nested ones it can reach (only the root has them).
#[derive(Clone, Copy)]
struct Tpl<'a> {
    resources: &'a Map<String, Value>,
    outputs: Option<&'a Map<String, Value>>,
    nested: Option<&'a BTreeMap<String, Value>>,
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Tpl<'a> {
    fn new(template: &'a Value, nested: Option<&'a BTreeMap<String, Value>>) -> Tpl<'a> {
        Tpl {
            resources: template
                .get("Resources")
                .and_then(Value::as_object)
                .unwrap_or(&EMPTY),
            outputs: template.get("Outputs").and_then(Value::as_object),
            nested,
        }
    }

    fn of_type(&self, kind: &str) -> Vec<(&'a str, &'a Map<String, Value>)> {
        self.resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|(id, r)| {
                (
                    id.as_str(),
                    r.get("Properties")
                        .and_then(Value::as_object)
                        .unwrap_or(&EMPTY),
                )
            })
            .collect()
    }

    fn kind(&self, id: &str) -> Option<&'a str> {
        self.resources.get(id)?.get("Type")?.as_str()
    }

    /// The FunctionName behind an ARN-valued expression (`GetAtt [Fn, Arn]`, a nested stack's
    /// output, a literal ARN).
    fn function_of(&self, owner: &str, value: &Value) -> Result<String> {
        if let Some(arn) = value.as_str() {
            return function_in_arn(owner, arn);
        }
        let Some((target, attribute)) = get_att(value) else {
            return Err(shape(
                owner,
                format!("a function ARN given as {value}, which is not a GetAtt"),
            ));
        };
        match self.kind(target) {
            Some("AWS::Lambda::Function") if attribute == "Arn" => self.function_name(target),
            Some("AWS::CloudFormation::Stack") => {
                let output = attribute.strip_prefix("Outputs.").ok_or_else(|| {
                    shape(
                        owner,
                        format!("GetAtt {target}.{attribute} is not an output"),
                    )
                })?;
                let child = self.nested.and_then(|n| n.get(target)).ok_or_else(|| {
                    GatewayError::Unresolved {
                        logical_id: owner.to_owned(),
                        reference: format!("the template of nested stack {target}"),
                    }
                })?;
                let child = Tpl::new(child, None);
                let value = child
                    .outputs
                    .and_then(|o| o.get(output))
                    .and_then(|o| o.get("Value"))
                    .ok_or_else(|| GatewayError::Unresolved {
                        logical_id: owner.to_owned(),
                        reference: format!("{target}.Outputs.{output}"),
                    })?;
                child.function_of(owner, value)
            }
            Some(other) => Err(shape(
                owner,
                format!("GetAtt {target}.{attribute} of a {other} is not a function ARN"),
            )),
            None => Err(GatewayError::Unresolved {
                logical_id: owner.to_owned(),
                reference: target.to_owned(),
            }),
        }
    }

    fn function_name(&self, function: &str) -> Result<String> {
        self.resources[function]
            .pointer("/Properties/FunctionName")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| shape(function, "its FunctionName is not a literal string"))
    }

    /// The function of a Lambda integration URI
    /// (`arn:…:apigateway:…:lambda:path/2015-03-31/functions/ARN/invocations`).
    fn uri_function(&self, owner: &str, uri: &Value) -> Result<String> {
        let (text, variables) = sub_text(uri)
            .ok_or_else(|| shape(owner, format!("an integration Uri {uri} that is not a Sub")))?;
        let arn = text
            .split_once("/functions/")
            .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
            .ok_or_else(|| {
                shape(
                    owner,
                    format!("integration Uri `{text}` is not a Lambda function's"),
                )
            })?;
        let Some(placeholder) = arn.strip_prefix("${").and_then(|a| a.strip_suffix('}')) else {
            return function_in_arn(owner, arn);
        };
        if let Some(value) = variables.and_then(|v| v.get(placeholder)) {
            return self.function_of(owner, value);
        }
        match placeholder.split_once('.') {
            Some((target, attribute)) => self.function_of(
                owner,
                &serde_json::json!({ "Fn::GetAtt": [target, attribute] }),
            ),
            None => Err(shape(
                owner,
                format!(
                    "integration Uri takes the function ARN from `${{{placeholder}}}`, a parameter"
                ),
            )),
        }
    }
}

fn function_in_arn(owner: &str, arn: &str) -> Result<String> {
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    arn.split(":function:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .filter(|name| !name.is_empty() && !name.contains('$'))
        .map(str::to_owned)
        .ok_or_else(|| shape(owner, format!("`{arn}` is not a Lambda function ARN")))
}

fn reference(value: &Value) -> Option<&str> {
    value.get("Ref")?.as_str()
}

fn get_att(value: &Value) -> Option<(&str, &str)> {
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => match parts.as_slice() {
            [Value::String(a), Value::String(b)] => Some((a, b)),
            _ => None,
        },
        Value::String(dotted) => dotted.split_once('.'),
        _ => None,
    }
}

/// The text of a literal or a `Fn::Sub` (with its variables map, if any).
fn sub_text(value: &Value) -> Option<(&str, Option<&Map<String, Value>>)> {
    match value {
        Value::String(text) => Some((text, None)),
        _ => match value.get("Fn::Sub")? {
            Value::String(text) => Some((text, None)),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(text), Value::Object(variables)] => Some((text, Some(variables))),
                _ => None,
            },
            _ => None,
        },
    }
}

/// A Sub text with the variables that are literal strings substituted.
fn substitute(text: &str, variables: Option<&Map<String, Value>>) -> String {
    let mut text = text.to_owned();
    for (name, value) in variables.into_iter().flatten() {
        if let Some(literal) = value.as_str() {
            text = text.replace(&format!("${{{name}}}"), literal);
        }
    }
    text
}

/// A stable 10-character stand-in for an API Gateway id.
pub(super) fn short_id(seed: &str) -> String {
    // FNV-1a, 64 bits, in base 36.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..10)
        .map(|_| {
            let d = digits[(hash % 36) as usize] as char;
            hash /= 36;
            d
        })
        .collect()
}

/// Collects sentences about properties that are neither read nor without local effect.
struct Report {
    sentences: Vec<String>,
}

impl Report {
    fn say(&mut self, sentence: impl Into<String>) {
        self.sentences.push(sentence.into());
    }

    /// Names each property of `properties` outside `known`.
    fn rest(&mut self, what: &str, properties: &Map<String, Value>, known: &[&str]) {
        for name in properties.keys() {
            if !known.contains(&name.as_str()) {
                self.say(format!("{what}: property {name} is not emulated"));
            }
        }
    }
}

pub(super) fn read(root: &Value, nested: &BTreeMap<String, Value>) -> Result<Option<Gateway>> {
    let tpl = Tpl::new(root, Some(nested));
    let apis = tpl.of_type("AWS::ApiGateway::RestApi");
    let (api_id, api) = match apis.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        more => return Err(GatewayError::SeveralApis(more.len())),
    };
    let mut report = Report {
        sentences: Vec::new(),
    };
    read_api(api_id, api, &mut report);

    let (stage, stage_variables) = read_stage(&tpl, api_id, &mut report)?;
    let authorizers = read_authorizers(&tpl, &mut report)?;
    let resources = read_resources(&tpl, api_id, &authorizers, &mut report)?;
    let responses = read_responses(&tpl, &mut report)?;
    read_others(&tpl, &mut report);

    Ok(Some(Gateway {
        stage,
        stage_variables,
        resources,
        authorizers,
        responses,
        not_emulated: report.sentences,
    }))
}

fn read_api(id: &str, api: &Map<String, Value>, report: &mut Report) {
    let what = format!("REST API {id}");
    for (name, value) in api {
        match name.as_str() {
            "Name" | "Description" | "Tags" => {}
            "EndpointConfiguration" => {
                let types = value.get("Types").and_then(Value::as_array);
                if types.is_some_and(|t| t.iter().any(|t| t == "PRIVATE")) {
                    report.say(format!(
                        "{what}: the PRIVATE endpoint (VPC-only access) is not emulated: it is served on 127.0.0.1"
                    ));
                }
            }
            "BinaryMediaTypes" => report.say(format!(
                "{what}: binary media types are not emulated: a body that is not UTF-8 reaches the function base64-encoded, and a base64 response is decoded, whatever the Content-Type or Accept"
            )),
            "MinimumCompressionSize" => {
                report.say(format!("{what}: response compression is not emulated"))
            }
            "Policy" => report.say(format!(
                "{what}: its resource policy is not emulated: every caller is allowed"
            )),
            "ApiKeySourceType" => {
                report.say(format!("{what}: API keys (ApiKeySourceType) are not emulated"))
            }
            "DisableExecuteApiEndpoint" => report.say(format!(
                "{what}: DisableExecuteApiEndpoint is not emulated: the local endpoint serves it"
            )),
            "Body" | "BodyS3Location" => report.say(format!(
                "{what}: an OpenAPI {name} is not read: only the template's Resource and Method resources are served"
            )),
            _ => report.say(format!("{what}: property {name} is not emulated")),
        }
    }
}

fn read_stage(
    tpl: &Tpl,
    api_id: &str,
    report: &mut Report,
) -> Result<(String, Option<BTreeMap<String, String>>)> {
    let stages = tpl.of_type("AWS::ApiGateway::Stage");
    if !stages.is_empty() {
        for (id, deployment) in tpl.of_type("AWS::ApiGateway::Deployment") {
            report.rest(
                &format!("deployment {id}"),
                deployment,
                &["RestApiId", "Description"],
            );
        }
    }
    let Some(&(stage_id, stage)) = stages.first() else {
        // A Deployment with a StageName makes its stage.
        for (id, deployment) in tpl.of_type("AWS::ApiGateway::Deployment") {
            if let Some(name) = deployment.get("StageName").and_then(Value::as_str) {
                report.rest(
                    &format!("deployment {id}"),
                    deployment,
                    &["RestApiId", "Description", "StageName"],
                );
                return Ok((name.to_owned(), None));
            }
        }
        return Err(GatewayError::NoStage(api_id.to_owned()));
    };
    for (other, properties) in &stages[1..] {
        let name = properties
            .get("StageName")
            .and_then(Value::as_str)
            .unwrap_or("?");
        report.say(format!(
            "stage {other} ({name}) is not served: the local gateway serves one stage, {stage_id}'s"
        ));
    }
    let name = stage
        .get("StageName")
        .and_then(Value::as_str)
        .ok_or_else(|| shape(stage_id, "its StageName is not a literal string"))?;
    let what = format!("stage {name}");
    let mut variables = None;
    for (property, value) in stage {
        match property.as_str() {
            "StageName" | "RestApiId" | "DeploymentId" | "Description" | "Tags" => {}
            "Variables" => {
                let mut read = BTreeMap::new();
                for (key, value) in value.as_object().into_iter().flatten() {
                    match value.as_str() {
                        Some(v) => {
                            read.insert(key.clone(), v.to_owned());
                        }
                        None => report.say(format!(
                            "{what}: stage variable {key} is not a literal and is left out of stageVariables"
                        )),
                    }
                }
                variables = Some(read);
            }
            "AccessLogSetting" => report.say(format!(
                "{what}: access logging is not emulated (the CLI's request log stands in for it)"
            )),
            "TracingEnabled" => {
                if value.as_bool() != Some(false) {
                    report.say(format!("{what}: X-Ray tracing is not emulated"));
                }
            }
            "MethodSettings" => {
                for setting in value.as_array().into_iter().flatten() {
                    method_settings(&what, setting, report);
                }
            }
            "CacheClusterEnabled" | "CacheClusterSize" => {
                if value.as_bool() != Some(false) {
                    report.say(format!(
                        "{what}: the stage cache ({property}) is not emulated"
                    ));
                }
            }
            _ => report.say(format!("{what}: property {property} is not emulated")),
        }
    }
    Ok((name.to_owned(), variables))
}

fn method_settings(what: &str, setting: &Value, report: &mut Report) {
    let path = setting
        .get("ResourcePath")
        .and_then(Value::as_str)
        .unwrap_or("/*");
    let method = setting
        .get("HttpMethod")
        .and_then(Value::as_str)
        .unwrap_or("*");
    let at = format!("{what}, {method} {path}");
    let get = |name: &str| setting.get(name);
    if get("ThrottlingRateLimit").is_some() || get("ThrottlingBurstLimit").is_some() {
        let rate = get("ThrottlingRateLimit").map_or("-".to_owned(), Value::to_string);
        let burst = get("ThrottlingBurstLimit").map_or("-".to_owned(), Value::to_string);
        report.say(format!(
            "{at}: throttling (rate {rate}/s, burst {burst}) is not emulated: no 429s"
        ));
    }
    if get("MetricsEnabled").and_then(Value::as_bool) == Some(true) {
        report.say(format!("{at}: CloudWatch metrics are not emulated"));
    }
    if get("LoggingLevel").is_some()
        || get("DataTraceEnabled").and_then(Value::as_bool) == Some(true)
    {
        report.say(format!("{at}: execution logging is not emulated"));
    }
    if get("CachingEnabled").and_then(Value::as_bool) == Some(true) {
        report.say(format!("{at}: response caching is not emulated"));
    }
    for name in setting.as_object().into_iter().flatten().map(|(k, _)| k) {
        let known = [
            "ResourcePath",
            "HttpMethod",
            "ThrottlingRateLimit",
            "ThrottlingBurstLimit",
            "MetricsEnabled",
            "LoggingLevel",
            "DataTraceEnabled",
            "CachingEnabled",
        ];
        if !known.contains(&name.as_str()) {
            report.say(format!("{at}: method setting {name} is not emulated"));
        }
    }
}

fn read_authorizers(tpl: &Tpl, report: &mut Report) -> Result<BTreeMap<String, Authorizer>> {
    let mut authorizers = BTreeMap::new();
    for (id, properties) in tpl.of_type("AWS::ApiGateway::Authorizer") {
        let name = properties
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_owned();
        let what = format!("authorizer {name}");
        let kind = properties
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("?");
        if kind != "TOKEN" {
            // Methods using it pass unchecked; read_resources says so per route.
            report.say(format!(
                "{what}: {kind} authorizers are not emulated: the methods using it are served without authorization"
            ));
            continue;
        }
        report.rest(
            &what,
            properties,
            &[
                "Name",
                "RestApiId",
                "Type",
                "AuthorizerUri",
                "IdentitySource",
                "IdentityValidationExpression",
                "AuthorizerResultTtlInSeconds",
            ],
        );
        let uri = properties
            .get("AuthorizerUri")
            .ok_or_else(|| shape(id, "no AuthorizerUri"))?;
        let function = tpl.uri_function(id, uri)?;
        let source = properties
            .get("IdentitySource")
            .and_then(Value::as_str)
            .unwrap_or("method.request.header.Authorization");
        let header = source
            .strip_prefix("method.request.header.")
            .ok_or_else(|| {
                shape(
                    id,
                    format!("IdentitySource `{source}` is not a method.request.header"),
                )
            })?
            .to_owned();
        let validation =
            match properties
                .get("IdentityValidationExpression")
                .map(|v| v.as_str().ok_or(v))
            {
                None => None,
                Some(Ok(expression)) => Some(regex::Regex::new(expression).map_err(|source| {
                    GatewayError::Expression {
                        logical_id: id.to_owned(),
                        source,
                    }
                })?),
                Some(Err(value)) => {
                    return Err(shape(
                        id,
                        format!("IdentityValidationExpression {value} is not a literal"),
                    ));
                }
            };
        let ttl = match properties.get("AuthorizerResultTtlInSeconds") {
            None => DEFAULT_TTL,
            Some(value) => value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    shape(
                        id,
                        format!("AuthorizerResultTtlInSeconds {value} is not a number"),
                    )
                })?,
        };
        authorizers.insert(
            id.to_owned(),
            Authorizer {
                name,
                function,
                header,
                validation,
                ttl: Duration::from_secs(ttl),
            },
        );
    }
    Ok(authorizers)
}

fn read_resources(
    tpl: &Tpl,
    api_id: &str,
    authorizers: &BTreeMap<String, Authorizer>,
    report: &mut Report,
) -> Result<Vec<Resource>> {
    // Paths first: logical id → segments.
    let declared: BTreeMap<&str, &Map<String, Value>> = tpl
        .of_type("AWS::ApiGateway::Resource")
        .into_iter()
        .collect();
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in declared.keys() {
        let mut chain = Vec::new();
        let mut at = *id;
        loop {
            let Some(properties) = declared.get(at) else {
                return Err(GatewayError::Unresolved {
                    logical_id: id.to_string(),
                    reference: at.to_owned(),
                });
            };
            report.rest(
                &format!("resource {at}"),
                properties,
                &["ParentId", "PathPart", "RestApiId"],
            );
            let part = properties
                .get("PathPart")
                .and_then(Value::as_str)
                .ok_or_else(|| shape(at, "its PathPart is not a literal string"))?;
            chain.push(part.to_owned());
            if chain.len() > declared.len() {
                return Err(shape(id, "its ParentId chain is a cycle"));
            }
            let parent = properties
                .get("ParentId")
                .ok_or_else(|| shape(at, "no ParentId"))?;
            if let Some((api, "RootResourceId")) = get_att(parent) {
                if api != api_id {
                    return Err(shape(at, format!("its parent is the root of {api}")));
                }
                break;
            }
            at = reference(parent).ok_or_else(|| {
                shape(
                    at,
                    format!("ParentId {parent} is neither a Ref nor the root"),
                )
            })?;
        }
        chain.reverse();
        paths.insert(id.to_string(), chain);
    }
    // The report got each resource once per descendant: keep the first of each sentence.
    let mut seen = BTreeSet::new();
    report.sentences.retain(|s| seen.insert(s.clone()));

    let mut resources = vec![Resource {
        id: short_id(&format!("{api_id}.RootResourceId")),
        path: "/".to_owned(),
        segments: Vec::new(),
        methods: BTreeMap::new(),
    }];
    let mut index = BTreeMap::new();
    for (id, parts) in &paths {
        let segments = parts
            .iter()
            .map(
                |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(name) => Segment::Greedy(name.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(part.clone()),
                },
            )
            .collect();
        index.insert(id.clone(), resources.len());
        resources.push(Resource {
            id: short_id(id),
            path: format!("/{}", parts.join("/")),
            segments,
            methods: BTreeMap::new(),
        });
    }

    for (id, properties) in tpl.of_type("AWS::ApiGateway::Method") {
        let resource = properties
            .get("ResourceId")
            .ok_or_else(|| shape(id, "no ResourceId"))?;
        let at = match (reference(resource), get_att(resource)) {
            (Some(r), _) => *index.get(r).ok_or_else(|| GatewayError::Unresolved {
                logical_id: id.to_owned(),
                reference: r.to_owned(),
            })?,
            (None, Some((api, "RootResourceId"))) if api == api_id => 0,
            _ => {
                return Err(shape(
                    id,
                    format!("ResourceId {resource} is not a resource"),
                ));
            }
        };
        let verb = properties
            .get("HttpMethod")
            .and_then(Value::as_str)
            .ok_or_else(|| shape(id, "its HttpMethod is not a literal string"))?
            .to_ascii_uppercase();
        let what = format!("{verb} {}", resources[at].path);
        let method = read_method(tpl, id, &what, properties, authorizers, report)?;
        resources[at].methods.insert(verb, method);
    }
    Ok(resources)
}

fn read_method(
    tpl: &Tpl,
    id: &str,
    what: &str,
    properties: &Map<String, Value>,
    authorizers: &BTreeMap<String, Authorizer>,
    report: &mut Report,
) -> Result<Method> {
    for (name, value) in properties {
        match name.as_str() {
            "HttpMethod" | "ResourceId" | "RestApiId" | "AuthorizationType" | "AuthorizerId"
            | "Integration" | "MethodResponses" | "OperationName" => {}
            "ApiKeyRequired" => {
                if value.as_bool() != Some(false) {
                    report.say(format!(
                        "{what}: the API key it requires is not checked (API keys and usage plans are not emulated)"
                    ));
                }
            }
            "RequestValidatorId" => report.say(format!(
                "{what}: its request validator is not emulated: invalid requests reach the function"
            )),
            "RequestParameters" | "RequestModels" => {
                if value.as_object().is_some_and(|m| !m.is_empty()) {
                    report.say(format!(
                        "{what}: {name} (required parameters, models) are not checked"
                    ));
                }
            }
            "AuthorizationScopes" => {
                report.say(format!("{what}: its AuthorizationScopes are not checked"))
            }
            _ => report.say(format!("{what}: property {name} is not emulated")),
        }
    }
    let kind = properties
        .get("AuthorizationType")
        .and_then(Value::as_str)
        .unwrap_or("NONE");
    let auth = match kind {
        "NONE" => Auth::None,
        "CUSTOM" => {
            let authorizer = properties
                .get("AuthorizerId")
                .and_then(reference)
                .ok_or_else(|| shape(id, "CUSTOM authorization without an AuthorizerId Ref"))?;
            if authorizers.contains_key(authorizer) {
                Auth::Token(authorizer.to_owned())
            } else if tpl.kind(authorizer) == Some("AWS::ApiGateway::Authorizer") {
                let message = format!("{what}: its authorizer {authorizer} is not checked");
                report.say(message.clone());
                Auth::NotChecked(message)
            } else {
                return Err(GatewayError::Unresolved {
                    logical_id: id.to_owned(),
                    reference: authorizer.to_owned(),
                });
            }
        }
        other => {
            let message = format!("{what}: {other} authorization is not checked");
            report.say(message.clone());
            Auth::NotChecked(message)
        }
    };
    let integration = match properties.get("Integration") {
        None => {
            let message = format!("{what} has no Integration");
            report.say(message.clone());
            Integration::Unsupported(message)
        }
        Some(integration) => read_integration(tpl, id, what, integration, report)?,
    };
    Ok(Method { auth, integration })
}

fn read_integration(
    tpl: &Tpl,
    id: &str,
    what: &str,
    integration: &Value,
    report: &mut Report,
) -> Result<Integration> {
    let empty = Map::new();
    let properties = integration.as_object().unwrap_or(&empty);
    let kind = properties
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match kind {
        "AWS_PROXY" => {
            let uri = properties
                .get("Uri")
                .ok_or_else(|| shape(id, "an AWS_PROXY integration without a Uri"))?;
            let function = tpl.uri_function(id, uri)?;
            report.rest(
                &format!("{what}, its integration"),
                properties,
                &["Type", "Uri", "IntegrationHttpMethod", "TimeoutInMillis"],
            );
            let timeout = properties
                .get("TimeoutInMillis")
                .and_then(Value::as_u64)
                .map_or(INTEGRATION_TIMEOUT, Duration::from_millis);
            Ok(Integration::Lambda { function, timeout })
        }
        "MOCK" => Ok(Integration::Mock(read_mock(what, properties, report))),
        other => {
            let message = format!("{what}: {other} integrations are not emulated (answered 500)");
            report.say(message.clone());
            Ok(Integration::Unsupported(message))
        }
    }
}

/// The CORS preflight template the generator writes: `$origin` read from the Origin header,
/// compared with literal origins, echoed into one response header.
static CORS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(concat!(
        r#"^\s*#set\(\$origin = \$input\.params\(\)\.header\.get\('Origin'\)\)\s*"#,
        r#"#if\(!\$origin\)#set\(\$origin = \$input\.params\(\)\.header\.get\('origin'\)\)#end\s*"#,
        r#"#if\((?P<condition>[^\n]*)\)\s*"#,
        r#"#set\(\$context\.responseOverride\.header\.(?P<header>[A-Za-z0-9-]+) = \$origin\)\s*"#,
        r#"#end\s*$"#,
    ))
    .expect("the CORS pattern")
});

fn read_mock(what: &str, properties: &Map<String, Value>, report: &mut Report) -> Mock {
    report.rest(
        &format!("{what}, its MOCK integration"),
        properties,
        &[
            "Type",
            "RequestTemplates",
            "IntegrationResponses",
            "PassthroughBehavior",
        ],
    );
    let responses: Vec<&Value> = properties
        .get("IntegrationResponses")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    if responses.len() > 1 {
        report.say(format!(
            "{what}: only its default integration response is emulated (SelectionPattern is not evaluated)"
        ));
    }
    let chosen = responses
        .iter()
        .find(|r| {
            r.get("SelectionPattern")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .or(responses.first());
    let mut mock = Mock {
        status: 200,
        headers: Vec::new(),
        echo_origin: None,
        body: String::new(),
    };
    let Some(response) = chosen else {
        return mock;
    };
    let status = response.get("StatusCode");
    match status
        .and_then(|s| {
            s.as_str()
                .map(str::to_owned)
                .or_else(|| s.as_u64().map(|n| n.to_string()))
        })
        .and_then(|s| s.parse().ok())
    {
        Some(code) => mock.status = code,
        None => report.say(format!(
            "{what}: its integration response's StatusCode is not a literal; answered 200"
        )),
    }
    for (name, value) in response
        .get("ResponseParameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let header = name.strip_prefix("method.response.header.");
        let text = sub_text(value).map(|(t, v)| substitute(t, v));
        let literal = text
            .as_deref()
            .and_then(|v| v.strip_prefix('\'')?.strip_suffix('\''));
        match (header, literal) {
            (Some(header), Some(literal)) if !literal.contains("${") => {
                mock.headers.push((header.to_owned(), literal.to_owned()))
            }
            (Some(header), Some(literal)) => report.say(format!(
                "{what}: its {header} header `{literal}` is known only once deployed and is not sent locally"
            )),
            _ => report.say(format!(
                "{what}: response parameter {name} = {value} is not a literal header and is not sent"
            )),
        }
    }
    let templates = response.get("ResponseTemplates").and_then(Value::as_object);
    let template = templates.and_then(|t| t.get("application/json").or(t.values().next()));
    if let Some(template) = template {
        match sub_text(template) {
            Some((text, variables)) => {
                let text = substitute(text, variables);
                if let Some(found) = CORS.captures(&text) {
                    let mut origins = Vec::new();
                    let mut understood = true;
                    for alternative in found["condition"].split("||") {
                        match alternative
                            .trim()
                            .strip_prefix("$origin == \"")
                            .and_then(|o| o.strip_suffix('"'))
                        {
                            Some(origin) if origin.contains("${") => report.say(format!(
                                "{what}: the allowed origin `{origin}` is known only once deployed: a preflight from it gets no {} locally",
                                &found["header"]
                            )),
                            Some(origin) => origins.push(origin.to_owned()),
                            None => understood = false,
                        }
                    }
                    if understood {
                        mock.echo_origin = Some((found["header"].to_owned(), origins));
                    } else {
                        report.say(format!(
                            "{what}: its response template's condition `{}` is not the generated origin check and is not evaluated",
                            &found["condition"]
                        ));
                    }
                } else if !text.contains(['$', '#']) {
                    mock.body = text;
                } else {
                    report.say(format!(
                        "{what}: its response template (VTL) is not evaluated; the body is empty"
                    ));
                }
            }
            None => report.say(format!(
                "{what}: its response template {template} is not a literal or Sub and is not evaluated"
            )),
        }
    }
    mock
}

/// The `$context.error.*` placeholders a gateway response template may use here.
const ERROR_PLACEHOLDERS: [&str; 3] = [
    "$context.error.messageString",
    "$context.error.message",
    "$context.error.responseType",
];

fn read_responses(tpl: &Tpl, report: &mut Report) -> Result<BTreeMap<String, GatewayResponse>> {
    let mut responses = BTreeMap::new();
    for (id, properties) in tpl.of_type("AWS::ApiGateway::GatewayResponse") {
        let kind = properties
            .get("ResponseType")
            .and_then(Value::as_str)
            .ok_or_else(|| shape(id, "its ResponseType is not a literal string"))?;
        let what = format!("gateway response {kind}");
        report.rest(
            &what,
            properties,
            &[
                "RestApiId",
                "ResponseType",
                "StatusCode",
                "ResponseParameters",
                "ResponseTemplates",
            ],
        );
        let mut response = GatewayResponse::default();
        if let Some(status) = properties.get("StatusCode") {
            match status.as_str().and_then(|s| s.parse().ok()) {
                Some(code) => response.status = Some(code),
                None => report.say(format!(
                    "{what}: StatusCode {status} is not a literal; the default status is used"
                )),
            }
        }
        for (name, value) in properties
            .get("ResponseParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(header) = name.strip_prefix("gatewayresponse.header.") else {
                report.say(format!("{what}: response parameter {name} is not emulated"));
                continue;
            };
            let text = sub_text(value).map(|(t, v)| substitute(t, v));
            let read = text.as_deref().and_then(|text| {
                if let Some(source) = text.strip_prefix("method.request.header.") {
                    return Some(HeaderValue::RequestHeader(source.to_owned()));
                }
                let literal = text.strip_prefix('\'')?.strip_suffix('\'')?;
                (!literal.contains("${")).then(|| HeaderValue::Literal(literal.to_owned()))
            });
            match read {
                Some(read) => response.headers.push((header.to_owned(), read)),
                None => report.say(format!(
                    "{what}: header {header} = {} is known only once deployed (or is not a literal or a request header) and is not sent locally",
                    text.unwrap_or_else(|| value.to_string())
                )),
            }
        }
        let templates = properties
            .get("ResponseTemplates")
            .and_then(Value::as_object);
        if let Some(template) =
            templates.and_then(|t| t.get("application/json").or(t.values().next()))
        {
            match template.as_str() {
                Some(text) => {
                    let mut rest = text.to_owned();
                    for placeholder in ERROR_PLACEHOLDERS {
                        rest = rest.replace(placeholder, "");
                    }
                    if rest.contains('$') || rest.contains('#') {
                        report.say(format!(
                            "{what}: its response template uses VTL beyond $context.error and is not evaluated; the default body is sent"
                        ));
                    } else {
                        response.template = Some(text.to_owned());
                    }
                }
                None => report.say(format!(
                    "{what}: its response template is not a literal; the default body is sent"
                )),
            }
        }
        responses.insert(kind.to_owned(), response);
    }
    Ok(responses)
}

/// The API Gateway (and WAF) resources this gateway does not read at all.
fn read_others(tpl: &Tpl, report: &mut Report) {
    let read = [
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGateway::GatewayResponse",
    ];
    for (id, resource) in tpl.resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let meaning = match kind {
            "AWS::ApiGateway::RequestValidator" => "request validation",
            "AWS::ApiGateway::ApiKey"
            | "AWS::ApiGateway::UsagePlan"
            | "AWS::ApiGateway::UsagePlanKey" => "API keys and usage plans (quotas, throttling)",
            "AWS::ApiGateway::Model" => "request and response models",
            "AWS::ApiGateway::DomainName"
            | "AWS::ApiGateway::BasePathMapping"
            | "AWS::ApiGateway::BasePathMappingV2"
            | "AWS::ApiGateway::DomainNameV2" => {
                "custom domain names (only the stage URL is served)"
            }
            "AWS::ApiGateway::ClientCertificate" => "client certificates",
            "AWS::WAFv2::WebACLAssociation" | "AWS::WAFRegional::WebACLAssociation" => {
                "WAF (requests are not filtered)"
            }
            _ if kind.starts_with("AWS::ApiGateway::") && !read.contains(&kind) => "its effect",
            _ => continue,
        };
        report.say(format!("{kind} {id}: {meaning} is not emulated"));
    }
}
