//! The hosted site: private bucket read only by its distribution, OAC, security headers,
//! CORS from the distribution's own origin.

use super::{example, of_type, synth};
use serde_json::{Value as J, json};

fn one<'a>(t: &'a J, resource_type: &str) -> (&'a String, &'a J) {
    let all = of_type(t, resource_type);
    assert_eq!(all.len(), 1, "{resource_type}");
    all[0]
}

fn with_site(extra: &str) -> String {
    crate::example::unstaged().replace(
        "site:\n  title: 24-Hour Video\n  port: 8100\n",
        &format!("site:\n  title: 24-Hour Video\n  port: 8100\n{extra}"),
    )
}

#[test]
fn only_the_distribution_reads_the_site_bucket_over_tls() {
    let t = example();
    let (distribution, _) = one(&t, "AWS::CloudFront::Distribution");
    let (_, policy) = of_type(&t, "AWS::S3::BucketPolicy")
        .into_iter()
        .find(|(id, _)| id.starts_with("SiteBucketPolicy"))
        .unwrap();
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let source_arn = json!({"Fn::Sub": format!(
        "arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{distribution}}}"
    )});
    let allows: Vec<&J> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allows.len(), 2);
    for allow in allows {
        assert_eq!(
            allow["Principal"],
            json!({"Service": "cloudfront.amazonaws.com"})
        );
        assert_eq!(
            allow["Condition"],
            json!({"StringEquals": {"AWS:SourceArn": source_arn}})
        );
    }
    let actions: Vec<&J> = statements.iter().map(|s| &s["Action"]).collect();
    assert_eq!(
        actions,
        [
            &json!("s3:*"),
            &json!("s3:GetObject"),
            &json!("s3:ListBucket")
        ]
    );
}

#[test]
fn the_distribution_is_https_only_compressed_logged_and_signs_with_an_oac() {
    let t = example();
    let (oac_id, oac) = one(&t, "AWS::CloudFront::OriginAccessControl");
    assert_eq!(
        oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"],
        "always"
    );
    assert_eq!(
        oac["Properties"]["OriginAccessControlConfig"]["SigningProtocol"],
        "sigv4"
    );
    let (_, d) = one(&t, "AWS::CloudFront::Distribution");
    let c = &d["Properties"]["DistributionConfig"];
    assert_eq!(c["DefaultRootObject"], "index.html");
    assert_eq!(c["HttpVersion"], "http2and3");
    let origin = &c["Origins"][0];
    assert_eq!(
        origin["OriginAccessControlId"],
        json!({"Fn::GetAtt": [oac_id, "Id"]})
    );
    assert_eq!(
        origin["S3OriginConfig"]["OriginAccessIdentity"], "",
        "no legacy OAI"
    );
    let behavior = &c["DefaultCacheBehavior"];
    assert_eq!(behavior["ViewerProtocolPolicy"], "redirect-to-https");
    assert_eq!(behavior["Compress"], true);
    assert_eq!(
        behavior["CachePolicyId"],
        super::super::site::CACHING_OPTIMIZED
    );
    assert!(behavior["ResponseHeadersPolicyId"]["Fn::GetAtt"].is_array());
    assert_eq!(c["Logging"]["Prefix"], "cloudfront/site/");
    assert!(
        c.get("CustomErrorResponses").is_none(),
        "a missing file answers S3's 404 (the distribution may list the bucket)"
    );
}

#[test]
fn security_headers_allow_exactly_the_site_auth0_and_the_api() {
    let t = example();
    let (_, h) = one(&t, "AWS::CloudFront::ResponseHeadersPolicy");
    let s = &h["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
    let csp = s["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
        .as_str()
        .unwrap();
    let directives: Vec<&str> = csp.split("; ").collect();
    assert!(directives.contains(&"default-src 'none'"));
    assert!(directives.contains(&"script-src 'self'"));
    assert!(directives.contains(&"frame-ancestors 'none'"));
    assert!(directives.contains(&"frame-src https://dev-24hourvideo.us.auth0.com"));
    let connect = directives
        .iter()
        .find(|d| d.starts_with("connect-src"))
        .unwrap();
    let (api, _) = one(&t, "AWS::ApiGateway::RestApi");
    assert_eq!(
        *connect,
        format!(
            "connect-src 'self' https://dev-24hourvideo.us.auth0.com https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
        )
    );
    assert_eq!(s["FrameOptions"]["FrameOption"], "DENY");
    assert_eq!(s["ContentTypeOptions"]["Override"], true);
    assert_eq!(
        s["ReferrerPolicy"]["ReferrerPolicy"],
        "strict-origin-when-cross-origin"
    );
    assert_eq!(
        s["StrictTransportSecurity"]["AccessControlMaxAgeSec"],
        63_072_000
    );
}

#[test]
fn the_api_allows_the_distributions_origin_and_cors_origin() {
    let t = example();
    let (distribution, _) = one(&t, "AWS::CloudFront::Distribution");
    let site = format!("https://${{{distribution}.DomainName}}");
    let (_, profile) = of_type(&t, "AWS::Lambda::Function")
        .into_iter()
        .find(|(id, _)| id.starts_with("FunctionUserProfile"))
        .unwrap();
    assert_eq!(
        profile["Properties"]["Environment"]["Variables"]["CORS_ORIGINS"],
        json!({"Fn::Sub": format!("{site},http://127.0.0.1:8100")})
    );
    let template = of_type(&t, "AWS::ApiGateway::Method")
        .into_iter()
        .find(|(_, m)| m["Properties"]["HttpMethod"] == "OPTIONS")
        .unwrap()
        .1["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseTemplates"]
        ["application/json"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(template.contains(&format!(
        "$origin == \"{site}\" || $origin == \"http://127.0.0.1:8100\""
    )));
    assert!(
        template.contains("$context.responseOverride.header.Access-Control-Allow-Origin = $origin")
    );
    let (_, urls) = (0, &t["Outputs"]);
    let url = urls
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("SiteUrl"))
        .unwrap()
        .1;
    assert_eq!(url["Value"], json!({"Fn::Sub": format!("{site}/")}));
}

#[test]
fn a_custom_domain_uses_its_certificate_and_is_the_only_site_origin() {
    let t = &synth(&with_site(
        "  domain: www.video24.example\n  certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0f2d3a4b-1111-2222-3333-444455556666\n  price_class: PriceClass_All\n  spa: true\n",
    ))[0];
    let (_, d) = one(t, "AWS::CloudFront::Distribution");
    let c = &d["Properties"]["DistributionConfig"];
    assert_eq!(c["Aliases"], json!(["www.video24.example"]));
    assert_eq!(c["ViewerCertificate"]["SslSupportMethod"], "sni-only");
    assert_eq!(
        c["ViewerCertificate"]["MinimumProtocolVersion"],
        "TLSv1.2_2021"
    );
    assert_eq!(c["PriceClass"], "PriceClass_All");
    assert_eq!(
        c["CustomErrorResponses"],
        json!([{"ErrorCode": 404, "ResponseCode": 200, "ResponsePagePath": "/index.html", "ErrorCachingMinTTL": 10}])
    );
    let (_, profile) = of_type(t, "AWS::Lambda::Function")
        .into_iter()
        .find(|(id, _)| id.starts_with("FunctionUserProfile"))
        .unwrap();
    assert_eq!(
        profile["Properties"]["Environment"]["Variables"]["CORS_ORIGINS"],
        "https://www.video24.example,http://127.0.0.1:8100"
    );
}

#[test]
fn hosting_false_keeps_the_site_local_and_the_single_origin_static() {
    let t = &synth(&with_site("  hosting: false\n"))[0];
    assert!(of_type(t, "AWS::CloudFront::Distribution").is_empty());
    assert_eq!(of_type(t, "AWS::S3::Bucket").len(), 3);
    let (_, options) = of_type(t, "AWS::ApiGateway::Method")
        .into_iter()
        .find(|(_, m)| m["Properties"]["HttpMethod"] == "OPTIONS")
        .unwrap();
    let response = &options["Properties"]["Integration"]["IntegrationResponses"][0];
    assert_eq!(
        response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"],
        "'http://127.0.0.1:8100'"
    );
    assert!(response.get("ResponseTemplates").is_none());
    let (_, log) = of_type(t, "AWS::S3::Bucket")
        .into_iter()
        .find(|(id, _)| id.starts_with("Logs"))
        .unwrap();
    assert_eq!(
        log["Properties"]["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        "BucketOwnerEnforced",
        "ACLs only for CloudFront's logs"
    );
}
