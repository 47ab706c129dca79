//! The `fulfil` function: your code. stackgen wrote this file once and never overwrites it.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::Error;

use crate::config::Config;

/// Called with each batch of changes to `orders`. A record whose sequence number
/// is returned as failed is retried (with the records after it); the rest of the batch is
/// done. After the trigger's retries a failing batch goes to the dead-letter queue.
pub async fn handle(event: Event, config: &Config) -> Result<DynamoDbEventResponse, Error> {
    let _ = config;
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        if let Err(error) = change(record) {
            eprintln!("ERROR {}: {error}", record.event_id);
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            // Later records wait for this one: streams keep each item's changes in order.
            break;
        }
    }
    Ok(response)
}

/// One change: replace with the function's work; stdout goes to the function's log group.
pub fn change(record: &EventRecord) -> Result<(), Error> {
    let mut keys: Vec<&String> = record.change.keys.keys().collect();
    keys.sort();
    println!("{} of the item with keys {keys:?}", record.event_name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|name| Some(format!("test-{}", name.to_lowercase()))).unwrap()
    }

    /// A stream record as Lambda delivers it (AWS's documented example).
    const EVENT: &str = r#"{"Records":[{"eventID":"1","eventName":"INSERT","eventVersion":"1.1",
        "eventSource":"aws:dynamodb","awsRegion":"us-east-1",
        "dynamodb":{"ApproximateCreationDateTime":1767225600,"Keys":{"Id":{"N":"101"}},
        "NewImage":{"Message":{"S":"New item!"},"Id":{"N":"101"}},
        "SequenceNumber":"111","SizeBytes":26,"StreamViewType":"NEW_AND_OLD_IMAGES"},
        "eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/demo/stream/2026-01-01T00:00:00.000"}]}"#;

    #[tokio::test]
    async fn handles_a_batch_without_failures() {
        let event: Event = serde_json::from_str(EVENT).unwrap();
        let sequence_number = event.records[0].change.sequence_number.as_deref();
        assert_eq!(sequence_number, Some("111"));
        let response = handle(event, &config()).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
}
