//! Site construct: the website hosted for real. A private bucket (the same encrypted,
//! TLS-only, public-access-blocked base as every bucket) that only the distribution may read,
//! through an origin access control (SigV4, the successor of the legacy OAI); a CloudFront
//! distribution (HTTPS only, HTTP/2 and 3, compressed, cached by AWS's managed policy, logged
//! to the log bucket); and a response headers policy whose Content-Security-Policy allows
//! exactly the site itself, the Auth0 tenant and the API. `gen deploy` fills the bucket.

use super::bucket::{self, access_log_prefix};
use super::checkov::skip;
use super::policy::{PolicyLimit, PolicyRecord};
use super::{Stack, ids};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{LogicalId, Output, Pseudo, RemovalPolicy, Resource, Sub, Value};
use crate::map;
use crate::model::{HostingSpec, SITE_BUCKET_KEY};

/// AWS's managed cache policy `Managed-CachingOptimized`: no cookies, headers or query strings
/// in the key, gzip and brotli; TTLs from the objects' Cache-Control (gen deploy sets it).
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// Where the distribution's access logs go in the log bucket.
pub const CLOUDFRONT_LOG_PREFIX: &str = "cloudfront/site/";

/// Two years, the HSTS preload list's minimum.
const HSTS_MAX_AGE: u32 = 63_072_000;

fn bucket_id() -> LogicalId {
    ids::site_bucket()
}
fn bucket_policy_id() -> LogicalId {
    LogicalId::from_path(&["site", "BucketPolicy"])
}
fn origin_access_control_id() -> LogicalId {
    LogicalId::from_path(&["site", "OriginAccessControl"])
}
fn headers_id() -> LogicalId {
    LogicalId::from_path(&["site", "Headers"])
}
pub(crate) fn distribution_id() -> LogicalId {
    LogicalId::from_path(&["site", "Distribution"])
}

/// The origin browsers load the hosted site from (`https://<domain>`, or the distribution's
/// `*.cloudfront.net` name): the API's CORS and the site's URL.
pub(crate) fn site_origin(stack: &Stack) -> Option<Sub> {
    let hosting = stack.model.site.as_ref()?.hosting.as_ref()?;
    Some(match &hosting.domain {
        Some(domain) => Sub::new().lit(format!("https://{}", domain.name)),
        None => Sub::new()
            .lit("https://")
            .get_att(&distribution_id(), "DomainName"),
    })
}

pub(crate) fn synthesize(stack: &mut Stack) {
    let Some(hosting) = stack
        .model
        .site
        .as_ref()
        .and_then(|site| site.hosting.clone())
    else {
        return;
    };
    site_bucket(stack);
    origin_access_control(stack);
    headers_policy(stack);
    distribution(stack, &hosting);
    outputs(stack);
}

fn site_bucket(stack: &mut Stack) {
    let id = bucket_id();
    let mut resource = bucket::secure_bucket(stack, SITE_BUCKET_KEY)
        .prop(
            "LoggingConfiguration",
            map! {
                "DestinationBucketName" => Value::reference(&ids::log_bucket()),
                "LogFilePrefix" => access_log_prefix(SITE_BUCKET_KEY),
            },
        )
        .prop(
            "LifecycleConfiguration",
            map! { "Rules" => vec![bucket::abort_incomplete_uploads_rule()] },
        )
        // It holds only files gen deploy uploads from site/ (gen destroy empties it first).
        .removal(RemovalPolicy::Delete)
        .depends_on(&ids::log_bucket_policy());
    resource.metadata.insert(
        "checkov".into(),
        skip(&[(
            "CKV_AWS_21",
            "Holds only generated files that gen deploy uploads from site/ (the source of truth is the project); versions would only keep old builds",
        )]),
    );
    stack.template.add(id.clone(), resource);
    let name = stack.bucket_name(SITE_BUCKET_KEY);
    let arn = stack.bucket_arn(SITE_BUCKET_KEY, "");
    stack.know(&id, None, name);
    stack.know(&id, Some("Arn"), arn);

    // Only this distribution may read, scoped by its ARN (the confused-deputy guard AWS
    // documents for origin access control). ListBucket lets S3 answer a missing key with 404
    // instead of 403; the cache policy forwards no query string, so nobody can list through it.
    let distribution_arn = Sub::arn("cloudfront")
        .lit(":")
        .pseudo(Pseudo::AccountId)
        .lit(":distribution/")
        .reference(&distribution_id());
    let cloudfront = || Principal::Service("cloudfront.amazonaws.com".into());
    let document = PolicyDocument::new(vec![
        bucket::deny_insecure_transport(&id),
        Statement::allow(&["s3:GetObject"])
            .sid("CloudFrontReadsObjects")
            .principal(cloudfront())
            .resource(Sub::new().get_att(&id, "Arn").lit("/*"))
            .condition("StringEquals", "AWS:SourceArn", distribution_arn.clone()),
        Statement::allow(&["s3:ListBucket"])
            .sid("CloudFrontAnswersMissingWith404")
            .principal(cloudfront())
            .resource(Value::get_att(&id, "Arn"))
            .condition("StringEquals", "AWS:SourceArn", distribution_arn),
    ]);
    stack.template.add(
        bucket_policy_id(),
        bucket::bucket_policy(&id, document.clone()),
    );
    stack.record_policy(PolicyRecord {
        name: format!("bucket-{SITE_BUCKET_KEY}"),
        manifest_path: "site".into(),
        limit: PolicyLimit::Bucket,
        trust: false,
        document,
    });
}

fn origin_access_control(stack: &mut Stack) {
    let name = stack.naming().site_origin_access_control().into_string();
    let description = format!(
        "{} reads its site bucket",
        stack.naming().site_distribution_comment()
    );
    stack.template.add(
        origin_access_control_id(),
        Resource::new("AWS::CloudFront::OriginAccessControl").prop(
            "OriginAccessControlConfig",
            map! {
                "Name" => name,
                "Description" => description,
                "OriginAccessControlOriginType" => "s3",
                "SigningBehavior" => "always",
                "SigningProtocol" => "sigv4",
            },
        ),
    );
}

/// The Content-Security-Policy: scripts, styles and fonts from the site alone; API calls to
/// the site, the Auth0 tenant and the API; Auth0's silent sign-in frame; images also over
/// any HTTPS host, because profile pictures come from the identity provider's CDNs (Gravatar,
/// Google, …) and an image cannot run code. Nothing may frame the site.
pub(crate) fn content_security_policy(stack: &Stack) -> Sub {
    let auth0 = stack
        .model
        .auth
        .as_ref()
        .map(|auth| format!(" https://{}", auth.domain))
        .unwrap_or_default();
    let mut connect = Sub::new().lit(format!("connect-src 'self'{auth0}"));
    if stack.model.api.is_some() {
        connect = connect.lit(" ").append(super::api::origin());
    }
    let frame = if auth0.is_empty() {
        "frame-src 'none'".to_owned()
    } else {
        format!("frame-src{auth0}")
    };
    Sub::new()
        .lit("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; font-src 'self'; manifest-src 'self'; ")
        .append(connect)
        .lit(format!(
            "; {frame}; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests"
        ))
}

fn headers_policy(stack: &mut Stack) {
    let name = stack.naming().site_headers_policy().into_string();
    let comment = format!(
        "Security headers of the {}",
        stack.naming().site_distribution_comment()
    );
    let csp = content_security_policy(stack);
    stack.template.add(
        headers_id(),
        Resource::new("AWS::CloudFront::ResponseHeadersPolicy").prop(
            "ResponseHeadersPolicyConfig",
            map! {
                "Name" => name,
                "Comment" => comment,
                "SecurityHeadersConfig" => map! {
                    "ContentSecurityPolicy" => map! {
                        "ContentSecurityPolicy" => csp,
                        "Override" => true,
                    },
                    "ContentTypeOptions" => map! { "Override" => true },
                    "FrameOptions" => map! { "FrameOption" => "DENY", "Override" => true },
                    "ReferrerPolicy" => map! {
                        "ReferrerPolicy" => "strict-origin-when-cross-origin",
                        "Override" => true,
                    },
                    "StrictTransportSecurity" => map! {
                        "AccessControlMaxAgeSec" => HSTS_MAX_AGE,
                        "IncludeSubdomains" => true,
                        "Override" => true,
                    },
                },
            },
        ),
    );
}

fn distribution(stack: &mut Stack, hosting: &HostingSpec) {
    const ORIGIN: &str = "site-bucket";
    let mut config = map! {
        "Enabled" => true,
        "Comment" => stack.naming().site_distribution_comment(),
        "DefaultRootObject" => "index.html",
        "HttpVersion" => "http2and3",
        "IPV6Enabled" => true,
        "PriceClass" => hosting.price_class.as_str(),
        "Origins" => vec![map! {
            "Id" => ORIGIN,
            "DomainName" => Value::get_att(&bucket_id(), "RegionalDomainName"),
            // Empty: the origin access control signs the requests instead of a legacy OAI.
            "S3OriginConfig" => map! { "OriginAccessIdentity" => "" },
            "OriginAccessControlId" => Value::get_att(&origin_access_control_id(), "Id"),
        }],
        "DefaultCacheBehavior" => map! {
            "TargetOriginId" => ORIGIN,
            "ViewerProtocolPolicy" => "redirect-to-https",
            "AllowedMethods" => vec!["GET", "HEAD"],
            "CachedMethods" => vec!["GET", "HEAD"],
            "Compress" => true,
            "CachePolicyId" => CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId" => Value::get_att(&headers_id(), "Id"),
        },
        "Logging" => map! {
            "Bucket" => Value::get_att(&ids::log_bucket(), "DomainName"),
            "Prefix" => CLOUDFRONT_LOG_PREFIX,
            "IncludeCookies" => false,
        },
    };
    let crate::cfn::Value::Map(entries) = &mut config else {
        unreachable!("map! makes a map")
    };
    if hosting.spa {
        // The app's router handles paths with no file: S3's 404 becomes index.html.
        entries.insert(
            "CustomErrorResponses".into(),
            Value::List(vec![map! {
                "ErrorCode" => 404u32,
                "ResponseCode" => 200u32,
                "ResponsePagePath" => "/index.html",
                "ErrorCachingMinTTL" => 10u32,
            }]),
        );
    }
    let mut skips = vec![(
        "CKV_AWS_68",
        "AWS WAF is opt-in: a web ACL costs from $5 a month plus $0.60 per million requests; the site is static files",
    )];
    match &hosting.domain {
        Some(domain) => {
            entries.insert(
                "Aliases".into(),
                Value::List(vec![Value::str(&domain.name)]),
            );
            entries.insert(
                "ViewerCertificate".into(),
                map! {
                    "AcmCertificateArn" => domain.certificate_arn.as_str(),
                    "SslSupportMethod" => "sni-only",
                    "MinimumProtocolVersion" => "TLSv1.2_2021",
                },
            );
        }
        None => {
            entries.insert(
                "ViewerCertificate".into(),
                map! { "CloudFrontDefaultCertificate" => true },
            );
            skips.push((
                "CKV_AWS_174",
                "The *.cloudfront.net certificate: CloudFront fixes its protocols; set site.domain and certificate_arn for TLSv1.2_2021",
            ));
        }
    }
    let mut resource =
        Resource::new("AWS::CloudFront::Distribution").prop("DistributionConfig", config);
    if let Some(tags) = stack.tags() {
        resource = resource.prop("Tags", tags);
    }
    resource.metadata.insert("checkov".into(), skip(&skips));
    stack.template.add(distribution_id(), resource);
}

fn outputs(stack: &mut Stack) {
    let origin = site_origin(stack).expect("the site is hosted");
    stack.template.add_output(
        ids::site_url(),
        Output {
            description: "The website's URL (Auth0: allowed callback, logout and web origin)"
                .into(),
            value: origin.lit("/").into(),
        },
    );
    stack.template.add_output(
        ids::site_bucket_name(),
        Output {
            description: "The bucket gen deploy uploads site/ to".into(),
            value: Value::reference(&bucket_id()),
        },
    );
    stack.template.add_output(
        ids::site_distribution_id(),
        Output {
            description: "The CloudFront distribution gen deploy invalidates".into(),
            value: Value::reference(&distribution_id()),
        },
    );
}
