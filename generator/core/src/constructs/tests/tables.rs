//! Tables, the grants `reads`/`writes: [table:<key>]` give, and stream triggers.

use super::{of_type, synth};
use serde_json::{Value as J, json};

const APP: &str = "name: shop\nregion: us-east-1\ntables:\n  orders:\n    partition_key: {name: customer, type: string}\n    sort_key: {name: placed_at, type: number}\n    stream: new_and_old\n    indexes:\n      by-status:\n        partition_key: {name: status, type: string}\n        sort_key: {name: placed_at}\n  carts:\n    partition_key: {name: id, type: string}\nfunctions:\n  reader:\n    reads: [table:orders]\n  writer:\n    writes: [table:carts]\n  fulfil:\n    triggers:\n      - dynamodb: {table: orders, batch_size: 25}\n";

/// The statements of a function's execution role.
fn statements<'t>(t: &'t J, function: &str) -> &'t Vec<J> {
    let prefix = format!("Function{function}Role");
    let role = t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| id.starts_with(&prefix))
        .unwrap()
        .1;
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
}

fn sid<'s>(statements: &'s [J], sid: &str) -> &'s J {
    statements
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {statements:?}"))
}

#[test]
fn a_table_is_encrypted_backed_up_kept_and_named_after_the_project() {
    let t = synth(APP).remove(0);
    let tables = of_type(&t, "AWS::DynamoDB::Table");
    let (_, orders) = tables
        .iter()
        .find(|(id, _)| id.starts_with("TableOrders"))
        .unwrap();
    let p = &orders["Properties"];
    assert_eq!(p["TableName"], "shop-orders");
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["SSESpecification"],
        json!({"SSEEnabled": true, "SSEType": "KMS"})
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["DeletionProtectionEnabled"], false);
    assert_eq!(orders["DeletionPolicy"], "Retain");
    assert_eq!(orders["UpdateReplacePolicy"], "Retain");
    // Each key attribute once, the index's sort key typed by the table's.
    assert_eq!(
        p["AttributeDefinitions"],
        json!([
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "placed_at", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
        ])
    );
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    assert_eq!(
        p["GlobalSecondaryIndexes"][0]["KeySchema"],
        json!([
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "placed_at", "KeyType": "RANGE"},
        ])
    );
}

#[test]
fn a_protected_stage_turns_deletion_protection_on() {
    let staged = format!("{APP}stages:\n  dev:\n    default: true\n  prod:\n    protect: true\n");
    let model = crate::load_stage(&staged, Some("prod")).unwrap();
    assert!(model.tables.values().all(|t| t.deletion_protection));
    let model = crate::load_stage(&staged, Some("dev")).unwrap();
    assert!(model.tables.values().all(|t| !t.deletion_protection));
}

#[test]
fn reads_and_writes_grant_exactly_the_item_actions_on_the_table() {
    let t = synth(APP).remove(0);
    let reader = statements(&t, "Reader");
    let arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/shop-orders";
    let read = sid(reader, "ReadOrdersTable");
    assert_eq!(
        read["Action"],
        json!([
            "dynamodb:BatchGetItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan"
        ])
    );
    assert_eq!(read["Resource"]["Fn::Sub"], arn);
    let indexes = sid(reader, "QueryOrdersIndexes");
    assert_eq!(
        indexes["Action"],
        json!(["dynamodb:Query", "dynamodb:Scan"])
    );
    assert_eq!(indexes["Resource"]["Fn::Sub"], format!("{arn}/index/*"));
    assert!(!J::from(reader.clone()).to_string().contains("PutItem"));

    let writer = statements(&t, "Writer");
    let write = sid(writer, "WriteCartsTable");
    assert_eq!(
        write["Action"],
        json!([
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem"
        ])
    );
    // carts has no index: no index statement, and no read.
    assert_eq!(writer.len(), 2, "{writer:?}");

    let function = of_type(&t, "AWS::Lambda::Function")
        .into_iter()
        .find(|(id, _)| id.starts_with("FunctionWriter"))
        .unwrap()
        .1;
    assert_eq!(
        function["Properties"]["Environment"]["Variables"]["CARTS_TABLE"],
        "shop-carts"
    );
}

#[test]
fn a_stream_trigger_maps_the_stream_with_a_dead_letter_destination_and_stream_actions_only() {
    let t = synth(APP).remove(0);
    let (_, mapping) = of_type(&t, "AWS::Lambda::EventSourceMapping")
        .pop()
        .unwrap();
    let p = &mapping["Properties"];
    assert!(
        p["EventSourceArn"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("TableOrders")
    );
    assert_eq!(p["EventSourceArn"]["Fn::GetAtt"][1], "StreamArn");
    assert_eq!(p["BatchSize"], 25);
    assert_eq!(p["StartingPosition"], "LATEST");
    assert_eq!(p["BisectBatchOnFunctionError"], true);
    let destination = &p["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"];
    assert!(
        destination[0]
            .as_str()
            .unwrap()
            .starts_with("FunctionFulfilDeadLetterQueue")
    );

    let fulfil = statements(&t, "Fulfil");
    let read = sid(fulfil, "ReadTriggerStreams");
    assert_eq!(
        read["Action"],
        json!([
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator"
        ])
    );
    assert!(
        read["Resource"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":table/shop-orders/stream/*")
    );
    // ListStreams takes no resource but `*`: its own statement, nothing else on `*`.
    let list = sid(fulfil, "ListStreams");
    assert_eq!(list["Action"], "dynamodb:ListStreams");
    assert_eq!(list["Resource"], "*");
    assert!(sid(fulfil, "SendFailedEventsToDeadLetterQueue")["Action"] == "sqs:SendMessage");
    assert!(!J::from(fulfil.clone()).to_string().contains("GetItem"));
}

#[test]
fn a_split_app_keeps_its_tables_in_the_root_and_passes_the_stream_to_a_nested_trigger() {
    let mut manifest = String::from(APP);
    for i in 0..90 {
        manifest.push_str(&format!("  f{i}:\n    reads: [table:carts]\n"));
    }
    let model = crate::load(&manifest).unwrap();
    let graph = crate::constructs::synthesize(&model).unwrap();
    let stacks = graph.into_stacks();
    assert!(stacks.len() > 1, "90 functions split the app");
    let root = stacks[0].template.to_json();
    assert_eq!(of_type(&root, "AWS::DynamoDB::Table").len(), 2);
    for nested in &stacks[1..] {
        assert!(of_type(&nested.template.to_json(), "AWS::DynamoDB::Table").is_empty());
    }
}
