//! The `health` function: your code. stackgen wrote this file once and never overwrites it.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde_json::json;

use crate::config::Config;

/// Answers one request to `GET /health`.
pub async fn handle(request: Request, config: &Config) -> Result<Response<Body>, Error> {
    let _ = config;
    let body = json!({
        "path": request.uri().path(),
        // The signed-in user's id, from the authorizer (None on public routes).
        "caller": caller(&request),
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))?)
}

/// The `sub` (user id) the JWT authorizer put in the request context, if any.
pub fn caller(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context
            .authorizer
            .fields
            .get("sub")
            .and_then(|sub| sub.as_str())
            .map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request as API Gateway (REST, Lambda proxy) sends it, after the authorizer allowed it.
    const EVENT: &str = r#"{
        "resource": "/hello", "path": "/hello", "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "abc", "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "resourcePath": "/hello",
            "httpMethod": "GET", "apiId": "abc123", "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "test"},
            "authorizer": {"principalId": "auth0|user-1", "sub": "auth0|user-1", "scope": "openid"}
        },
        "body": null, "isBase64Encoded": false
    }"#;

    fn config() -> Config {
        Config::from_lookup(|name| Some(format!("test-{}", name.to_lowercase()))).unwrap()
    }

    #[tokio::test]
    async fn answers_with_the_caller() {
        let request = lambda_http::request::from_str(EVENT).unwrap();
        assert_eq!(caller(&request).as_deref(), Some("auth0|user-1"));
        let response = handle(request, &config()).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["caller"], "auth0|user-1");
    }
}
