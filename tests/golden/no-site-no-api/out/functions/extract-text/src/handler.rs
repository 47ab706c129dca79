//! The `extract-text` function: your code. stackgen wrote this file once and never overwrites it.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::Error;

use crate::config::Config;

/// Called with each batch of S3 notifications from `inbox`.
pub async fn handle(event: S3Event, config: &Config) -> Result<(), Error> {
    let _ = config;
    for (bucket, key) in objects(&event) {
        // Replace with the function's work; stdout goes to the function's log group.
        println!("received s3://{bucket}/{key}");
    }
    Ok(())
}

/// The (bucket, key) of every object in the event. Keys arrive URL-encoded (`+` for spaces).
pub fn objects(event: &S3Event) -> Vec<(String, String)> {
    event
        .records
        .iter()
        .filter_map(|record| {
            let bucket = record.s3.bucket.name.clone()?;
            let key = record.s3.object.key.clone()?;
            Some((bucket, key))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|name| Some(format!("test-{}", name.to_lowercase()))).unwrap()
    }

    /// A notification as S3 sends it (AWS's documented example).
    const EVENT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
        "awsRegion":"us-east-1","eventTime":"2026-01-01T00:00:00.000Z",
        "eventName":"ObjectCreated:Put","userIdentity":{"principalId":"EXAMPLE"},
        "requestParameters":{"sourceIPAddress":"127.0.0.1"},
        "responseElements":{"x-amz-request-id":"EXAMPLE123456789","x-amz-id-2":"EXAMPLE123/abc"},
        "s3":{"s3SchemaVersion":"1.0","configurationId":"testConfigRule",
        "bucket":{"name":"uploads","ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::uploads"},
        "object":{"key":"videos/cat.mp4","size":1024,"eTag":"0123456789abcdef0123456789abcdef",
        "sequencer":"0A1B2C3D4E5F678901"}}}]}"#;

    #[test]
    fn finds_the_objects_of_a_notification() {
        let event: S3Event = serde_json::from_str(EVENT).unwrap();
        assert_eq!(
            objects(&event),
            vec![("uploads".to_owned(), "videos/cat.mp4".to_owned())]
        );
    }

    #[tokio::test]
    async fn handles_a_notification() {
        let event: S3Event = serde_json::from_str(EVENT).unwrap();
        handle(event, &config()).await.unwrap();
    }
}
