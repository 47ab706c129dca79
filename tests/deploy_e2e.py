#!/usr/bin/env python3
"""End-to-end test of `gen deploy`, `gen diff` and `gen destroy` against tests/moto_server.py.

Usage: target/venv/bin/python tests/deploy_e2e.py [--gen PATH] [--cargo-target DIR]
                                                  [--lock Cargo.lock] [--keep] [--site-out DIR]

  --gen PATH          the gen binary (default: target/release/gen if present, else
                      target/debug/gen)
  --cargo-target DIR  CARGO_TARGET_DIR for the function builds gen runs (default:
                      target/functions, the one tests/run keeps warm)
  --lock FILE         a functions Cargo.lock, copied into each new project's functions/
                      before its first deploy so dependency versions match the cache
  --keep              keep the temporary directory (projects, moto log) and print its path
  --site-out DIR      write the deployed site as read back from its bucket to DIR (see 2b)

Starts tests/moto_server.py (moto's server with CloudFormation brought closer to AWS) on a
free loopback port and runs gen as a user would, in fresh projects under a temporary
directory, with stdin from /dev/null, HOME in the temporary directory and no AWS_* variable
but AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL. What gen
claims is checked through the service APIs (boto3: CloudFormation, S3, Lambda, IAM, Logs,
Secrets Manager, API Gateway, SQS, SNS, DynamoDB), not only through gen's own output:

  1. first deploy of the example (`gen new`, `gen deploy --yes`): stack CREATE_COMPLETE; the
     toolkit stack and its bucket; each function's zip in the bucket under
     assets/<sha256 of the zip>.zip, named by the stack's code-key parameter, and Lambda's
     CodeSha256 = base64(sha256(zip)); the oversized template uploaded under
     templates/<sha256>.json; every resource of a type moto models exists in its service;
     .gen/outputs/<stack>.json = DescribeStacks' outputs; site/js/config.js's apiUrl = the
     ApiUrl output, naming the deployed RestApi; each table as the template has it
     (DescribeTable: key schema, on-demand billing, KMS encryption; point-in-time recovery).
  1b. the hosted site (the first project ran a real `cd site && npm install`; later ones get
     a copy of its vendor/): the site outputs (SiteUrl = the distribution's https:// origin),
     the bucket policy's CloudFront grant, every published file of site/ (not node_modules,
     package*.json, scripts/, dotfiles) in the bucket byte for byte with its Content-Type,
     Cache-Control and x-amz-meta-sha256; js/config.js there holds the ApiUrl; no
     invalidation; the Site URL and Auth0 lines on stdout.
  2. redeploy without an edit: `no changes`, `0 uploaded`, nothing new in the bucket, no
     change set left behind; the site: 0 uploaded, no object rewritten, no invalidation.
  2b. index.html edited and a file deleted: 1 uploaded, exactly /index.html invalidated, the
     deleted file still there tagged stackgen-stale; the next deploy (--wait) deletes it and
     invalidates exactly its path. With --site-out DIR the bucket is read back into DIR
     (DIR.objects.json, DIR.template.json) for the site e2e's browser steps.
  3. an edit (a new function `thumbnail`, user-profile memory 256 -> 512): the printed change
     set is exactly the resource-level diff of infra/template.json before and after;
     `1 uploaded, 3 already`; Lambda has the new memory and the new function with its zip.
  3b. the same code rebuilt with `--builder cargo-lambda` (cargo-lambda from PyPI, in the
     venv): exactly the functions are modified, every zip is new, Lambda runs each new zip.
  3c. `gen deploy --hotswap` after a handler edit: only that function's CodeSha256 changes, no
     change set, the stack untouched (timed against 3b's normal deploy); gen diff shows the
     drift; a second hotswap has nothing to do; a manifest edit falls back to a change set,
     which removes .gen/hotswap/<stack>.json. (5b: refused on the protected prod.)
  4. `gen diff`: `no differences`; after another edit (512 -> 1024) exit 1 with
     `Properties.MemorySize: 512 -> 1024`; `gen deploy` without --yes on a non-terminal stdin
     exits 2 naming --yes, deploys nothing and leaves no change set; the manifest is then
     restored (512) and `gen diff` is clean again.
  5. `gen destroy` without --yes exits 2 and deletes nothing; `gen destroy --yes`: the stack
     is gone; each DeletionPolicy Retain resource is listed with its physical id and still
     exists; the others (functions, API, roles, policies, users, groups, topic, trail) are
     gone; the site bucket was emptied and is gone; the outputs record is removed; apiUrl is null again; `gen diff` says not deployed.
  5b. stages (the example as shipped, dev and prod): deploy without --stage is refused with
     the list; a prod that names another account is refused before any build; both stages
     deploy into one account with no shared physical name, each function with its stage's
     memory; prod has termination protection and a stack policy denying Update:Replace and
     Update:Delete on data-holding types; `gen destroy --stage prod` is refused; destroying
     dev leaves every prod resource in place.
  5c. deploying the destroyed dev again: exit 2 before any build, naming exactly the retained
     resources that still exist (buckets, log groups, the table, the dead-letter queue) with
     each one's delete command and the IMPORT change set; no stack, no change set. Once they
     are deleted, the same deploy ends CREATE_COMPLETE.
  6. an app in eu-west-1 with a billing alarm and no functions: two stacks (the main one in
     eu-west-1, <name>-billing in us-east-1), both recorded; cargo never runs (CARGO points
     at a script that records any call); then destroyed.
  7. failures: (a) an endpoint nobody listens on: exit 2, `cannot reach`, the call named,
     nothing built or recorded; (b) a first deploy CloudFormation cannot carry out (an app without functions whose IAM
     user already exists, made by hand): exit 2, the operation and reason named, nothing
     recorded or built, no change set left waiting, the existing user untouched.

moto is synchronous and reports neither per-resource stack events nor a Modify's
Replacement, and it keeps an executed change set listed (EXECUTE_COMPLETE): "no change set
left" therefore means no change set that is not EXECUTE_COMPLETE, and no more of them than
before. moto also fails a stack synchronously: in 7b ExecuteChangeSet itself is refused
(EntityAlreadyExists), where AWS would accept it and roll the stack back; the checks accept
either (the reason on stdout or stderr; the operation or the failed stack on stderr). Types
moto accepts but does not model (alarms, metric filters, bucket policies,
subscriptions, stages, authorizers, ...) are listed as `note` lines, never as passes.

Steps 1-5 share one project (a failed prerequisite stops the rest of them); moto is reset
before 6 and before 7b. The example's deploys build with `--builder cargo` (so the warm
--cargo-target and --lock keep them short) except 3b, which builds with cargo-lambda.

Prints one line per check (`PASS - ...` / `FAIL - ...`) and ends with
`deploy_e2e: N passed, M failed`. Exit status is non-zero when any check failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import boto3
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"  # moto's fixed account
TOOLKIT_STACK = "stackgen-toolkit"
TOOLKIT_BUCKET_OUTPUT = "AssetsBucketName"
TEMPLATE_BODY_LIMIT = 51_200
APP = "video24"  # the example's project name (as in output/)
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
DEPLOY_TIMEOUT_S = 3600.0  # a cold release build of the functions is slow
QUICK_TIMEOUT_S = 300.0

# A change-set or diff line: `  + AWS::Lambda::Function  FunctionX...`.
CHANGE_LINE = re.compile(r"^  ([+~\-?>]) (AWS::[A-Za-z0-9:]+)\s+(\S+)")
SIGN_ACTION = {"+": "Add", "~": "Modify", "-": "Remove"}
API_URL = re.compile(r"^\s*apiUrl:\s*(null|\"([^\"]*)\")\s*,?\s*$", re.MULTILINE)

# The hosted site (issue #14): what `gen deploy` must publish of site/, and how.
SITE_SKIPPED_TOP = {"node_modules", "scripts"}  # plus package*.json at the top, dotfiles, node_modules anywhere
# Content-Type per extension (IANA's registrations; RFC 9239 for JavaScript): a site file of
# another extension fails the test until it is added here.
SITE_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".json": "application/json; charset=utf-8", ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml", ".png": "image/png",
}
NO_CACHE, BUNDLE_CACHE, SHORT_CACHE = "no-cache", "public, max-age=86400", "public, max-age=300"
STALE_TAG = "stackgen-stale"
# A file the user adds to site/ before the first deploy and deletes later (step 2b).
SITE_EXTRA = "extra/notes.txt"
SITE_SUMMARY = re.compile(
    r"^Site: (\d+) uploaded(?:, (\d+) restored)?, (\d+) unchanged, (\d+) marked for deletion next deploy, "
    r"(\d+) deleted; (?:invalidation (\S+) for (\d+) path\(s\)|no invalidation: (.*))$", re.MULTILINE)

# Types moto creates but lists without a physical id (found through their API or function).
NO_PHYSICAL_ID = {"AWS::ApiGateway::Method", "AWS::ApiGateway::Deployment", "AWS::Lambda::Permission"}


class Interrupted(BaseException):
    """SIGINT / SIGTERM / SIGHUP: stop what we started and leave."""


class StepFailed(Exception):
    """A check the rest of a scenario depends on failed."""


# --------------------------------------------------------------------------
# reporting


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"PASS - {what}")
        else:
            self.failed += 1
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
        return ok

    def equal(self, what: str, actual: Any, expected: Any) -> bool:
        return self.check(actual == expected, what, f"expected {expected!r}, got {actual!r}")

    def require(self, ok: bool, what: str, detail: str = "") -> None:
        if not self.check(ok, what, detail):
            raise StepFailed(what)

    @staticmethod
    def note(text: str) -> None:
        print(f"note - {text}")

    @staticmethod
    def section(text: str) -> None:
        print(f"\n== {text}")

    def summary(self) -> str:
        return f"deploy_e2e: {self.passed} passed, {self.failed} failed"


# --------------------------------------------------------------------------
# processes: the emulator and gen


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Moto:
    """tests/moto_server.py on a free loopback port, started and stopped by PID."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, env: dict[str, str]) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "moto_server.py"),
                 "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            )
        print(f"moto_server pid {self.proc.pid} on {self.endpoint} (log {self.log_path})")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited early with status {self.proc.returncode}:\n"
                                   f"{log_tail(self.log_path)}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"moto_server not answering after {STARTUP_TIMEOUT_S:.0f} s ({last_error})")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as resp:
            if resp.status != 200:
                raise RuntimeError(f"moto reset: HTTP {resp.status}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class Result:
    def __init__(self, args: list[str], code: int, out: str, err: str, seconds: float) -> None:
        self.args, self.code, self.out, self.err, self.seconds = args, code, out, err, seconds

    def dump(self, lines: int = 40) -> str:
        def tail(text: str) -> str:
            kept = [l for l in text.splitlines() if not re.match(r"\s*(Compiling|Finished|Blocking) ", l)]
            return "\n".join("    | " + l for l in kept[-lines:])
        return (f"`gen {' '.join(self.args)}` exit {self.code} in {self.seconds:.1f} s\n"
                f"  stdout:\n{tail(self.out)}\n  stderr:\n{tail(self.err)}")


class Gen:
    """Runs gen in a project directory, in its own process group (so an interrupt can stop
    it and the cargo it started, by that group's id)."""

    def __init__(self, binary: Path, env: dict[str, str]) -> None:
        self.binary = binary
        self.env = env
        self.child: subprocess.Popen | None = None

    def run(self, args: list[str], cwd: Path, timeout: float = QUICK_TIMEOUT_S,
            env: dict[str, str] | None = None) -> Result:
        started = time.monotonic()
        self.child = subprocess.Popen(
            [str(self.binary), *args], cwd=cwd, env=env or self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        try:
            out, err = self.child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            out, err, code = "", f"(timed out after {timeout:.0f} s)", -1
        except BaseException:
            self.stop()
            raise
        else:
            code = self.child.returncode
        self.child = None
        result = Result(args, code, out, err, time.monotonic() - started)
        print(f"  $ gen {' '.join(args)}  -> exit {code} ({result.seconds:.1f} s)")
        return result

    def stop(self) -> None:
        child = self.child
        if child is None or child.poll() is not None:
            return
        try:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------
# AWS through boto3


class Aws:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str = "us-east-1") -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
        return self._clients[key]

    def stack(self, name: str, region: str = "us-east-1") -> dict | None:
        """The stack, or None when CloudFormation says it does not exist (or it is deleted)."""
        try:
            stacks = self("cloudformation", region).describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        return stacks[0]

    def resources(self, name: str, region: str = "us-east-1") -> dict[str, dict]:
        cfn = self("cloudformation", region)
        rows: dict[str, dict] = {}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
            for row in page["StackResourceSummaries"]:
                rows[row["LogicalResourceId"]] = row
        return rows

    def change_sets(self, name: str, region: str = "us-east-1") -> list[dict]:
        try:
            return self("cloudformation", region).list_change_sets(StackName=name)["Summaries"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return []
            raise

    def template(self, name: str, region: str = "us-east-1") -> dict:
        """The stack's template as deployed (GetTemplate, Original). botocore hands a JSON
        body back already parsed."""
        body = self("cloudformation", region).get_template(
            StackName=name, TemplateStage="Original")["TemplateBody"]
        return json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))

    def objects(self, bucket: str) -> dict[str, int]:
        s3 = self("s3")
        found: dict[str, int] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = obj["Size"]
        return found

    def get_object(self, bucket: str, key: str) -> bytes:
        return self("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


MISSING_CODES = {"404", "TrailNotFoundException", "NoSuchBucket", "NoSuchEntity", "ResourceNotFoundException", "NotFoundException",
                 "NotFound", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def exists(probe: Callable[[], Any]) -> bool:
    """Whether the resource `probe` looks up exists: a not-found error is False, any other
    error propagates."""
    try:
        probe()
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            return False
        raise


def existence_probe(aws: Aws, rtype: str, physical: str, region: str = "us-east-1") -> Callable[[], Any] | None:
    """A call that fails with a not-found error unless the resource exists; None for types
    this test does not look up."""
    if rtype == "AWS::S3::Bucket":
        return lambda: aws("s3", region).head_bucket(Bucket=physical)
    if rtype == "AWS::Lambda::Function":
        return lambda: aws("lambda", region).get_function(FunctionName=physical)
    if rtype == "AWS::IAM::Role":
        return lambda: aws("iam").get_role(RoleName=physical)
    if rtype == "AWS::IAM::ManagedPolicy":
        return lambda: aws("iam").get_policy(PolicyArn=physical)
    if rtype == "AWS::IAM::Group":
        return lambda: aws("iam").get_group(GroupName=physical)
    if rtype == "AWS::IAM::User":
        return lambda: aws("iam").get_user(UserName=physical)
    if rtype == "AWS::Logs::LogGroup":
        def log_group() -> None:
            groups = aws("logs", region).describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
            if not any(g["logGroupName"] == physical for g in groups):
                raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": physical}},
                                  "DescribeLogGroups")
        return log_group
    if rtype == "AWS::SecretsManager::Secret":
        def secret() -> None:
            described = aws("secretsmanager", region).describe_secret(SecretId=physical)
            if described.get("DeletedDate"):
                raise ClientError({"Error": {"Code": "ResourceNotFoundException",
                                             "Message": "scheduled for deletion"}}, "DescribeSecret")
        return secret
    if rtype == "AWS::DynamoDB::Table":
        return lambda: aws("dynamodb", region).describe_table(TableName=physical)
    if rtype == "AWS::ApiGateway::RestApi":
        return lambda: aws("apigateway", region).get_rest_api(restApiId=physical)
    if rtype == "AWS::SQS::Queue":
        return lambda: aws("sqs", region).get_queue_url(QueueName=physical.rstrip("/").rsplit("/", 1)[-1])
    if rtype == "AWS::SNS::Topic":
        return lambda: aws("sns", region).get_topic_attributes(TopicArn=physical)
    if rtype == "AWS::CloudTrail::Trail":
        return lambda: aws("cloudtrail", region).get_trail(Name=physical)
    if rtype == "AWS::ApiGateway::Resource":
        def api_resource() -> None:
            apigateway = aws("apigateway", region)
            for api in apigateway.get_rest_apis()["items"]:
                if any(r["id"] == physical for r in apigateway.get_resources(restApiId=api["id"])["items"]):
                    return
            raise ClientError({"Error": {"Code": "NotFoundException", "Message": physical}}, "GetResources")
        return api_resource
    return None


# --------------------------------------------------------------------------
# project files


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def api_url_of(project: Path) -> str | None | bool:
    """config.js's apiUrl: the URL, None for `null`, False when there is no such line."""
    match = API_URL.search((project / "site" / "js" / "config.js").read_text())
    if not match:
        return False
    return None if match.group(1) == "null" else match.group(2)


def outputs_record(project: Path, stack: str) -> Path:
    return project / ".gen" / "outputs" / f"{stack}.json"


def edit_manifest(project: Path, change: Callable[[dict], None]) -> None:
    path = project / "gen.yaml"
    manifest = yaml.safe_load(path.read_text())
    change(manifest)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))


def without_stages(text: str) -> str:
    """The example's manifest without its `stages:` section (kept last) and the comment above
    it, as stackgen_core::example::without_stages does."""
    lines = text.split("\n")
    if "stages:" not in lines:
        return text
    start = lines.index("stages:")
    cut = start
    while cut > 0 and lines[cut - 1].startswith("#"):
        cut -= 1
    kept = lines[:cut]
    while kept and kept[-1] == "":
        kept.pop()
    rest = next((i for i in range(start + 1, len(lines))
                 if lines[i] and not lines[i].startswith((" ", "#"))), len(lines))
    return "\n".join(kept + [""] + lines[rest:]).rstrip() + "\n"


def function_resources(template: dict) -> dict[str, dict]:
    """FunctionName -> {logical, parameter} for each Lambda function of the template."""
    found = {}
    for logical, res in template["Resources"].items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        props = res.get("Properties", {})
        key = props.get("Code", {}).get("S3Key")
        found[props.get("FunctionName")] = {
            "logical": logical,
            "parameter": key.get("Ref") if isinstance(key, dict) else None,
        }
    return found


def resource_diff(before: dict, after: dict) -> dict[str, set[str]]:
    old, new = before.get("Resources", {}), after.get("Resources", {})
    return {
        "Add": set(new) - set(old),
        "Remove": set(old) - set(new),
        "Modify": {k for k in set(old) & set(new) if old[k] != new[k]},
    }


def printed_change_set(stdout: str, stack: str) -> tuple[str | None, str | None, dict[str, set[str]], list[str]]:
    """From gen deploy's stdout: (new|update, the tally, {action: logical ids}, raw lines)."""
    lines = stdout.splitlines()
    header = re.compile(rf"^Stack {re.escape(stack)} \(([a-z0-9-]+), (new|update)\): (.*)$")
    for i, line in enumerate(lines):
        match = header.match(line)
        if not match:
            continue
        changes: dict[str, set[str]] = {"Add": set(), "Modify": set(), "Remove": set(), "other": set()}
        raw = []
        for follow in lines[i + 1:]:
            if follow.startswith("  WARNING:"):
                continue
            change = CHANGE_LINE.match(follow)
            if not change:
                break
            raw.append(follow)
            changes[SIGN_ACTION.get(change.group(1), "other")].add(change.group(3))
        return match.group(2), match.group(3), changes, raw
    return None, None, {}, []


def tally(changes: dict[str, set[str]]) -> str:
    return (f"{len(changes['Add'])} to add, {len(changes['Modify'])} to modify, "
            f"{len(changes['Remove'])} to remove")


def zip_problem(data: bytes) -> str | None:
    """Why `data` is not a Lambda zip holding one executable ELF `bootstrap`, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if [i.filename for i in infos] != ["bootstrap"]:
                return f"entries {[i.filename for i in infos]}"
            mode = (infos[0].external_attr >> 16) & 0o777
            if mode != 0o755:
                return f"bootstrap mode {oct(mode)}"
            if not zf.read("bootstrap").startswith(b"\x7fELF"):
                return "bootstrap is not an ELF executable"
    except zipfile.BadZipFile as exc:
        return f"not a zip ({exc})"
    return None


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --------------------------------------------------------------------------
# the test


def site_files(site: Path) -> dict[str, bytes]:
    """What `gen deploy` publishes of site/ (the issue's rule, written here independently of
    gen's): every file but node_modules/, scripts/ and package*.json at the top, and dotfiles."""
    files: dict[str, bytes] = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site)
        parts = rel.parts
        if not path.is_file() or "node_modules" in parts or any(p.startswith(".") for p in parts):
            continue
        if parts[0] in SITE_SKIPPED_TOP or (len(parts) == 1 and re.fullmatch(r"package.*\.json", parts[0])):
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


def expected_cache_control(key: str) -> str:
    if key.endswith(".html") or key == "js/config.js":
        return NO_CACHE
    return BUNDLE_CACHE if key.startswith("vendor/") else SHORT_CACHE


def site_summary(stdout: str) -> dict[str, Any] | None:
    """The `Site: ...` line of a deploy: counts, the invalidation's id or why there is none."""
    found = SITE_SUMMARY.findall(stdout)
    if len(found) != 1:
        return None
    up, restored, unchanged, marked, deleted, inv, paths, none = found[0]
    return {"uploaded": int(up), "restored": int(restored or 0), "unchanged": int(unchanged),
            "marked": int(marked), "deleted": int(deleted), "invalidation": inv or None,
            "paths": int(paths) if paths else 0, "none": none or None}


class E2E:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.rep = Report()
        self.moto = Moto(tmp / "moto_server.log")
        self.aws: Aws | None = None
        self.gen: Gen | None = None
        self.cargo_marker = tmp / "cargo-was-called"
        self.fake_cargo = tmp / "fake-cargo"
        self.timings: dict[str, float] = {}
        self.vendor: Path | None = None  # site/vendor/ of the first project, as npm install left it

    # ---- environment

    def base_env(self, endpoint: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(TOOL_HOMES)  # HOME changes below; cargo and rustup must still find theirs
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        env.update(
            HOME=str(home),
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL=endpoint,
            CARGO_TARGET_DIR=str(self.args.cargo_target),
        )
        env.pop("CARGO", None)
        return env

    def no_cargo_env(self, endpoint: str) -> dict[str, str]:
        """gen runs $CARGO when it builds: here a script that records being called."""
        env = self.base_env(endpoint)
        env["CARGO"] = str(self.fake_cargo)
        return env

    def new_project(self, parent: str, name: str, stages: bool = False) -> Path:
        """`gen new`: the example, by default without its stages (one stack named `name`)."""
        assert self.gen is not None
        where = self.tmp / parent
        where.mkdir()
        project = where / name
        result = self.gen.run(["new", str(project), "--name", name], cwd=where)
        self.rep.require(result.code == 0 and (project / "gen.yaml").is_file(),
                         f"`gen new` {name}: exit 0, gen.yaml written", result.dump())
        if not stages:
            manifest = project / "gen.yaml"
            manifest.write_text(without_stages(manifest.read_text()))
            result = self.gen.run(["build"], cwd=project)
            self.rep.require(result.code == 0 and (project / "infra" / "template.json").is_file(),
                             f"{name} without stages: gen build exit 0, infra/template.json", result.dump())
        if self.args.lock:
            shutil.copyfile(self.args.lock, project / "functions" / "Cargo.lock")
        self.vendor_site(project)
        return project

    def vendor_site(self, project: Path) -> None:
        """site/vendor/ as `cd site && npm install` leaves it (a hosted site's deploy is refused
        without it): the first project runs npm install for real (node_modules and
        package-lock.json stay in site/, which the sync must leave out), later ones get a copy."""
        site = project / "site"
        if not (site / "package.json").is_file():
            return
        if self.vendor is not None:
            shutil.copytree(self.vendor, site / "vendor")
            return
        npm = shutil.which("npm")
        self.rep.require(npm is not None, "npm is on PATH (the hosted site needs `cd site && npm install`)")
        env = dict(os.environ, HOME=ORIGINAL_HOME)  # npm's own cache, not the test's empty HOME
        started = time.monotonic()
        done = subprocess.run([str(npm), "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=warn"],
                              cwd=site, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=QUICK_TIMEOUT_S)
        self.timings["npm install"] = time.monotonic() - started
        self.rep.require(done.returncode == 0 and any((site / "vendor").glob("*.js")),
                         f"`cd site && npm install` in {project.name}: exit 0, vendor/ filled",
                         f"exit {done.returncode}\n{done.stderr[-2000:]}")
        self.vendor = site / "vendor"

    def no_pending_change_sets(self, what: str, stack: str, before: list[dict] | None = None,
                               region: str = "us-east-1") -> list[dict]:
        assert self.aws is not None
        now = self.aws.change_sets(stack, region)
        pending = [f"{c['ChangeSetName']} {c['Status']}/{c['ExecutionStatus']}" for c in now
                   if c.get("ExecutionStatus") != "EXECUTE_COMPLETE"]
        self.rep.check(not pending, f"{what}: no change set left on {stack} (none not executed)",
                       f"left: {pending}")
        if before is not None:
            self.rep.equal(f"{what}: no new change set kept on {stack}", len(now), len(before))
        return now

    def check_outputs_record(self, what: str, project: Path, stack: str, region: str) -> dict[str, str]:
        assert self.aws is not None
        described = self.aws.stack(stack, region) or {}
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        path = outputs_record(project, stack)
        if not self.rep.check(path.is_file(), f"{what}: {path.relative_to(project)} written"):
            return outputs
        self.rep.equal(f"{what}: {path.relative_to(project)} = DescribeStacks' outputs",
                       read_json(path), {"stack": stack, "region": region, "outputs": outputs})
        return outputs

    # ---- 1-5: the example's lifecycle

    def lifecycle(self) -> None:
        """Steps 1-5 on one project; a step that cannot go on stops the rest."""
        state: dict[str, Any] = {}
        for step in (self.first_deploy, self.redeploy, self.site_edits, self.update, self.cargo_lambda,
                     self.hotswap, self.diff_and_unconfirmed, self.destroy):
            step(state)

    def first_deploy(self, st: dict[str, Any]) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("1. first deploy of the example")
        project = st["project"] = self.new_project("example", APP)
        template = read_json(project / "infra" / "template.json")
        functions = st["functions"] = function_resources(template)
        rep.require(bool(functions), "the example has functions", str(functions))
        extra = project / "site" / SITE_EXTRA  # the user's own file, deleted in 2b
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text("notes the user publishes with the site\n")
        result = gen.run(["deploy", "--yes", "--builder", "cargo"], cwd=project, timeout=DEPLOY_TIMEOUT_S)
        self.timings["first deploy"] = result.seconds
        rep.require(result.code == 0, "gen deploy --yes: exit 0", result.dump())
        stack = aws.stack(APP)
        rep.require(stack is not None, f"stack {APP} exists")
        rep.equal(f"stack {APP}: status", stack["StackStatus"], "CREATE_COMPLETE")
        rep.check(aws.template(APP) == template, "the deployed template (GetTemplate) = infra/template.json")
        kind, printed_tally, printed, _ = printed_change_set(result.out, APP)
        rep.equal("the change set is printed as a new stack", kind, "new")
        rep.equal("the printed change set adds every resource of the template",
                  sorted(printed.get("Add", set())), sorted(template["Resources"]))
        rep.equal("the printed tally", printed_tally, f"{len(template['Resources'])} to add, 0 to modify, 0 to remove")

        # the toolkit stack, its bucket, the code and the template in it
        toolkit = aws.stack(TOOLKIT_STACK)
        rep.require(toolkit is not None and toolkit["StackStatus"] == "CREATE_COMPLETE",
                    f"toolkit stack {TOOLKIT_STACK}: CREATE_COMPLETE", str(toolkit and toolkit["StackStatus"]))
        bucket = {o["OutputKey"]: o["OutputValue"] for o in toolkit.get("Outputs", [])}.get(TOOLKIT_BUCKET_OUTPUT)
        rep.require(bool(bucket) and exists(lambda: aws("s3").head_bucket(Bucket=bucket)),
                    f"toolkit output {TOOLKIT_BUCKET_OUTPUT} names an existing bucket", str(bucket))
        st["bucket"] = bucket
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        code_params = {f["parameter"] for f in functions.values()}
        rep.equal("the stack's assets-bucket parameter is the toolkit bucket",
                  [v for k, v in params.items() if k not in code_params], [bucket])
        line = f"Function code: {len(functions)} uploaded, 0 already in s3://{bucket}"
        rep.check(line in result.out, f"stdout: `{line}`", result.dump(10))
        objects = aws.objects(bucket)
        code_sha: dict[str, str] = {}
        for name, fn in sorted(functions.items()):
            key = params.get(fn["parameter"] or "")
            if not rep.check(bool(key) and re.fullmatch(r"assets/[0-9a-f]{64}\.zip", key) is not None,
                             f"{name}: its code-key parameter {fn['parameter']} is assets/<sha256>.zip", repr(key)):
                continue
            if not rep.check(key in objects, f"{name}: {key} is in the toolkit bucket"):
                continue
            data = aws.get_object(bucket, key)
            rep.equal(f"{name}: the key's hash = sha256 of the object", key[len("assets/"):-len(".zip")],
                      hashlib.sha256(data).hexdigest())
            problem = zip_problem(data)
            rep.check(problem is None, f"{name}: the zip holds one executable ELF bootstrap (0755)", str(problem))
            config = aws("lambda").get_function(FunctionName=name)["Configuration"]
            rep.equal(f"{name}: Lambda CodeSha256 = base64(sha256(zip))", config["CodeSha256"], b64sha(data))
            code_sha[name] = config["CodeSha256"]
        st["code_sha"] = code_sha
        text = (project / "infra" / "template.json").read_bytes()
        template_key = f"templates/{hashlib.sha256(text).hexdigest()}.json"
        big = len(text) > TEMPLATE_BODY_LIMIT
        if big:
            rep.check(template_key in objects and aws.get_object(bucket, template_key) == text,
                      f"the {len(text)}-byte template is uploaded as {template_key}", f"bucket holds {sorted(objects)}")
        else:
            rep.note(f"the template is {len(text)} bytes (<= {TEMPLATE_BODY_LIMIT}): passed as TemplateBody")
        rep.equal("the bucket holds exactly the zips and the template", sorted(objects),
                  sorted({params.get(p or "") for p in code_params} | ({template_key} if big else set())))

        # every resource, through its service
        rows = aws.resources(APP)
        rep.equal("ListStackResources names every resource of the template", sorted(rows), sorted(template["Resources"]))
        unmodelled: set[str] = set()
        no_id: set[str] = set()
        for logical, res in sorted(template["Resources"].items()):
            rtype = res["Type"]
            physical = (rows.get(logical) or {}).get("PhysicalResourceId") or ""
            probe = existence_probe(aws, rtype, physical)
            if probe is None:
                (no_id if rtype in NO_PHYSICAL_ID else unmodelled).add(rtype)
                continue
            rep.check(bool(physical) and exists(probe), f"{logical} ({rtype}) exists as {physical!r}")
        if unmodelled:
            rep.note("not looked up, moto accepts but does not model them: " + ", ".join(sorted(unmodelled)))
        if no_id:
            rep.note("not looked up, moto gives them no physical id (tests/moto_smoke.py checks them through "
                     "their API or function): " + ", ".join(sorted(no_id)))
        lambda_rows = {r["PhysicalResourceId"] for r in rows.values() if r["ResourceType"] == "AWS::Lambda::Function"}
        rep.equal("the stack's functions are the template's", sorted(lambda_rows), sorted(functions))
        self.check_tables(template, rows)

        # outputs and the site
        outputs = self.check_outputs_record("first deploy", project, APP, "us-east-1")
        api_keys = [k for k in outputs if k.startswith("ApiUrl")]
        rep.require(len(api_keys) == 1, "one ApiUrl output", str(sorted(outputs)))
        api_url = st["api_url"] = outputs[api_keys[0]]
        rep.equal("site/js/config.js apiUrl = the ApiUrl output", api_url_of(project), api_url)
        rest_apis = [r["PhysicalResourceId"] for r in rows.values() if r["ResourceType"] == "AWS::ApiGateway::RestApi"]
        host = urlparse(api_url).hostname or ""
        rep.check(len(rest_apis) == 1 and host == f"{rest_apis[0]}.execute-api.us-east-1.amazonaws.com",
                  "the ApiUrl names the deployed RestApi", f"{api_url} vs {rest_apis}")
        st["change_sets"] = self.no_pending_change_sets("first deploy", APP)
        self.site_first(st, outputs, result)

    def check_tables(self, template: dict, rows: dict[str, dict]) -> None:
        """Each AWS::DynamoDB::Table as DynamoDB describes it: the template's name, key schema
        and billing, encrypted with KMS, point-in-time recovery as the template asks."""
        rep, aws = self.rep, self.aws
        assert aws is not None
        tables = {k: v for k, v in sorted(template["Resources"].items()) if v["Type"] == "AWS::DynamoDB::Table"}
        rep.require(bool(tables), "the example has a table (user-profile's profiles)", str(sorted(template["Resources"])))
        for logical, spec in tables.items():
            props = spec["Properties"]
            physical = (rows.get(logical) or {}).get("PhysicalResourceId")
            rep.equal(f"{logical}: the physical name is the template's TableName", physical, props["TableName"])
            table = aws("dynamodb").describe_table(TableName=props["TableName"])["Table"]
            rep.equal(f"{logical}: key schema", table["KeySchema"], props["KeySchema"])
            rep.equal(f"{logical}: billing", table.get("BillingModeSummary", {}).get("BillingMode"), props["BillingMode"])
            sse = table.get("SSEDescription", {})
            rep.check(sse.get("Status") == "ENABLED" and sse.get("SSEType") == "KMS",
                      f"{logical}: encrypted with KMS", json.dumps(sse, default=str))
            pitr = aws("dynamodb").describe_continuous_backups(TableName=props["TableName"])
            status = pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
            wanted = props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
            rep.check(wanted is True and status == "ENABLED", f"{logical}: point-in-time recovery enabled",
                      f"template {wanted}, DynamoDB {status}")

    # ---- the hosted site (issue #14), within 1-5

    def site_first(self, st: dict[str, Any], outputs: dict[str, str], result: Result) -> None:
        """After the first deploy: the site's outputs, bucket policy, every object, the printed
        summary and Auth0 settings, and no invalidation (nothing was cached yet)."""
        rep, aws = self.rep, self.aws
        assert aws is not None
        rep.section("1b. the hosted site after the first deploy")
        project = st["project"]
        named = {}
        for prefix in ("SiteBucketName", "SiteDistributionId", "SiteUrl"):
            keys = [k for k in outputs if k.startswith(prefix)]
            rep.require(len(keys) == 1, f"one {prefix} output", str(sorted(outputs)))
            named[prefix] = outputs[keys[0]]
        bucket, distribution, url = named["SiteBucketName"], named["SiteDistributionId"], named["SiteUrl"]
        st["site"] = {"bucket": bucket, "distribution": distribution, "url": url}
        domain = aws("cloudfront").get_distribution(Id=distribution)["Distribution"]["DomainName"]
        rep.equal("SiteUrl = https:// + the distribution's domain + /", url, f"https://{domain}/")
        # moto accepts AWS::S3::BucketPolicy without applying it (GetBucketPolicy: none), so the
        # policy is checked in the deployed template; parliament and checkov check it in tests/run.
        policies = [r["Properties"] for r in aws.template(APP)["Resources"].values()
                    if r["Type"] == "AWS::S3::BucketPolicy"
                    and "cloudfront.amazonaws.com" in json.dumps(r["Properties"]["PolicyDocument"])]
        rep.check(len(policies) == 1 and all(
            s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
            and "AWS:SourceArn" in s.get("Condition", {}).get("StringEquals", {})
            for s in policies[0]["PolicyDocument"]["Statement"] if "cloudfront.amazonaws.com" in json.dumps(s)),
            "the deployed site bucket policy grants cloudfront.amazonaws.com only with an AWS:SourceArn condition",
            json.dumps(policies)[:800])
        files = site_files(project / "site")
        rep.check({"node_modules", "package.json", "package-lock.json"} <= {p.name for p in (project / "site").iterdir()},
                  "site/ holds node_modules/, package.json and package-lock.json (npm install) to be left out")
        summary = site_summary(result.out)
        rep.equal("stdout: the Site line of a first upload", summary,
                  {"uploaded": len(files), "restored": 0, "unchanged": 0, "marked": 0, "deleted": 0,
                   "invalidation": None, "paths": 0, "none": "no cached copy changed"})
        rep.equal("no invalidation was made (nothing was cached yet)", self.invalidations(distribution), [])
        st["site"]["heads"] = self.check_site_bucket("first deploy", project, bucket)
        config = aws.get_object(bucket, "js/config.js").decode()
        match = API_URL.search(config)
        rep.equal("js/config.js in the bucket: apiUrl = the deployed ApiUrl", match and match.group(2), st["api_url"])
        origin = url.rstrip("/")
        for line in (f"Site URL: {url}", f"Allowed Callback URLs: {url}", f"Allowed Logout URLs:   {url}",
                     f"Allowed Web Origins:   {origin}"):
            rep.check(line in result.out, f"stdout: `{line}`", result.dump(15))

    def invalidations(self, distribution: str) -> list[tuple[str, list[str]]]:
        """The distribution's invalidations, oldest first: (id, its paths)."""
        assert self.aws is not None
        cloudfront = self.aws("cloudfront")
        listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"].get("Items", [])
        found = []
        for item in sorted(listed, key=lambda i: i["CreateTime"]):
            batch = cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"]
            found.append((item["Id"], sorted(batch["InvalidationBatch"]["Paths"].get("Items", []))))
        return found

    def check_site_bucket(self, what: str, project: Path, bucket: str, stale: set[str] = frozenset()) -> dict[str, dict]:
        """The bucket holds exactly what site/ publishes (plus `stale`, objects marked for deletion),
        byte for byte, each with its Content-Type, Cache-Control and sha256 metadata."""
        assert self.aws is not None
        s3 = self.aws("s3")
        files = site_files(project / "site")
        unknown = sorted({Path(k).suffix for k in files} - set(SITE_TYPES))
        self.rep.check(not unknown, f"{what}: every site file has an expected Content-Type here", str(unknown))
        objects = self.aws.objects(bucket)
        self.rep.equal(f"{what}: the site bucket holds exactly site/'s published files",
                       sorted(objects), sorted(set(files) | set(stale)))
        heads: dict[str, dict] = {}
        wrong = []
        for key, data in sorted(files.items()):
            if key not in objects:
                continue
            head = heads[key] = s3.head_object(Bucket=bucket, Key=key)
            got = (head.get("ContentType"), head.get("CacheControl"), head.get("Metadata", {}).get("sha256"),
                   hashlib.sha256(self.aws.get_object(bucket, key)).hexdigest())
            want = (SITE_TYPES.get(Path(key).suffix), expected_cache_control(key), hashlib.sha256(data).hexdigest(),
                    hashlib.sha256(data).hexdigest())
            if got != want:
                wrong.append(f"{key}: (Content-Type, Cache-Control, x-amz-meta-sha256, sha256 of the body) "
                             f"= {got}, expected {want}")
        self.rep.check(not wrong, f"{what}: each of {len(files)} objects has its bytes, Content-Type, "
                                  "Cache-Control and sha256 metadata", "\n".join(wrong))
        for key in sorted(stale):
            if key in objects:
                tags = {t["Key"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}
                self.rep.check(STALE_TAG in tags, f"{what}: {key} (gone from site/) is tagged {STALE_TAG}", str(tags))
        for key in sorted(set(files) & set(objects)):
            tags = {t["Key"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}
            if STALE_TAG in tags:
                self.rep.check(False, f"{what}: {key} (in site/) is not tagged {STALE_TAG}")
        return heads

    def site_redeploy(self, st: dict[str, Any], result: Result) -> None:
        rep = self.rep
        site, project = st["site"], st["project"]
        files = site_files(project / "site")
        rep.equal("stdout: the Site line when nothing changed", site_summary(result.out),
                  {"uploaded": 0, "restored": 0, "unchanged": len(files), "marked": 0, "deleted": 0,
                   "invalidation": None, "paths": 0, "none": "nothing changed"})
        rep.equal("still no invalidation", self.invalidations(site["distribution"]), [])
        heads = self.check_site_bucket("redeploy", project, site["bucket"])
        rep.equal("no object was written again (same ETag and LastModified)",
                  {k: (h["ETag"], h["LastModified"]) for k, h in heads.items()},
                  {k: (h["ETag"], h["LastModified"]) for k, h in site["heads"].items()})

    def site_edits(self, st: dict[str, Any]) -> None:
        """An edited page is uploaded alone and invalidated alone; a deleted file is marked
        stale first (a browser holding the old page can still load it) and deleted by the
        deploy after, which invalidates it."""
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("2b. the hosted site: an edited page, a deleted file")
        project, site = st["project"], st["site"]
        bucket, distribution = site["bucket"], site["distribution"]
        index = project / "site" / "index.html"
        index.write_text(index.read_text() + "<!-- edited by deploy_e2e -->\n")
        (project / "site" / SITE_EXTRA).unlink()
        files = site_files(project / "site")
        result = gen.run(["deploy", "--yes", "--builder", "cargo"], cwd=project, timeout=DEPLOY_TIMEOUT_S)
        self.timings["site edit deploy"] = result.seconds
        rep.require(result.code == 0, "gen deploy --yes: exit 0", result.dump())
        rep.check(re.search(rf"^Stack {APP} \(us-east-1\): no changes", result.out, re.MULTILINE) is not None,
                  "stdout: the stack has no changes", result.dump(10))
        summary = site_summary(result.out) or {}
        rep.equal("stdout: 1 uploaded, 1 marked for deletion, 0 deleted, an invalidation of 1 path",
                  {k: summary.get(k) for k in ("uploaded", "unchanged", "marked", "deleted", "paths")},
                  {"uploaded": 1, "unchanged": len(files) - 1, "marked": 1, "deleted": 0, "paths": 1})
        made = self.invalidations(distribution)
        rep.equal("exactly one invalidation, of exactly /index.html, with the printed id",
                  made, [(summary.get("invalidation"), ["/index.html"])])
        rep.equal("index.html in the bucket is the edited one", aws.get_object(bucket, "index.html"), index.read_bytes())
        self.check_site_bucket("edit deploy", project, bucket, stale={SITE_EXTRA})

        result = gen.run(["deploy", "--yes", "--builder", "cargo", "--wait"], cwd=project, timeout=DEPLOY_TIMEOUT_S)
        rep.require(result.code == 0, "gen deploy --yes --wait: exit 0", result.dump())
        summary = site_summary(result.out) or {}
        rep.equal("stdout: 0 uploaded, 1 deleted, an invalidation of 1 path",
                  {k: summary.get(k) for k in ("uploaded", "unchanged", "marked", "deleted", "paths")},
                  {"uploaded": 0, "unchanged": len(files), "marked": 0, "deleted": 1, "paths": 1})
        made = self.invalidations(distribution)
        rep.equal(f"one more invalidation, of exactly /{SITE_EXTRA}", made[1:],
                  [(summary.get("invalidation"), [f"/{SITE_EXTRA}"])])
        line = f"Invalidation {summary.get('invalidation')}: Completed"
        rep.check(line in result.out, f"--wait: stdout `{line} after N s`", result.dump(10))
        self.check_site_bucket("the deploy after", project, bucket)
        if self.args.site_out:
            self.save_site(bucket, aws.template(APP))

    def save_site(self, bucket: str, template: dict) -> None:
        """For tests/run's browser e2e of the site as deployed: the bucket's objects read back
        into DIR, DIR.objects.json ({key: {ContentType, CacheControl}}) and DIR.template.json."""
        assert self.aws is not None
        out: Path = self.args.site_out
        shutil.rmtree(out, ignore_errors=True)
        described = {}
        for key in sorted(self.aws.objects(bucket)):
            head = self.aws("s3").head_object(Bucket=bucket, Key=key)
            described[key] = {"ContentType": head["ContentType"], "CacheControl": head["CacheControl"]}
            path = out / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.aws.get_object(bucket, key))
        Path(f"{out}.objects.json").write_text(json.dumps(described, indent=2, sort_keys=True) + "\n")
        Path(f"{out}.template.json").write_text(json.dumps(template, indent=2) + "\n")
        self.rep.note(f"the deployed site ({len(described)} objects) saved to {out} for the browser e2e")

    def redeploy(self, st: dict[str, Any]) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("2. redeploy without an edit")
        project, functions, bucket = st["project"], st["functions"], st["bucket"]
        objects = aws.objects(bucket)
        record_before = outputs_record(project, APP).read_text()
        result = gen.run(["deploy", "--yes", "--builder", "cargo"], cwd=project, timeout=DEPLOY_TIMEOUT_S)
        self.timings["redeploy"] = result.seconds
        rep.require(result.code == 0, "gen deploy --yes: exit 0", result.dump())
        rep.check(re.search(rf"^Stack {APP} \(us-east-1\): no changes", result.out, re.MULTILINE) is not None,
                  "stdout: no changes", result.dump(10))
        rep.check(f"Function code: 0 uploaded, {len(functions)} already" in result.out,
                  f"stdout: 0 uploaded, {len(functions)} already", result.dump(10))
        rep.equal("the toolkit bucket's objects are unchanged", aws.objects(bucket), objects)
        st["change_sets"] = self.no_pending_change_sets("redeploy", APP, st["change_sets"])
        rep.equal(f"stack {APP}: status unchanged", (aws.stack(APP) or {}).get("StackStatus"), "CREATE_COMPLETE")
        rep.equal("the functions' code is unchanged",
                  {n: aws("lambda").get_function(FunctionName=n)["Configuration"]["CodeSha256"] for n in st["code_sha"]},
                  st["code_sha"])
        rep.equal("the outputs record is unchanged", outputs_record(project, APP).read_text(), record_before)
        rep.equal("config.js apiUrl is unchanged", api_url_of(project), st["api_url"])
        self.site_redeploy(st, result)

    def update(self, st: dict[str, Any]) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("3. a new function and a memory change")
        project, functions, bucket = st["project"], st["functions"], st["bucket"]
        before = read_json(project / "infra" / "template.json")
        manifest = yaml.safe_load((project / "gen.yaml").read_text())
        rep.require(manifest["functions"]["user-profile"]["memory"] == 256, "the example's user-profile has 256 MB",
                    str(manifest["functions"]["user-profile"]))
        environment = {"THUMBNAIL_WIDTH": "320", "THUMBNAIL_FORMAT": "webp"}

        def edit(m: dict) -> None:
            m["functions"]["user-profile"]["memory"] = 512
            m["functions"]["thumbnail"] = {
                "description": "Make a thumbnail of each transcoded video",
                "memory": 384,
                "timeout": 30,
                "environment": environment,
            }

        edit_manifest(project, edit)
        objects_before = aws.objects(bucket)
        result = gen.run(["deploy", "--yes", "--builder", "cargo"], cwd=project, timeout=DEPLOY_TIMEOUT_S)
        self.timings["deploy with a new function"] = result.seconds
        rep.require(result.code == 0, "gen deploy --yes: exit 0", result.dump())
        after = read_json(project / "infra" / "template.json")
        expected = resource_diff(before, after)
        kind, printed_tally, printed, raw = printed_change_set(result.out, APP)
        rep.equal("the change set header says update", kind, "update")
        for action in ("Add", "Modify", "Remove"):
            rep.equal(f"printed change set, {action} = template diff, {action}",
                      sorted(printed.get(action, set())), sorted(expected[action]))
        rep.equal("no other kind of change is printed", sorted(printed.get("other", set())), [])
        rep.equal("the printed tally", printed_tally, tally(expected))
        after_functions = function_resources(after)
        thumb = after_functions.get(f"{APP}-thumbnail")
        profile = st["profile"] = after_functions.get(f"{APP}-user-profile")
        rep.require(thumb is not None and profile is not None, "the new template has both functions")
        rep.check(thumb["logical"] in printed.get("Add", set()), f"the new function {thumb['logical']} is an Add",
                  "\n".join(raw))
        companions = {k for k in expected["Add"] if k.startswith(thumb["logical"][:-8])}
        rep.check(len(companions) > 1 and companions <= printed.get("Add", set()),
                  f"its role, log group, ... are Adds too ({len(companions)} resources)", str(sorted(companions)))
        rep.check(profile["logical"] in printed.get("Modify", set()), f"user-profile's {profile['logical']} is a Modify",
                  "\n".join(raw))
        line = f"Function code: 1 uploaded, {len(functions)} already in s3://{bucket}"
        rep.check(line in result.out, f"stdout: `{line}`", result.dump(10))
        stack = aws.stack(APP) or {}
        rep.equal(f"stack {APP}: status", stack.get("StackStatus"), "UPDATE_COMPLETE")
        lam = aws("lambda")
        rep.equal("Lambda: user-profile MemorySize",
                  lam.get_function_configuration(FunctionName=f"{APP}-user-profile")["MemorySize"], 512)
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        thumb_key = params.get(thumb["parameter"] or "", "")
        if rep.check(exists(lambda: lam.get_function(FunctionName=f"{APP}-thumbnail")), f"Lambda: {APP}-thumbnail exists"):
            config = lam.get_function(FunctionName=f"{APP}-thumbnail")["Configuration"]
            rep.equal("Lambda: thumbnail MemorySize, Timeout, environment",
                      (config["MemorySize"], config["Timeout"], config.get("Environment", {}).get("Variables", {})),
                      (384, 30, environment))
            objects_now = aws.objects(bucket)
            if rep.check(thumb_key in objects_now and thumb_key not in objects_before,
                         f"thumbnail's zip {thumb_key} was uploaded now"):
                data = aws.get_object(bucket, thumb_key)
                rep.equal("thumbnail: the key's hash = sha256 of the object",
                          thumb_key[len("assets/"):-len(".zip")], hashlib.sha256(data).hexdigest())
                rep.check(zip_problem(data) is None, "thumbnail: the zip holds one executable ELF bootstrap",
                          str(zip_problem(data)))
                rep.equal("thumbnail: Lambda CodeSha256 = base64(sha256(zip))", config["CodeSha256"], b64sha(data))
            text = (project / "infra" / "template.json").read_bytes()
            template_key = f"templates/{hashlib.sha256(text).hexdigest()}.json"
            rep.equal("new objects in the bucket: the new zip (and the new template)",
                      sorted(set(objects_now) - set(objects_before)),
                      sorted({thumb_key} | ({template_key} if len(text) > TEMPLATE_BODY_LIMIT else set())))
        rep.equal("the other functions' code is unchanged",
                  {n: lam.get_function(FunctionName=n)["Configuration"]["CodeSha256"] for n in st["code_sha"]},
                  st["code_sha"])
        self.check_outputs_record("update", project, APP, "us-east-1")
        st["change_sets"] = self.no_pending_change_sets("update", APP)

    def cargo_lambda(self, st: dict[str, Any]) -> None:
        """The same code built by cargo-lambda (from PyPI, in this venv): new zips, so exactly
        the functions change; each runs the zip now in the bucket."""
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("3b. the functions rebuilt with cargo-lambda (--builder cargo-lambda)")
        project, bucket = st["project"], st["bucket"]
        venv_bin = str(Path(sys.executable).parent)
        env = dict(gen.env)
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
        probe = subprocess.run(["cargo", "lambda", "--version"], env=env, capture_output=True, text=True)
        rep.require(probe.returncode == 0, "cargo-lambda is installed in the venv (`cargo lambda --version`)",
                    probe.stderr[-400:])
        print(f"  ({probe.stdout.strip()})")
        template = read_json(project / "infra" / "template.json")
        functions = function_resources(template)
        result = gen.run(["deploy", "--yes", "--builder", "cargo-lambda"], cwd=project, env=env,
                         timeout=DEPLOY_TIMEOUT_S)
        self.timings["deploy built by cargo-lambda"] = result.seconds
        rep.require(result.code == 0, "gen deploy --yes --builder cargo-lambda: exit 0", result.dump())
        rep.check("(release, with cargo-lambda)" in result.out, "stdout: built with cargo-lambda", result.dump(10))
        kind, _, printed, raw = printed_change_set(result.out, APP)
        rep.equal("the change set header says update", kind, "update")
        rep.equal("printed change set: exactly the functions are modified",
                  (sorted(printed.get("Modify", set())), sorted(printed.get("Add", set())),
                   sorted(printed.get("Remove", set()))),
                  (sorted(f["logical"] for f in functions.values()), [], []))
        line = f"Function code: {len(functions)} uploaded, 0 already"
        rep.check(line in result.out, f"stdout: `{line}`", result.dump(10))
        stack = aws.stack(APP) or {}
        rep.equal(f"stack {APP}: status", stack.get("StackStatus"), "UPDATE_COMPLETE")
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        lam = aws("lambda")
        code_sha = {}
        for name, f in sorted(functions.items()):
            key = params.get(f["parameter"] or "", "")
            data = aws.get_object(bucket, key)
            rep.check(zip_problem(data) is None, f"{name}: the cargo-lambda zip holds one executable ELF bootstrap",
                      str(zip_problem(data)))
            sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
            rep.equal(f"{name}: Lambda CodeSha256 = base64(sha256(its new zip))", sha, b64sha(data))
            code_sha[name] = sha
        rep.check(all(st["code_sha"].get(n) != code_sha[n] for n in st["code_sha"]),
                  "every function's code changed (a different build)")
        st["code_sha"] = code_sha
        st["change_sets"] = self.no_pending_change_sets("cargo-lambda deploy", APP)

    def hotswap(self, st: dict[str, Any]) -> None:
        """`gen deploy --hotswap`: a handler-only edit goes straight to Lambda (the edited
        function's code only, no change set, the stack untouched), gen diff shows the drift, a
        second hotswap has nothing to do, and a manifest edit falls back to a change set that
        reconciles the stack."""
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("3c. gen deploy --hotswap")
        project = st["project"]
        env = dict(gen.env)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        handler = project / "functions" / "user-profile" / "src" / "handler.rs"
        text = handler.read_text()
        anchor = '"path": request.uri().path(),'
        rep.require(anchor in text, "user-profile's handler.rs has the starter body", text[:400])
        handler.write_text(text.replace(anchor, anchor + '\n        "edited": "by the hotswap test",'))
        stack_before = aws.stack(APP) or {}
        change_sets_before = aws.change_sets(APP)
        lam = aws("lambda")
        profile = f"{APP}-user-profile"
        args = ["deploy", "--yes", "--hotswap", "--builder", "cargo-lambda"]
        result = gen.run(args, cwd=project, env=env, timeout=DEPLOY_TIMEOUT_S)
        self.timings["hotswap of a handler edit"] = result.seconds
        rep.require(result.code == 0, "gen deploy --yes --hotswap: exit 0", result.dump())
        rep.check(f"hotswapped {profile}:" in result.out, f"stdout: hotswapped {profile}", result.dump(20))
        rep.check("Hotswapped 1 function(s)" in result.out and "drifts" in result.out,
                  "stdout: exactly one function hotswapped, and the stack drifts", result.dump(20))
        kind, _, _, _ = printed_change_set(result.out, APP)
        rep.equal("no change set was printed", kind, None)
        stack_after = aws.stack(APP) or {}
        rep.equal("the stack was not updated (status, LastUpdatedTime, parameters)",
                  [stack_after.get(k) for k in ("StackStatus", "LastUpdatedTime", "Parameters")],
                  [stack_before.get(k) for k in ("StackStatus", "LastUpdatedTime", "Parameters")])
        rep.equal("no change set was created", aws.change_sets(APP), change_sets_before)
        record = read_json(project / ".gen" / "hotswap" / f"{APP}.json")
        swapped = record.get("code", {})
        rep.equal(".gen/hotswap records one function's code", len(swapped), 1)
        key = next(iter(swapped.values()), "")
        data = aws.get_object(st["bucket"], key)
        sha = lam.get_function(FunctionName=profile)["Configuration"]["CodeSha256"]
        rep.equal(f"{profile}: CodeSha256 = base64(sha256(the hotswapped zip))", sha, b64sha(data))
        rep.check(sha != st["code_sha"][profile], f"{profile}: its code changed")
        others = {n: c for n, c in st["code_sha"].items() if n != profile}
        rep.equal("the other functions' code is unchanged",
                  {n: lam.get_function(FunctionName=n)["Configuration"]["CodeSha256"] for n in others}, others)
        normal = self.timings.get("deploy built by cargo-lambda", 0.0)
        print(f"  hotswap {result.seconds:.1f} s vs a normal deploy of the same builder {normal:.1f} s")
        diff = gen.run(["diff"], cwd=project)
        rep.check(diff.code == 1 and "run hotswapped code" in diff.out and profile in diff.out,
                  "gen diff: exit 1, user-profile runs hotswapped code", diff.dump())
        again = gen.run(args, cwd=project, env=env, timeout=DEPLOY_TIMEOUT_S)
        rep.check(again.code == 0 and "nothing to do" in again.out,
                  "a second hotswap without an edit: nothing to do", again.dump(20))

        def edit(m: dict) -> None:
            m["functions"]["thumbnail"]["memory"] = 400

        edit_manifest(project, edit)
        fallback = gen.run(args, cwd=project, env=env, timeout=DEPLOY_TIMEOUT_S)
        rep.require(fallback.code == 0, "a manifest edit with --hotswap: exit 0", fallback.dump())
        rep.check("Hotswap not possible: infra/template.json differs" in fallback.out,
                  "stdout: the hotswap falls back, saying the template differs", fallback.dump(20))
        kind, _, printed, raw = printed_change_set(fallback.out, APP)
        rep.equal("the fallback deploys a change set", kind, "update")
        rep.check(not (project / ".gen" / "hotswap" / f"{APP}.json").exists(),
                  "the deploy reconciled the stack: no hotswap record left")
        rep.equal("Lambda: thumbnail MemorySize",
                  lam.get_function_configuration(FunctionName=f"{APP}-thumbnail")["MemorySize"], 400)
        rep.equal(f"{profile}: still the hotswapped code (now named by the stack)",
                  lam.get_function(FunctionName=profile)["Configuration"]["CodeSha256"], sha)
        st["code_sha"][profile] = sha
        st["change_sets"] = self.no_pending_change_sets("hotswap fallback", APP)

    def diff_and_unconfirmed(self, st: dict[str, Any]) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("4. gen diff, and a deploy nobody confirms")
        project, profile = st["project"], st["profile"]
        result = gen.run(["diff"], cwd=project)
        rep.check(result.code == 0 and f"Stack {APP} (us-east-1): no differences" in result.out,
                  "gen diff right after the deploy: exit 0, no differences", result.dump())
        edit_manifest(project, lambda m: m["functions"]["user-profile"].__setitem__("memory", 1024))
        result = gen.run(["diff"], cwd=project)
        rep.equal("gen diff after an edit: exit 1", result.code, 1)
        lines = result.out.splitlines()
        marker = f"  ~ AWS::Lambda::Function {profile['logical']}"
        shown = marker in lines and "      Properties.MemorySize: 512 -> 1024" in lines[lines.index(marker) + 1:]
        rep.check(shown, f"gen diff shows `{marker.strip()}` / `Properties.MemorySize: 512 -> 1024`", result.dump())
        rep.equal("gen diff shows no other resource", [l for l in lines if CHANGE_LINE.match(l) and l != marker], [])
        lam = aws("lambda")
        status_before = (aws.stack(APP) or {}).get("StackStatus")
        record_before = outputs_record(project, APP).read_text()
        result = gen.run(["deploy"], cwd=project, timeout=DEPLOY_TIMEOUT_S)
        rep.equal("gen deploy without --yes, stdin /dev/null: exit 2", result.code, 2)
        rep.check("--yes" in result.err, "stderr mentions --yes", result.dump(5))
        rep.equal("Lambda: user-profile MemorySize still 512",
                  lam.get_function_configuration(FunctionName=f"{APP}-user-profile")["MemorySize"], 512)
        rep.equal(f"stack {APP}: status unchanged", (aws.stack(APP) or {}).get("StackStatus"), status_before)
        self.no_pending_change_sets("unconfirmed deploy", APP, st["change_sets"])
        rep.equal("the outputs record is unchanged", outputs_record(project, APP).read_text(), record_before)
        rep.equal("config.js apiUrl is unchanged", api_url_of(project), st["api_url"])
        edit_manifest(project, lambda m: m["functions"]["user-profile"].__setitem__("memory", 512))
        result = gen.run(["diff"], cwd=project)
        rep.check(result.code == 0 and "no differences" in result.out,
                  "manifest restored (512): gen diff exit 0, no differences", result.dump())

    def destroy(self, st: dict[str, Any]) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("5. gen destroy")
        project = st["project"]
        deployed = aws.template(APP)
        rows = aws.resources(APP)
        physical = {k: (r.get("PhysicalResourceId") or "", r["ResourceType"]) for k, r in rows.items()}
        retained = {k for k, r in deployed["Resources"].items()
                    if r.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")}
        rep.require(bool(retained), "the deployed template retains some resources")
        stack_id = (aws.stack(APP) or {}).get("StackId")
        result = gen.run(["destroy"], cwd=project)
        rep.check(result.code == 2 and "--yes" in result.err,
                  "gen destroy without --yes, stdin /dev/null: exit 2, stderr mentions --yes", result.dump(5))
        rep.check((aws.stack(APP) or {}).get("StackId") == stack_id and outputs_record(project, APP).exists(),
                  "... and the stack and its outputs record are still there")
        site_bucket = st["site"]["bucket"]
        site_objects = len(aws.objects(site_bucket))
        rep.check(site_objects > 0, f"the site bucket holds {site_objects} objects before the destroy")
        result = gen.run(["destroy", "--yes"], cwd=project)
        rep.require(result.code == 0, "gen destroy --yes: exit 0", result.dump())
        rep.check(aws.stack(APP) is None, f"stack {APP} is gone (DescribeStacks: does not exist)")
        emptied = re.search(rf"^Site bucket {re.escape(site_bucket)}: emptied \((\d+) object\(s\) and version\(s\) deleted\)",
                            result.out, re.MULTILINE)
        rep.check(emptied is not None and int(emptied.group(1)) >= site_objects,
                  f"stdout: `Site bucket {site_bucket}: emptied (N >= {site_objects} object(s) and version(s) ...`",
                  result.dump(15))
        rep.check(not exists(lambda: aws("s3").head_bucket(Bucket=site_bucket)),
                  "the site bucket is gone with the stack")
        if stack_id:
            by_id = aws("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
            rep.equal("by its id the stack is DELETE_COMPLETE", [s["StackStatus"] for s in by_id], ["DELETE_COMPLETE"])
        out_lines = result.out.splitlines()
        for logical in sorted(retained):
            phys, rtype = physical.get(logical, ("", "?"))
            listed = [l for l in out_lines if l.strip().startswith(f"{rtype} {phys}")]
            rep.check(bool(phys) and bool(listed), f"retained {logical}: stdout lists `{rtype} {phys}`", result.dump(30))
            probe = existence_probe(aws, rtype, phys)
            if probe is None:
                rep.note(f"retained {logical} ({rtype}): not looked up")
            else:
                rep.check(exists(probe), f"retained {logical} ({rtype}) still exists")
        heading = "These survive (DeletionPolicy: Retain) and stay in the account:"
        survivors = []
        if heading in out_lines:
            for line in out_lines[out_lines.index(heading) + 1:]:
                if not line.startswith("  AWS::"):
                    break
                survivors.append(line.strip())
        rep.equal("the list of survivors is exactly the retained resources", sorted(survivors),
                  sorted(f"{physical[k][1]} {physical[k][0]}" for k in retained))
        for logical, (phys, rtype) in sorted(physical.items()):
            probe = existence_probe(aws, rtype, phys)
            if logical in retained or probe is None or not phys:
                continue
            rep.check(not exists(probe), f"{logical} ({rtype}) {phys} is gone")
        rep.check(not outputs_record(project, APP).exists(), f".gen/outputs/{APP}.json is removed")
        rep.equal("config.js apiUrl is null again", api_url_of(project), None)
        rep.check(aws.stack(TOOLKIT_STACK) is not None, f"the toolkit stack {TOOLKIT_STACK} stays")
        result = gen.run(["diff"], cwd=project)
        rep.check(result.code == 1 and f"Stack {APP} (us-east-1): not deployed" in result.out,
                  "gen diff after destroy: exit 1, not deployed", result.dump(5))

    # ---- 6: two regions, no functions

    def two_regions(self) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("6. an app in eu-west-1 with a billing alarm and no functions")
        self.moto.reset()
        name, region = "ledger", "eu-west-1"
        billing = f"{name}-billing"
        project = self.tmp / "two-regions" / name
        project.mkdir(parents=True)
        (project / "gen.yaml").write_text(
            "# A bucket, alerts and a billing alarm in eu-west-1; no functions.\n"
            f"name: {name}\n"
            "description: Ledger archive in Ireland\n"
            f"region: {region}\n"
            "buckets:\n"
            "  records:\n"
            "    versioning: true\n"
            "alerts:\n"
            "  emails: [finance@example.com]\n"
            "billing:\n"
            "  monthly_limit_usd: 25\n")
        env = self.no_cargo_env(self.moto.endpoint)
        result = gen.run(["deploy", "--yes"], cwd=project, env=env)
        rep.require(result.code == 0, "gen deploy --yes: exit 0", result.dump())
        rep.check(not self.cargo_marker.exists() and "Building" not in result.out
                  and not (project / "functions").exists(),
                  "nothing was built (cargo never ran, no functions/)",
                  self.cargo_marker.read_text() if self.cargo_marker.exists() else result.dump(10))
        main = aws.stack(name, region)
        bill = aws.stack(billing, "us-east-1")
        rep.equal(f"stack {name} in {region}: status", main and main["StackStatus"], "CREATE_COMPLETE")
        rep.equal(f"stack {billing} in us-east-1: status", bill and bill["StackStatus"], "CREATE_COMPLETE")
        rep.check(aws.stack(name, "us-east-1") is None and aws.stack(billing, region) is None,
                  "each stack is only in its own region")
        order = [m.group(1) for m in re.finditer(r"^Stack (\S+) \([a-z0-9-]+, new\):", result.out, re.MULTILINE)]
        rep.equal("deploy order: the main stack, then the billing stack", order, [name, billing])
        self.check_outputs_record("main stack", project, name, region)
        outputs = self.check_outputs_record("billing stack", project, billing, "us-east-1")
        rows = aws.resources(name, region)
        buckets = {k: r["PhysicalResourceId"] for k, r in rows.items() if r["ResourceType"] == "AWS::S3::Bucket"}
        for logical, bucket in sorted(buckets.items()):
            location = aws("s3", region).get_bucket_location(Bucket=bucket).get("LocationConstraint")
            rep.equal(f"{logical} {bucket}: in {region}", location, region)
        topics = [v for v in outputs.values() if v.startswith(f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:")]
        rep.check(len(topics) == 1 and exists(lambda: aws("sns").get_topic_attributes(TopicArn=topics[0])),
                  "the billing stack's alerts topic exists in us-east-1", str(outputs))
        rep.note("the billing alarm itself (AWS::CloudWatch::Alarm) is not modelled by moto")

        deployed = aws.template(name, region)
        retained = {rows[k]["PhysicalResourceId"] for k, r in deployed["Resources"].items()
                    if r.get("DeletionPolicy") == "Retain" and r["Type"] == "AWS::S3::Bucket"}
        result = gen.run(["destroy", "--yes"], cwd=project, env=env)
        rep.require(result.code == 0, "gen destroy --yes: exit 0", result.dump())
        rep.check(aws.stack(name, region) is None and aws.stack(billing, "us-east-1") is None,
                  "both stacks are gone")
        rep.check(not outputs_record(project, name).exists() and not outputs_record(project, billing).exists(),
                  "both outputs records are removed")
        for bucket in sorted(retained):
            rep.check(f"AWS::S3::Bucket {bucket}" in result.out
                      and exists(lambda b=bucket: aws("s3", region).head_bucket(Bucket=b)),
                      f"retained bucket {bucket}: listed and still exists")
        rep.check(not self.cargo_marker.exists(), "destroy built nothing either")

    # ---- 5b: stages

    def stages(self) -> None:
        """The example as shipped: dev and prod of one app in one account and region."""
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("5b. stages: dev and prod side by side, an account guard, a protected prod")
        self.moto.reset()
        name = "vid"
        project = self.new_project("stages", name, stages=True)
        dev, prod = f"{name}-dev", f"{name}-prod"
        deploy = ["deploy", "--yes", "--builder", "cargo"]

        result = gen.run(["deploy", "--yes"], cwd=project)
        rep.check(result.code == 2 and "say which with --stage" in result.err
                  and "dev, prod" in result.err and aws.stack(dev) is None and aws.stack(prod) is None,
                  "deploy without --stage: exit 2, lists the stages, creates nothing", result.dump(5))

        # A stage that names another account stops before anything is built.
        def foreign(m: dict) -> None:
            m["stages"]["prod"]["account"] = "111111111111"
        edit_manifest(project, foreign)
        if self.cargo_marker.exists():
            self.cargo_marker.unlink()
        result = gen.run(["deploy", "--stage", "prod", "--yes"], cwd=project,
                         env=self.no_cargo_env(self.moto.endpoint), timeout=QUICK_TIMEOUT_S)
        rep.check(result.code == 2 and "111111111111" in result.err and ACCOUNT_ID in result.err
                  and "nothing was built" in result.err,
                  "prod with account 111111111111 and credentials of 123456789012: exit 2, both named",
                  result.dump(5))
        rep.check(not self.cargo_marker.exists() and aws.stack(prod) is None,
                  "refused before any build or change (cargo never ran, no stack)")

        def own(m: dict) -> None:
            m["stages"]["prod"]["account"] = ACCOUNT_ID
        edit_manifest(project, own)
        for stage, stack in (("dev", dev), ("prod", prod)):
            result = gen.run(deploy + ["--stage", stage], cwd=project, timeout=DEPLOY_TIMEOUT_S)
            rep.require(result.code == 0, f"gen deploy --stage {stage}: exit 0", result.dump())
            described = aws.stack(stack)
            rep.equal(f"stack {stack}: status", described and described["StackStatus"], "CREATE_COMPLETE")
            self.check_outputs_record(stage, project, stack, "us-east-1")
        lam = aws("lambda")
        for stage, memory in (("dev", 512), ("prod", 2048)):
            config = lam.get_function_configuration(FunctionName=f"{name}-{stage}-transcode")
            rep.equal(f"{name}-{stage}-transcode: that stage's memory", config["MemorySize"], memory)
        dev_rows, prod_rows = aws.resources(dev), aws.resources(prod)
        # Resources of types moto does not model have no physical ID.
        clash = ({r.get("PhysicalResourceId") for r in dev_rows.values()}
                 & {r.get("PhysicalResourceId") for r in prod_rows.values()}) - {None, ""}
        rep.check(not clash, "no physical name is shared by the two stages", str(sorted(clash)))

        described = aws.stack(prod) or {}
        rep.equal("prod: termination protection", described.get("EnableTerminationProtection"), True)
        policy = json.loads(aws("cloudformation").get_stack_policy(StackName=prod).get("StackPolicyBody") or "{}")
        denies = [st for st in policy.get("Statement", []) if st.get("Effect") == "Deny"]
        rep.check(bool(denies) and set(denies[0]["Action"]) == {"Update:Replace", "Update:Delete"}
                  and "AWS::S3::Bucket" in denies[0]["Condition"]["StringEquals"]["ResourceType"],
                  "prod: the stack policy denies replacing or deleting data-holding resources", str(policy))
        rep.equal("dev: no termination protection", (aws.stack(dev) or {}).get("EnableTerminationProtection"), False)

        result = gen.run(["destroy", "--stage", "prod", "--yes"], cwd=project)
        rep.check(result.code == 2 and "protected" in result.err and "protect: false" in result.err,
                  "gen destroy --stage prod: exit 2, protected, says how to lift it", result.dump(5))
        rep.check(aws.stack(prod) is not None, "prod is still there")
        result = gen.run(["deploy", "--stage", "prod", "--yes", "--hotswap"], cwd=project)
        rep.check(result.code == 2 and "protected" in result.err and "--hotswap" in result.err
                  and "Building" not in result.out,
                  "gen deploy --stage prod --hotswap: exit 2, protected, before any build", result.dump(5))

        dev_template = aws.template(dev)
        result = gen.run(["destroy", "--stage", "dev", "--yes"], cwd=project)
        rep.require(result.code == 0, "gen destroy --stage dev: exit 0", result.dump())
        rep.check(aws.stack(dev) is None, "dev's stack is gone")
        after = aws.resources(prod)
        rep.equal("every prod resource is still in its stack", sorted(after), sorted(prod_rows))
        for logical, row in sorted(prod_rows.items()):
            probe = existence_probe(aws, row["ResourceType"], row.get("PhysicalResourceId") or "")
            if probe is not None and row.get("PhysicalResourceId"):
                rep.check(exists(probe), f"prod {row['ResourceType']} {row['PhysicalResourceId']} still exists")
        rep.check(outputs_record(project, prod).is_file() and not outputs_record(project, dev).exists(),
                  "prod's outputs record stays, dev's is removed")

        self.redeploy_destroyed(project, dev, dev_template, dev_rows)

    def redeploy_destroyed(self, project: Path, dev: str, template: dict, rows: dict[str, dict]) -> None:
        """Deploying the destroyed `dev` again: its retained resources would stop the create
        halfway ("already exists"), so gen refuses before building or changing anything,
        naming each one and both ways on; once they are deleted, the deploy ends complete."""
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("5c. stages: deploying the destroyed dev again")
        kept: dict[str, tuple[str, str]] = {}
        for logical, spec in sorted(template["Resources"].items()):
            row = rows.get(logical)
            if spec.get("DeletionPolicy") != "Retain" or row is None or not row.get("PhysicalResourceId"):
                continue
            probe = existence_probe(aws, row["ResourceType"], row["PhysicalResourceId"])
            if probe is not None and exists(probe):
                kept[logical] = (row["ResourceType"], row["PhysicalResourceId"])
        kinds = {rtype for rtype, _ in kept.values()}
        rep.require({"AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table",
                     "AWS::SQS::Queue"} <= kinds,
                    "dev's destroy left buckets, log groups, a table and a queue", str(sorted(kept)))
        if self.cargo_marker.exists():
            self.cargo_marker.unlink()
        # moto lists every change set it ever made, whatever the stack name.
        change_sets_before = {c["ChangeSetId"] for c in aws.change_sets(dev)}
        stacks_before = len(aws("cloudformation").list_stacks()["StackSummaries"])
        result = gen.run(["deploy", "--stage", "dev", "--yes"], cwd=project,
                         env=self.no_cargo_env(self.moto.endpoint), timeout=QUICK_TIMEOUT_S)
        rep.check(result.code == 2 and f"stack {dev} (us-east-1) cannot be created: {len(kept)} resource(s)" in result.err
                  and "nothing was built, uploaded or changed" in result.err,
                  f"gen deploy --stage dev: exit 2, {len(kept)} retained resources in the way", result.dump(40))
        listed = [line.split() for line in result.err.splitlines() if line.startswith("    AWS::")]
        rep.equal("the refusal lists exactly the retained resources (type, logical ID)",
                  sorted((words[0], words[1]) for words in listed if len(words) >= 3),
                  sorted((rtype, logical) for logical, (rtype, _) in kept.items()))
        commands = {
            "AWS::S3::Bucket": "aws s3 rb s3://{} --force",
            "AWS::Logs::LogGroup": "aws logs delete-log-group --log-group-name {}",
            "AWS::SecretsManager::Secret": "aws secretsmanager delete-secret --secret-id {} --force-delete-without-recovery",
            "AWS::DynamoDB::Table": "aws dynamodb update-table --table-name {0} --no-deletion-protection-enabled; "
                                    "aws dynamodb delete-table --table-name {0}",
            "AWS::SQS::Queue": "aws sqs delete-queue --queue-url {}",
        }
        def given(rtype: str, physical: str) -> bool:
            if rtype == "AWS::SQS::Queue":  # the URL GetQueueUrl gives (moto: its own address)
                name = physical.rstrip("/").rsplit("/", 1)[-1]
                return re.search(r"aws sqs delete-queue --queue-url \S+/" + re.escape(name) + r"(\s|$)",
                                 result.err, re.MULTILINE) is not None
            return commands[rtype].format(physical) in result.err
        missing = [logical for logical, (rtype, physical) in kept.items() if not given(rtype, physical)]
        rep.check(not missing, "each one's delete command is given", f"{missing}\n{result.dump(40)}")
        rep.check("--change-set-type IMPORT" in result.err and "resource-import" in result.err,
                  "... and the IMPORT change set, with AWS's guide", result.dump(40))
        rep.check(not self.cargo_marker.exists(), "refused before any build (cargo never ran)")
        new_change_sets = [c for c in aws.change_sets(dev) if c["ChangeSetId"] not in change_sets_before]
        stacks_after = len(aws("cloudformation").list_stacks()["StackSummaries"])
        rep.check(aws.stack(dev) is None and not new_change_sets and stacks_after == stacks_before,
                  f"nothing was created: no stack {dev}, no change set",
                  f"{aws.stack(dev)} {new_change_sets} stacks {stacks_before} -> {stacks_after}")

        # The first way on: delete them (as the listed commands do), and deploy again.
        for logical, (rtype, physical) in sorted(kept.items()):
            if rtype == "AWS::S3::Bucket":
                s3 = aws("s3")
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=physical):
                    for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                        s3.delete_object(Bucket=physical, Key=version["Key"], VersionId=version["VersionId"])
                s3.delete_bucket(Bucket=physical)
            elif rtype == "AWS::Logs::LogGroup":
                aws("logs").delete_log_group(logGroupName=physical)
            elif rtype == "AWS::SecretsManager::Secret":
                aws("secretsmanager").delete_secret(SecretId=physical, ForceDeleteWithoutRecovery=True)
            elif rtype == "AWS::DynamoDB::Table":
                aws("dynamodb").update_table(TableName=physical, DeletionProtectionEnabled=False)
                aws("dynamodb").delete_table(TableName=physical)
            elif rtype == "AWS::SQS::Queue":
                aws("sqs").delete_queue(QueueUrl=physical)
        result = gen.run(["deploy", "--yes", "--builder", "cargo", "--stage", "dev"], cwd=project,
                         timeout=DEPLOY_TIMEOUT_S)
        rep.require(result.code == 0, "with them deleted, gen deploy --stage dev: exit 0", result.dump())
        described = aws.stack(dev)
        rep.equal(f"stack {dev}: status", described and described["StackStatus"], "CREATE_COMPLETE")

    # ---- 7a: unreachable endpoint

    def unreachable(self) -> None:
        rep, gen = self.rep, self.gen
        assert gen is not None
        rep.section("7a. an endpoint nobody listens on")
        project = self.new_project("unreachable", "unreach24")
        port = free_port()  # bound and released: nobody listens there
        env = self.no_cargo_env(f"http://127.0.0.1:{port}")
        result = gen.run(["deploy", "--yes"], cwd=project, env=env, timeout=QUICK_TIMEOUT_S)
        rep.equal("gen deploy --yes: exit 2", result.code, 2)
        rep.check("cannot reach" in result.err and f"127.0.0.1:{port}" in result.err,
                  "stderr says `cannot reach` and names the endpoint", result.dump(5))
        rep.check(re.search(r"calling [A-Z][A-Za-z]+", result.err) is not None,
                  "stderr names the call (e.g. `calling DescribeStacks`)", result.dump(5))
        outputs_dir = project / ".gen" / "outputs"
        rep.check(not outputs_dir.exists() or not any(outputs_dir.iterdir()), "no .gen/outputs written")
        rep.check(not self.cargo_marker.exists() and "Building" not in result.out,
                  "nothing was built (the endpoint is probed first)")
        rep.equal("config.js apiUrl is null", api_url_of(project), None)

    # ---- 7b: CloudFormation cannot carry out the deploy

    def rejected(self) -> None:
        rep, aws, gen = self.rep, self.aws, self.gen
        assert aws is not None and gen is not None
        rep.section("7b. a first deploy that fails: an IAM user of the manifest already exists")
        self.moto.reset()
        name = "clash24"
        # No functions: nothing to build, so the failure path costs seconds.
        project = self.tmp / "rejected" / name
        project.mkdir(parents=True)
        (project / "gen.yaml").write_text(
            "# An operator account and a bucket; the user already exists in the account.\n"
            f"name: {name}\n"
            "description: Records, and who may read them\n"
            "region: us-east-1\n"
            "buckets:\n"
            "  records: {}\n"
            "iam:\n"
            "  groups:\n"
            "    operators:\n"
            "      require_mfa: true\n"
            "  users:\n"
            "    alice:\n"
            "      groups: [operators]\n")
        env = self.no_cargo_env(self.moto.endpoint)
        result = gen.run(["build"], cwd=project, env=env)
        rep.require(result.code == 0, "gen build: exit 0", result.dump())
        template = read_json(project / "infra" / "template.json")
        users = sorted(r["Properties"]["UserName"] for r in template["Resources"].values()
                       if r["Type"] == "AWS::IAM::User" and "UserName" in r.get("Properties", {}))
        rep.require(bool(users), "the manifest names an IAM user", str(users))
        taken = users[0]
        existing = aws("iam").create_user(UserName=taken, Tags=[{"Key": "made-by", "Value": "hand"}])["User"]
        print(f"  (created IAM user {taken} by hand, id {existing['UserId']})")
        result = gen.run(["deploy", "--yes"], cwd=project, env=env, timeout=QUICK_TIMEOUT_S)
        self.timings["failing first deploy"] = result.seconds
        rep.equal("gen deploy --yes: exit 2", result.code, 2)
        said = result.out + result.err
        rep.check(taken in said and "already exists" in said, f"the reason is given ({taken} already exists)",
                  result.dump(15))
        rep.check(re.search(r"(ExecuteChangeSet|CreateChangeSet|CreateStack)\b|stack \S+ failed", result.err)
                  is not None, "stderr names the failing operation (or the failed stack)", result.dump(5))
        rep.check(not outputs_record(project, name).exists(), f"no .gen/outputs/{name}.json")
        rep.check(not self.cargo_marker.exists(), "nothing was built (no functions)")
        stack = aws.stack(name)
        if stack is not None and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            rep.check(False, "the change set that could not run was cleaned up with its empty stack",
                      str(aws.change_sets(name)))
        else:
            rep.check(True, "the change set that could not run was cleaned up with its empty stack")
        rep.check(stack is None or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"),
                  f"stack {name} is not deployed", str(stack and stack["StackStatus"]))
        user = aws("iam").get_user(UserName=taken)["User"]
        rep.equal(f"the existing user {taken} is untouched", user["UserId"], existing["UserId"])

    # ---- driver

    def run(self) -> None:
        self.fake_cargo.write_text(f"#!/bin/sh\necho \"$@\" >> '{self.cargo_marker}'\nexit 1\n")
        self.fake_cargo.chmod(self.fake_cargo.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        server_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        server_env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                          HOME=str(self.tmp / "home"))
        (self.tmp / "home").mkdir(exist_ok=True)
        self.moto.start(server_env)
        self.aws = Aws(self.moto.endpoint)
        self.gen = Gen(self.args.gen, self.base_env(self.moto.endpoint))
        for scenario in (self.lifecycle, self.stages, self.two_regions, self.unreachable, self.rejected):
            try:
                scenario()
            except StepFailed as exc:
                print(f"  (scenario stopped: {exc})")
            except Exception:  # noqa: BLE001 - report it, go on with the next scenario
                self.rep.check(False, f"{scenario.__name__}: no unexpected error", traceback.format_exc())

    def stop(self) -> None:
        if self.gen is not None:
            self.gen.stop()
        self.moto.stop()


def tool_homes() -> dict[str, str]:
    """CARGO_HOME and RUSTUP_HOME as they are now (they default to ~/.cargo, ~/.rustup), so
    gen's cargo still finds its toolchain and registry cache once HOME is a temp dir."""
    home = Path(os.environ.get("HOME") or Path.home())
    found = {}
    for var, default in (("CARGO_HOME", home / ".cargo"), ("RUSTUP_HOME", home / ".rustup")):
        value = os.environ.get(var) or (str(default) if default.is_dir() else None)
        if value:
            found[var] = value
    return found


TOOL_HOMES: dict[str, str] = {}
ORIGINAL_HOME = os.environ.get("HOME") or str(Path.home())


def on_signal(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


def run_guarded(name: str, test: Any, tmp: Path, keep: bool, seconds: str) -> int:
    """Runs `test` (with run(), stop(), moto, timings and rep) so that SIGINT / SIGTERM /
    SIGHUP stop what it started, a crash shows moto's log, and `tmp` goes unless kept; then
    prints the timings (each formatted by `seconds`) and the summary. The exit status."""
    started = time.monotonic()
    status = 0
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    try:
        for signum in signals:
            signal.signal(signum, on_signal)
        test.run()
    except Interrupted as exc:
        signum = exc.args[0]
        print(f"{name}: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        status = 128 + signum
    except Exception:
        print("--- moto_server log ---", file=sys.stderr)
        print(log_tail(test.moto.log_path), file=sys.stderr)
        raise
    finally:
        for signum in signals:
            signal.signal(signum, signal.SIG_IGN)  # cleaning up: a second signal must not cut it short
        test.stop()
        if keep:
            print(f"{name}: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    total = time.monotonic() - started
    timings = ", ".join(f"{k} {seconds.format(v)} s" for k, v in test.timings.items())
    print(f"\ntimings: {timings}; total {total:.0f} s")
    print(test.rep.summary())
    if status:
        return status
    return 0 if test.rep.failed == 0 else 1


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    default_gen = ROOT / "target" / "release" / "gen"
    if not default_gen.exists():
        default_gen = ROOT / "target" / "debug" / "gen"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gen", type=Path, default=default_gen)
    parser.add_argument("--cargo-target", type=Path, default=ROOT / "target" / "functions")
    parser.add_argument("--lock", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--site-out", type=Path)
    args = parser.parse_args(argv[1:])
    args.gen = args.gen.resolve()
    args.cargo_target = args.cargo_target.resolve()
    if args.site_out is not None:
        args.site_out = args.site_out.resolve()
    if not args.gen.is_file():
        print(f"deploy_e2e: no gen binary at {args.gen}", file=sys.stderr)
        return 2
    if args.lock is not None and not args.lock.is_file():
        print(f"deploy_e2e: no such lock file: {args.lock}", file=sys.stderr)
        return 2
    # boto3 in this process: no profile, config file or CA bundle of the caller.
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        del os.environ[var]

    tmp = Path(tempfile.mkdtemp(prefix="deploy_e2e."))
    TOOL_HOMES.update(tool_homes())
    os.environ["HOME"] = str(tmp / "home")
    print(f"gen {args.gen}; CARGO_TARGET_DIR {args.cargo_target}; lock {args.lock or '(none)'}; dir {tmp}")
    test = E2E(args, tmp)
    return run_guarded("deploy_e2e", test, tmp, args.keep, "{:.0f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
