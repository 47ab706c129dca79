#!/usr/bin/env python3
"""Self-check of tests/moto_server.py's CloudFront support (its patches 8 and 9), and of the S3
behaviour the site upload relies on.

Usage: target/venv/bin/python tests/moto_cloudfront_check.py

Starts tests/moto_server.py on a free 127.0.0.1 port (stopped by PID) and, through boto3 as
`gen deploy` drives it (CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DescribeStacks):
  1. creates a stack with the site's hosting as issue #14 has it: a private site bucket, a log
     bucket, a RestApi (the CSP names it), an AWS::CloudFront::OriginAccessControl, an
     AWS::CloudFront::ResponseHeadersPolicy (its CSP an Fn::Sub), an AWS::CloudFront::Distribution
     (its origin the bucket's RegionalDomainName with the OAC's Id, the policy's Id on the default
     cache behaviour, logging to the log bucket's DomainName, the default certificate) and the
     bucket policy naming the distribution; then checks the outputs (SiteUrl is https:// + the
     distribution's dXXXX.cloudfront.net, SiteDistributionId its Id, the buckets' DomainName and
     RegionalDomainName as AWS gives them) and GetDistribution / GetOriginAccessControl;
  2. S3 on the same server keeps each object's ContentType, CacheControl, user metadata
     (x-amz-meta-sha256) and tags (PutObjectTagging, GetObjectTagging, HeadObject's TagCount);
  3. updates the stack (another comment and CSP, an ACM certificate with an alias): the same
     distribution Id and policy Id, the new config in GetDistributionConfig, a new ETag;
  4. invalidations of the stack's distribution: CreateInvalidation (InProgress), GetInvalidation
     and the invalidation_completed waiter (Completed), ListInvalidations, the same
     CallerReference again (the same invalidation), with other paths
     (InvalidationBatchAlreadyExists), a path without "/" (InvalidArgument), a distribution that
     does not exist (NoSuchDistribution);
  5. deletes the stack: the distribution and the origin access control are gone;
  6. creates the stack again after a second one and /moto-api/reset (names are unique in the
     account: a second stack of the same template fails; the reset forgets the first).

Prints one line per check and ends with `moto_cloudfront_check: N passed, M failed`; exits
non-zero when a check failed.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK = "video24-dev"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
TENANT = "dev-x.us.auth0.com"
ACM_ARN = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/0b5e7f1c-1111-2222-3333-444455556666"


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   - {what}")
        else:
            self.failed += 1
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
        return ok

    def equal(self, what: str, actual: Any, expected: Any) -> bool:
        return self.check(actual == expected, what, f"expected {expected!r}, got {actual!r}")

    def raises(self, what: str, code: str, call: Any) -> bool:
        """`call()` fails with the AWS error `code`."""
        from botocore.exceptions import ClientError
        try:
            call()
        except ClientError as exc:
            got = exc.response.get("Error", {}).get("Code")
            return self.equal(what, got, code)
        return self.check(False, what, f"expected {code}, the call succeeded")


class Fatal(Exception):
    """A check the rest depends on failed."""


# --------------------------------------------------------------------------
# the emulator


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_moto(port: int, log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
    print(f"moto_server pid {proc.pid} on http://127.0.0.1:{port}")
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited early with status {proc.returncode}:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2) as resp:
                if resp.status == 200:
                    return proc
                last_error = f"HTTP {resp.status}"
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    stop_moto(proc)
    raise RuntimeError(f"moto_server not answering after {STARTUP_TIMEOUT_S:.0f} s ({last_error})")


def stop_moto(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


# --------------------------------------------------------------------------
# the template (the shape issue #14's construct writes)

API = "ApiRestApi1B41C99E"
LOGS = "LogsBucketEC8DE5BC"
BUCKET = "SiteBucket5A1C3E8F"
OAC = "SiteOriginAccessControl0D1E2F3A"
HEADERS = "SiteHeaders4B5C6D7E"
DISTRIBUTION = "SiteDistribution8F9A0B1C"
POLICY = "SiteBucketPolicy2D3E4F5A"


def csp(extra: str = "") -> dict[str, str]:
    return {"Fn::Sub": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self' https://{TENANT} "
        "https://${" + API + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}; "
        f"frame-src https://{TENANT}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'{extra}")}


def template() -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "moto_cloudfront_check: the site's hosting",
        "Resources": {
            API: {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "video24-dev"}},
            LOGS: {"Type": "AWS::S3::Bucket", "Properties": {}},
            BUCKET: {"Type": "AWS::S3::Bucket", "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True}}},
            OAC: {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {"OriginAccessControlConfig": {
                "Name": "video24-dev-site", "Description": "The site bucket, read by the distribution only",
                "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"}}},
            HEADERS: {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": {
                "Name": "video24-dev-site-headers", "Comment": "Security headers of the site",
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": csp(), "Override": True},
                    "ContentTypeOptions": {"Override": True},
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True},
                    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True,
                                                "Override": True}}}}},
            DISTRIBUTION: {"Type": "AWS::CloudFront::Distribution", "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": "video24-dev site",
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    "Origins": [{
                        "Id": "site",
                        "DomainName": {"Fn::GetAtt": [BUCKET, "RegionalDomainName"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": {"Fn::GetAtt": [OAC, "Id"]},
                    }],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "site",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "Compress": True,
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                        "ResponseHeadersPolicyId": {"Fn::GetAtt": [HEADERS, "Id"]},
                    },
                    "CustomErrorResponses": [{"ErrorCode": 403, "ResponseCode": 404,
                                              "ResponsePagePath": "/404.html", "ErrorCachingMinTTL": 10}],
                    "Logging": {"Bucket": {"Fn::GetAtt": [LOGS, "DomainName"]}, "Prefix": "cloudfront/site/",
                                "IncludeCookies": False},
                    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
                },
                "Tags": [{"Key": "project", "Value": "video24"}, {"Key": "stage", "Value": "dev"}],
            }},
            POLICY: {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": BUCKET},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "CloudFrontReads",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [{"Fn::GetAtt": [BUCKET, "Arn"]}, {"Fn::Sub": "${" + BUCKET + ".Arn}/*"}],
                    "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub":
                        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${" + DISTRIBUTION + "}"}}},
                }]}}},
        },
        "Outputs": {
            "SiteUrl0A1B2C3D": {"Value": {"Fn::Sub": "https://${" + DISTRIBUTION + ".DomainName}"}},
            "SiteDistributionId4E5F6A7B": {"Value": {"Ref": DISTRIBUTION}},
            "SiteBucketName8C9D0E1F": {"Value": {"Ref": BUCKET}},
            "SiteBucketRegionalDomainName": {"Value": {"Fn::GetAtt": [BUCKET, "RegionalDomainName"]}},
            "LogsBucketDomainName": {"Value": {"Fn::GetAtt": [LOGS, "DomainName"]}},
            "SiteOriginAccessControlId": {"Value": {"Fn::GetAtt": [OAC, "Id"]}},
            "SiteHeadersId": {"Value": {"Ref": HEADERS}},
            "ApiId": {"Value": {"Ref": API}},
        },
    }


def updated(body: dict[str, Any]) -> dict[str, Any]:
    """Another comment and CSP, an ACM certificate for an alias."""
    new = copy.deepcopy(body)
    config = new["Resources"][DISTRIBUTION]["Properties"]["DistributionConfig"]
    config["Comment"] = "video24-dev site (www)"
    config["Aliases"] = ["www.example.com"]
    config["ViewerCertificate"] = {"AcmCertificateArn": ACM_ARN, "SslSupportMethod": "sni-only",
                                   "MinimumProtocolVersion": "TLSv1.2_2021"}
    headers = new["Resources"][HEADERS]["Properties"]["ResponseHeadersPolicyConfig"]
    headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"] = csp("; upgrade-insecure-requests")
    return new


# --------------------------------------------------------------------------
# the scenario


def deploy(rep: Report, cfn: Any, body: dict[str, Any], kind: str) -> dict[str, Any]:
    """A change set of `kind` (CREATE / UPDATE) for `body`, executed; the stack after it."""
    name = f"stackgen-{kind.lower()}-{int(time.time() * 1000)}"
    cfn.create_change_set(StackName=STACK, ChangeSetName=name, ChangeSetType=kind,
                          TemplateBody=json.dumps(body), Capabilities=["CAPABILITY_IAM"])
    described = cfn.describe_change_set(StackName=STACK, ChangeSetName=name)
    if not rep.equal(f"{kind} change set status", described["Status"], "CREATE_COMPLETE"):
        raise Fatal(described.get("StatusReason", ""))
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"] for c in described["Changes"]}
    cfn.execute_change_set(StackName=STACK, ChangeSetName=name)
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    if not rep.equal(f"stack status after the {kind} change set", stack["StackStatus"], f"{kind}_COMPLETE"):
        raise Fatal(stack.get("StackStatusReason", ""))
    stack["_changes"] = changes
    return stack


def physical_ids(cfn: Any) -> dict[str, str]:
    rows = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in rows}


def run(rep: Report, endpoint: str) -> None:
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=REGION)
    cfn = session.client("cloudformation", endpoint_url=endpoint)
    cloudfront = session.client("cloudfront", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)

    # 1. create
    body = template()
    stack = deploy(rep, cfn, body, "CREATE")
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
    ids = physical_ids(cfn)
    for logical in (API, LOGS, BUCKET, OAC, HEADERS, DISTRIBUTION):
        rep.check(bool(ids.get(logical)), f"{logical} created with a physical id", repr(ids.get(logical)))
    dist_id, bucket, logs = ids.get(DISTRIBUTION, ""), ids.get(BUCKET, ""), ids.get(LOGS, "")
    rep.check(bool(re.fullmatch(r"E[A-Z0-9]{13}", dist_id)), "the distribution's Id looks like CloudFront's", dist_id)
    rep.equal("output SiteDistributionId = Ref distribution", outputs.get("SiteDistributionId4E5F6A7B"), dist_id)
    rep.equal("output SiteBucketName = Ref bucket", outputs.get("SiteBucketName8C9D0E1F"), bucket)
    rep.equal("GetAtt Bucket.RegionalDomainName", outputs.get("SiteBucketRegionalDomainName"),
              f"{bucket}.s3.{REGION}.amazonaws.com")
    rep.equal("GetAtt Bucket.DomainName", outputs.get("LogsBucketDomainName"), f"{logs}.s3.amazonaws.com")
    rep.equal("GetAtt OriginAccessControl.Id = its physical id", outputs.get("SiteOriginAccessControlId"), ids.get(OAC))
    rep.equal("Ref ResponseHeadersPolicy = its physical id", outputs.get("SiteHeadersId"), ids.get(HEADERS))
    rep.check(bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", ids.get(HEADERS, ""))),
              "the response headers policy's Id is a UUID, as AWS gives", ids.get(HEADERS, ""))

    dist = cloudfront.get_distribution(Id=dist_id)
    domain = dist["Distribution"]["DomainName"]
    rep.check(bool(re.fullmatch(r"d[a-z0-9]{13}\.cloudfront\.net", domain)), "GetDistribution: DomainName dXXXX.cloudfront.net", domain)
    rep.equal("output SiteUrl = https:// + GetAtt distribution.DomainName", outputs.get("SiteUrl0A1B2C3D"), f"https://{domain}")
    rep.equal("GetDistribution: Status", dist["Distribution"]["Status"], "Deployed")
    config = dist["Distribution"]["DistributionConfig"]
    origin = config["Origins"]["Items"][0]
    rep.equal("origin DomainName = the bucket's RegionalDomainName", origin["DomainName"], f"{bucket}.s3.{REGION}.amazonaws.com")
    rep.equal("origin OriginAccessControlId = the OAC's Id", origin.get("OriginAccessControlId"), ids.get(OAC))
    rep.equal("origin S3OriginConfig (no identity)", origin.get("S3OriginConfig"), {"OriginAccessIdentity": ""})
    behavior = config["DefaultCacheBehavior"]
    rep.equal("ResponseHeadersPolicyId = the policy's Id", behavior.get("ResponseHeadersPolicyId"), ids.get(HEADERS))
    rep.equal("CachePolicyId", behavior.get("CachePolicyId"), "658327ea-f89d-4fab-a63d-7e88639e58f6")
    rep.equal("ViewerProtocolPolicy", behavior.get("ViewerProtocolPolicy"), "redirect-to-https")
    rep.equal("AllowedMethods", sorted(behavior["AllowedMethods"]["Items"]), ["GET", "HEAD"])
    rep.equal("DefaultRootObject", config.get("DefaultRootObject"), "index.html")
    rep.equal("Comment", config.get("Comment"), "video24-dev site")
    rep.equal("IsIPV6Enabled", config.get("IsIPV6Enabled"), True)
    rep.equal("Logging", {k: config["Logging"].get(k) for k in ("Enabled", "Bucket", "Prefix")},
              {"Enabled": True, "Bucket": f"{logs}.s3.amazonaws.com", "Prefix": "cloudfront/site/"})
    rep.equal("CustomErrorResponses", [(e["ErrorCode"], e.get("ResponseCode"), e.get("ResponsePagePath"))
                                       for e in config["CustomErrorResponses"].get("Items", [])],
              [(403, "404", "/404.html")])
    rep.equal("ViewerCertificate: the default certificate",
              config["ViewerCertificate"].get("CloudFrontDefaultCertificate"), True)
    tags = cloudfront.list_tags_for_resource(Resource=dist["Distribution"]["ARN"])["Tags"].get("Items", [])
    rep.equal("distribution tags", sorted((t["Key"], t["Value"]) for t in tags), [("project", "video24"), ("stage", "dev")])
    rep.equal("distribution ARN", dist["Distribution"]["ARN"], f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{dist_id}")
    oac = cloudfront.get_origin_access_control(Id=ids.get(OAC, ""))["OriginAccessControl"]["OriginAccessControlConfig"]
    rep.equal("GetOriginAccessControl", {k: oac.get(k) for k in (
        "Name", "SigningProtocol", "SigningBehavior", "OriginAccessControlOriginType")},
        {"Name": "video24-dev-site", "SigningProtocol": "sigv4", "SigningBehavior": "always",
         "OriginAccessControlOriginType": "s3"})
    etag = dist["ETag"]

    # 2. S3 objects as the upload writes them
    key = "js/config.js"
    s3.put_object(Bucket=bucket, Key=key, Body=b"window.appConfig = {};\n", ContentType="text/javascript; charset=utf-8",
                  CacheControl="no-cache", Metadata={"sha256": "ab" * 32}, Tagging="stackgen=site&stage=dev")
    head = s3.head_object(Bucket=bucket, Key=key)
    rep.equal("HeadObject ContentType", head.get("ContentType"), "text/javascript; charset=utf-8")
    rep.equal("HeadObject CacheControl", head.get("CacheControl"), "no-cache")
    rep.equal("HeadObject Metadata (x-amz-meta-sha256)", head.get("Metadata"), {"sha256": "ab" * 32})
    rep.equal("HeadObject TagCount (x-amz-tagging-count)", head.get("TagCount"), 2)
    got = s3.get_object(Bucket=bucket, Key=key)
    rep.equal("GetObject ContentType and CacheControl", (got.get("ContentType"), got.get("CacheControl")),
              ("text/javascript; charset=utf-8", "no-cache"))
    got["Body"].read()
    tagging = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    rep.equal("GetObjectTagging", sorted((t["Key"], t["Value"]) for t in tagging), [("stackgen", "site"), ("stage", "dev")])
    s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "stackgen", "Value": "stale"}]})
    rep.equal("PutObjectTagging replaces the tags", s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"],
              [{"Key": "stackgen", "Value": "stale"}])
    rep.equal("HeadObject TagCount after PutObjectTagging", s3.head_object(Bucket=bucket, Key=key).get("TagCount"), 1)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<!doctype html>", ContentType="text/html; charset=utf-8",
                  CacheControl="no-cache")
    rep.equal("an object without tags: no TagCount", s3.head_object(Bucket=bucket, Key="index.html").get("TagCount"), None)

    # 3. update
    new_body = updated(body)
    stack = deploy(rep, cfn, new_body, "UPDATE")
    rep.equal("update change set: the distribution and the policy Modify",
              {k: v for k, v in stack["_changes"].items()}, {DISTRIBUTION: "Modify", HEADERS: "Modify"})
    ids_after = physical_ids(cfn)
    rep.equal("update keeps the distribution's Id", ids_after.get(DISTRIBUTION), dist_id)
    rep.equal("update keeps the policy's Id", ids_after.get(HEADERS), ids.get(HEADERS))
    rep.equal("update keeps the OAC's Id", ids_after.get(OAC), ids.get(OAC))
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
    rep.equal("output SiteUrl after the update", outputs.get("SiteUrl0A1B2C3D"), f"https://{domain}")
    got_config = cloudfront.get_distribution_config(Id=dist_id)
    config = got_config["DistributionConfig"]
    rep.equal("updated Comment", config.get("Comment"), "video24-dev site (www)")
    rep.equal("updated Aliases", config.get("Aliases", {}).get("Items"), ["www.example.com"])
    rep.equal("updated ViewerCertificate", {k: config["ViewerCertificate"].get(k) for k in (
        "ACMCertificateArn", "SSLSupportMethod", "MinimumProtocolVersion")},
        {"ACMCertificateArn": ACM_ARN, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"})
    rep.equal("update keeps the origin's OAC", config["Origins"]["Items"][0].get("OriginAccessControlId"), ids.get(OAC))
    rep.check(got_config["ETag"] != etag, "update gives the config a new ETag", got_config["ETag"])
    rep.equal("the distribution's DomainName after the update",
              cloudfront.get_distribution(Id=dist_id)["Distribution"]["DomainName"], domain)

    # 4. invalidations
    batch = {"Paths": {"Quantity": 2, "Items": ["/index.html", "/js/config.js"]}, "CallerReference": "upload-0001"}
    created = cloudfront.create_invalidation(DistributionId=dist_id, InvalidationBatch=batch)["Invalidation"]
    rep.equal("CreateInvalidation: InProgress", created["Status"], "InProgress")
    inv_id = created["Id"]
    got_inv = cloudfront.get_invalidation(DistributionId=dist_id, Id=inv_id)["Invalidation"]
    rep.equal("GetInvalidation: Completed", got_inv["Status"], "Completed")
    rep.equal("GetInvalidation: the paths", got_inv["InvalidationBatch"]["Paths"].get("Items"), ["/index.html", "/js/config.js"])
    cloudfront.get_waiter("invalidation_completed").wait(DistributionId=dist_id, Id=inv_id,
                                                         WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    rep.check(True, "the invalidation_completed waiter returns")
    listed = cloudfront.list_invalidations(DistributionId=dist_id)["InvalidationList"]
    rep.equal("ListInvalidations", [(i["Id"], i["Status"]) for i in listed.get("Items", [])], [(inv_id, "Completed")])
    again = cloudfront.create_invalidation(DistributionId=dist_id, InvalidationBatch=batch)["Invalidation"]
    rep.equal("the same CallerReference and paths: the same invalidation", again["Id"], inv_id)
    other = copy.deepcopy(batch)
    other["Paths"] = {"Quantity": 1, "Items": ["/*"]}
    rep.raises("the same CallerReference, other paths", "InvalidationBatchAlreadyExists",
               lambda: cloudfront.create_invalidation(DistributionId=dist_id, InvalidationBatch=other))
    rep.raises("a path without a leading /", "InvalidArgument",
               lambda: cloudfront.create_invalidation(DistributionId=dist_id, InvalidationBatch={
                   "Paths": {"Quantity": 1, "Items": ["index.html"]}, "CallerReference": "upload-0002"}))
    rep.raises("ListInvalidations of no distribution", "NoSuchDistribution",
               lambda: cloudfront.list_invalidations(DistributionId="E0000000000000"))
    rep.raises("CreateInvalidation on no distribution", "NoSuchDistribution",
               lambda: cloudfront.create_invalidation(DistributionId="E0000000000000", InvalidationBatch=batch))

    # 5. delete (the bucket emptied first, as AWS requires)
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    stack_id = stack["StackId"]
    cfn.delete_stack(StackName=STACK)
    status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
    rep.equal("stack deleted", status, "DELETE_COMPLETE")
    rep.raises("GetDistribution after the delete", "NoSuchDistribution", lambda: cloudfront.get_distribution(Id=dist_id))
    rep.raises("GetOriginAccessControl after the delete", "NoSuchOriginAccessControl",
               lambda: cloudfront.get_origin_access_control(Id=ids.get(OAC, "")))
    rep.equal("ListDistributions after the delete",
              cloudfront.list_distributions()["DistributionList"].get("Quantity"), 0)
    rep.equal("ListOriginAccessControls after the delete",
              cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Quantity"), 0)

    # 6. names are the account's; a reset forgets everything
    deploy(rep, cfn, body, "CREATE")
    try:
        cfn.create_stack(StackName=f"{STACK}-twin", TemplateBody=json.dumps(body))
        twin = cfn.describe_stacks(StackName=f"{STACK}-twin")["Stacks"][0]["StackStatus"]
    except Exception as exc:  # noqa: BLE001 - moto fails the call itself
        twin = f"refused ({type(exc).__name__})"
    rep.check(twin != "CREATE_COMPLETE", "a second stack with the same OAC and policy names does not complete", twin)
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        rep.equal("/moto-api/reset", resp.status, 200)
    stack = deploy(rep, cfn, body, "CREATE")
    rep.check(bool(physical_ids(cfn).get(HEADERS)), "after the reset, the same stack creates again")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    try:
        import boto3  # noqa: F401
    except ImportError:
        print("moto_cloudfront_check: boto3 is missing: run this with target/venv/bin/python", file=sys.stderr)
        return 2
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    os.environ.update(env)
    os.environ.pop("AWS_PROFILE", None)
    rep = Report()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="moto_cloudfront_check.") as tmp:
        log_path = Path(tmp) / "moto_server.log"
        proc = start_moto(port, log_path, env)
        try:
            run(rep, f"http://127.0.0.1:{port}")
        except Fatal as exc:
            rep.check(False, "the rest of the checks", f"stopped: {exc}")
        except Exception as exc:  # noqa: BLE001 - report it with the server's log
            rep.check(False, "the checks ran to the end", f"{type(exc).__name__}: {exc}")
            print("--- moto_server log ---\n" + log_tail(log_path), file=sys.stderr)
        finally:
            stop_moto(proc)
    print(f"moto_cloudfront_check: {rep.passed} passed, {rep.failed} failed")
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
