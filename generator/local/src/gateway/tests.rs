use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::auth::{Cache, Policy, wildcard};
use super::event::{base64_decode, base64_encode, request_time};
use super::handle::{Context, Incoming, handle};
use super::*;
use crate::FunctionError;
use crate::http::Reply;

const EXAMPLE: &str = include_str!("../../../../output/infra/dev/template.json");

type Answer = Box<dyn Fn(&str, &Value) -> Result<Value, Failure> + Send + Sync>;

/// Functions answered by a closure, every invocation recorded; `slow` ones take 30 s.
struct Fake {
    calls: Mutex<Vec<(String, Value)>>,
    answer: Answer,
    slow: Vec<String>,
}

impl Fake {
    fn new(
        answer: impl Fn(&str, &Value) -> Result<Value, Failure> + Send + Sync + 'static,
    ) -> Fake {
        Fake {
            calls: Mutex::new(Vec::new()),
            answer: Box::new(answer),
            slow: Vec::new(),
        }
    }

    fn calls_to(&self, function: &str) -> Vec<Value> {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(f, _)| f == function)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl Functions for Fake {
    fn invoke(
        &self,
        function_name: &str,
        event: Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u8>, Failure>> + Send + '_>>
    {
        let event: Value = serde_json::from_slice(&event).expect("events are JSON");
        self.calls
            .lock()
            .unwrap()
            .push((function_name.to_owned(), event.clone()));
        let answer = (self.answer)(function_name, &event).map(|v| match v {
            Value::String(raw) => raw.into_bytes(),
            other => other.to_string().into_bytes(),
        });
        let slow = self.slow.iter().any(|s| s == function_name);
        Box::pin(async move {
            if slow {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            answer
        })
    }
}

fn allow(resource: &str) -> Value {
    json!({
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}
        ]},
        "context": {"email": "a@example.com", "admin": true, "level": 3}
    })
}

fn ok(body: &str) -> Value {
    json!({"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": body})
}

fn uri(function: &str) -> Value {
    json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function}.Arn}}/invocations")})
}

fn function(name: &str) -> Value {
    json!({"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": name}})
}

fn resource(parent: Option<&str>, part: &str) -> Value {
    let parent = match parent {
        Some(p) => json!({"Ref": p}),
        None => json!({"Fn::GetAtt": ["Api", "RootResourceId"]}),
    };
    json!({"Type": "AWS::ApiGateway::Resource", "Properties": {
        "ParentId": parent, "PathPart": part, "RestApiId": {"Ref": "Api"}}})
}

fn method(resource: &str, verb: &str, function: &str, authorizer: Option<&str>) -> Value {
    let mut properties = json!({
        "HttpMethod": verb,
        "ResourceId": {"Ref": resource},
        "RestApiId": {"Ref": "Api"},
        "AuthorizationType": "NONE",
        "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri(function)}
    });
    if let Some(authorizer) = authorizer {
        properties["AuthorizationType"] = json!("CUSTOM");
        properties["AuthorizerId"] = json!({"Ref": authorizer});
    }
    json!({"Type": "AWS::ApiGateway::Method", "Properties": properties})
}

/// /items (GET, authorized), /items/{id} (GET), /items/special (GET), /files/{proxy+} (ANY),
/// stage `dev`, a TOKEN authorizer with TTL `ttl`, gateway responses.
fn app(ttl: u64) -> Value {
    json!({"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "app-api"}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "StageName": "dev", "RestApiId": {"Ref": "Api"}, "Variables": {"color": "blue"}}},
        "FnItems": function("app-items"),
        "FnSpecial": function("app-special"),
        "FnFiles": function("app-files"),
        "FnAuth": function("app-auth"),
        "Items": resource(None, "items"),
        "Item": resource(Some("Items"), "{id}"),
        "Special": resource(Some("Items"), "special"),
        "Files": resource(None, "files"),
        "Proxy": resource(Some("Files"), "{proxy+}"),
        "GetItems": method("Items", "GET", "FnItems", Some("Authz")),
        "GetItem": method("Item", "GET", "FnItems", Some("Authz")),
        "GetSpecial": method("Special", "GET", "FnSpecial", None),
        "AnyFiles": method("Proxy", "ANY", "FnFiles", None),
        "Authz": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "Name": "app-jwt", "Type": "TOKEN", "RestApiId": {"Ref": "Api"},
            "AuthorizerUri": uri("FnAuth"),
            "IdentitySource": "method.request.header.Authorization",
            "IdentityValidationExpression": "^Bearer [a-z0-9]+$",
            "AuthorizerResultTtlInSeconds": ttl}},
        "Default4xx": {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
            "ResponseType": "DEFAULT_4XX", "RestApiId": {"Ref": "Api"},
            "ResponseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.origin"}}},
        "Unauthorized": {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
            "ResponseType": "UNAUTHORIZED", "RestApiId": {"Ref": "Api"}, "StatusCode": "401",
            "ResponseParameters": {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
            "ResponseTemplates": {"application/json":
                "{\"error\":$context.error.messageString,\"type\":\"$context.error.responseType\"}"}}}
    }})
}

fn gateway(template: &Value) -> Gateway {
    Gateway::from_template(template, &BTreeMap::new())
        .expect("readable")
        .expect("has an API")
}

fn config() -> ServeConfig {
    ServeConfig {
        region: "eu-west-1".to_owned(),
        account: "123456789012".to_owned(),
        api_id: "local".to_owned(),
    }
}

/// Runs one request through `handle`.
async fn send(
    gateway: &Gateway,
    functions: &Fake,
    cache: &Cache,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (Reply, RequestLog) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let config = config();
    let context = Context {
        gateway,
        functions,
        cache,
        config: &config,
    };
    let incoming = Incoming {
        method,
        target,
        headers: &headers,
        body,
        source_ip: "127.0.0.1",
        request_id: "00000000-0000-4000-8000-000000000001",
        epoch_ms: 1_796_317_200_000,
    };
    handle(&context, &incoming).await
}

fn body(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body).expect("a JSON body")
}

#[test]
fn the_committed_example_is_read_from_its_template() {
    let template: Value = serde_json::from_str(EXAMPLE).unwrap();
    let gateway = gateway(&template);
    assert_eq!(gateway.stage(), "prod");
    assert_eq!(
        gateway.routes(),
        vec![
            RouteSummary {
                method: "GET".into(),
                path: "/user-profile".into(),
                function: Some("video24-dev-user-profile".into()),
                authorizer: Some("video24-dev-jwt".into()),
            },
            RouteSummary {
                method: "OPTIONS".into(),
                path: "/user-profile".into(),
                function: None,
                authorizer: None,
            },
        ]
    );
    assert_eq!(
        gateway.functions().into_iter().collect::<Vec<_>>(),
        ["video24-dev-authorizer", "video24-dev-user-profile"]
    );
    let not = gateway.not_emulated().join("\n");
    assert!(not.contains("throttling (rate 50/s, burst 100)"), "{not}");
    assert!(not.contains("access logging"), "{not}");
    assert!(not.contains("CloudWatch metrics"), "{not}");
    // The site's origin is a CloudFront domain known only once deployed.
    assert!(
        not.contains(
            "`https://${SiteDistribution9FF05FF4.DomainName}` is known only once deployed"
        ),
        "{not}"
    );
    // Nothing generated is reported as an unknown property.
    assert!(!not.contains("property"), "{not}");
}

#[test]
fn a_template_without_a_rest_api_has_no_gateway() {
    let template = json!({"Resources": {"F": function("f")}});
    assert!(
        Gateway::from_template(&template, &BTreeMap::new())
            .unwrap()
            .is_none()
    );
}

#[test]
fn unreadable_shapes_name_the_logical_id() {
    let mut template = app(300);
    template["Resources"]["GetSpecial"]["Properties"]["Integration"]["Uri"] = uri("FnMissing");
    let error = Gateway::from_template(&template, &BTreeMap::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`GetSpecial` refers to `FnMissing`, which the templates do not declare"
    );
    let mut template = app(300);
    template["Resources"]["Authz"]["Properties"]["IdentityValidationExpression"] = json!("^(");
    let error = Gateway::from_template(&template, &BTreeMap::new()).unwrap_err();
    assert!(
        matches!(error, GatewayError::Expression { ref logical_id, .. } if logical_id == "Authz")
    );
    let mut template = app(300);
    template["Resources"]["FnItems"]["Properties"]["FunctionName"] = json!({"Fn::Sub": "x"});
    let error = Gateway::from_template(&template, &BTreeMap::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`FnItems`: its FunctionName is not a literal string"
    );
}

/// "functions-fn-0039" → "FunctionsFn0039".
fn pascal(part: &str) -> String {
    part.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn a_split_app_reaches_functions_in_nested_stacks_through_their_outputs() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/split/infra");
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let root = read(&repo.join("template.json"));
    let mut files: HashMap<String, Value> = HashMap::new();
    for entry in std::fs::read_dir(repo.join("nested")).unwrap() {
        let path = entry.unwrap().path();
        let part = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".template.json")
            .to_owned();
        files.insert(pascal(&part), read(&path));
    }
    let mut nested = BTreeMap::new();
    for (id, resource) in root["Resources"].as_object().unwrap() {
        if resource["Type"] == "AWS::CloudFormation::Stack" {
            // StackFunctionsFn003916C5AEAD: "Stack", the part, 8 hex digits.
            let part = &id["Stack".len()..id.len() - 8];
            if let Some(template) = files.get(part) {
                nested.insert(id.clone(), template.clone());
            }
        }
    }
    // tests/split commits the first nested template only: keep the methods whose function
    // lives there (or in the root).
    assert_eq!(nested.len(), 1);
    let mut root = root;
    let in_a_missing_stack = |method: &Value| {
        let uri = method["Properties"]["Integration"]["Uri"]["Fn::Sub"][1].to_string();
        uri.contains("\"Fn::GetAtt\":[\"Stack")
            && !nested.keys().any(|id| uri.contains(id.as_str()))
    };
    let before = root["Resources"].as_object().unwrap().len();
    root["Resources"]
        .as_object_mut()
        .unwrap()
        .retain(|_, r| r["Type"] != "AWS::ApiGateway::Method" || !in_a_missing_stack(r));
    assert!(root["Resources"].as_object().unwrap().len() < before);
    let gateway = Gateway::from_template(&root, &nested).unwrap().unwrap();
    let functions = gateway.functions();
    assert!(functions.contains("bigapp-authorizer"), "{functions:?}");
    assert!(functions.contains("bigapp-fn-0000"), "{functions:?}");
    assert!(functions.len() > 5, "{}", functions.len());
    let route = gateway
        .routes()
        .into_iter()
        .find(|r| r.method == "GET" && r.path == "/items/fn-0000")
        .unwrap();
    assert_eq!(route.function.as_deref(), Some("bigapp-fn-0000"));
    assert_eq!(route.authorizer.as_deref(), Some("bigapp-jwt"));
    // Without the nested templates, the reference cannot be followed.
    let error = Gateway::from_template(&root, &BTreeMap::new()).unwrap_err();
    assert!(matches!(error, GatewayError::Unresolved { .. }), "{error}");
    // The split app's 4XX header is the deployed site's origin: named, not sent.
    let not = gateway.not_emulated().join("\n");
    assert!(
        not.contains("gateway response DEFAULT_4XX: header Access-Control-Allow-Origin"),
        "{not}"
    );
}

#[test]
fn a_literal_segment_beats_a_parameter_which_beats_a_greedy_one() {
    let gateway = gateway(&app(300));
    let route = |path: &str| {
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        gateway.route(&segments).map(|(r, p)| (r.path.clone(), p))
    };
    assert_eq!(route("/items/special").unwrap().0, "/items/special");
    let (path, parameters) = route("/items/a%20b").unwrap();
    assert_eq!(path, "/items/{id}");
    assert_eq!(parameters["id"], "a b");
    let (path, parameters) = route("/files/a/b/c.txt").unwrap();
    assert_eq!(path, "/files/{proxy+}");
    assert_eq!(parameters["proxy"], "a/b/c.txt");
    // A greedy parameter needs at least one segment; /files itself has no method.
    assert_eq!(route("/files").unwrap().0, "/files");
    assert!(route("/items/1/more").is_none());
    assert!(route("/nothing").is_none());
    assert_eq!(route("/").unwrap().0, "/");
}

#[tokio::test]
async fn requests_outside_the_stage_or_the_routes_are_refused_as_api_gateway_does() {
    let gateway = gateway(&app(300));
    let functions = Fake::new(|_, _| Ok(ok("x")));
    let cache = Cache::default();
    let (reply, _) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/prod/items/special",
        &[],
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, body(&reply)),
        (403, json!({"message": "Forbidden"}))
    );
    let (reply, _) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/devx/items/special",
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 403);
    let origin = [("Origin", "http://localhost:3000")];
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/nothing",
        &origin,
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, body(&reply)),
        (403, json!({"message": "Missing Authentication Token"}))
    );
    // DEFAULT_4XX echoes the request's Origin.
    assert_eq!(
        reply.header("Access-Control-Allow-Origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        Some("MissingAuthenticationTokenException")
    );
    assert_eq!(log.note.as_deref(), Some("no resource matches the path"));
    // A resource without the method.
    let (reply, _) = send(
        &gateway,
        &functions,
        &cache,
        "POST",
        "/dev/items/special",
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(functions.calls.lock().unwrap().is_empty());
    // ANY takes every method.
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "DELETE",
        "/dev/files/x",
        &[],
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, log.function.as_deref()),
        (200, Some("app-files"))
    );
}

#[tokio::test]
async fn the_proxy_event_is_the_rest_v1_event() {
    let gateway = gateway(&app(300));
    let functions = Fake::new(|_, _| Ok(ok("fine")));
    let cache = Cache::default();
    let headers = [
        ("Host", "127.0.0.1:3000"),
        ("User-Agent", "test/1"),
        ("X-Multi", "a"),
        ("X-Multi", "b"),
    ];
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "POST",
        "/dev/files/docs/a%2Fb.txt?q=1&q=2&name=J+D&empty",
        &headers,
        b"{\"x\":1}",
    )
    .await;
    assert_eq!((reply.status, &reply.body[..]), (200, &b"fine"[..]));
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    assert_eq!(log.function.as_deref(), Some("app-files"));
    let event = &functions.calls_to("app-files")[0];
    assert_eq!(event["resource"], "/files/{proxy+}");
    assert_eq!(event["path"], "/files/docs/a%2Fb.txt");
    assert_eq!(event["httpMethod"], "POST");
    assert_eq!(event["headers"]["X-Multi"], "b");
    assert_eq!(event["multiValueHeaders"]["X-Multi"], json!(["a", "b"]));
    assert_eq!(event["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(event["headers"]["X-Forwarded-Proto"], "http");
    assert_eq!(
        event["headers"]["X-Amzn-Trace-Id"],
        "Root=1-6b11a010-000040008000000000000001"
    );
    assert_eq!(
        event["queryStringParameters"],
        json!({"q": "2", "name": "J D", "empty": ""})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"]["q"],
        json!(["1", "2"])
    );
    assert_eq!(event["pathParameters"], json!({"proxy": "docs/a/b.txt"}));
    assert_eq!(event["stageVariables"], json!({"color": "blue"}));
    assert_eq!(event["body"], "{\"x\":1}");
    assert_eq!(event["isBase64Encoded"], false);
    let context = &event["requestContext"];
    assert_eq!(context["accountId"], "123456789012");
    assert_eq!(context["apiId"], "local");
    assert_eq!(context["stage"], "dev");
    assert_eq!(context["resourcePath"], "/files/{proxy+}");
    assert_eq!(context["path"], "/dev/files/docs/a%2Fb.txt");
    assert_eq!(context["httpMethod"], "POST");
    assert_eq!(context["protocol"], "HTTP/1.1");
    assert_eq!(context["requestId"], "00000000-0000-4000-8000-000000000001");
    assert_eq!(context["requestTimeEpoch"], 1_796_317_200_000u64);
    assert_eq!(context["requestTime"], "03/Dec/2026:17:00:00 +0000");
    assert_eq!(context["domainName"], "127.0.0.1:3000");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["identity"]["userAgent"], "test/1");
    assert_eq!(context["identity"]["user"], Value::Null);
    assert!(context["resourceId"].as_str().unwrap().len() == 10);
    assert!(context.get("authorizer").is_none());

    // No query, no body, a binary body.
    functions.calls.lock().unwrap().clear();
    send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items/special",
        &[],
        b"",
    )
    .await;
    let event = &functions.calls_to("app-special")[0];
    assert_eq!(event["queryStringParameters"], Value::Null);
    assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
    assert_eq!(event["pathParameters"], Value::Null);
    assert_eq!(event["body"], Value::Null);
    send(
        &gateway,
        &functions,
        &cache,
        "PUT",
        "/dev/files/bin",
        &[],
        &[0xff, 0x00, 0x01],
    )
    .await;
    let event = &functions.calls_to("app-files")[0];
    assert_eq!(event["body"], "/wAB");
    assert_eq!(event["isBase64Encoded"], true);
}

#[tokio::test]
async fn function_answers_become_responses_or_gateway_errors() {
    let gateway = gateway(&app(300));
    let functions = Fake::new(|_, event| {
        let path = event["path"].as_str().unwrap().to_owned();
        match path.as_str() {
            "/files/multi" => Ok(json!({
                "statusCode": 201,
                "headers": {"Set-Cookie": "ignored", "X-One": "1"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": base64_encode(b"\x00\x01"),
                "isBase64Encoded": true
            })),
            "/files/malformed" => Ok(json!({"body": {"not": "a string"}})),
            "/files/error" => Err(Failure::Error(FunctionError {
                error_type: "Boom".into(),
                error_message: "no".into(),
            })),
            _ => Err(Failure::Crashed("exited with status 101".into())),
        }
    });
    let cache = Cache::default();
    let (reply, _) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/files/multi",
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body, vec![0, 1]);
    let cookies: Vec<&str> = reply
        .headers
        .iter()
        .filter(|(n, _)| n == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(reply.header("X-One"), Some("1"));
    for (path, note) in [
        ("/dev/files/malformed", "malformed Lambda proxy response"),
        ("/dev/files/error", "app-files failed: Boom: no"),
        (
            "/dev/files/crash",
            "app-files crashed: exited with status 101",
        ),
    ] {
        let (reply, log) = send(&gateway, &functions, &cache, "GET", path, &[], b"").await;
        assert_eq!(
            (reply.status, body(&reply)),
            (502, json!({"message": "Internal server error"})),
            "{path}"
        );
        assert!(log.note.as_deref().unwrap().starts_with(note), "{log:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_integration_slower_than_29_seconds_is_a_504() {
    let gateway = gateway(&app(300));
    let mut functions = Fake::new(|_, _| Ok(ok("late")));
    functions.slow.push("app-special".into());
    let cache = Cache::default();
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items/special",
        &[],
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, body(&reply)),
        (504, json!({"message": "Endpoint request timed out"}))
    );
    assert_eq!(
        log.note.as_deref(),
        Some("app-special did not answer within 29000 ms")
    );
}

#[tokio::test]
async fn the_token_authorizer_decides_before_the_integration() {
    let gateway = gateway(&app(0));
    let functions = Fake::new(|function, event| {
        if function != "app-auth" {
            return Ok(ok("items"));
        }
        match event["authorizationToken"].as_str().unwrap() {
            "Bearer good" => Ok(allow(
                "arn:aws:execute-api:eu-west-1:123456789012:local/dev/GET/items*",
            )),
            "Bearer deny" => Ok(json!({"principalId": "u", "policyDocument": {"Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "arn:aws:execute-api:*:*:*/dev/GET/items/?"}
            ]}})),
            "Bearer expired" => Err(Failure::Error(FunctionError {
                error_type: "Error".into(),
                error_message: "Unauthorized".into(),
            })),
            "Bearer broken" => Ok(json!({"principalId": "u"})),
            _ => Err(Failure::Crashed("timed out".into())),
        }
    });
    let cache = Cache::default();
    let get = |token: Option<&'static str>, path: &'static str| {
        let gateway = &gateway;
        let functions = &functions;
        let cache = &cache;
        async move {
            let headers: Vec<(&str, &str)> =
                token.map(|t| ("authorization", t)).into_iter().collect();
            send(gateway, functions, cache, "GET", path, &headers, b"").await
        }
    };

    // No header, or one the expression refuses: 401, the authorizer not invoked.
    let (reply, log) = get(None, "/dev/items").await;
    assert_eq!(reply.status, 401);
    assert_eq!(log.authorizer.as_deref(), Some("not invoked"));
    // The UNAUTHORIZED gateway response of the template.
    assert_eq!(
        body(&reply),
        json!({"error": "Unauthorized", "type": "UNAUTHORIZED"})
    );
    assert_eq!(reply.header("WWW-Authenticate"), Some("Bearer"));
    let (reply, _) = get(Some("Basic abc"), "/dev/items").await;
    assert_eq!(reply.status, 401);
    assert!(functions.calls_to("app-auth").is_empty());

    // Allow: the event carries principalId, the context as strings, integrationLatency.
    let (reply, log) = get(Some("Bearer good"), "/dev/items").await;
    assert_eq!(
        (reply.status, log.authorizer.as_deref()),
        (200, Some("Allow"))
    );
    let asked = &functions.calls_to("app-auth")[0];
    assert_eq!(
        asked,
        &json!({"type": "TOKEN", "authorizationToken": "Bearer good",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:local/dev/GET/items"})
    );
    let authorizer = &functions.calls_to("app-items")[0]["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "user-1");
    assert_eq!(authorizer["email"], "a@example.com");
    assert_eq!(authorizer["admin"], "true");
    assert_eq!(authorizer["level"], "3");
    assert!(authorizer["integrationLatency"].is_u64());

    // An explicit Deny wins over an Allow.
    let (reply, log) = get(Some("Bearer deny"), "/dev/items/7").await;
    assert_eq!(
        (reply.status, body(&reply)),
        (
            403,
            json!({"Message": "User is not authorized to access this resource with an explicit deny"})
        )
    );
    assert_eq!(log.authorizer.as_deref(), Some("Deny"));
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        Some("AccessDeniedException")
    );
    // `Unauthorized` from the function: 401; anything else: 500 with a null message.
    let (reply, log) = get(Some("Bearer expired"), "/dev/items").await;
    assert_eq!(
        (reply.status, log.authorizer.as_deref()),
        (401, Some("Unauthorized"))
    );
    for token in ["Bearer broken", "Bearer crash"] {
        let (reply, log) = get(Some(token), "/dev/items").await;
        assert_eq!(
            (reply.status, body(&reply)),
            (500, json!({"message": null}))
        );
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            Some("AuthorizerConfigurationException")
        );
        assert_eq!(log.authorizer.as_deref(), Some("error"));
    }
    // Only the Allowed request reached the integration.
    assert_eq!(functions.calls_to("app-items").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_cached_policy_decides_each_method_arn_until_its_ttl_runs_out() {
    let gateway = gateway(&app(300));
    let functions = Fake::new(|function, event| match function {
        // Allows exactly the ARN it was asked about, as a narrow authorizer would.
        "app-auth" => match event["authorizationToken"].as_str().unwrap() {
            "Bearer expired" => Err(Failure::Error(FunctionError {
                error_type: "Error".into(),
                error_message: "Unauthorized".into(),
            })),
            _ => Ok(allow(event["methodArn"].as_str().unwrap())),
        },
        _ => Ok(ok("ok")),
    });
    let cache = Cache::default();
    let token = [("Authorization", "Bearer abc")];
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items",
        &token,
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, log.authorizer.as_deref()),
        (200, Some("Allow"))
    );
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items",
        &token,
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, log.authorizer.as_deref()),
        (200, Some("cached Allow"))
    );
    // The cached policy names /items only: another method ARN is denied without asking.
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items/9",
        &token,
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, log.authorizer.as_deref()),
        (403, Some("cached Deny"))
    );
    assert_eq!(
        body(&reply)["Message"],
        "User is not authorized to access this resource"
    );
    assert_eq!(functions.calls_to("app-auth").len(), 1);
    // Another token is another cache entry.
    let other = [("Authorization", "Bearer xyz")];
    send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items/9",
        &other,
        b"",
    )
    .await;
    assert_eq!(functions.calls_to("app-auth").len(), 2);
    // After the TTL the authorizer is asked again (for the new ARN, which it allows).
    tokio::time::advance(Duration::from_secs(301)).await;
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items/9",
        &token,
        b"",
    )
    .await;
    assert_eq!(
        (reply.status, log.authorizer.as_deref()),
        (200, Some("Allow"))
    );
    assert_eq!(functions.calls_to("app-auth").len(), 3);
    // Clearing the cache asks again.
    cache.clear();
    send(
        &gateway,
        &functions,
        &cache,
        "GET",
        "/dev/items/9",
        &token,
        b"",
    )
    .await;
    assert_eq!(functions.calls_to("app-auth").len(), 4);
    // Unauthorized is not cached.
    let expired = [("Authorization", "Bearer expired")];
    for _ in 0..2 {
        let (reply, _) = send(
            &gateway,
            &functions,
            &cache,
            "GET",
            "/dev/items",
            &expired,
            b"",
        )
        .await;
        assert_eq!(reply.status, 401);
    }
    assert_eq!(functions.calls_to("app-auth").len(), 6);
}

#[tokio::test]
async fn a_ttl_of_zero_asks_the_authorizer_every_time() {
    let gateway = gateway(&app(0));
    let functions = Fake::new(|function, _| match function {
        "app-auth" => Ok(allow("*")),
        _ => Ok(ok("ok")),
    });
    let cache = Cache::default();
    let token = [("Authorization", "Bearer abc")];
    for _ in 0..3 {
        let (_, log) = send(
            &gateway,
            &functions,
            &cache,
            "GET",
            "/dev/items",
            &token,
            b"",
        )
        .await;
        assert_eq!(log.authorizer.as_deref(), Some("Allow"));
    }
    assert_eq!(functions.calls_to("app-auth").len(), 3);
}

#[test]
fn policies_match_method_arns_with_iam_wildcards() {
    assert!(wildcard(
        "arn:aws:execute-api:*:*:api/*/GET/*",
        "arn:aws:execute-api:r:1:api/dev/GET/a/b"
    ));
    assert!(wildcard(
        "arn:aws:execute-api:r:1:api/dev/GET/items/?",
        "arn:aws:execute-api:r:1:api/dev/GET/items/7"
    ));
    assert!(!wildcard(
        "arn:aws:execute-api:r:1:api/dev/GET/items/?",
        "arn:aws:execute-api:r:1:api/dev/GET/items/77"
    ));
    assert!(!wildcard(
        "arn:aws:execute-api:r:1:api/dev/POST/*",
        "arn:aws:execute-api:r:1:api/dev/GET/x"
    ));
    assert!(wildcard("*", ""));
    let policy = Policy::parse(
        br#"{"principalId":"p","policyDocument":{"Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}}}"#,
    )
    .unwrap();
    // An Allow of another action allows nothing here.
    assert_eq!(
        policy.decide("arn:aws:execute-api:r:1:a/dev/GET/"),
        auth::Decision::ImplicitDeny
    );
    assert!(
        Policy::parse(
            br#"{"principalId":"p","policyDocument":{"Statement":[]},"context":{"o":{}}}"#
        )
        .is_err()
    );
    assert!(Policy::parse(br#"{"policyDocument":{"Statement":[]}}"#).is_err());
}

#[tokio::test]
async fn cors_preflights_answer_from_the_mock_integration() {
    let template: Value = serde_json::from_str(EXAMPLE).unwrap();
    let gateway = gateway(&template);
    let functions = Fake::new(|_, _| Ok(ok("x")));
    let cache = Cache::default();
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "OPTIONS",
        "/prod/user-profile",
        &[("origin", "http://127.0.0.1:8100")],
        b"",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        reply.header("Access-Control-Allow-Origin"),
        Some("http://127.0.0.1:8100")
    );
    assert_eq!(
        reply.header("Access-Control-Allow-Headers"),
        Some("Authorization,Content-Type")
    );
    assert_eq!(
        reply.header("Access-Control-Allow-Methods"),
        Some("GET,OPTIONS")
    );
    assert_eq!(reply.header("Access-Control-Max-Age"), Some("600"));
    assert_eq!(reply.header("Vary"), Some("Origin"));
    assert!(reply.body.is_empty());
    assert_eq!(log.function, None);
    let (reply, log) = send(
        &gateway,
        &functions,
        &cache,
        "OPTIONS",
        "/prod/user-profile",
        &[("Origin", "https://evil.example")],
        b"",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("Access-Control-Allow-Origin"), None);
    assert_eq!(reply.header("Vary"), Some("Origin"));
    assert!(log.note.unwrap().contains("https://evil.example"));
    assert!(functions.calls.lock().unwrap().is_empty());
}

#[test]
fn what_is_not_emulated_is_named() {
    let mut template = app(300);
    let resources = template["Resources"].as_object_mut().unwrap();
    resources["Api"]["Properties"]["BinaryMediaTypes"] = json!(["image/png"]);
    resources["GetSpecial"]["Properties"]["ApiKeyRequired"] = json!(true);
    resources["GetSpecial"]["Properties"]["RequestValidatorId"] = json!({"Ref": "Validator"});
    resources.insert(
        "Validator".into(),
        json!({"Type": "AWS::ApiGateway::RequestValidator", "Properties": {"RestApiId": {"Ref": "Api"}}}),
    );
    resources.insert(
        "Plan".into(),
        json!({"Type": "AWS::ApiGateway::UsagePlan", "Properties": {}}),
    );
    resources.insert(
        "Waf".into(),
        json!({"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {}}),
    );
    resources["AnyFiles"]["Properties"]["Integration"] =
        json!({"Type": "HTTP_PROXY", "Uri": "https://example.com/{proxy}"});
    resources["GetItem"]["Properties"]["AuthorizationType"] = json!("AWS_IAM");
    resources["Stage"]["Properties"]["Surprise"] = json!(1);
    resources.insert(
        "Pool".into(),
        json!({"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "Name": "users", "Type": "COGNITO_USER_POOLS", "RestApiId": {"Ref": "Api"},
            "ProviderARNs": ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/x"],
            "IdentitySource": "method.request.header.Authorization"}}),
    );
    resources["GetSpecial"]["Properties"]["AuthorizationType"] = json!("COGNITO_USER_POOLS");
    resources["GetSpecial"]["Properties"]["AuthorizerId"] = json!({"Ref": "Pool"});
    let gateway = gateway(&template);
    let not = gateway.not_emulated();
    for expected in [
        "REST API Api: binary media types are not emulated",
        "GET /items/special: the API key it requires is not checked",
        "GET /items/special: its request validator is not emulated",
        "AWS::ApiGateway::RequestValidator Validator: request validation is not emulated",
        "AWS::ApiGateway::UsagePlan Plan: API keys and usage plans",
        "AWS::WAFv2::WebACLAssociation Waf: WAF",
        "ANY /files/{proxy+}: HTTP_PROXY integrations are not emulated",
        "GET /items/{id}: AWS_IAM authorization is not checked",
        "stage dev: property Surprise is not emulated",
        "authorizer users: COGNITO_USER_POOLS authorizers are not emulated",
        "GET /items/special: COGNITO_USER_POOLS authorization is not checked",
    ] {
        assert!(
            not.iter().any(|s| s.starts_with(expected)),
            "{expected:?} missing from {not:#?}"
        );
    }
    // Nothing names the handled parts of the test app.
    assert!(
        !not.iter().any(|s| s.contains("authorizer app-jwt")),
        "{not:#?}"
    );
    // An unchecked authorization still serves; an unsupported integration answers 500.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let functions = Fake::new(|_, _| Ok(ok("x")));
        let cache = Cache::default();
        let (reply, log) = send(
            &gateway,
            &functions,
            &cache,
            "GET",
            "/dev/items/1",
            &[],
            b"",
        )
        .await;
        assert_eq!(reply.status, 200);
        assert!(
            log.note
                .unwrap()
                .contains("AWS_IAM authorization is not checked")
        );
        let (reply, _) = send(
            &gateway,
            &functions,
            &cache,
            "GET",
            "/dev/files/x",
            &[],
            b"",
        )
        .await;
        assert_eq!(reply.status, 500);
        let (reply, log) = send(
            &gateway,
            &functions,
            &cache,
            "GET",
            "/dev/items/special",
            &[],
            b"",
        )
        .await;
        assert_eq!((reply.status, log.authorizer), (200, None));
        assert!(log.note.unwrap().contains("COGNITO_USER_POOLS"));
        let route = gateway
            .routes()
            .into_iter()
            .find(|r| r.path == "/items/special")
            .unwrap();
        assert_eq!(route.authorizer, None);
    });
}

#[test]
fn encodings_round_trip() {
    for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xff, 0xfe, 0x00]] {
        assert_eq!(base64_decode(&base64_encode(bytes)).unwrap(), bytes);
    }
    assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
    assert!(base64_decode("a*b").is_none());
    assert_eq!(request_time(0), "01/Jan/1970:00:00:00 +0000");
    assert_eq!(request_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
}

/// Sends raw HTTP and reads one reply: status line, headers (lowercased names), body.
async fn exchange(
    stream: &mut BufReader<TcpStream>,
    request: &[u8],
) -> (String, Vec<(String, String)>, Vec<u8>) {
    stream.get_mut().write_all(request).await.unwrap();
    let mut status = String::new();
    stream.read_line(&mut status).await.unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    (status.trim_end().to_owned(), headers, body)
}

#[tokio::test]
async fn a_real_server_answers_raw_http_and_swaps_its_routes() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let functions = Arc::new(Fake::new(|function, event| {
        Ok(ok(&format!(
            "{function} {}",
            event["path"].as_str().unwrap()
        )))
    }));
    let logs = Arc::new(Mutex::new(Vec::new()));
    let seen = logs.clone();
    let server = GatewayServer::start(
        listener,
        Arc::new(gateway(&app(300))),
        functions.clone(),
        config(),
        move |log| seen.lock().unwrap().push(log),
    );
    let mut stream = BufReader::new(TcpStream::connect(server.address()).await.unwrap());
    let (status, headers, body) = exchange(
        &mut stream,
        b"GET /dev/items/special?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, b"app-special /items/special");
    assert!(headers.iter().any(|(n, _)| n == "x-amzn-requestid"));
    // The same kept-alive connection: outside the stage.
    let (status, _, body) = exchange(&mut stream, b"GET /other HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 403 Forbidden");
    assert_eq!(body, br#"{"message":"Forbidden"}"#);
    // A chunked POST body reaches the function.
    let (status, _, _) = exchange(
        &mut stream,
        b"POST /dev/files/up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(functions.calls_to("app-files")[0]["body"], "hi");
    // Over 10 MB: 413, and the connection closes.
    let (status, headers, body) = exchange(
        &mut stream,
        b"POST /dev/files/up HTTP/1.1\r\nOrigin: http://x.test\r\nContent-Length: 10485761\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(body, br#"{"message":"Request Too Long"}"#);
    // DEFAULT_4XX applies to it too.
    assert!(headers.contains(&(
        "access-control-allow-origin".to_owned(),
        "http://x.test".to_owned()
    )));
    assert!(headers.contains(&("connection".to_owned(), "close".to_owned())));

    // A new template: /items/special is gone, the next request sees it.
    let mut template = app(300);
    let resources = template["Resources"].as_object_mut().unwrap();
    resources.remove("GetSpecial");
    server.replace(Arc::new(gateway(&template)));
    let mut stream = BufReader::new(TcpStream::connect(server.address()).await.unwrap());
    let (status, _, body) = exchange(
        &mut stream,
        b"GET /dev/items/special HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 403 Forbidden");
    assert_eq!(body, br#"{"message":"Missing Authentication Token"}"#);
    server.clear_authorizer_cache();
    server.stop().await;

    let logs = logs.lock().unwrap();
    let statuses: Vec<u16> = logs.iter().map(|l| l.status).collect();
    assert_eq!(statuses, [200, 403, 200, 413, 403]);
    assert_eq!(logs[0].path, "/dev/items/special");
    assert_eq!(logs[0].function.as_deref(), Some("app-special"));
    assert_eq!(
        (logs[3].method.as_str(), logs[3].path.as_str()),
        ("POST", "/dev/files/up")
    );
}
