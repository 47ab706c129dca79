//! What running a function on this machine needs to know, computed purely: the sample events
//! of its triggers (built from the model, with names from the naming layer) and the
//! environment the generated template gives it (intrinsics resolved from what a deploy
//! recorded, else a placeholder the caller is told about). The running itself is
//! `stackgen-local`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use crate::manifest::S3Event;
use crate::model::{BucketName, FunctionSpec, Key, Model, RouteKey, S3TriggerSpec};
use crate::outputs::StackOutputs;

/// The account sample events and unresolved names use: AWS's documentation example account.
pub const SAMPLE_ACCOUNT: &str = "123456789012";

/// A kind of event a function can get from its triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SampleKind {
    /// An S3 `ObjectCreated:Put` notification.
    S3Put,
    /// An S3 `ObjectRemoved:Delete` notification.
    S3Delete,
    /// An API Gateway REST proxy (v1) request for the function's first route.
    Api,
    /// A DynamoDB stream record of an item inserted into the first trigger's table.
    DynamodbInsert,
}

impl SampleKind {
    pub const ALL: [SampleKind; 4] = [
        SampleKind::S3Put,
        SampleKind::S3Delete,
        SampleKind::Api,
        SampleKind::DynamodbInsert,
    ];

    /// The name `--sample` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SampleKind::S3Put => "s3-put",
            SampleKind::S3Delete => "s3-delete",
            SampleKind::Api => "api",
            SampleKind::DynamodbInsert => "dynamodb-insert",
        }
    }

    pub fn parse(text: &str) -> Option<SampleKind> {
        SampleKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for SampleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sample kinds `function`'s triggers give it, in [`SampleKind::ALL`] order.
pub fn sample_kinds(model: &Model, function: &Key) -> Vec<SampleKind> {
    let Some(spec) = model.functions.get(function) else {
        return Vec::new();
    };
    SampleKind::ALL
        .into_iter()
        .filter(|kind| match kind {
            SampleKind::S3Put => s3_trigger(spec, S3Event::Created).is_some(),
            SampleKind::S3Delete => s3_trigger(spec, S3Event::Removed).is_some(),
            SampleKind::Api => first_route(model, function).is_some(),
            SampleKind::DynamodbInsert => !spec.dynamodb_triggers.is_empty(),
        })
        .collect()
}

fn s3_trigger(spec: &FunctionSpec, event: S3Event) -> Option<&S3TriggerSpec> {
    spec.s3_triggers.iter().find(|t| t.events.contains(&event))
}

fn first_route<'m>(model: &'m Model, function: &Key) -> Option<&'m RouteKey> {
    let api = model.api.as_ref()?;
    api.routes
        .iter()
        .find(|(_, route)| &route.function == function)
        .map(|(key, _)| key)
}

/// A realistic event of `kind` for `function`, or `None` when none of its triggers gives
/// that kind (see [`sample_kinds`]). Deterministic: fixed times and ids.
pub fn sample_event(model: &Model, function: &Key, kind: SampleKind) -> Option<Value> {
    let spec = model.functions.get(function)?;
    match kind {
        SampleKind::S3Put => Some(s3_event(
            model,
            s3_trigger(spec, S3Event::Created)?,
            "ObjectCreated:Put",
        )),
        SampleKind::S3Delete => Some(s3_event(
            model,
            s3_trigger(spec, S3Event::Removed)?,
            "ObjectRemoved:Delete",
        )),
        SampleKind::Api => {
            let route = first_route(model, function)?;
            let protected = model.api.as_ref()?.routes[route].protected;
            Some(api_event(model, route, protected))
        }
        SampleKind::DynamodbInsert => {
            let trigger = spec.dynamodb_triggers.first()?;
            Some(dynamodb_event(model, &trigger.table))
        }
    }
}

/// A stream record of an inserted item as Lambda delivers it: the table's keys with sample
/// values, the new image when the stream carries it.
fn dynamodb_event(model: &Model, table: &Key) -> Value {
    let spec = &model.tables[table];
    let sample = |k: &crate::model::KeySpec| match k.kind {
        crate::manifest::AttributeType::String => json!({ "S": format!("sample-{}", k.name) }),
        crate::manifest::AttributeType::Number => json!({ "N": "1" }),
        crate::manifest::AttributeType::Binary => json!({ "B": "c2FtcGxl" }),
    };
    let keys: serde_json::Map<String, Value> = std::iter::once(&spec.partition_key)
        .chain(&spec.sort_key)
        .map(|k| (k.name.clone(), sample(k)))
        .collect();
    let view = spec.stream.unwrap_or(crate::manifest::StreamView::KeysOnly);
    let mut record = json!({
        "ApproximateCreationDateTime": 1_767_225_600_u64,
        "Keys": keys,
        "SequenceNumber": "111",
        "SizeBytes": 26,
        "StreamViewType": view.as_str(),
    });
    if matches!(
        view,
        crate::manifest::StreamView::NewImage | crate::manifest::StreamView::NewAndOld
    ) {
        record["NewImage"] = Value::Object(keys.clone());
    }
    let name = model.naming.table(table);
    json!({
        "Records": [{
            "eventID": "1",
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": model.region,
            "dynamodb": record,
            "eventSourceARN": format!(
                "arn:aws:dynamodb:{}:{SAMPLE_ACCOUNT}:table/{name}/stream/2026-01-01T00:00:00.000",
                model.region
            ),
        }]
    })
}

/// The bucket's physical name in the sample account.
fn bucket_name(model: &Model, bucket: &Key) -> String {
    match model.buckets.get(bucket).map(|b| &b.name) {
        Some(BucketName::Fixed(name)) => name.clone(),
        _ => model
            .naming
            .bucket_in(bucket.as_str(), SAMPLE_ACCOUNT, &model.region)
            .into_string(),
    }
}

/// An object key the trigger's filter matches: `<prefix>sample<suffix>`.
fn sample_key(trigger: &S3TriggerSpec) -> String {
    let suffix = trigger.suffix.as_deref().unwrap_or(".json");
    format!(
        "{}sample-object{suffix}",
        trigger.prefix.as_deref().unwrap_or("")
    )
}

/// S3's notification as AWS documents it (event structure version 2.1).
fn s3_event(model: &Model, trigger: &S3TriggerSpec, event_name: &str) -> Value {
    let bucket = bucket_name(model, &trigger.bucket);
    let mut object = json!({
        "key": sample_key(trigger),
        "sequencer": "0A1B2C3D4E5F678901",
    });
    if event_name.starts_with("ObjectCreated") {
        object["size"] = json!(1024);
        object["eTag"] = json!("0123456789abcdef0123456789abcdef");
    }
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": model.region,
            "eventTime": "2026-01-01T00:00:00.000Z",
            "eventName": event_name,
            "userIdentity": { "principalId": "AWS:AIDAEXAMPLE" },
            "requestParameters": { "sourceIPAddress": "127.0.0.1" },
            "responseElements": {
                "x-amz-request-id": "EXAMPLE123456789",
                "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH"
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "stackgen-sample",
                "bucket": {
                    "name": bucket,
                    "ownerIdentity": { "principalId": "EXAMPLE" },
                    "arn": format!("arn:aws:s3:::{bucket}"),
                },
                "object": object,
            }
        }]
    })
}

/// A path segment's sample value: `{id}` → `sample-id`, `{proxy+}` → `sample/path`.
fn path_parameter(segment: &str) -> Option<(String, String)> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    Some(match name.strip_suffix('+') {
        Some(greedy) => (greedy.to_owned(), "sample/path".to_owned()),
        None => (name.to_owned(), format!("sample-{name}")),
    })
}

/// API Gateway's REST proxy integration event (payload v1) for `route`, path parameters
/// filled; a protected route carries the authorizer's context as the generated authorizer
/// gives it.
fn api_event(model: &Model, route: &RouteKey, protected: bool) -> Value {
    let stage = model.api.as_ref().map_or("api", |a| a.stage.as_str());
    let mut parameters = serde_json::Map::new();
    let path: Vec<String> = route
        .path
        .iter()
        .map(|segment| match path_parameter(segment) {
            Some((name, value)) => {
                parameters.insert(name, json!(value));
                value
            }
            None => segment.clone(),
        })
        .collect();
    let path = format!("/{}", path.join("/"));
    let resource = route.path_text();
    let method = match route.method.as_str() {
        "ANY" => "GET",
        other => other,
    };
    let path_parameters = if parameters.is_empty() {
        Value::Null
    } else {
        Value::Object(parameters)
    };
    let mut headers = json!({
        "Accept": "application/json",
        "Host": format!("abcdef1234.execute-api.{}.amazonaws.com", model.region),
        "User-Agent": "stackgen-invoke",
        "X-Forwarded-Proto": "https",
    });
    let mut authorizer = Value::Null;
    if protected {
        headers["Authorization"] = json!("Bearer sample-token");
        authorizer =
            json!({ "principalId": "sample-user", "sub": "sample-user", "integrationLatency": 0 });
    }
    let multi_headers: serde_json::Map<String, Value> = headers
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": path_parameters,
        "stageVariables": null,
        "requestContext": {
            "accountId": SAMPLE_ACCOUNT,
            "apiId": "abcdef1234",
            "authorizer": authorizer,
            "domainName": format!("abcdef1234.execute-api.{}.amazonaws.com", model.region),
            "domainPrefix": "abcdef1234",
            "extendedRequestId": "EXAMPLEextendedId=",
            "httpMethod": method,
            "identity": { "sourceIp": "127.0.0.1", "userAgent": "stackgen-invoke" },
            "path": format!("/{stage}{path}"),
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "requestTimeEpoch": 1_767_225_600_000_u64,
            "resourceId": "abc123",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": null,
        "isBase64Encoded": false,
    })
}

/// A function as its generated template declares it, ready to run locally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFunction {
    pub function_name: String,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// Its variables, intrinsics resolved (or replaced by a placeholder, see `unresolved`).
    pub environment: BTreeMap<String, String>,
    /// The variables whose value needs a deployed stack that is not recorded.
    pub unresolved: Vec<Unresolved>,
}

/// A variable given a placeholder, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub variable: String,
    pub reason: String,
}

/// Where a template's intrinsics are resolved.
#[derive(Clone, Copy, Debug)]
pub struct Resolution<'a> {
    pub region: &'a str,
    /// The outputs a deploy of the template's stack recorded, if any.
    pub deployed: Option<&'a StackOutputs>,
}

/// The `AWS::Lambda::Function` named `function_name` in `template` (a parsed template's
/// JSON), or `None` when the template does not hold it.
pub fn local_function(
    template: &Value,
    function_name: &str,
    resolution: Resolution,
) -> Option<LocalFunction> {
    let resources = template.get("Resources")?.as_object()?;
    let properties = resources.values().find_map(|r| {
        let properties = r.get("Properties")?;
        (r.get("Type")? == "AWS::Lambda::Function"
            && properties.get("FunctionName")?.as_str()? == function_name)
            .then_some(properties)
    })?;
    let number = |name: &str, default: u32| {
        properties
            .get(name)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(default)
    };
    let account = resolution.deployed.and_then(account_of);
    let mut environment = BTreeMap::new();
    let mut unresolved = Vec::new();
    let variables = properties
        .pointer("/Environment/Variables")
        .and_then(Value::as_object);
    for (name, value) in variables.into_iter().flatten() {
        let resolved = from_outputs(template, value, resolution.deployed)
            .map(Ok)
            .unwrap_or_else(|| resolve(value, resolution.region, account.as_deref()));
        match resolved {
            Ok(text) => {
                environment.insert(name.clone(), text);
            }
            Err(Placeholder { value, reason }) => {
                environment.insert(name.clone(), value);
                unresolved.push(Unresolved {
                    variable: name.clone(),
                    reason,
                });
            }
        }
    }
    unresolved.sort_by(|a, b| a.variable.cmp(&b.variable));
    Some(LocalFunction {
        function_name: function_name.to_owned(),
        // Lambda's defaults, should a template leave them out.
        memory_mb: number("MemorySize", 128),
        timeout_seconds: number("Timeout", 3),
        environment,
        unresolved,
    })
}

/// The deployed value of an output whose `Value` is exactly `value`.
fn from_outputs(
    template: &Value,
    value: &Value,
    deployed: Option<&StackOutputs>,
) -> Option<String> {
    let deployed = deployed?;
    let outputs = template.get("Outputs")?.as_object()?;
    outputs
        .iter()
        .find(|(_, output)| output.get("Value") == Some(value))
        .and_then(|(id, _)| deployed.get(id).cloned())
}

/// The account of a deployed stack, read from the ARNs its outputs hold.
fn account_of(outputs: &StackOutputs) -> Option<String> {
    outputs.values().find_map(|v| {
        let account = v.strip_prefix("arn:")?.split(':').nth(3)?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
            .then(|| account.to_owned())
    })
}

struct Placeholder {
    value: String,
    reason: String,
}

/// A literal, or a `Fn::Sub` of pseudo parameters only; anything else refers to a resource
/// that exists only once deployed.
fn resolve(value: &Value, region: &str, account: Option<&str>) -> Result<String, Placeholder> {
    if let Some(text) = value.as_str() {
        return Ok(text.to_owned());
    }
    let sub = value.get("Fn::Sub").and_then(|s| match s {
        Value::String(text) => Some(text.as_str()),
        Value::Array(parts)
            if parts.len() == 2 && parts[1].as_object().is_some_and(|m| m.is_empty()) =>
        {
            parts[0].as_str()
        }
        _ => None,
    });
    let Some(text) = sub else {
        return Err(Placeholder {
            value: format!("<not deployed: {}>", compact(value)),
            reason: format!("{} needs a deployed stack", compact(value)),
        });
    };
    let mut out = String::new();
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + end];
        match name {
            "AWS::Region" => out.push_str(region),
            "AWS::Partition" => out.push_str("aws"),
            "AWS::URLSuffix" => out.push_str("amazonaws.com"),
            "AWS::AccountId" => match account {
                Some(account) => out.push_str(account),
                None => {
                    out.push_str(SAMPLE_ACCOUNT);
                    missing.push("the account id".to_owned());
                }
            },
            other => {
                out.push_str(&format!("<not deployed: {other}>"));
                missing.push(other.to_owned());
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(Placeholder {
            reason: format!("{} is known once deployed", missing.join(", ")),
            value: out,
        })
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        crate::load(text).expect("valid manifest")
    }

    const APP: &str = "name: shop\nregion: eu-west-1\nbuckets:\n  inbox: {}\nfunctions:\n  ingest:\n    triggers:\n      - s3: { bucket: inbox, events: [created, removed], prefix: in/, suffix: .csv }\n  orders: {}\napi:\n  routes:\n    GET /orders/{id}:\n      function: orders\n";

    #[test]
    fn an_s3_sample_names_the_bucket_and_a_key_the_filter_matches() {
        let model = model(APP);
        let ingest = Key::parse_generated("ingest");
        assert_eq!(
            sample_kinds(&model, &ingest),
            vec![SampleKind::S3Put, SampleKind::S3Delete]
        );
        let event = sample_event(&model, &ingest, SampleKind::S3Put).unwrap();
        let record = &event["Records"][0];
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["awsRegion"], "eu-west-1");
        assert_eq!(
            record["s3"]["bucket"]["name"],
            "shop-inbox-123456789012-eu-west-1"
        );
        assert_eq!(record["s3"]["object"]["key"], "in/sample-object.csv");
        let removed = sample_event(&model, &ingest, SampleKind::S3Delete).unwrap();
        assert_eq!(removed["Records"][0]["eventName"], "ObjectRemoved:Delete");
        assert!(removed["Records"][0]["s3"]["object"].get("size").is_none());
        assert!(sample_event(&model, &ingest, SampleKind::Api).is_none());
    }

    #[test]
    fn an_api_sample_fills_the_path_parameters() {
        let model = model(APP);
        let orders = Key::parse_generated("orders");
        assert_eq!(sample_kinds(&model, &orders), vec![SampleKind::Api]);
        let event = sample_event(&model, &orders, SampleKind::Api).unwrap();
        assert_eq!(event["resource"], "/orders/{id}");
        assert_eq!(event["path"], "/orders/sample-id");
        assert_eq!(event["httpMethod"], "GET");
        assert_eq!(event["pathParameters"], json!({ "id": "sample-id" }));
        assert_eq!(event["requestContext"]["resourcePath"], "/orders/{id}");
        assert!(sample_kinds(&model, &Key::parse_generated("nope")).is_empty());
    }

    #[test]
    fn sample_kinds_parse_back() {
        for kind in SampleKind::ALL {
            assert_eq!(SampleKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SampleKind::parse("s3"), None);
    }

    fn template() -> Value {
        json!({
            "Resources": {
                "Fn": { "Type": "AWS::Lambda::Function", "Properties": {
                    "FunctionName": "shop-ingest", "MemorySize": 512, "Timeout": 30,
                    "Environment": { "Variables": {
                        "MODE": "fast",
                        "INBOX_BUCKET": { "Fn::Sub": "shop-inbox-${AWS::AccountId}-${AWS::Region}" },
                        "DB_SECRET_ARN": { "Ref": "DbSecret" }
                    }}
                }}
            },
            "Outputs": { "DbSecretArn": { "Value": { "Ref": "DbSecret" } } }
        })
    }

    #[test]
    fn a_template_function_without_a_deploy_gets_placeholders_it_names() {
        let resolution = Resolution {
            region: "eu-west-1",
            deployed: None,
        };
        let f = local_function(&template(), "shop-ingest", resolution).unwrap();
        assert_eq!((f.memory_mb, f.timeout_seconds), (512, 30));
        assert_eq!(f.environment["MODE"], "fast");
        assert_eq!(
            f.environment["INBOX_BUCKET"],
            "shop-inbox-123456789012-eu-west-1"
        );
        assert_eq!(
            f.environment["DB_SECRET_ARN"],
            r#"<not deployed: {"Ref":"DbSecret"}>"#
        );
        let names: Vec<&str> = f.unresolved.iter().map(|u| u.variable.as_str()).collect();
        assert_eq!(names, ["DB_SECRET_ARN", "INBOX_BUCKET"]);
        assert!(local_function(&template(), "shop-other", resolution).is_none());
    }

    #[test]
    fn a_deployed_stack_resolves_outputs_and_the_account() {
        let deployed: StackOutputs = [(
            "DbSecretArn".to_owned(),
            "arn:aws:secretsmanager:eu-west-1:210987654321:secret:shop/db-AbCdEf".to_owned(),
        )]
        .into();
        let resolution = Resolution {
            region: "eu-west-1",
            deployed: Some(&deployed),
        };
        let f = local_function(&template(), "shop-ingest", resolution).unwrap();
        assert!(f.unresolved.is_empty(), "{:?}", f.unresolved);
        assert_eq!(f.environment["DB_SECRET_ARN"], deployed["DbSecretArn"]);
        assert_eq!(
            f.environment["INBOX_BUCKET"],
            "shop-inbox-210987654321-eu-west-1"
        );
    }
}
