//! API construct: a REST API (API Gateway) with Lambda proxy routes, the JWT authorizer on
//! protected routes, CORS for the site, a stage with access logs and throttling, and a
//! deployment whose ID changes with the API's shape (else the stage keeps serving the old API).

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::checkov::skip;
use super::{Stack, ids};
use crate::cfn::{LogicalId, Output, Pseudo, Resource, Sub, Value};
use crate::map;
use crate::model::{AUTHORIZER_KEY, ApiSpec, AuthSpec, Key, RouteKey};

/// Seconds an access log line is kept.
pub const ACCESS_LOG_RETENTION_DAYS: u32 = 90;

fn rest_api() -> LogicalId {
    LogicalId::from_path(&["api", "RestApi"])
}

fn authorizer() -> LogicalId {
    LogicalId::from_path(&["api", "Authorizer"])
}

fn resource_id(path: &[String]) -> LogicalId {
    let text = format!("/{}", path.join("/"));
    LogicalId::from_path(&["api", "resource", &text])
}

/// `ParentId`/`ResourceId` of a path: the root's is an attribute of the API.
fn resource_ref(path: &[String]) -> Value {
    if path.is_empty() {
        Value::get_att(&rest_api(), "RootResourceId")
    } else {
        Value::reference(&resource_id(path))
    }
}

/// `https://<api id>.execute-api.<region>.<suffix>`: where browsers call the API (the site's
/// Content-Security-Policy allows it).
pub(crate) fn origin() -> Sub {
    Sub::new()
        .lit("https://")
        .reference(&rest_api())
        .lit(".execute-api.")
        .pseudo(Pseudo::Region)
        .lit(".")
        .pseudo(Pseudo::UrlSuffix)
}

/// `.../functions/<arn>/invocations`, what API Gateway calls a Lambda function by.
fn invocation_uri(function: &Key) -> Sub {
    Sub::arn("apigateway")
        .pseudo(Pseudo::Region)
        .lit(":lambda:path/2015-03-31/functions/")
        .get_att(&ids::function(function), "Arn")
        .lit("/invocations")
}

/// `arn:…:execute-api:<region>:<account>:<api>/<rest>`
/// The OPTIONS integration's answer: CORS headers, the origin static or chosen per request.
fn preflight_response(single: &Option<Value>, origins: &[Sub], verbs: &[&str]) -> Value {
    let mut parameters = std::collections::BTreeMap::from([
        (
            "method.response.header.Access-Control-Allow-Headers".to_owned(),
            Value::str("'Authorization,Content-Type'"),
        ),
        (
            "method.response.header.Access-Control-Allow-Methods".to_owned(),
            Value::str(format!("'{}'", verbs.join(","))),
        ),
        (
            "method.response.header.Access-Control-Max-Age".to_owned(),
            Value::str("'600'"),
        ),
        (
            "method.response.header.Vary".to_owned(),
            Value::str("'Origin'"),
        ),
    ]);
    let mut response =
        std::collections::BTreeMap::from([("StatusCode".to_owned(), Value::str("204"))]);
    match single {
        Some(origin) => {
            parameters.insert(
                "method.response.header.Access-Control-Allow-Origin".to_owned(),
                origin.clone(),
            );
        }
        None => {
            // Velocity: answer the caller's origin only when it is one of the allowed ones.
            let mut template = Sub::new().lit(
                "#set($origin = $input.params().header.get('Origin'))\n#if(!$origin)#set($origin = $input.params().header.get('origin'))#end\n#if(",
            );
            for (i, origin) in origins.iter().enumerate() {
                if i > 0 {
                    template = template.lit(" || ");
                }
                template = template
                    .lit("$origin == \"")
                    .append(origin.clone())
                    .lit("\"");
            }
            template = template.lit(
                ")\n#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n#end\n",
            );
            response.insert(
                "ResponseTemplates".to_owned(),
                map! { "application/json" => template },
            );
        }
    }
    response.insert("ResponseParameters".to_owned(), Value::Map(parameters));
    Value::Map(response)
}

fn execute_api_arn(rest: Sub) -> Sub {
    Sub::arn("execute-api")
        .pseudo(Pseudo::Region)
        .lit(":")
        .pseudo(Pseudo::AccountId)
        .lit(":")
        .reference(&rest_api())
        .lit("/")
        .append(rest)
}

/// A route's path as API Gateway matches it in ARNs: variables become `*`.
fn arn_path(key: &RouteKey) -> String {
    key.path
        .iter()
        .map(|s| if s.starts_with('{') { "*" } else { s.as_str() })
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn synthesize(stack: &mut Stack) {
    if let Some(spec) = &stack.model.api {
        api(stack, spec, stack.model.auth.as_ref());
    }
}

fn api(stack: &mut Stack, api: &ApiSpec, auth: Option<&AuthSpec>) {
    let project = stack.model.project.clone();
    let api_id = rest_api();
    stack.template.add(
        api_id.clone(),
        Resource::new("AWS::ApiGateway::RestApi")
            .prop("Name", stack.model.naming.rest_api())
            .prop(
                "Description",
                format!("{project}: API of {}", stack.model.description),
            )
            .prop(
                "EndpointConfiguration",
                map! { "Types" => vec!["REGIONAL"] },
            ),
    );

    for path in api.resource_paths() {
        stack.template.add(
            resource_id(&path),
            Resource::new("AWS::ApiGateway::Resource")
                .prop("RestApiId", Value::reference(&api_id))
                .prop("ParentId", resource_ref(&path[..path.len() - 1]))
                .prop("PathPart", path[path.len() - 1].as_str()),
        );
    }

    let protected = api.routes.values().any(|r| r.protected);
    if let (Some(auth), true) = (auth, protected) {
        let authorizer_key = Key::parse_generated(AUTHORIZER_KEY);
        stack.template.add(
            authorizer(),
            Resource::new("AWS::ApiGateway::Authorizer")
                .prop("Name", stack.model.naming.authorizer())
                .prop("RestApiId", Value::reference(&api_id))
                .prop("Type", "TOKEN")
                .prop("IdentitySource", "method.request.header.Authorization")
                // Malformed headers are refused before the function is even invoked.
                .prop(
                    "IdentityValidationExpression",
                    "^[Bb]earer [-0-9A-Za-z._~+/]+=*$",
                )
                .prop("AuthorizerResultTtlInSeconds", auth.cache_ttl_seconds)
                .prop("AuthorizerUri", invocation_uri(&authorizer_key)),
        );
        // The API's, not the authorizer function's: its source is the authorizer resource,
        // which reads the function's ARN, so in a nested stack it would close a cycle.
        stack.template.add(
            LogicalId::from_path(&["api", "AuthorizerPermission"]),
            Resource::new("AWS::Lambda::Permission")
                .prop("Action", "lambda:InvokeFunction")
                .prop(
                    "FunctionName",
                    Value::get_att(&ids::function(&authorizer_key), "Arn"),
                )
                .prop("Principal", "apigateway.amazonaws.com")
                .prop(
                    "SourceArn",
                    execute_api_arn(Sub::new().lit("authorizers/").reference(&authorizer())),
                ),
        );
    }

    let mut methods = BTreeSet::new();
    for (key, route) in &api.routes {
        let id = LogicalId::from_path(&["api", "method", &key.to_string()]);
        let mut method = Resource::new("AWS::ApiGateway::Method")
            .prop("RestApiId", Value::reference(&api_id))
            .prop("ResourceId", resource_ref(&key.path))
            .prop("HttpMethod", key.method.as_str())
            .prop(
                "Integration",
                map! {
                    "Type" => "AWS_PROXY",
                    "IntegrationHttpMethod" => "POST",
                    "Uri" => invocation_uri(&route.function),
                },
            );
        if route.protected {
            method = method
                .prop("AuthorizationType", "CUSTOM")
                .prop("AuthorizerId", Value::reference(&authorizer()));
        } else {
            method = method.prop("AuthorizationType", "NONE");
            method.metadata.insert("checkov".into(), skip(&[("CKV_AWS_59", "Declared `public: true` in gen.yaml: this route answers without a signed-in user")]));
        }
        stack.template.add(id.clone(), method);
        methods.insert(id);
        // Only this route, on the deployed stage and the console's test stage. The
        // permissions are the function's: they go where it goes when the app is split.
        stack.template.set_group(Some(route.function.as_str()));
        for stage in [api.stage.as_str(), "test-invoke-stage"] {
            stack.template.add(
                LogicalId::from_path(&["api", "permission", &key.to_string(), stage]),
                Resource::new("AWS::Lambda::Permission")
                    .prop("Action", "lambda:InvokeFunction")
                    .prop(
                        "FunctionName",
                        Value::get_att(&ids::function(&route.function), "Arn"),
                    )
                    .prop("Principal", "apigateway.amazonaws.com")
                    .prop(
                        "SourceArn",
                        execute_api_arn(Sub::new().lit(format!(
                            "{stage}/{}/{}",
                            key.method.as_str(),
                            arn_path(key)
                        ))),
                    ),
            );
        }
        stack.template.set_group(None);
    }

    let origins = cors_origins(stack);
    if !origins.is_empty() {
        cors(stack, api, &origins, &mut methods);
    }

    // The deployment's ID hashes the API's shape: a route or auth change makes a new one.
    let shape = format!(
        "{:?}|{:?}|{:?}",
        api.routes,
        origins,
        auth.map(|a| (a.cache_ttl_seconds, &a.domain, &a.audience))
    );
    let digest = Sha256::digest(shape.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let deployment_id = LogicalId::from_path(&["api", "Deployment", &hash]);
    let mut deployment = Resource::new("AWS::ApiGateway::Deployment")
        .prop("RestApiId", Value::reference(&api_id))
        .prop("Description", format!("{project} API ({hash})"));
    for method in &methods {
        deployment = deployment.depends_on(method);
    }
    stack.template.add(deployment_id.clone(), deployment);

    let log_group_id = LogicalId::from_path(&["api", "AccessLogGroup"]);
    let log_group_name = stack
        .model
        .naming
        .api_access_log_group(&api.stage)
        .into_string();
    stack.add_log_group(&log_group_id, &log_group_name, ACCESS_LOG_RETENTION_DAYS);

    let access_log_format = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.authorizer.principalId","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationError":"$context.integration.error","authorizerError":"$context.authorizer.error"}"#;
    let mut stage = Resource::new("AWS::ApiGateway::Stage")
        .prop("StageName", api.stage.as_str())
        .prop("RestApiId", Value::reference(&api_id))
        .prop("DeploymentId", Value::reference(&deployment_id))
        .prop(
            "AccessLogSetting",
            map! {
                "DestinationArn" => Value::get_att(&log_group_id, "Arn"),
                "Format" => access_log_format,
            },
        )
        .prop(
            "MethodSettings",
            vec![map! {
                "HttpMethod" => "*",
                "ResourcePath" => "/*",
                "ThrottlingRateLimit" => api.rate_limit,
                "ThrottlingBurstLimit" => api.burst_limit,
                "MetricsEnabled" => true,
            }],
        );
    if let Some(tags) = stack.tags() {
        stage = stage.prop("Tags", tags);
    }
    stage.metadata.insert(
        "checkov".into(),
        skip(&[
            ("CKV_AWS_73", "X-Ray tracing is opt-in: it costs $5 per million traces"),
            ("CKV_AWS_120", "Responses are per caller (signed-in user); a stage cache would need per-token keys and costs from $0.02 an hour"),
        ]),
    );
    stack
        .template
        .add(LogicalId::from_path(&["api", "Stage"]), stage);

    stack.template.add_output(
        ids::api_url(),
        Output {
            description: "Base URL of the API (the site's apiUrl)".into(),
            value: origin().lit(format!("/{}", api.stage)).into(),
        },
    );
}

/// The browser origins that may call the API: the hosted site's own (from the same stack: no
/// manual step), then `api.cors_origin` (e.g. the local development server).
pub(crate) fn cors_origins(stack: &Stack) -> Vec<Sub> {
    let mut origins: Vec<Sub> = super::site::site_origin(stack).into_iter().collect();
    if let Some(origin) = stack
        .model
        .api
        .as_ref()
        .and_then(|a| a.cors_origin.as_ref())
    {
        let extra = Sub::new().lit(origin.as_str());
        if !origins.contains(&extra) {
            origins.push(extra);
        }
    }
    origins
}

/// The origins as one comma-separated value (the functions' `CORS_ORIGINS`).
pub(crate) fn joined(origins: &[Sub]) -> Sub {
    let mut joined = Sub::new();
    for (i, origin) in origins.iter().enumerate() {
        if i > 0 {
            joined = joined.lit(",");
        }
        joined = joined.append(origin.clone());
    }
    joined
}

/// Preflight (OPTIONS) answers for every routed path, and CORS headers on API Gateway's own
/// error answers (401 from the authorizer, throttling), so the browser can read them.
///
/// One origin is a static header. With several, the preflight's mapping template answers
/// the request's `Origin` when it is one of them (API Gateway's `responseOverride`), and the
/// gateway's error answers echo the caller's origin: they carry no caller data, and the API
/// takes bearer tokens, never cookies, so no other site can act with a user's credentials.
fn cors(stack: &mut Stack, api: &ApiSpec, origins: &[Sub], methods: &mut BTreeSet<LogicalId>) {
    let api_id = rest_api();
    let single = match origins {
        [one] => Some(Value::from(
            Sub::new().lit("'").append(one.clone()).lit("'"),
        )),
        _ => None,
    };
    let mut by_path: std::collections::BTreeMap<&Vec<String>, BTreeSet<&str>> = Default::default();
    for key in api.routes.keys() {
        by_path
            .entry(&key.path)
            .or_default()
            .insert(key.method.as_str());
    }
    for (path, verbs) in by_path {
        let mut verbs: Vec<&str> = verbs.into_iter().collect();
        verbs.push("OPTIONS");
        let id = LogicalId::from_path(&["api", "method", &format!("OPTIONS /{}", path.join("/"))]);
        let mut options = Resource::new("AWS::ApiGateway::Method")
            .prop("RestApiId", Value::reference(&api_id))
            .prop("ResourceId", resource_ref(path))
            .prop("HttpMethod", "OPTIONS")
            .prop("AuthorizationType", "NONE")
            .prop(
                "Integration",
                map! {
                    "Type" => "MOCK",
                    "RequestTemplates" => map! { "application/json" => "{\"statusCode\": 200}" },
                    "IntegrationResponses" => vec![preflight_response(&single, origins, &verbs)],
                },
            )
            .prop(
                "MethodResponses",
                vec![map! {
                    "StatusCode" => "204",
                    "ResponseParameters" => map! {
                        "method.response.header.Access-Control-Allow-Origin" => true,
                        "method.response.header.Access-Control-Allow-Headers" => true,
                        "method.response.header.Access-Control-Allow-Methods" => true,
                        "method.response.header.Access-Control-Max-Age" => true,
                        "method.response.header.Vary" => true,
                    },
                }],
            );
        options.metadata.insert(
            "checkov".into(),
            skip(&[(
                "CKV_AWS_59",
                "CORS preflight: browsers send OPTIONS without credentials",
            )]),
        );
        stack.template.add(id.clone(), options);
        methods.insert(id);
    }
    for kind in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        stack.template.add(
            LogicalId::from_path(&["api", "GatewayResponse", kind]),
            Resource::new("AWS::ApiGateway::GatewayResponse")
                .prop("RestApiId", Value::reference(&api_id))
                .prop("ResponseType", kind)
                .prop(
                    "ResponseParameters",
                    map! {
                        "gatewayresponse.header.Access-Control-Allow-Origin" => single
                            .clone()
                            .unwrap_or_else(|| Value::str("method.request.header.origin")),
                    },
                ),
        );
    }
}
