#!/usr/bin/env python3
"""Smoke-deploy a generated CloudFormation template into moto's server.

Usage: target/venv/bin/python tests/moto_smoke.py TEMPLATE.json

Starts tests/moto_server.py (moto of the same venv, with CloudFront, IAM groups and secrets modelled) on a free
loopback port, uploads a tiny deterministic Lambda code zip to an assets
bucket, creates the stack, and then checks through the real service APIs
(S3, Lambda, IAM, Logs, SNS, SQS, API Gateway) that what moto created matches
the template. Resources are found by Type, so the script follows the template
as it grows.

API Gateway (REST): a RestApi must exist under its physical id with the
template's Name (and Description); each Resource must be in the API's
get_resources with the path computed from its ParentId chain and PathPart; each
Method must answer get_method with the template's AuthorizationType and
integration (type, and for non-MOCK ones the resolved Uri and HTTP method); a
Deployment with the template's Description must be listed (moto gives a
Deployment no physical id). A Lambda::Permission must appear in the function's
get_policy as a statement with the template's Action, Principal service,
SourceArn and SourceAccount (resolved). moto ignores Stage, Authorizer and
GatewayResponse (so no stage exists, and a method's AuthorizerId is dropped),
keeps a RestApi's EndpointConfiguration in CloudFormation's casing (so the API
reports it empty), and drops a MOCK integration's templates and responses:
those are notes. A reference to a resource moto ignores is left unsubstituted
in a Fn::Sub (e.g. `.../authorizers/${ApiAuthorizer...}`); such a part is
matched as a wildcard of one ARN segment and said so.

What moto cannot prove (it accepts but silently ignores e.g. BucketPolicy,
TopicPolicy, Group, MetricFilter, Alarm, Subscription, Trail; it drops Lambda
Architectures and LoggingConfig, a user's Groups and Tags; it validates no
property) is left to cfn-lint and to the generator's own tests: those are
reported as `note` lines, never as passes.

IAM groups, Secrets Manager secrets and CloudFront (bare moto ignores them) are modelled by
tests/moto_server.py, which this runs, so the stack creates them like any other resource.

Prints one line per check and ends with `moto_smoke: N passed, M failed`.
Exit status is non-zero when any check failed.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
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
import zipfile
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's fixed account
REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
STACK_NAME = "stackgen-smoke"
ASSETS_BUCKET = "stackgen-assets-smoke"
EXPECTED_RUNTIME = "provided.al2023"
EXPECTED_HANDLER = "bootstrap"
TEMPLATE_BODY_LIMIT = 51_200  # CloudFormation's TemplateBody limit; above it use TemplateURL
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

# Types moto's CloudFormation accepts but does not create (verification.md).
# Anything the server log reports as unsupported is added at run time too.
IGNORED_BY_MOTO = {
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Group",
    "AWS::Logs::MetricFilter",
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::CloudTrail::Trail",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::SecretsManager::Secret",
}

# Lambda properties moto's CloudFormation support drops on the floor.
LAMBDA_PROPS_DROPPED_BY_MOTO = ("Architectures", "LoggingConfig", "Tags")
# IAM user properties moto's CloudFormation support drops (it keeps UserName, Path).
USER_PROPS_DROPPED_BY_MOTO = ("Groups", "Tags", "ManagedPolicyArns", "Policies",
                              "PermissionsBoundary", "LoginProfile")


class Unresolvable(Exception):
    """A template value that cannot be computed from what moto reports."""


# --------------------------------------------------------------------------
# reporting


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   - {what}")
        else:
            self.failed += 1
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
        return ok

    def equal(self, what: str, actual: Any, expected: Any) -> bool:
        return self.check(
            actual == expected,
            what,
            f"expected {expected!r}, got {actual!r}",
        )

    def skip(self, what: str, why: str) -> None:
        self.skipped += 1
        print(f"skip - {what}: {why}")

    @staticmethod
    def note(text: str) -> None:
        print(f"note - {text}")

    def summary(self) -> str:
        line = f"moto_smoke: {self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        return line


# --------------------------------------------------------------------------
# moto server lifecycle


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def moto_server_binary() -> Path:
    # Do not resolve symlinks: sys.executable is <venv>/bin/python.
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        sys.exit(
            f"moto_smoke: {binary} not found; run this with the venv's python "
            "(target/venv/bin/python) after installing tests/requirements.txt"
        )
    return binary


def wait_until_up(proc: subprocess.Popen, endpoint: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2) as resp:
                if resp.status == 200:
                    return
                last_error = f"HTTP {resp.status}"
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise RuntimeError(
        f"moto_server not answering after {STARTUP_TIMEOUT_S:.0f} s ({last_error})"
    )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def unsupported_types_from_log(path: Path) -> set[str]:
    marker = "No Moto CloudFormation support for "
    found = set()
    try:
        for line in path.read_text(errors="replace").splitlines():
            if marker in line:
                found.add(line.split(marker, 1)[1].strip())
    except OSError:
        pass
    return found


# --------------------------------------------------------------------------
# assets


def code_zip() -> bytes:
    """A deterministic zip holding one executable file `bootstrap`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3  # unix, so the mode bits below are honoured
        info.external_attr = (0o100755 & 0xFFFF) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, b"#!/bin/sh\necho stackgen smoke\n")
    return buf.getvalue()


# --------------------------------------------------------------------------
# resolving template values against the deployed stack


class Resolver:
    def __init__(self, template: dict, params: dict[str, str], clients: dict):
        self.template = template
        self.resources = template.get("Resources", {})
        self.params = params
        self.clients = clients
        self.physical: dict[str, str] = {}
        # Logical ids to resolve to WILDCARD (resource_pattern); empty for resolve().
        self.wildcards: set[str] = set()

    def pseudo(self, name: str) -> str:
        values = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": STACK_NAME,
        }
        if name in values:
            return values[name]
        raise Unresolvable(f"pseudo parameter {name}")

    def ref(self, name: str) -> str:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.params:
            return self.params[name]
        params = self.template.get("Parameters", {})
        if name in params and "Default" in params[name]:
            return str(params[name]["Default"])
        if name in self.wildcards:
            return WILDCARD
        if name in self.physical:
            return self.physical[name]
        raise Unresolvable(f"Ref {name}")

    def get_att(self, logical: str, attr: str) -> str:
        res = self.resources.get(logical)
        if res is None:
            raise Unresolvable(f"GetAtt {logical}.{attr} (no such resource)")
        rtype = res.get("Type")
        if logical in self.wildcards:
            return WILDCARD
        phys = self.physical.get(logical)
        if phys is None:
            raise Unresolvable(f"GetAtt {logical}.{attr} (not created by moto)")
        if rtype == "AWS::IAM::Role" and attr == "Arn":
            return self.clients["iam"].get_role(RoleName=phys)["Role"]["Arn"]
        if rtype == "AWS::IAM::Role" and attr == "RoleId":
            return self.clients["iam"].get_role(RoleName=phys)["Role"]["RoleId"]
        if rtype == "AWS::IAM::User" and attr == "Arn":
            return self.clients["iam"].get_user(UserName=phys)["User"]["Arn"]
        if rtype == "AWS::IAM::Group" and attr == "Arn":
            return self.clients["iam"].get_group(GroupName=phys)["Group"]["Arn"]
        if rtype == "AWS::IAM::ManagedPolicy" and attr == "PolicyArn":
            return phys
        if rtype == "AWS::Lambda::Function" and attr == "Arn":
            cfg = self.clients["lambda"].get_function(FunctionName=phys)["Configuration"]
            return cfg["FunctionArn"]
        if rtype == "AWS::S3::Bucket" and attr == "Arn":
            return f"arn:{PARTITION}:s3:::{phys}"
        if rtype == "AWS::S3::Bucket" and attr == "DomainName":
            return f"{phys}.s3.{URL_SUFFIX}"
        if rtype == "AWS::S3::Bucket" and attr == "RegionalDomainName":
            return f"{phys}.s3.{REGION}.{URL_SUFFIX}"
        if rtype == "AWS::Logs::LogGroup" and attr == "Arn":
            # Real CloudFormation returns "...:log-group:NAME:*"; moto returns it
            # without the ":*" suffix. Resolve to what moto substituted.
            return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{phys}"
        if rtype == "AWS::ApiGateway::RestApi" and attr == "RootResourceId":
            return self.clients["apigateway"].get_rest_api(restApiId=phys)["rootResourceId"]
        if rtype == "AWS::SecretsManager::Secret" and attr == "Id":
            return phys  # the ARN, as Ref
        if rtype == "AWS::SNS::Topic" and attr == "TopicArn":
            return phys
        if rtype == "AWS::SNS::Topic" and attr == "TopicName":
            return phys.rsplit(":", 1)[-1]
        if rtype == "AWS::DynamoDB::Table" and attr in ("Arn", "StreamArn"):
            table = self.clients["dynamodb"].describe_table(TableName=phys)["Table"]
            return table["TableArn"] if attr == "Arn" else table["LatestStreamArn"]
        if rtype == "AWS::SQS::Queue" and attr in ("Arn", "QueueName"):
            # The physical id of a queue is its URL.
            attrs = self.clients["sqs"].get_queue_attributes(
                QueueUrl=phys, AttributeNames=["QueueArn"]
            )["Attributes"]
            return attrs["QueueArn"] if attr == "Arn" else attrs["QueueArn"].rsplit(":", 1)[-1]
        raise Unresolvable(f"GetAtt {logical}.{attr}")

    def sub(self, text: str, extra: dict[str, Any]) -> str:
        out = []
        i = 0
        while i < len(text):
            if text.startswith("${!", i):
                out.append("${")
                i += 3
                continue
            if text.startswith("${", i):
                end = text.index("}", i)
                name = text[i + 2 : end]
                if name in extra:
                    out.append(str(self.resolve(extra[name])))
                elif "." in name and not name.startswith("AWS::"):
                    logical, attr = name.split(".", 1)
                    out.append(self.get_att(logical, attr))
                else:
                    out.append(self.ref(name))
                i = end + 1
                continue
            out.append(text[i])
            i += 1
        return "".join(out)

    def resolve(self, value: Any) -> Any:
        """Compute a template value; raises Unresolvable when it cannot."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(logical, attr)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                return self.sub(arg[0], arg[1])
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(x) for x in self.resolve(items))
            if key == "Fn::FindInMap":
                mapping, top, second = (self.resolve(x) for x in arg)
                try:
                    return self.template["Mappings"][mapping][top][second]
                except KeyError as exc:
                    raise Unresolvable(f"Fn::FindInMap {arg}") from exc
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key.startswith("Fn::") or key == "Condition":
                raise Unresolvable(key)
        return {k: self.resolve(v) for k, v in value.items()}

    def resolve_pattern(self, value: Any, wildcards: set[str]) -> tuple[re.Pattern, list[str]]:
        """A regex for the string `value` resolves to, where the references to `wildcards`
        (resources moto did not create) match one ARN segment; and those it met."""
        self.wildcards = set(wildcards)
        try:
            text = str(self.resolve(value))
        finally:
            self.wildcards = set()
        met = sorted(lg for lg in wildcards if lg in referenced_resources(value))
        parts = [re.escape(p) for p in text.split(WILDCARD)]
        return re.compile("[^/:]+".join(parts)), met


WILDCARD = "\x00moto-ignored\x00"


# --------------------------------------------------------------------------
# per-type checks


def check_bucket(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, s3) -> None:
    name = phys
    if "BucketName" in props:
        try:
            name = rv.resolve(props["BucketName"])
            rep.equal(f"{logical}: bucket name", phys, name)
        except Unresolvable as exc:
            rep.skip(f"{logical}: bucket name", f"cannot resolve {exc}; using physical id")
    try:
        s3.head_bucket(Bucket=name)
        rep.check(True, f"{logical}: bucket {name} exists")
    except Exception as exc:  # noqa: BLE001 - report any client error
        rep.check(False, f"{logical}: bucket {name} exists", str(exc))
        return
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: server-side encryption configured", str(exc))
        rules = None
    if rules is not None:
        got = [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules]
        declared = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
        if declared is None:
            rep.check(False, f"{logical}: server-side encryption declared in template",
                      f"template has no BucketEncryption (moto reports {got})")
        else:
            want = [d["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for d in declared]
            rep.equal(f"{logical}: server-side encryption algorithm", got, want)
    if "Tags" in props:
        try:
            want_tags = {t["Key"]: rv.resolve(t["Value"]) for t in props["Tags"]}
        except Unresolvable as exc:
            rep.skip(f"{logical}: tags", f"cannot resolve {exc}")
            return
        try:
            got_tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
        except Exception as exc:  # noqa: BLE001
            rep.check(False, f"{logical}: tags", str(exc))
            return
        rep.equal(f"{logical}: tags", got_tags, want_tags)


def check_function(
    rep: Report, rv: Resolver, logical: str, props: dict, phys: str, clients, code_sha: str
) -> None:
    try:
        cfg = clients["lambda"].get_function(FunctionName=phys)["Configuration"]
        rep.check(True, f"{logical}: function {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: function {phys} exists", str(exc))
        return
    if "FunctionName" in props:
        try:
            rep.equal(f"{logical}: function name", phys, rv.resolve(props["FunctionName"]))
        except Unresolvable as exc:
            rep.skip(f"{logical}: function name", f"cannot resolve {exc}")
    rep.equal(f"{logical}: template Runtime", props.get("Runtime"), EXPECTED_RUNTIME)
    rep.equal(f"{logical}: Runtime", cfg.get("Runtime"), EXPECTED_RUNTIME)
    rep.equal(f"{logical}: template Handler", props.get("Handler"), EXPECTED_HANDLER)
    rep.equal(f"{logical}: Handler", cfg.get("Handler"), EXPECTED_HANDLER)
    rep.equal(f"{logical}: MemorySize", cfg.get("MemorySize"), int(props.get("MemorySize", 128)))
    rep.equal(f"{logical}: Timeout", cfg.get("Timeout"), int(props.get("Timeout", 3)))
    rep.equal(f"{logical}: code is the uploaded asset (CodeSha256)", cfg.get("CodeSha256"), code_sha)

    try:
        want_role = rv.resolve(props["Role"])
        rep.equal(f"{logical}: Role ARN", cfg.get("Role"), want_role)
    except Unresolvable as exc:
        rep.skip(f"{logical}: Role ARN", f"cannot resolve {exc}")

    want_vars = props.get("Environment", {}).get("Variables", {})
    got_vars = cfg.get("Environment", {}).get("Variables", {})
    rep.equal(f"{logical}: environment variable names", sorted(got_vars), sorted(want_vars))
    for var, raw in sorted(want_vars.items()):
        try:
            want = rv.resolve(raw)
        except Unresolvable as exc:
            rep.skip(f"{logical}: env {var}", f"cannot resolve {exc}")
            continue
        rep.equal(f"{logical}: env {var}", got_vars.get(var), str(want))

    dropped = [p for p in LAMBDA_PROPS_DROPPED_BY_MOTO if p in props]
    if dropped:
        rep.note(f"{logical}: moto drops {', '.join(dropped)}; not checked here (cfn-lint covers them)")


def parse_policy_document(doc: Any) -> Any:
    """boto3 URL-decodes and JSON-parses policy documents, but moto stores the
    inline policies of a CloudFormation-made role as a Python repr (single
    quotes), which arrives here as a plain string."""
    if not isinstance(doc, str):
        return doc
    try:
        return json.loads(doc)
    except ValueError:
        try:
            return ast.literal_eval(doc)
        except (ValueError, SyntaxError):
            return doc


def check_role(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, iam) -> None:
    try:
        role = iam.get_role(RoleName=phys)["Role"]
        rep.check(True, f"{logical}: role {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: role {phys} exists", str(exc))
        return
    if "RoleName" in props:
        try:
            rep.equal(f"{logical}: role name", role["RoleName"], rv.resolve(props["RoleName"]))
        except Unresolvable as exc:
            rep.skip(f"{logical}: role name", f"cannot resolve {exc}")
    try:
        want_trust = rv.resolve(props.get("AssumeRolePolicyDocument"))
        rep.equal(f"{logical}: trust policy", role.get("AssumeRolePolicyDocument"), want_trust)
    except Unresolvable as exc:
        rep.skip(f"{logical}: trust policy", f"cannot resolve {exc}")

    declared = props.get("Policies", [])
    got_names = sorted(iam.list_role_policies(RoleName=phys)["PolicyNames"])
    want_names = sorted(str(p["PolicyName"]) for p in declared)
    rep.equal(f"{logical}: inline policy names", got_names, want_names)
    for pol in declared:
        pname = pol["PolicyName"]
        try:
            doc = iam.get_role_policy(RoleName=phys, PolicyName=pname)["PolicyDocument"]
        except Exception as exc:  # noqa: BLE001
            rep.check(False, f"{logical}: inline policy {pname}", str(exc))
            continue
        doc = parse_policy_document(doc)
        try:
            want_doc = rv.resolve(pol["PolicyDocument"])
        except Unresolvable as exc:
            rep.check(bool(doc.get("Statement")), f"{logical}: inline policy {pname} present")
            rep.skip(f"{logical}: inline policy {pname} document", f"cannot resolve {exc}")
            continue
        rep.equal(f"{logical}: inline policy {pname} document", doc, want_doc)
    if "ManagedPolicyArns" in props:
        rep.note(f"{logical}: moto drops ManagedPolicyArns; not checked here")


def check_log_group(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, logs) -> None:
    name = phys
    if "LogGroupName" in props:
        try:
            name = rv.resolve(props["LogGroupName"])
            rep.equal(f"{logical}: log group name", phys, name)
        except Unresolvable as exc:
            rep.skip(f"{logical}: log group name", f"cannot resolve {exc}; using physical id")
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    match = [g for g in groups if g["logGroupName"] == name]
    if not rep.check(bool(match), f"{logical}: log group {name} exists"):
        return
    want = props.get("RetentionInDays")
    rep.equal(
        f"{logical}: retentionInDays",
        match[0].get("retentionInDays"),
        int(want) if want is not None else None,
    )


def check_topic(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, sns) -> None:
    try:
        sns.get_topic_attributes(TopicArn=phys)
        rep.check(True, f"{logical}: topic {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: topic {phys} exists", str(exc))
        return
    if "TopicName" in props:
        try:
            want = f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT_ID}:{rv.resolve(props['TopicName'])}"
            rep.equal(f"{logical}: topic ARN", phys, want)
        except Unresolvable as exc:
            rep.skip(f"{logical}: topic ARN", f"cannot resolve {exc}")


def check_queue(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, sqs) -> None:
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=phys, AttributeNames=["All"])["Attributes"]
        rep.check(True, f"{logical}: queue {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: queue {phys} exists", str(exc))
        return
    if "QueueName" in props:
        rep.equal(f"{logical}: queue name", attrs["QueueArn"].rsplit(":", 1)[-1], rv.resolve(props["QueueName"]))
    if "MessageRetentionPeriod" in props:
        rep.equal(
            f"{logical}: message retention",
            int(attrs.get("MessageRetentionPeriod", 0)),
            int(props["MessageRetentionPeriod"]),
        )


def check_table(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, dynamodb) -> None:
    """The table's shape as DynamoDB describes it: name, keys, attribute types, billing, indexes,
    stream. (Plain moto drops SSE and PITR given in a template; tests/moto_server.py restores
    both and the deploy e2e checks them.)"""
    try:
        table = dynamodb.describe_table(TableName=phys)["Table"]
        rep.check(True, f"{logical}: table {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: table {phys} exists", str(exc))
        return
    rep.equal(f"{logical}: table name", table["TableName"], rv.resolve(props["TableName"]))
    rep.equal(f"{logical}: key schema", table["KeySchema"], props["KeySchema"])
    rep.equal(f"{logical}: attribute definitions",
              sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
              sorted((a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]))
    billing = props.get("BillingMode", "PROVISIONED")
    rep.equal(f"{logical}: billing", table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"), billing)
    if billing == "PROVISIONED":
        got = table.get("ProvisionedThroughput", {})
        rep.equal(f"{logical}: provisioned capacity",
                  (got.get("ReadCapacityUnits"), got.get("WriteCapacityUnits")),
                  (props["ProvisionedThroughput"]["ReadCapacityUnits"], props["ProvisionedThroughput"]["WriteCapacityUnits"]))
    got_indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    want_indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    rep.equal(f"{logical}: global secondary indexes", sorted(got_indexes), sorted(want_indexes))
    for name, want in sorted(want_indexes.items()):
        got = got_indexes.get(name, {})
        rep.equal(f"{logical}: index {name} keys and projection",
                  (got.get("KeySchema"), got.get("Projection")), (want["KeySchema"], want["Projection"]))
    view = props.get("StreamSpecification", {}).get("StreamViewType")
    got_stream = table.get("StreamSpecification", {})
    rep.equal(f"{logical}: stream", (got_stream.get("StreamEnabled", False), got_stream.get("StreamViewType")),
              (view is not None, view))
    if view is not None:
        rep.check(table.get("LatestStreamArn", "").startswith(f"{table['TableArn']}/stream/"),
                  f"{logical}: the stream's ARN is the table's", table.get("LatestStreamArn", ""))


def check_event_source_mapping(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, lam) -> None:
    """A stream trigger: the mapping reads the template's event source into its function, with
    its batch size and failure destination."""
    try:
        mapping = lam.get_event_source_mapping(UUID=phys)
        rep.check(True, f"{logical}: event source mapping {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: event source mapping {phys} exists", str(exc))
        return
    try:
        rep.equal(f"{logical}: event source", mapping.get("EventSourceArn"), rv.resolve(props["EventSourceArn"]))
        function = rv.resolve(props["FunctionName"])
        rep.check(mapping.get("FunctionArn", "").endswith(f":function:{function}"),
                  f"{logical}: invokes {function}", mapping.get("FunctionArn", ""))
    except Unresolvable as exc:
        rep.skip(f"{logical}: event source and function", f"cannot resolve {exc}")
    if "BatchSize" in props:
        rep.equal(f"{logical}: batch size", mapping.get("BatchSize"), props["BatchSize"])


def check_user(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, iam) -> None:
    try:
        user = iam.get_user(UserName=phys)["User"]
        rep.check(True, f"{logical}: user {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: user {phys} exists", str(exc))
        return
    if "UserName" in props:
        try:
            rep.equal(f"{logical}: user name", user["UserName"], rv.resolve(props["UserName"]))
        except Unresolvable as exc:
            rep.skip(f"{logical}: user name", f"cannot resolve {exc}")
    rep.equal(f"{logical}: path", user.get("Path"), props.get("Path", "/"))
    rep.check("LoginProfile" not in props, f"{logical}: template gives no LoginProfile (password)")
    keys = iam.list_access_keys(UserName=phys)["AccessKeyMetadata"]
    rep.equal(f"{logical}: no access keys", [k["AccessKeyId"] for k in keys], [])
    try:
        iam.get_login_profile(UserName=phys)
        rep.check(False, f"{logical}: no login profile (password)", "get_login_profile found one")
    except iam.exceptions.NoSuchEntityException:
        rep.check(True, f"{logical}: no login profile (password)")
    dropped = [p for p in USER_PROPS_DROPPED_BY_MOTO if p in props and p != "LoginProfile"]
    if dropped:
        rep.note(f"{logical}: moto drops {', '.join(dropped)} of a user; not checked here")


def check_managed_policy(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, iam) -> None:
    local = []
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        local.extend(page["Policies"])
    if "ManagedPolicyName" in props:
        try:
            name = rv.resolve(props["ManagedPolicyName"])
        except Unresolvable as exc:
            rep.skip(f"{logical}: managed policy name", f"cannot resolve {exc}")
            name = None
        match = [p for p in local if p["PolicyName"] == name] if name else []
        if name and not rep.check(len(match) == 1, f"{logical}: managed policy {name} exists",
                                  f"local policies: {sorted(p['PolicyName'] for p in local)}"):
            return
        if name:
            rep.equal(f"{logical}: Ref is the policy ARN", phys, match[0]["Arn"])
    match = [p for p in local if p["Arn"] == phys]
    if not rep.check(len(match) == 1, f"{logical}: managed policy {phys} exists"):
        return
    policy = iam.get_policy(PolicyArn=phys)["Policy"]
    rep.equal(f"{logical}: path", policy.get("Path"), props.get("Path", "/"))
    if "Description" in props:
        try:
            rep.equal(f"{logical}: description", policy.get("Description"),
                      rv.resolve(props["Description"]))
        except Unresolvable as exc:
            rep.skip(f"{logical}: description", f"cannot resolve {exc}")
    version = iam.get_policy_version(PolicyArn=phys, VersionId=policy["DefaultVersionId"])
    doc = parse_policy_document(version["PolicyVersion"]["Document"])
    try:
        want = rv.resolve(props.get("PolicyDocument"))
        rep.equal(f"{logical}: policy document (default version {policy['DefaultVersionId']})",
                  doc, want)
    except Unresolvable as exc:
        rep.check(bool(isinstance(doc, dict) and doc.get("Statement")),
                  f"{logical}: policy document present")
        rep.skip(f"{logical}: policy document", f"cannot resolve {exc}")

    entities: dict[str, list] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=phys):
        for key in entities:
            entities[key].extend(page.get(key, []))
    for prop, key, field in (("Groups", "PolicyGroups", "GroupName"),
                             ("Users", "PolicyUsers", "UserName"),
                             ("Roles", "PolicyRoles", "RoleName")):
        try:
            want_names = sorted(str(n) for n in rv.resolve(props.get(prop, [])))
        except Unresolvable as exc:
            rep.skip(f"{logical}: attached {prop.lower()}", f"cannot resolve {exc}")
            continue
        got_names = sorted(e[field] for e in entities[key])
        rep.equal(f"{logical}: attached to {prop.lower()}", got_names, want_names)


def api_path(template: dict, logical: str, seen: tuple[str, ...] = ()) -> str:
    """The path of an AWS::ApiGateway::Resource from its ParentId chain and PathPart."""
    resources = template.get("Resources", {})
    if logical in seen:
        raise Unresolvable(f"ParentId cycle through {logical}")
    res = resources.get(logical, {})
    if res.get("Type") != "AWS::ApiGateway::Resource":
        raise Unresolvable(f"{logical} is not an AWS::ApiGateway::Resource")
    props = res.get("Properties", {})
    parent = props.get("ParentId")
    part = props.get("PathPart")
    if not isinstance(part, str):
        raise Unresolvable(f"{logical}: PathPart {part!r}")
    if isinstance(parent, dict) and "Fn::GetAtt" in parent:
        arg = parent["Fn::GetAtt"]
        target, attr = arg.split(".", 1) if isinstance(arg, str) else arg
        if attr == "RootResourceId":
            return "/" + part
    if isinstance(parent, dict) and "Ref" in parent:
        return api_path(template, parent["Ref"], seen + (logical,)).rstrip("/") + "/" + part
    raise Unresolvable(f"{logical}: ParentId {parent!r}")


def check_rest_api(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, apigw) -> None:
    try:
        api = apigw.get_rest_api(restApiId=phys)
        rep.check(True, f"{logical}: REST API {phys} exists")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: REST API {phys} exists", str(exc))
        return
    try:
        rep.equal(f"{logical}: name", api.get("name"), rv.resolve(props.get("Name")))
    except Unresolvable as exc:
        rep.skip(f"{logical}: name", f"cannot resolve {exc}")
    if "Description" in props:
        try:
            rep.equal(f"{logical}: description", api.get("description"), rv.resolve(props["Description"]))
        except Unresolvable as exc:
            rep.skip(f"{logical}: description", f"cannot resolve {exc}")
    root = [r for r in apigw.get_resources(restApiId=phys, limit=500)["items"] if r.get("path") == "/"]
    rep.check(len(root) == 1 and root[0]["id"] == api.get("rootResourceId"),
              f"{logical}: root resource / is the API's rootResourceId", f"root resources {root}")
    if "EndpointConfiguration" in props:
        rep.note(f"{logical}: moto keeps EndpointConfiguration in CloudFormation's casing and "
                 f"reports {api.get('endpointConfiguration')!r}; not checked (cfn-lint covers it)")


def api_resources(apigw, api_id: str) -> list[dict]:
    items: list[dict] = []
    for page in apigw.get_paginator("get_resources").paginate(restApiId=api_id):
        items.extend(page["items"])
    return items


def check_api_resource(rep: Report, rv: Resolver, logical: str, props: dict, phys: str, apigw) -> None:
    try:
        api_id = rv.resolve(props.get("RestApiId"))
        path = api_path(rv.template, logical)
        parent_id = rv.resolve(props.get("ParentId"))
    except Unresolvable as exc:
        rep.skip(f"{logical}: resource path", f"cannot resolve {exc}")
        return
    try:
        items = api_resources(apigw, api_id)
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: get_resources of API {api_id}", str(exc))
        return
    match = [r for r in items if r.get("path") == path]
    if not rep.check(len(match) == 1, f"{logical}: API {api_id} has resource {path}",
                     f"paths: {sorted(r.get('path') for r in items)}"):
        return
    rep.equal(f"{logical}: {path} is the physical id", match[0]["id"], phys)
    rep.equal(f"{logical}: {path} parent", match[0].get("parentId"), parent_id)


def check_api_method(rep: Report, rv: Resolver, logical: str, props: dict, apigw) -> None:
    verb = props.get("HttpMethod")
    try:
        api_id = rv.resolve(props.get("RestApiId"))
        resource_id = rv.resolve(props.get("ResourceId"))
    except Unresolvable as exc:
        rep.skip(f"{logical}: method", f"cannot resolve {exc}")
        return
    res_ref = props.get("ResourceId")
    where = resource_id
    if isinstance(res_ref, dict) and "Ref" in res_ref:
        try:
            where = api_path(rv.template, res_ref["Ref"])
        except Unresolvable:
            pass
    elif isinstance(res_ref, dict) and "Fn::GetAtt" in res_ref:
        where = "/"
    what = f"{logical}: {verb} {where}"
    try:
        method = apigw.get_method(restApiId=api_id, resourceId=resource_id, httpMethod=verb)
        rep.check(True, f"{what}: get_method finds it")
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{what}: get_method finds it", str(exc))
        return
    rep.equal(f"{what}: authorizationType", method.get("authorizationType"), props.get("AuthorizationType"))
    if "AuthorizerId" in props:
        rep.note(f"{what}: moto ignores AWS::ApiGateway::Authorizer and drops AuthorizerId "
                 f"(reports {method.get('authorizerId')!r}); not checked")
    integration = props.get("Integration", {})
    got = method.get("methodIntegration") or {}
    rep.equal(f"{what}: integration type", got.get("type"), integration.get("Type"))
    if integration.get("Type") == "MOCK":
        dropped = [k for k in ("RequestTemplates", "IntegrationResponses") if k in integration]
        if "MethodResponses" in props:
            dropped.append("MethodResponses")
        if dropped:
            rep.note(f"{what}: MOCK integration; moto drops {', '.join(dropped)}; not checked")
        return
    rep.equal(f"{what}: integration HTTP method", got.get("httpMethod"),
              integration.get("IntegrationHttpMethod"))
    try:
        rep.equal(f"{what}: integration Uri", got.get("uri"), rv.resolve(integration.get("Uri")))
    except Unresolvable as exc:
        rep.skip(f"{what}: integration Uri", f"cannot resolve {exc}")


def check_api_deployment(rep: Report, rv: Resolver, logical: str, props: dict, apigw) -> None:
    try:
        api_id = rv.resolve(props.get("RestApiId"))
    except Unresolvable as exc:
        rep.skip(f"{logical}: deployment", f"cannot resolve {exc}")
        return
    items = apigw.get_deployments(restApiId=api_id).get("items", [])
    want = props.get("Description")
    match = [d for d in items if want is None or d.get("description") == want]
    rep.check(len(match) >= 1, f"{logical}: API {api_id} has a deployment"
              + (f" described {want!r}" if want else ""), f"deployments: {items}")
    stages = apigw.get_stages(restApiId=api_id).get("item", [])
    rep.note(f"{logical}: moto gives a Deployment no physical id and ignores AWS::ApiGateway::Stage "
             f"(the API has {len(stages)} stage(s)); stages not checked")


def check_permission(rep: Report, rv: Resolver, logical: str, props: dict, lam,
                     ignored_logicals: set[str]) -> None:
    try:
        function = rv.resolve(props.get("FunctionName"))
    except Unresolvable as exc:
        rep.skip(f"{logical}: permission", f"cannot resolve FunctionName: {exc}")
        return
    try:
        policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    except Exception as exc:  # noqa: BLE001
        rep.check(False, f"{logical}: get_policy of {function}", str(exc))
        return
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    want_principal = props.get("Principal")
    wildcards: list[str] = []
    source_arn = None
    if "SourceArn" in props:
        try:
            source_arn, wildcards = rv.resolve_pattern(props["SourceArn"], ignored_logicals)
        except Unresolvable as exc:
            rep.skip(f"{logical}: permission", f"cannot resolve SourceArn: {exc}")
            return
    source_account = None
    if "SourceAccount" in props:
        source_account = rv.resolve(props["SourceAccount"])

    def matches(st: dict) -> bool:
        cond = st.get("Condition", {})
        arn = cond.get("ArnLike", {}).get("AWS:SourceArn")
        account = cond.get("StringEquals", {}).get("AWS:SourceAccount")
        return (
            st.get("Effect") == "Allow"
            and st.get("Action") == props.get("Action")
            and st.get("Principal") == {"Service": want_principal}
            and (source_arn is None and arn is None
                 or source_arn is not None and arn is not None and source_arn.fullmatch(arn) is not None)
            and account == source_account
        )

    short = function.rsplit(":", 1)[-1]
    what = (f"{logical}: {short} policy allows {props.get('Action')} to {want_principal}"
            + (f" from {source_arn.pattern.replace(chr(92), '')}" if source_arn is not None else "")
            + (f" (account {source_account})" if source_account else ""))
    if wildcards:
        what += f" [{', '.join(wildcards)}: not created by moto, matched as one ARN segment]"
    rep.check(sum(1 for st in statements if matches(st)) == 1, what,
              f"statements: {json.dumps(statements)}")


# --------------------------------------------------------------------------
# references to types moto ignores


def referenced_resources(value: Any) -> set[str]:
    """Logical ids a template value names through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= referenced_resources(v)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add((arg.split(".", 1) if isinstance(arg, str) else arg)[0])
            elif key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if name not in variables and not name.startswith("AWS::"):
                        found.add(name.split(".", 1)[0])
                found |= referenced_resources(variables)
            else:
                found |= referenced_resources(arg)
    return found


def detach_managed_policies(rep: Report, iam, resources: dict, physical: dict[str, str]) -> None:
    """moto never deletes (so never detaches) a stack's managed policies, and then
    cannot delete the users/roles/groups they are attached to (DeleteConflict).
    CloudFormation deletes the policy first; do its detaching here."""
    for logical, res in sorted(resources.items()):
        arn = physical.get(logical)
        if res.get("Type") != "AWS::IAM::ManagedPolicy" or not arn:
            continue
        detached = 0
        for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
            for g in page.get("PolicyGroups", []):
                iam.detach_group_policy(GroupName=g["GroupName"], PolicyArn=arn)
                detached += 1
            for u in page.get("PolicyUsers", []):
                iam.detach_user_policy(UserName=u["UserName"], PolicyArn=arn)
                detached += 1
            for r in page.get("PolicyRoles", []):
                iam.detach_role_policy(RoleName=r["RoleName"], PolicyArn=arn)
                detached += 1
        if detached:
            rep.note(f"{logical}: moto does not delete managed policies with the stack; detached it "
                     f"from {detached} entit(ies) through the API before delete_stack")


def list_resources(cfn) -> list[dict]:
    rows: list[dict] = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=STACK_NAME):
        rows.extend(page["StackResourceSummaries"])
    return rows


def wait_stack(cfn, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.2)


def fill_parameters(template: dict, code_key: str) -> list[dict[str, str]]:
    out = []
    problems = []
    for name, spec in template.get("Parameters", {}).items():
        if name.startswith("AssetsBucket"):
            out.append({"ParameterKey": name, "ParameterValue": ASSETS_BUCKET})
        elif "CodeKey" in name:
            out.append({"ParameterKey": name, "ParameterValue": code_key})
        elif "Default" not in spec:
            problems.append(name)
    if problems:
        sys.exit(
            "moto_smoke: template parameter(s) without Default that this smoke test "
            f"does not know how to fill: {', '.join(problems)} (expected AssetsBucket* "
            "or *CodeKey*; teach tests/moto_smoke.py about new parameters)"
        )
    return out


def run(template_path: Path, endpoint: str, log_path: Path) -> Report:
    import boto3  # imported late so a missing venv gives the clear message above

    rep = Report()
    body = template_path.read_text()
    template = json.loads(body)
    resources: dict[str, dict] = template.get("Resources", {})

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )
    clients = {
        svc: session.client(svc, endpoint_url=endpoint)
        for svc in ("cloudformation", "s3", "lambda", "iam", "logs", "sns", "sqs",
                    "apigateway", "secretsmanager", "dynamodb")
    }
    cfn, s3 = clients["cloudformation"], clients["s3"]

    # assets
    blob = code_zip()
    digest = hashlib.sha256(blob).digest()
    code_key = f"smoke/bootstrap-{digest.hex()[:16]}.zip"
    s3.create_bucket(Bucket=ASSETS_BUCKET)
    s3.put_object(Bucket=ASSETS_BUCKET, Key=code_key, Body=blob)
    head = s3.head_object(Bucket=ASSETS_BUCKET, Key=code_key)
    rep.equal(f"asset s3://{ASSETS_BUCKET}/{code_key} uploaded", head["ContentLength"], len(blob))
    code_sha = base64.b64encode(digest).decode()

    params = fill_parameters(template, code_key)
    for p in params:
        print(f"param - {p['ParameterKey']} = {p['ParameterValue']}")

    # Outputs naming a resource moto ignores: moto answers HTTP 500 to a GetAtt on one
    # (AttributeError in validate_outputs) and would give None for a Ref. Not deployed.
    ignored_logicals = {lg for lg, res in resources.items()
                        if res.get("Type") in IGNORED_BY_MOTO}
    dropped_outputs = {}
    for key, out in sorted(template.get("Outputs", {}).items()):
        named = referenced_resources(out.get("Value")) & ignored_logicals
        if named:
            dropped_outputs[key] = sorted(named)
    # moto reads IntegrationHttpMethod and Uri of every method's Integration, which AWS
    # does not require for MOCK integrations (CORS preflights): give moto placeholders.
    mock_methods = [
        lg for lg, res in resources.items()
        if res.get("Type") == "AWS::ApiGateway::Method"
        and res.get("Properties", {}).get("Integration", {}).get("Type") == "MOCK"
    ]
    if dropped_outputs or mock_methods:
        deployed = json.loads(json.dumps(template))
        for key in dropped_outputs:
            deployed["Outputs"].pop(key)
        for lg in mock_methods:
            integration = deployed["Resources"][lg]["Properties"]["Integration"]
            integration.setdefault("IntegrationHttpMethod", "POST")
            integration.setdefault("Uri", "")
        if mock_methods:
            rep.note(f"{len(mock_methods)} MOCK method(s): moto needs IntegrationHttpMethod/Uri; "
                     "placeholders added to the deployed copy only")
        body = json.dumps(deployed, indent=1)

    create_args: dict[str, Any] = {
        "StackName": STACK_NAME,
        "Parameters": params,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    }
    if len(body.encode()) > TEMPLATE_BODY_LIMIT:
        key = "smoke/template.json"
        s3.put_object(Bucket=ASSETS_BUCKET, Key=key, Body=body.encode())
        create_args["TemplateURL"] = f"https://{ASSETS_BUCKET}.s3.{URL_SUFFIX}/{key}"
        rep.note(f"template is {len(body.encode())} bytes (> {TEMPLATE_BODY_LIMIT}): using TemplateURL")
    else:
        create_args["TemplateBody"] = body

    try:
        cfn.create_stack(**create_args)
    except Exception as exc:  # noqa: BLE001
        rep.check(False, "create_stack", f"{exc}\n--- moto_server log ---\n{log_tail(log_path)}")
        return rep
    stack = wait_stack(cfn)
    if not rep.equal("stack status", stack["StackStatus"], "CREATE_COMPLETE"):
        print(stack.get("StackStatusReason", ""))
        return rep

    rows = list_resources(cfn)
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in rows if r["LogicalResourceId"]}
    ignored = IGNORED_BY_MOTO | unsupported_types_from_log(log_path)

    rv = Resolver(template, {p["ParameterKey"]: p["ParameterValue"] for p in params}, clients)
    rv.physical = physical
    not_created = {lg for lg, res in resources.items()
                   if res.get("Type") in ignored}

    checkers = {
        "AWS::S3::Bucket": lambda lg, pr, ph: check_bucket(rep, rv, lg, pr, ph, s3),
        "AWS::Lambda::Function": lambda lg, pr, ph: check_function(rep, rv, lg, pr, ph, clients, code_sha),
        "AWS::IAM::Role": lambda lg, pr, ph: check_role(rep, rv, lg, pr, ph, clients["iam"]),
        "AWS::Logs::LogGroup": lambda lg, pr, ph: check_log_group(rep, rv, lg, pr, ph, clients["logs"]),
        "AWS::SNS::Topic": lambda lg, pr, ph: check_topic(rep, rv, lg, pr, ph, clients["sns"]),
        "AWS::SQS::Queue": lambda lg, pr, ph: check_queue(rep, rv, lg, pr, ph, clients["sqs"]),
        "AWS::DynamoDB::Table": lambda lg, pr, ph: check_table(rep, rv, lg, pr, ph, clients["dynamodb"]),
        "AWS::Lambda::EventSourceMapping": lambda lg, pr, ph: check_event_source_mapping(
            rep, rv, lg, pr, ph, clients["lambda"]),
        "AWS::IAM::User": lambda lg, pr, ph: check_user(rep, rv, lg, pr, ph, clients["iam"]),
        "AWS::IAM::ManagedPolicy": lambda lg, pr, ph: check_managed_policy(rep, rv, lg, pr, ph, clients["iam"]),
        "AWS::ApiGateway::RestApi": lambda lg, pr, ph: check_rest_api(rep, rv, lg, pr, ph, clients["apigateway"]),
        "AWS::ApiGateway::Resource": lambda lg, pr, ph: check_api_resource(rep, rv, lg, pr, ph, clients["apigateway"]),
        # moto gives these no physical id (""): they are found through their API / function.
        "AWS::ApiGateway::Method": lambda lg, pr, _ph: check_api_method(rep, rv, lg, pr, clients["apigateway"]),
        "AWS::ApiGateway::Deployment": lambda lg, pr, _ph: check_api_deployment(rep, rv, lg, pr, clients["apigateway"]),
        "AWS::Lambda::Permission": lambda lg, pr, _ph: check_permission(rep, rv, lg, pr, clients["lambda"], not_created),
    }

    for logical, res in sorted(resources.items()):
        rtype = res.get("Type", "")
        props = res.get("Properties", {})
        if "Condition" in res:
            rep.note(f"{logical} ({rtype}) has a Condition; not checked")
            continue
        if rtype in checkers:
            if not rep.check(logical in physical, f"{logical}: created by the stack ({rtype})",
                             "missing from list_stack_resources"):
                continue
            checkers[rtype](logical, props, physical[logical])
        elif rtype in ignored:
            rep.note(f"{logical} ({rtype}): moto accepts but ignores this type; not checked")
        else:
            rep.check(logical in physical, f"{logical}: created by the stack ({rtype})",
                      "missing from list_stack_resources (if moto ignores this type, add it to IGNORED_BY_MOTO)")

    # outputs
    got_outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
    for key, out in sorted(template.get("Outputs", {}).items()):
        if key in dropped_outputs:
            rep.note(f"output {key}: refers to {', '.join(dropped_outputs[key])}, of a type moto "
                     "ignores; left out of the deployed template, not checked")
            continue
        if not rep.check(key in got_outputs, f"output {key} present", f"stack outputs: {sorted(got_outputs)}"):
            continue
        try:
            want = rv.resolve(out["Value"])
        except Unresolvable as exc:
            rep.skip(f"output {key} value", f"cannot resolve {exc}")
            continue
        rep.equal(f"output {key} value", got_outputs[key], str(want))

    # lifecycle: the stack deletes cleanly (a deleted stack is found by id only)
    detach_managed_policies(rep, clients["iam"], resources, physical)
    # A protected table refuses DeleteTable, so the stack's delete would fail, as on AWS: lift
    # the protection first, as its owner must (the delete is the lifecycle check, not the guard).
    for logical, res in sorted(resources.items()):
        if res.get("Type") == "AWS::DynamoDB::Table" and res.get("Properties", {}).get("DeletionProtectionEnabled") \
                and res.get("DeletionPolicy") != "Retain" and logical in physical:
            clients["dynamodb"].update_table(TableName=physical[logical], DeletionProtectionEnabled=False)
            rep.note(f"{logical}: deletion protection on (as the template says); turned off before delete_stack")
    try:
        cfn.delete_stack(StackName=STACK_NAME)
    except Exception as exc:  # noqa: BLE001
        rep.check(False, "delete_stack", str(exc))
        return rep
    deadline = time.monotonic() + 30
    status = "?"
    while time.monotonic() < deadline:
        stacks = cfn.describe_stacks(StackName=stack["StackId"])["Stacks"]
        status = stacks[0]["StackStatus"] if stacks else "GONE"
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(0.2)
    rep.check(status in ("DELETE_COMPLETE", "GONE"), "delete_stack", f"status {status}")
    return rep


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # keep our lines in order with the server log
    if len(argv) != 2:
        print(f"usage: {argv[0]} TEMPLATE.json", file=sys.stderr)
        return 2
    template_path = Path(argv[1])
    if not template_path.is_file():
        print(f"moto_smoke: no such template: {template_path}", file=sys.stderr)
        return 2
    moto_server_binary()  # the venv's moto is installed (a clear error otherwise)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"

    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    os.environ.update(env)
    os.environ.pop("AWS_PROFILE", None)

    with tempfile.TemporaryDirectory(prefix="moto_smoke.") as tmp:
        log_path = Path(tmp) / "moto_server.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                # tests/moto_server.py: moto's server with the CloudFront resources and the
                # CloudFormation fixes the hosted site's templates need (same CLI as moto_server).
                [sys.executable, str(Path(__file__).resolve().parent / "moto_server.py"),
                 "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        print(f"moto_server pid {proc.pid} on {endpoint}")
        try:
            wait_until_up(proc, endpoint)
            rep = run(template_path, endpoint, log_path)
        except Exception:
            print("--- moto_server log ---", file=sys.stderr)
            print(log_tail(log_path), file=sys.stderr)
            raise
        finally:
            stop_server(proc)
    print(rep.summary())
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
