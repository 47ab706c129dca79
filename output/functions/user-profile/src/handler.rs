//! The `user-profile` function: your code. stackgen wrote this file once and never overwrites it.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde_json::json;

use crate::config::Config;
use crate::dynamodb::item_to_json;

/// Answers one request to `GET /user-profile`.
pub async fn handle(request: Request, config: &Config) -> Result<Response<Body>, Error> {
    // The caller's item in the `profiles` table (key `sub` = their user id),
    // created on their first request; none on a public route.
    let stored = match caller(&request) {
        Some(sub) => {
            let client = crate::dynamodb::client().await;
            Some(item(client, &config.profiles_table, &sub).await?)
        }
        None => None,
    };
    let body = json!({
        "path": request.uri().path(),
        // The signed-in user's id, from the authorizer (None on public routes).
        "caller": caller(&request),
        "profile": stored,
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))?)
}

/// The item keyed by `sub` in `table`, as JSON; written first (with the time it was created)
/// when there is none yet.
pub async fn item(client: &Client, table: &str, sub: &str) -> Result<serde_json::Value, Error> {
    let key = AttributeValue::S(sub.to_owned());
    let found = client
        .get_item()
        .table_name(table)
        .key("sub", key.clone())
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| format!("reading {table}: {}", DisplayErrorContext(&e)))?;
    if let Some(item) = found.item() {
        return Ok(item_to_json(item));
    }
    let created_at = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let created_at = AttributeValue::N(created_at.to_string());
    let new_item = HashMap::from([
        ("sub".to_owned(), key),
        ("created_at".to_owned(), created_at),
    ]);
    let put = client
        .put_item()
        .table_name(table)
        .set_item(Some(new_item.clone()))
        // Another request may have created it meanwhile: never overwrite an item.
        .condition_expression("attribute_not_exists(#key)")
        .expression_attribute_names("#key", "sub")
        .send()
        .await;
    match put {
        Ok(_) => Ok(item_to_json(&new_item)),
        Err(SdkError::ServiceError(e))
            if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
        {
            Box::pin(item(client, table, sub)).await
        }
        Err(e) => Err(format!("writing {table}: {}", DisplayErrorContext(&e)).into()),
    }
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

    #[test]
    fn finds_the_caller() {
        let request = lambda_http::request::from_str(EVENT).unwrap();
        assert_eq!(caller(&request).as_deref(), Some("auth0|user-1"));
    }

    /// Without a signed-in caller there is no item to read: the table is not called.
    #[tokio::test]
    async fn answers_a_public_request_without_the_table() {
        let public = EVENT.replace(
            r#""authorizer": {"principalId": "auth0|user-1", "sub": "auth0|user-1", "scope": "openid"}"#,
            r#""authorizer": {}"#,
        );
        let request = lambda_http::request::from_str(&public).unwrap();
        let response = handle(request, &config()).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["caller"], serde_json::Value::Null);
        assert_eq!(body["profile"], serde_json::Value::Null);
    }
}
