//! One request through the gateway: stage, resource, method, authorizer, integration, and
//! the gateway response when API Gateway itself answers.

use std::time::Instant;

use serde_json::{Map, json};

use super::auth::{Cache, Decision, Policy};
use super::event::{EventInput, proxy_event, proxy_response};
use super::template::INTEGRATION_TIMEOUT;
use super::{Auth, Failure, Functions, Gateway, HeaderValue, Integration, RequestLog, ServeConfig};
use crate::http::Reply;

/// A request as the server read it.
pub(super) struct Incoming<'a> {
    pub method: &'a str,
    /// Path and query string, as sent.
    pub target: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub source_ip: &'a str,
    pub request_id: &'a str,
    pub epoch_ms: u64,
}

pub(super) struct Context<'a> {
    pub gateway: &'a Gateway,
    pub functions: &'a dyn Functions,
    pub cache: &'a Cache,
    pub config: &'a ServeConfig,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The `x-amzn-ErrorType` API Gateway sends with each gateway response type.
fn error_type(kind: &str) -> &'static str {
    match kind {
        "MISSING_AUTHENTICATION_TOKEN" => "MissingAuthenticationTokenException",
        "UNAUTHORIZED" => "UnauthorizedException",
        "ACCESS_DENIED" => "AccessDeniedException",
        "AUTHORIZER_CONFIGURATION_ERROR" | "AUTHORIZER_FAILURE" => {
            "AuthorizerConfigurationException"
        }
        "REQUEST_TOO_LARGE" => "RequestTooLargeException",
        _ => "InternalServerErrorException",
    }
}

/// API Gateway's own answer of type `kind` (a gateway response): the template's
/// GatewayResponse for `kind`, else its DEFAULT_4XX / DEFAULT_5XX, else the built-in one.
/// `message` is `$context.error.messageString` (`None`: null).
pub(super) fn gateway_response(
    gateway: &Gateway,
    kind: &str,
    status: u16,
    message: Option<&str>,
    request_headers: &[(String, String)],
    request_id: &str,
) -> Reply {
    let fallback = if status >= 500 {
        "DEFAULT_5XX"
    } else {
        "DEFAULT_4XX"
    };
    // A DEFAULT_4XX/5XX StatusCode applies to every type not customised on its own.
    let response = gateway
        .responses
        .get(kind)
        .or_else(|| gateway.responses.get(fallback));
    let status = response.and_then(|r| r.status).unwrap_or(status);
    let message_string = message.map_or("null".to_owned(), |m| json!(m).to_string());
    let body = match response.and_then(|r| r.template.as_deref()) {
        Some(template) => template
            .replace("$context.error.messageString", &message_string)
            .replace("$context.error.message", message.unwrap_or(""))
            .replace("$context.error.responseType", kind),
        None if kind == "ACCESS_DENIED" => format!("{{\"Message\":{message_string}}}"),
        None => format!("{{\"message\":{message_string}}}"),
    };
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("x-amzn-RequestId".to_owned(), request_id.to_owned()),
        ("x-amzn-ErrorType".to_owned(), error_type(kind).to_owned()),
    ];
    for (name, value) in response.map(|r| r.headers.as_slice()).unwrap_or_default() {
        let value = match value {
            HeaderValue::Literal(v) => Some(v.as_str()),
            HeaderValue::RequestHeader(source) => header(request_headers, source),
        };
        if let Some(value) = value {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.to_owned()));
        }
    }
    Reply {
        status,
        headers,
        body: body.into_bytes(),
    }
}

/// Decides one request; never fails (every failure is a gateway response).
pub(super) async fn handle(context: &Context<'_>, request: &Incoming<'_>) -> (Reply, RequestLog) {
    let started = Instant::now();
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.target, None),
    };
    let mut log = RequestLog {
        method: request.method.to_owned(),
        path: path.to_owned(),
        status: 0,
        function: None,
        authorizer: None,
        duration: Default::default(),
        note: None,
    };
    let reply = decide(context, request, path, query, &mut log).await;
    log.status = reply.status;
    log.duration = started.elapsed();
    (reply, log)
}

async fn decide(
    context: &Context<'_>,
    request: &Incoming<'_>,
    path: &str,
    query: Option<&str>,
    log: &mut RequestLog,
) -> Reply {
    let gateway = context.gateway;
    let error = |kind: &str, status: u16, message: Option<&str>| {
        gateway_response(
            gateway,
            kind,
            status,
            message,
            request.headers,
            request.request_id,
        )
    };
    // `/{stage}` or `/{stage}/…`; anything else is outside the API's stage.
    let below = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(gateway.stage.as_str()))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    let Some(below) = below else {
        log.note = Some(format!("not below the stage /{}", gateway.stage));
        let mut reply = Reply::json(403, r#"{"message":"Forbidden"}"#);
        reply.headers.push((
            "x-amzn-ErrorType".to_owned(),
            "ForbiddenException".to_owned(),
        ));
        return reply;
    };
    let below = if below.is_empty() { "/" } else { below };
    let trimmed = below.trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segments: Vec<String> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').map(str::to_owned).collect()
    };
    let missing = || {
        error(
            "MISSING_AUTHENTICATION_TOKEN",
            403,
            Some("Missing Authentication Token"),
        )
    };
    let Some((resource, parameters)) = gateway.route(&segments) else {
        log.note = Some("no resource matches the path".to_owned());
        return missing();
    };
    let method = request.method.to_ascii_uppercase();
    let Some(found) = resource
        .methods
        .get(&method)
        .or_else(|| resource.methods.get("ANY"))
    else {
        log.note = Some(format!(
            "{} has no {method} (nor ANY) method",
            resource.path
        ));
        return missing();
    };

    // The authorizer.
    let mut authorizer_context = None;
    match &found.auth {
        Auth::None => {}
        Auth::NotChecked(why) => log.note = Some(why.clone()),
        Auth::Token(id) => {
            let authorizer = &gateway.authorizers[id];
            let token = header(request.headers, &authorizer.header).filter(|t| !t.is_empty());
            let Some(token) = token else {
                log.authorizer = Some("not invoked".to_owned());
                log.note = Some(format!("no {} header", authorizer.header));
                return error("UNAUTHORIZED", 401, Some("Unauthorized"));
            };
            if let Some(expression) = &authorizer.validation
                && !expression.is_match(token)
            {
                log.authorizer = Some("not invoked".to_owned());
                log.note = Some(format!(
                    "the {} header does not match IdentityValidationExpression {}",
                    authorizer.header,
                    expression.as_str()
                ));
                return error("UNAUTHORIZED", 401, Some("Unauthorized"));
            }
            let method_arn = format!(
                "arn:aws:execute-api:{}:{}:{}/{}/{method}/{}",
                context.config.region,
                context.config.account,
                context.config.api_id,
                gateway.stage,
                below.trim_start_matches('/'),
            );
            let (policy, cached, latency) = match context.cache.get(id, token) {
                Some(policy) => (policy, true, 0),
                None => {
                    let event = json!({
                        "type": "TOKEN",
                        "authorizationToken": token,
                        "methodArn": method_arn,
                    });
                    let asked = Instant::now();
                    let answer = tokio::time::timeout(
                        INTEGRATION_TIMEOUT,
                        context
                            .functions
                            .invoke(&authorizer.function, event.to_string().into_bytes()),
                    )
                    .await;
                    let latency = asked.elapsed().as_millis() as u64;
                    let failed = |log: &mut RequestLog, note: String| {
                        log.authorizer = Some("error".to_owned());
                        log.note = Some(note);
                        error("AUTHORIZER_CONFIGURATION_ERROR", 500, None)
                    };
                    match answer {
                        Err(_) => {
                            return failed(
                                log,
                                format!(
                                    "authorizer {} did not answer within {} s",
                                    authorizer.function,
                                    INTEGRATION_TIMEOUT.as_secs()
                                ),
                            );
                        }
                        Ok(Err(Failure::Error(e))) if e.error_message == "Unauthorized" => {
                            log.authorizer = Some("Unauthorized".to_owned());
                            return error("UNAUTHORIZED", 401, Some("Unauthorized"));
                        }
                        Ok(Err(Failure::Error(e))) => {
                            return failed(
                                log,
                                format!(
                                    "authorizer {} failed: {}: {}",
                                    authorizer.function, e.error_type, e.error_message
                                ),
                            );
                        }
                        Ok(Err(Failure::Crashed(why))) => {
                            return failed(
                                log,
                                format!("authorizer {} crashed: {why}", authorizer.function),
                            );
                        }
                        Ok(Ok(body)) => match Policy::parse(&body) {
                            Ok(policy) => {
                                context.cache.put(id, token, authorizer.ttl, policy.clone());
                                (policy, false, latency)
                            }
                            Err(why) => {
                                return failed(
                                    log,
                                    format!(
                                        "authorizer {} answered no valid policy: {why}",
                                        authorizer.function
                                    ),
                                );
                            }
                        },
                    }
                }
            };
            let cached = if cached { "cached " } else { "" };
            match policy.decide(&method_arn) {
                Decision::Allow => {
                    log.authorizer = Some(format!("{cached}Allow"));
                    let mut entries = Map::new();
                    entries.insert("principalId".to_owned(), json!(policy.principal_id));
                    entries.extend(policy.context.clone());
                    entries.insert("integrationLatency".to_owned(), json!(latency));
                    authorizer_context = Some(entries);
                }
                decision => {
                    log.authorizer = Some(format!("{cached}Deny"));
                    let message = if decision == Decision::ExplicitDeny {
                        log.note = Some(format!("the policy denies {method_arn}"));
                        "User is not authorized to access this resource with an explicit deny"
                    } else {
                        log.note = Some(format!("the policy does not allow {method_arn}"));
                        "User is not authorized to access this resource"
                    };
                    return error("ACCESS_DENIED", 403, Some(message));
                }
            }
        }
    }

    // The integration.
    match &found.integration {
        Integration::Unsupported(why) => {
            log.note = Some(why.clone());
            error(
                "API_CONFIGURATION_ERROR",
                500,
                Some("Internal server error"),
            )
        }
        Integration::Mock(mock) => {
            let mut headers = mock.headers.clone();
            if let Some((name, origins)) = &mock.echo_origin
                && let Some(origin) = header(request.headers, "Origin")
            {
                if origins.iter().any(|o| o == origin) {
                    headers.push((name.clone(), origin.to_owned()));
                } else {
                    log.note = Some(format!("origin {origin} is not one the template allows"));
                }
            }
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            headers.push(("x-amzn-RequestId".to_owned(), request.request_id.to_owned()));
            Reply {
                status: mock.status,
                headers,
                body: mock.body.clone().into_bytes(),
            }
        }
        Integration::Lambda { function, timeout } => {
            log.function = Some(function.clone());
            let headers = forwarded(request);
            let event = proxy_event(&EventInput {
                method: &method,
                path: below,
                query,
                headers: &headers,
                body: request.body,
                resource_path: &resource.path,
                resource_id: &resource.id,
                path_parameters: &parameters,
                stage: &gateway.stage,
                stage_variables: gateway.stage_variables.as_ref(),
                account: &context.config.account,
                api_id: &context.config.api_id,
                request_id: request.request_id,
                epoch_ms: request.epoch_ms,
                source_ip: request.source_ip,
                authorizer: authorizer_context,
            });
            let answer = tokio::time::timeout(
                *timeout,
                context
                    .functions
                    .invoke(function, event.to_string().into_bytes()),
            )
            .await;
            let internal = |log: &mut RequestLog, note: String| {
                log.note = Some(note);
                error("INTEGRATION_FAILURE", 502, Some("Internal server error"))
            };
            match answer {
                Err(_) => {
                    log.note = Some(format!(
                        "{function} did not answer within {} ms",
                        timeout.as_millis()
                    ));
                    error(
                        "INTEGRATION_TIMEOUT",
                        504,
                        Some("Endpoint request timed out"),
                    )
                }
                Ok(Err(Failure::Error(e))) => internal(
                    log,
                    format!("{function} failed: {}: {}", e.error_type, e.error_message),
                ),
                Ok(Err(Failure::Crashed(why))) => {
                    internal(log, format!("{function} crashed: {why}"))
                }
                Ok(Ok(body)) => match proxy_response(&body) {
                    Err(why) => internal(log, format!("malformed Lambda proxy response: {why}")),
                    Ok(response) => {
                        let mut headers = response.headers;
                        if !headers
                            .iter()
                            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                        {
                            headers
                                .push(("Content-Type".to_owned(), "application/json".to_owned()));
                        }
                        headers
                            .push(("x-amzn-RequestId".to_owned(), request.request_id.to_owned()));
                        Reply {
                            status: response.status,
                            headers,
                            body: response.body,
                        }
                    }
                },
            }
        }
    }
}

/// The request's headers with those API Gateway adds for the integration: X-Forwarded-For
/// (the client appended), X-Forwarded-Proto (`http` here) and X-Amzn-Trace-Id.
fn forwarded(request: &Incoming) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = request.headers.to_vec();
    let mut set = |name: &str, value: String| {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.to_owned(), value));
    };
    let chain = match header(request.headers, "X-Forwarded-For") {
        Some(before) => format!("{before}, {}", request.source_ip),
        None => request.source_ip.to_owned(),
    };
    set("X-Forwarded-For", chain);
    set("X-Forwarded-Proto", "http".to_owned());
    if header(request.headers, "X-Amzn-Trace-Id").is_none() {
        let id: String = request.request_id.chars().filter(|c| *c != '-').collect();
        set(
            "X-Amzn-Trace-Id",
            format!("Root=1-{:08x}-{}", request.epoch_ms / 1000, &id[8..]),
        );
    }
    headers
}
