//! Buckets, functions, triggers, IDs and the template-wide rules.

use super::{example, of_type};
use serde_json::{Value as J, json};

fn statements(document: &J) -> Vec<&J> {
    document["Statement"].as_array().unwrap().iter().collect()
}

#[test]
fn every_bucket_denies_plain_http_on_bucket_and_objects() {
    let t = example();
    let buckets = of_type(&t, "AWS::S3::Bucket");
    assert_eq!(
        buckets.len(),
        4,
        "upload, transcoded, the log bucket and the site's"
    );
    for (id, _) in &buckets {
        let policy = of_type(&t, "AWS::S3::BucketPolicy")
            .into_iter()
            .find(|(_, p)| p["Properties"]["Bucket"]["Ref"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} has no bucket policy"));
        let deny = statements(&policy.1["Properties"]["PolicyDocument"])
            .into_iter()
            .find(|s| s["Sid"] == "DenyInsecureTransport")
            .unwrap();
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(
            deny["Condition"],
            json!({"Bool": {"aws:SecureTransport": "false"}})
        );
        assert_eq!(
            deny["Resource"],
            json!([{"Fn::GetAtt": [id, "Arn"]}, {"Fn::Sub": format!("${{{id}.Arn}}/*")}])
        );
    }
}

#[test]
fn data_buckets_are_private_encrypted_logged_and_retained() {
    let t = example();
    for (id, bucket) in of_type(&t, "AWS::S3::Bucket") {
        let p = &bucket["Properties"];
        assert_eq!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                ["SSEAlgorithm"],
            "AES256",
            "{id}"
        );
        assert!(
            p["PublicAccessBlockConfiguration"]
                .as_object()
                .unwrap()
                .values()
                .all(|v| v == true),
            "{id}"
        );
        // The log bucket keeps ACLs for CloudFront's log delivery (site.rs says why).
        let ownership = if id.starts_with("Logs") {
            "BucketOwnerPreferred"
        } else {
            "BucketOwnerEnforced"
        };
        assert_eq!(
            p["OwnershipControls"]["Rules"][0]["ObjectOwnership"], ownership,
            "{id}"
        );
        // The site's bucket holds only what gen deploy uploads: it goes with the stack.
        let removal = if id.starts_with("SiteBucket") {
            "Delete"
        } else {
            "Retain"
        };
        assert_eq!(bucket["DeletionPolicy"], removal, "{id}");
        assert_eq!(bucket["UpdateReplacePolicy"], removal, "{id}");
        if !id.starts_with("Logs") {
            let prefix = p["LoggingConfiguration"]["LogFilePrefix"].as_str().unwrap();
            assert!(prefix.starts_with("s3-access/") && prefix.ends_with('/'));
        }
    }
}

#[test]
fn log_bucket_accepts_access_logs_only_from_each_source_bucket_under_its_prefix() {
    let t = example();
    let (_, policy) = of_type(&t, "AWS::S3::BucketPolicy")
        .into_iter()
        .find(|(id, _)| id.starts_with("LogsPolicy"))
        .unwrap();
    let logging: Vec<&J> = statements(&policy["Properties"]["PolicyDocument"])
        .into_iter()
        .filter(|s| s["Principal"]["Service"] == "logging.s3.amazonaws.com")
        .collect();
    assert_eq!(logging.len(), 3, "one per data bucket and the site's");
    for s in logging {
        assert_eq!(s["Action"], "s3:PutObject");
        let key = match s["Sid"].as_str().unwrap() {
            "ServerAccessLogsUpload" => "upload",
            "ServerAccessLogsTranscoded" => "transcoded",
            "ServerAccessLogsSite" => "site",
            other => panic!("{other}"),
        };
        assert_eq!(
            s["Resource"]["Fn::Sub"],
            format!("${{LogsBucketEC8DE5BC.Arn}}/s3-access/{key}/*")
        );
        assert_eq!(
            s["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"],
            format!(
                "arn:${{AWS::Partition}}:s3:::video24-{key}-${{AWS::AccountId}}-${{AWS::Region}}"
            )
        );
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Ref": "AWS::AccountId"})
        );
    }
}

#[test]
fn function_role_is_least_privilege() {
    let t = example();
    let (_, role) = of_type(&t, "AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("FunctionTranscodeRole"))
        .unwrap();
    let document = &role["Properties"]["Policies"][0]["PolicyDocument"];
    let granted: Vec<(String, String)> = statements(document)
        .into_iter()
        .flat_map(|s| {
            let actions: Vec<String> = match &s["Action"] {
                J::String(a) => vec![a.clone()],
                J::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                _ => panic!(),
            };
            let resource = serde_json::to_string(&s["Resource"]).unwrap();
            actions.into_iter().map(move |a| (a, resource.clone()))
        })
        .collect();
    let bucket = |key: &str, suffix: &str| {
        format!(
            r#"{{"Fn::Sub":"arn:${{AWS::Partition}}:s3:::video24-{key}-${{AWS::AccountId}}-${{AWS::Region}}{suffix}"}}"#
        )
    };
    let log_group = r#"{"Fn::GetAtt":["FunctionTranscodeLogGroupFE7A33B9","Arn"]}"#.to_owned();
    assert_eq!(
        granted,
        vec![
            ("logs:CreateLogStream".into(), log_group.clone()),
            ("logs:PutLogEvents".into(), log_group),
            (
                "sqs:SendMessage".into(),
                r#"{"Fn::GetAtt":["FunctionTranscodeDeadLetterQueue3235CE65","Arn"]}"#.into()
            ),
            ("s3:ListBucket".into(), bucket("upload", "")),
            ("s3:GetObject".into(), bucket("upload", "/*")),
            ("s3:PutObject".into(), bucket("transcoded", "/*")),
        ]
    );
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "lambda.amazonaws.com"})
    );
}

#[test]
fn function_runs_rust_on_al2023_with_its_own_log_group() {
    let t = example();
    let function = &t["Resources"]["FunctionTranscodeAE472074"];
    let p = &function["Properties"];
    assert_eq!(
        (p["Runtime"].as_str(), p["Handler"].as_str()),
        (Some("provided.al2023"), Some("bootstrap"))
    );
    assert_eq!(p["FunctionName"], "video24-transcode");
    assert_eq!(
        p["LoggingConfig"]["LogGroup"],
        json!({"Ref": "FunctionTranscodeLogGroupFE7A33B9"})
    );
    let group = &t["Resources"]["FunctionTranscodeLogGroupFE7A33B9"];
    assert_eq!(
        group["Properties"]["LogGroupName"],
        "/aws/lambda/video24-transcode"
    );
    assert_eq!(group["Properties"]["RetentionInDays"], 30);
    assert_eq!(
        p["Environment"]["Variables"]["UPLOAD_BUCKET"]["Fn::Sub"],
        "video24-upload-${AWS::AccountId}-${AWS::Region}"
    );
}

#[test]
fn s3_trigger_permission_is_scoped_and_the_bucket_waits_for_it() {
    let t = example();
    let (permission_id, permission) = of_type(&t, "AWS::Lambda::Permission").pop().unwrap();
    let p = &permission["Properties"];
    assert_eq!(p["Principal"], "s3.amazonaws.com");
    assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    assert_eq!(
        p["SourceArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:s3:::video24-upload-${AWS::AccountId}-${AWS::Region}"
    );
    let upload = &t["Resources"]["BucketUpload27410616"];
    assert!(
        upload["DependsOn"]
            .as_array()
            .unwrap()
            .contains(&json!(permission_id))
    );
    let notification =
        &upload["Properties"]["NotificationConfiguration"]["LambdaConfigurations"][0];
    assert_eq!(notification["Event"], "s3:ObjectCreated:*");
    assert_eq!(
        notification["Filter"]["S3Key"]["Rules"],
        json!([{"Name": "suffix", "Value": ".mp4"}])
    );
}

#[test]
fn no_hard_coded_partition() {
    let text = example().to_string();
    assert!(
        !text.contains("arn:aws:"),
        "ARNs must use ${{AWS::Partition}}"
    );
}
