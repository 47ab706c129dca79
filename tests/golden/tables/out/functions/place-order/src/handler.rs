//! The `place-order` function: your code. stackgen wrote this file once and never overwrites it.

use lambda_runtime::Error;
use serde_json::{Value, json};

use crate::config::Config;

/// Called once per invocation with the event's JSON; the returned JSON is the response.
pub async fn handle(event: Value, config: &Config) -> Result<Value, Error> {
    let _ = config;
    Ok(json!({ "received": event }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_with_the_event() {
        let config =
            Config::from_lookup(|name| Some(format!("test-{}", name.to_lowercase()))).unwrap();
        let answer = handle(json!({"hello": "world"}), &config).await.unwrap();
        assert_eq!(answer, json!({ "received": { "hello": "world" } }));
    }
}
