//! The toolkit stack (`stackgen-toolkit`, one per region, like `cdk bootstrap`'s CDKToolkit):
//! the bucket `gen deploy` uploads function zips and large templates to. It is shared by
//! every stackgen app in the account and region, so it belongs to none of them.

use super::bucket::{
    abort_incomplete_uploads_rule, bucket_policy, deny_insecure_transport, private_encrypted_bucket,
};
use super::checkov::skip;
use crate::cfn::iam::PolicyDocument;
use crate::cfn::{LogicalId, Output, RemovalPolicy, Template, TemplateError, Value};
use crate::map;

/// The toolkit stack's output naming its assets bucket.
pub const TOOLKIT_BUCKET_OUTPUT: &str = "AssetsBucketName";

/// Assets are content-addressed and only read at deploy time: after this long unreferenced
/// uploads may go (a stack keeps using its zip: Lambda copies the code when it deploys).
const ASSET_EXPIRY_DAYS: u32 = 365;

/// The toolkit stack's template, rendered.
pub fn toolkit_template() -> Result<String, TemplateError> {
    let mut template = Template::new(
        "stackgen toolkit: the assets bucket gen deploy uploads function code and large templates to (shared by the stackgen apps of this account and region)",
    );
    let bucket = LogicalId::from_raw("AssetsBucket");
    let mut resource = private_encrypted_bucket()
        .prop(
            "LifecycleConfiguration",
            map! {
                "Rules" => vec![
                    abort_incomplete_uploads_rule(),
                    map! {
                        "Id" => "ExpireOldAssets",
                        "Status" => "Enabled",
                        "ExpirationInDays" => ASSET_EXPIRY_DAYS,
                    },
                ],
            },
        )
        // Deployed stacks' templates and code live here: deleting the toolkit stack must
        // not take them.
        .removal(RemovalPolicy::Retain);
    resource.metadata.insert(
        "checkov".into(),
        skip(&[
            (
                "CKV_AWS_18",
                "Staging for build output that gen deploy writes and CloudFormation reads; access logs would need a second bucket per region, and the deploys themselves are in CloudTrail",
            ),
            (
                "CKV_AWS_21",
                "Keys are content hashes: an object is never overwritten, so versions would hold nothing",
            ),
        ]),
    );
    template.add(bucket.clone(), resource);
    template.add(
        LogicalId::from_raw("AssetsBucketPolicy"),
        bucket_policy(
            &bucket,
            PolicyDocument::new(vec![deny_insecure_transport(&bucket)]),
        ),
    );
    template.add_output(
        LogicalId::from_raw(TOOLKIT_BUCKET_OUTPUT),
        Output {
            description: "The bucket gen deploy uploads assets to".into(),
            value: Value::reference(&bucket),
        },
    );
    template.render()
}

#[cfg(test)]
mod tests {
    use serde_json::Value as J;

    #[test]
    fn the_toolkit_bucket_is_private_encrypted_tls_only_and_retained() {
        let text = super::toolkit_template().unwrap();
        let t: J = serde_json::from_str(&text).unwrap();
        let bucket = &t["Resources"]["AssetsBucket"];
        assert_eq!(bucket["DeletionPolicy"], "Retain");
        let p = &bucket["Properties"];
        assert!(
            p.get("BucketName").is_none(),
            "CloudFormation names it: no clash between accounts"
        );
        assert_eq!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                ["SSEAlgorithm"],
            "AES256"
        );
        assert_eq!(
            p["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"],
            true
        );
        let statement =
            &t["Resources"]["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(
            statement["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(
            t["Outputs"]["AssetsBucketName"]["Value"]["Ref"],
            "AssetsBucket"
        );
    }
}
