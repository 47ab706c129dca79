#!/usr/bin/env python3
"""End-to-end test of `gen deploy` of an app split into nested stacks, against tests/moto_server.py.

Usage: target/venv/bin/python tests/nested_e2e.py --bootstrap PATH [--gen PATH] [--functions N] [--keep]

  --bootstrap PATH  a real Lambda bootstrap (e.g. target/lambda/authorizer/bootstrap, which
                    tests/run step 8 leaves): every function crate's prebuilt binary is a
                    hard link to (or copy of) it, so the app's code is one shared zip
  --gen PATH        the gen binary (default: target/release/gen if present, else
                    target/debug/gen)
  --functions N     generated functions (default 300)
  --keep            keep the temporary directory (project, moto log) and print its path

Starts tests/moto_server.py on a free loopback port (stopped by PID at the end) and runs gen
in a fresh project under a temporary directory, as deploy_e2e.py does (stdin /dev/null, HOME
in the temporary directory, only AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
AWS_ENDPOINT_URL of AWS_*; CARGO is a script that records any call and fails: a prebuilt
deploy never runs cargo, not even to look for cargo-lambda). The manifest is tests/common/split_manifest.rs's, generated here (without its hosted
site, which would need `npm install`; one stack, no stages, eu-west-1): 300 functions, the
generated authorizer, shared buckets, secret, topic, managed policy and an API. Checked
through the service APIs (boto3), not only through gen's output:

  1. `gen build` splits it: infra/template.json plus infra/nested/*.template.json, one
     AWS::CloudFormation::Stack per nested template, .gen/placement.json placing every
     function in one of them.
  2. `gen deploy --yes --prebuilt DIR` (DIR/<crate>/bootstrap for every function crate):
     the root CREATE_COMPLETE; each nested stack CREATE_COMPLETE with the root as ParentId;
     Lambda lists exactly the manifest's functions (all 301), each in the nested stack
     placement.json names (ListStackResources of each nested stack); each root
     `...TemplateUrl...` parameter is the URL of templates/<sha256 of the object>.json in
     the toolkit bucket, an object holding that part's template with every code-key
     parameter's Default bound to the one zip; the bucket holds exactly one zip under
     assets/, a zip of the bootstrap, and every function's CodeSha256 is its hash.
  3. a function added (`fn-0150a`, a key in the middle of the key order): placement keeps
     every placed function; the deploy changes the root (UPDATE_COMPLETE) and exactly one
     TemplateUrl parameter, the one of the nested stack placement.json puts the new
     function in; that nested stack is updated in place (same stack ID), every other nested
     stack untouched (status and LastUpdatedTime as before); no function moved (same
     nested stack, same stack ID); the new function exists with the shared zip; the
     printed change set modifies exactly that nested stack, and under its
     `  Nested stack <logical ID>: ...` header lists exactly the resource diff of its
     infra/nested/ template (IncludeNestedStacks).
  4. a function removed (`fn-0010`): gone from Lambda; at most one TemplateUrl parameter
     changed (that of the nested stack that held it); every other function in the same
     nested stack as before; the other nested stacks untouched; the printed change set as
     in 3.
  5. a redeploy without an edit: `no changes`, no parameter changed, no change set left
     waiting, every stack's status as before.

The timings of each deploy are printed at the end.

moto (5.2.5) creates a nested stack from its TemplateURL synchronously, names it
<root>-<logical id>-<random> as AWS does; tests/moto_server.py section 10 gives it GetAtt
Outputs.<Name>, the nested stack's ID as physical ID, ParentId/RootId, AWS's in-place
update of a changed nested stack, and IncludeNestedStacks' change set per modified nested
stack (moto accepted the flag and made none).

Prints one line per check (`PASS - ...` / `FAIL - ...`) and ends with
`nested_e2e: N passed, M failed`. Exit status is non-zero when any check failed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_e2e import (  # noqa: E402 - tests/ on sys.path first
    ROOT, SIGN_ACTION, TOOLKIT_BUCKET_OUTPUT, TOOLKIT_STACK, Aws, Gen, Moto, Report, StepFailed,
    b64sha, printed_change_set, run_guarded, resource_diff, tool_homes, zip_problem,
)

APP = "bigapp"  # split_manifest's name
REGION = "eu-west-1"  # split_manifest's region
ADDED = "fn-0150a"  # sorts between fn-0150 and fn-0151
REMOVED = 10  # fn-0010
DEPLOY_TIMEOUT_S = 900.0
QUICK_TIMEOUT_S = 120.0
TEMPLATE_KEY = re.compile(r"^templates/([0-9a-f]{64})\.json$")
ZIP_KEY = re.compile(r"^assets/([0-9a-f]{64})\.zip$")


def split_manifest(functions: int, skip: tuple[int, ...] = (), extra: tuple[str, ...] = ()) -> str:
    """tests/common/split_manifest.rs's manifest (same keys, in the same order), without its
    `site:` section: a hosted site's deploy needs `cd site && npm install`, and this test is
    about stacks."""
    s = (
        f"name: {APP}\n"
        "description: A large app split into nested stacks\n"
        f"region: {REGION}\n"
        f"tags:\n  app: {APP}\n"
        "buckets:\n  uploads:\n    versioning: true\n  results: {}\n"
        "log_bucket:\n  expire_after_days: 90\n"
        "secrets:\n  db:\n    description: Database credentials\n    username: app\n"
        "alerts:\n  emails: [ops@example.com]\n"
        "auth:\n  provider: auth0\n  domain: bigapp.eu.auth0.com\n  client_id: 9wDmZ2kq4Tj7EXAMPLEclientId0\n"
        "  audience: https://api.bigapp.example\n"
        "iam:\n  policies:\n    read-results:\n      description: Read the results\n      statements:\n"
        "        - sid: ReadResults\n          actions: [s3:GetObject]\n          resources: [bucket:results/*]\n"
        "functions:\n"
    )
    routes = ""
    keys = [(f"fn-{i:04}", i) for i in range(functions) if i not in skip] + [(k, 1) for k in extra]
    for key, i in keys:
        s += f"  {key}:\n    description: Generated function {key}\n"
        s += f"    memory: {[128, 256, 512][i % 3]}\n"
        s += "    reads: [uploads]\n"
        if i % 2 == 0:
            s += "    writes: [results]\n"
        if i % 3 == 0:
            s += ("    triggers:\n      - s3:\n          bucket: uploads\n          events: [created]\n"
                  f"          suffix: .{key}\n")
        if i % 7 == 0:
            s += "    secrets: [db]\n"
        if i % 11 == 0:
            s += "    policies: [read-results]\n"
        if i % 5 == 0:
            routes += f"    GET /items/{key}:\n      function: {key}\n"
    return s + "api:\n  routes:\n" + routes


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def placement(project: Path) -> dict[str, str]:
    """Function key -> part, from .gen/placement.json."""
    return dict(read_json(project / ".gen" / "placement.json")["functions"])


def function_crates(project: Path) -> list[str]:
    """The function crates of the generated workspace: functions/<crate>/Cargo.toml, as
    functions/Cargo.toml's members list them."""
    workspace = (project / "functions" / "Cargo.toml").read_text()
    members = re.search(r"members\s*=\s*\[(.*?)\]", workspace, re.DOTALL)
    if members is None:
        return []
    return sorted(m for m in re.findall(r'"([^"]+)"', members.group(1))
                  if (project / "functions" / m / "Cargo.toml").is_file())


def nested_templates(project: Path) -> dict[str, dict]:
    """Part -> its nested template (infra/nested/<part>.template.json)."""
    return {p.name[: -len(".template.json")]: read_json(p)
            for p in sorted((project / "infra" / "nested").glob("*.template.json"))}


def stack_resources_of(template: dict) -> dict[str, str]:
    """The root's AWS::CloudFormation::Stack resources: logical ID -> the parameter its
    TemplateURL refers to."""
    found = {}
    for logical, res in template["Resources"].items():
        if res.get("Type") == "AWS::CloudFormation::Stack":
            url = res.get("Properties", {}).get("TemplateURL")
            found[logical] = url.get("Ref") if isinstance(url, dict) else None
    return found


class NestedReport(Report):
    def summary(self) -> str:
        return f"nested_e2e: {self.passed} passed, {self.failed} failed"


NESTED_HEADER = re.compile(r"^  Nested stack (\S+): (\d+) to add, (\d+) to modify, (\d+) to remove$")
NESTED_LINE = re.compile(r"^    ([+~\-?>]) (AWS::[A-Za-z0-9:]+)\s+(\S+)")


def printed_nested_changes(stdout: str) -> dict[str, dict[str, set[str]]]:
    """From gen deploy's stdout: nested stack logical ID -> {Add|Modify|Remove: logical IDs}
    of the lines under its `  Nested stack X: ...` header."""
    found: dict[str, dict[str, set[str]]] = {}
    current: dict[str, set[str]] | None = None
    for line in stdout.splitlines():
        header = NESTED_HEADER.match(line)
        if header:
            current = found.setdefault(header.group(1), {"Add": set(), "Modify": set(), "Remove": set()})
            continue
        change = NESTED_LINE.match(line)
        if change and current is not None:
            current.setdefault(SIGN_ACTION.get(change.group(1), "other"), set()).add(change.group(3))
            continue
        current = None
    return found


class NestedE2E:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.rep = NestedReport()
        self.moto = Moto(tmp / "moto_server.log")
        self.aws: Aws | None = None
        self.gen: Gen | None = None
        self.project = tmp / APP
        self.prebuilt = tmp / "prebuilt"
        self.cargo_marker = tmp / "cargo-was-called"
        self.fake_cargo = tmp / "fake-cargo"
        self.timings: dict[str, float] = {}
        self.bootstrap = args.bootstrap.read_bytes()
        self.zip_key: str | None = None

    # ---- environment

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(tool_homes())
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        env.update(HOME=str(home), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION="us-east-1", AWS_ENDPOINT_URL=self.moto.endpoint,
                   CARGO=str(self.fake_cargo), CARGO_TARGET_DIR=str(self.tmp / "no-target"))
        return env

    # ---- project

    def build(self, what: str, manifest: str) -> None:
        assert self.gen is not None
        (self.project / "gen.yaml").write_text(manifest)
        result = self.gen.run(["build"], cwd=self.project)
        self.rep.require(result.code == 0, f"{what}: gen build exit 0", result.dump())

    def refresh_prebuilt(self) -> list[str]:
        """DIR/<crate>/bootstrap for every function crate: hard links to one binary."""
        crates = function_crates(self.project)
        self.rep.require(bool(crates), "functions/Cargo.toml lists function crates",
                         (self.project / "functions" / "Cargo.toml").read_text()[:400])
        if self.prebuilt.exists():
            shutil.rmtree(self.prebuilt)
        source = self.tmp / "bootstrap"
        if not source.exists():
            shutil.copyfile(self.args.bootstrap, source)
            source.chmod(0o755)
        for crate in crates:
            target = self.prebuilt / crate / "bootstrap"
            target.parent.mkdir(parents=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        return crates

    def deploy(self, what: str) -> Any:
        assert self.gen is not None
        if self.cargo_marker.exists():
            self.cargo_marker.unlink()
        self.refresh_prebuilt()
        result = self.gen.run(["deploy", "--yes", "--prebuilt", str(self.prebuilt)], cwd=self.project,
                              timeout=DEPLOY_TIMEOUT_S)
        self.timings[what] = result.seconds
        self.rep.require(result.code == 0, f"{what}: gen deploy --yes --prebuilt DIR exit 0", result.dump(60))
        calls = self.cargo_marker.read_text().splitlines() if self.cargo_marker.exists() else []
        self.rep.check(not calls, f"{what}: cargo never ran (--prebuilt builds and probes nothing)", str(calls))
        (self.tmp / f"deploy-{len(self.timings)}.out").write_text(result.out + "\n--- stderr\n" + result.err)
        return result

    # ---- what is deployed

    def root_parameters(self) -> dict[str, str]:
        assert self.aws is not None
        stack = self.aws.stack(APP, REGION)
        self.rep.require(stack is not None, f"stack {APP} exists in {REGION}")
        return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}

    def nested_stacks(self) -> dict[str, dict]:
        """Root's nested stack logical ID -> DescribeStacks of the nested stack."""
        assert self.aws is not None
        found = {}
        for logical, row in self.aws.resources(APP, REGION).items():
            if row["ResourceType"] != "AWS::CloudFormation::Stack":
                continue
            described = self.aws.stack(row.get("PhysicalResourceId") or "", REGION)
            found[logical] = described or {"StackName": row.get("PhysicalResourceId"), "StackStatus": "MISSING"}
        return found

    def function_homes(self, nested: dict[str, dict]) -> dict[str, tuple[str, str]]:
        """Function name -> (nested stack logical ID, nested stack ID), from each nested
        stack's resources; the root's own functions have logical ID `(root)`."""
        assert self.aws is not None
        homes: dict[str, tuple[str, str]] = {}
        for logical, described in sorted(nested.items()):
            stack_id = described.get("StackId", "")
            for row in self.aws.resources(stack_id, REGION).values():
                if row["ResourceType"] == "AWS::Lambda::Function":
                    homes[row.get("PhysicalResourceId") or row["LogicalResourceId"]] = (logical, stack_id)
        for row in self.aws.resources(APP, REGION).values():
            if row["ResourceType"] == "AWS::Lambda::Function":
                homes[row.get("PhysicalResourceId") or row["LogicalResourceId"]] = ("(root)", "")
        return homes

    def lambda_functions(self) -> dict[str, dict]:
        assert self.aws is not None
        found = {}
        for page in self.aws("lambda", REGION).get_paginator("list_functions").paginate():
            for fn in page["Functions"]:
                found[fn["FunctionName"]] = fn
        return found

    def toolkit_bucket(self) -> str:
        assert self.aws is not None
        stack = self.aws.stack(TOOLKIT_STACK, REGION)
        self.rep.require(stack is not None, f"toolkit stack {TOOLKIT_STACK} exists in {REGION}")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.rep.require(TOOLKIT_BUCKET_OUTPUT in outputs, f"{TOOLKIT_STACK} outputs {TOOLKIT_BUCKET_OUTPUT}",
                         str(outputs))
        return outputs[TOOLKIT_BUCKET_OUTPUT]

    def part_of_url(self, what: str, url: str, bucket: str, parts: dict[str, dict]) -> str | None:
        """The part whose template the object at `url` is (Resources equal, code keys bound
        to the shared zip), after checking the object is templates/<its sha256>.json in the
        toolkit bucket."""
        assert self.aws is not None
        path = urlparse(url).path.lstrip("/")
        bucket_of, _, key = path.partition("/")
        match = TEMPLATE_KEY.match(key)
        if not self.rep.check(bucket_of == bucket and match is not None,
                              f"{what}: the URL names templates/<sha256>.json in the toolkit bucket", url):
            return None
        body = self.aws.get_object(bucket, key)
        self.rep.equal(f"{what}: the object's sha256 is its key's", hashlib.sha256(body).hexdigest(),
                       match.group(1))
        uploaded = json.loads(body)
        same = [part for part, template in parts.items() if template["Resources"] == uploaded.get("Resources")]
        if not self.rep.check(len(same) == 1, f"{what}: the object is one nested template of infra/nested/",
                              f"matches {same}"):
            return None
        part = same[0]
        local = parts[part]["Parameters"]
        code_keys = {k: v.get("Default") for k, v in uploaded.get("Parameters", {}).items()
                     if k in local and "CodeKey" in k}
        unbound = sorted(k for k, v in code_keys.items() if v != self.zip_key)
        self.rep.check(bool(code_keys) and not unbound,
                       f"{what} ({part}): its {len(code_keys)} code-key parameters' Default is the shared zip key",
                       f"{self.zip_key}; not: {unbound[:5]} {[code_keys[k] for k in unbound[:5]]}")
        return part

    def snapshot(self, what: str) -> dict[str, Any]:
        """What the deployed app looks like now, with the checks every deploy must pass:
        all nested stacks complete, every placed function where placement.json says, each
        TemplateUrl parameter the URL of its part's template."""
        rep = self.rep
        root_template = read_json(self.project / "infra" / "template.json")
        parts = nested_templates(self.project)
        stacks = stack_resources_of(root_template)
        rep.equal(f"{what}: one nested stack resource per infra/nested/ template", len(stacks), len(parts))
        params = self.root_parameters()
        bucket = self.toolkit_bucket()
        part_logical: dict[str, str] = {}
        for logical, param in sorted(stacks.items()):
            url = params.get(param or "", "")
            part = self.part_of_url(f"{what}: {logical}'s {param}", url, bucket, parts)
            if part is not None:
                part_logical[part] = logical
        nested = self.nested_stacks()
        root = self.aws.stack(APP, REGION) if self.aws else None
        rep.equal(f"{what}: the root's nested stacks are the template's", sorted(nested), sorted(stacks))
        bad = {k: v["StackStatus"] for k, v in nested.items()
               if v["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE")}
        rep.check(not bad, f"{what}: every nested stack ({len(nested)}) is complete", str(bad))
        orphans = {k: v.get("ParentId") for k, v in nested.items() if root and v.get("ParentId") != root["StackId"]}
        rep.check(not orphans, f"{what}: each nested stack's ParentId is the root", str(orphans))
        placed = placement(self.project)
        homes = self.function_homes(nested)
        functions = self.lambda_functions()
        expected = {f"{APP}-{key}" for key in placed}
        rep.check(set(functions) == expected,
                  f"{what}: Lambda has exactly the manifest's {len(expected)} functions",
                  f"missing {sorted(expected - set(functions))[:10]}, extra {sorted(set(functions) - expected)[:10]}")
        misplaced = {key: (part, homes.get(f"{APP}-{key}", ("(none)",))[0])
                     for key, part in placed.items()
                     if homes.get(f"{APP}-{key}", ("(none)",))[0] != part_logical.get(part, "(root)" if part == "app" else part)}
        rep.check(not misplaced, f"{what}: each function is in the nested stack placement.json names",
                  f"{len(misplaced)} not: {dict(list(misplaced.items())[:8])}")
        return {"params": params, "nested": nested, "homes": homes, "functions": functions,
                "part_logical": part_logical, "stacks": stacks, "bucket": bucket, "placement": placed}

    def shared_zip(self, what: str, snap: dict[str, Any]) -> None:
        """The bucket holds one zip (of the bootstrap), and every function runs it."""
        assert self.aws is not None
        zips = sorted(k for k in self.aws.objects(snap["bucket"]) if k.startswith("assets/"))
        if not self.rep.check(len(zips) == 1 and ZIP_KEY.match(zips[0]) is not None,
                              f"{what}: the toolkit bucket holds exactly one zip, assets/<sha256>.zip", str(zips[:10])):
            return
        data = self.aws.get_object(snap["bucket"], zips[0])
        self.rep.equal(f"{what}: the zip's sha256 is its key's", hashlib.sha256(data).hexdigest(),
                       ZIP_KEY.match(zips[0]).group(1))  # type: ignore[union-attr]
        problem = zip_problem(data)
        self.rep.check(problem is None, f"{what}: it is a Lambda zip of one executable bootstrap", problem or "")
        if problem is None:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                self.rep.check(zf.read("bootstrap") == self.bootstrap, f"{what}: its bootstrap is the prebuilt one")
        other = {name: fn.get("CodeSha256") for name, fn in snap["functions"].items() if fn.get("CodeSha256") != b64sha(data)}
        self.rep.check(not other, f"{what}: every function's CodeSha256 is the zip's ({len(snap['functions'])})",
                       str(dict(list(other.items())[:5])))

    # ---- the scenario

    def first_deploy(self) -> dict[str, Any]:
        rep = self.rep
        rep.section(f"1. gen build of a {self.args.functions}-function app")
        self.project.mkdir()
        self.build("first build", split_manifest(self.args.functions))
        parts = nested_templates(self.project)
        root_template = read_json(self.project / "infra" / "template.json")
        rep.check(len(parts) >= 2, f"split into nested stacks: infra/nested/ holds {len(parts)} templates")
        rep.equal("the root declares one AWS::CloudFormation::Stack per nested template",
                  len(stack_resources_of(root_template)), len(parts))
        placed = placement(self.project)
        rep.equal(f"placement.json places {self.args.functions} + the authorizer", len(placed),
                  self.args.functions + 1)
        rep.check(set(placed.values()) <= set(parts) | {"app"}, "every placed part is a nested template (or the root)",
                  str(sorted(set(placed.values()) - set(parts))))

        rep.section("2. first deploy: gen deploy --yes --prebuilt DIR")
        self.deploy("first deploy")
        root = self.aws.stack(APP, REGION) if self.aws else None
        rep.equal(f"stack {APP}: status", root and root["StackStatus"], "CREATE_COMPLETE")
        objects = self.aws.objects(self.toolkit_bucket()) if self.aws else {}
        zips = sorted(k for k in objects if k.startswith("assets/"))
        self.zip_key = zips[0] if len(zips) == 1 else None
        snap = self.snapshot("first deploy")
        bad = {k: v["StackStatus"] for k, v in snap["nested"].items() if v["StackStatus"] != "CREATE_COMPLETE"}
        rep.check(not bad, "every nested stack is CREATE_COMPLETE", str(bad))
        self.shared_zip("first deploy", snap)
        return snap

    def unchanged_stacks(self, what: str, before: dict[str, Any], after: dict[str, Any],
                         changed: set[str]) -> None:
        """Nested stacks not in `changed` kept their ID, status and LastUpdatedTime; those in
        it kept their ID (updated in place)."""
        moved, touched = {}, {}
        for logical, old in before["nested"].items():
            new = after["nested"].get(logical)
            if new is None or new.get("StackId") != old.get("StackId"):
                moved[logical] = (old.get("StackId"), new and new.get("StackId"))
            elif logical not in changed and (new["StackStatus"], new.get("LastUpdatedTime")) != (
                    old["StackStatus"], old.get("LastUpdatedTime")):
                touched[logical] = (old["StackStatus"], new["StackStatus"])
        self.rep.check(not moved, f"{what}: every nested stack kept its stack ID (none replaced)", str(moved))
        self.rep.check(not touched, f"{what}: the other nested stacks were not updated", str(touched))

    def no_function_moved(self, what: str, before: dict[str, Any], after: dict[str, Any], gone: set[str]) -> None:
        moved = {name: (home, after["homes"].get(name)) for name, home in before["homes"].items()
                 if name not in gone and after["homes"].get(name) != home}
        self.rep.check(not moved, f"{what}: every other function is in the same nested stack as before "
                       f"({len(before['homes']) - len(gone)})", str(dict(list(moved.items())[:8])))
        placed_moved = {k: (v, after["placement"].get(k)) for k, v in before["placement"].items()
                        if k not in {n.removeprefix(f"{APP}-") for n in gone} and after["placement"].get(k) != v}
        self.rep.check(not placed_moved, f"{what}: placement.json moved no placed function", str(placed_moved))

    def changed_urls(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
        """Nested stack logical ID -> its TemplateUrl parameter, for those whose value changed
        (or that are new)."""
        return {logical: param for logical, param in after["stacks"].items()
                if before["params"].get(param or "") != after["params"].get(param or "")}

    def printed_nested(self, what: str, stdout: str, expected: dict[str, dict[str, set[str]]]) -> None:
        """The printed change set: the root's lines change exactly the nested stacks of
        `expected` (logical ID -> the resource diff of its template before and after), and
        each one's changes come under `  Nested stack <logical ID>: ...`, exactly that diff."""
        _, tally_line, _, raw = printed_change_set(stdout, APP)
        if tally_line is None:
            self.rep.check(False, f"{what}: the change set of stack {APP} is printed", stdout[-3000:])
            return
        stack_lines = {line.split()[2] for line in raw if "AWS::CloudFormation::Stack" in line}
        self.rep.check(stack_lines == set(expected),
                       f"{what}: the printed change set of {APP} changes exactly the nested stack(s) {sorted(expected)}",
                       "\n".join(raw[:40]))
        printed = printed_nested_changes(stdout)
        self.rep.equal(f"{what}: the nested stacks printed under their own header", sorted(printed), sorted(expected))
        for logical, diff in sorted(expected.items()):
            got = printed.get(logical, {})
            self.rep.equal(f"{what}: nested stack {logical}'s printed changes are its template's resource diff",
                           {k: sorted(v) for k, v in got.items() if v},
                           {k: sorted(v) for k, v in diff.items() if v})

    def nested_diffs(self, templates_before: dict[str, dict], after: dict[str, Any],
                     changed: dict[str, str]) -> dict[str, dict[str, set[str]]]:
        """Changed nested stack logical ID -> the resource diff of its part's template
        (infra/nested/, before and after the edit)."""
        parts = {logical: part for part, logical in after["part_logical"].items()}
        now = nested_templates(self.project)
        return {logical: resource_diff(templates_before.get(parts.get(logical, ""), {"Resources": {}}),
                                       now.get(parts.get(logical, ""), {"Resources": {}}))
                for logical in changed}

    def add_function(self, before: dict[str, Any]) -> dict[str, Any]:
        rep = self.rep
        rep.section(f"3. a function added ({ADDED}, in the middle of the key order)")
        templates_before = nested_templates(self.project)
        self.build("with " + ADDED, split_manifest(self.args.functions, extra=(ADDED,)))
        placed = placement(self.project)
        rep.check(ADDED in placed, f"placement.json places {ADDED}", str(len(placed)))
        result = self.deploy(f"deploy adding {ADDED}")
        root = self.aws.stack(APP, REGION) if self.aws else None
        rep.equal(f"stack {APP}: status (the root changed)", root and root["StackStatus"], "UPDATE_COMPLETE")
        after = self.snapshot(f"with {ADDED}")
        changed = self.changed_urls(before, after)
        part = placed.get(ADDED, "")
        home = after["part_logical"].get(part, "(none)")
        rep.equal(f"exactly one TemplateUrl parameter changed: {home}'s ({part}, which holds {ADDED})",
                  sorted(changed), [home])
        if home in after["nested"] and home in before["nested"]:
            rep.equal(f"{home}: updated (in place)", after["nested"][home]["StackStatus"], "UPDATE_COMPLETE")
        self.unchanged_stacks(f"with {ADDED}", before, after, set(changed))
        self.no_function_moved(f"with {ADDED}", before, after, set())
        rep.check(after["homes"].get(f"{APP}-{ADDED}", ("",))[0] == home,
                  f"{APP}-{ADDED} exists, in {home}", str(after["homes"].get(f"{APP}-{ADDED}")))
        self.printed_nested(f"deploy adding {ADDED}", result.out,
                            self.nested_diffs(templates_before, after, changed))
        self.shared_zip(f"with {ADDED}", after)
        return after

    def remove_function(self, before: dict[str, Any]) -> dict[str, Any]:
        rep = self.rep
        key = f"fn-{REMOVED:04}"
        rep.section(f"4. a function removed ({key})")
        part = before["placement"].get(key, "")
        templates_before = nested_templates(self.project)
        self.build("without " + key, split_manifest(self.args.functions, skip=(REMOVED,), extra=(ADDED,)))
        rep.check(key not in placement(self.project), f"placement.json no longer places {key}")
        result = self.deploy(f"deploy removing {key}")
        after = self.snapshot(f"without {key}")
        rep.check(f"{APP}-{key}" not in after["functions"], f"{APP}-{key} is gone from Lambda")
        changed = self.changed_urls(before, after)
        home = before["part_logical"].get(part, "(none)")
        rep.check(set(changed) <= {home},
                  f"at most one TemplateUrl parameter changed: {home}'s ({part}, which held {key})", str(changed))
        self.unchanged_stacks(f"without {key}", before, after, set(changed))
        self.no_function_moved(f"without {key}", before, after, {f"{APP}-{key}"})
        self.printed_nested(f"deploy removing {key}", result.out,
                            self.nested_diffs(templates_before, after, changed))
        return after

    def no_change(self, before: dict[str, Any]) -> None:
        rep = self.rep
        assert self.aws is not None
        rep.section("5. redeploy without an edit")
        change_sets = self.aws.change_sets(APP, REGION)
        root_before = self.aws.stack(APP, REGION)
        result = self.deploy("no-change deploy")
        rep.check("no changes" in result.out, "stdout says `no changes`", result.dump(20))
        after = self.snapshot("no-change deploy")
        rep.equal("no parameter of the root changed", after["params"], before["params"])
        root_after = self.aws.stack(APP, REGION)
        rep.equal(f"stack {APP}: status and LastUpdatedTime as before",
                  root_after and (root_after["StackStatus"], root_after.get("LastUpdatedTime")),
                  root_before and (root_before["StackStatus"], root_before.get("LastUpdatedTime")))
        self.unchanged_stacks("no-change deploy", before, after, set())
        pending = [f"{c['ChangeSetName']} {c['Status']}/{c['ExecutionStatus']}"
                   for c in self.aws.change_sets(APP, REGION) if c.get("ExecutionStatus") != "EXECUTE_COMPLETE"]
        rep.check(not pending, f"no change set left waiting on {APP}", str(pending))
        rep.equal(f"no new change set kept on {APP}", len(self.aws.change_sets(APP, REGION)), len(change_sets))

    def run(self) -> None:
        self.fake_cargo.write_text(f"#!/bin/sh\necho \"$@\" >> '{self.cargo_marker}'\nexit 1\n")
        self.fake_cargo.chmod(self.fake_cargo.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        server_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        server_env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                          HOME=str(self.tmp / "home"))
        (self.tmp / "home").mkdir(exist_ok=True)
        self.moto.start(server_env)
        self.aws = Aws(self.moto.endpoint)
        self.gen = Gen(self.args.gen, self.env())
        try:
            snap = self.first_deploy()
            snap = self.add_function(snap)
            snap = self.remove_function(snap)
            self.no_change(snap)
        except StepFailed as exc:
            print(f"  (scenario stopped: {exc})")
        except Exception:  # noqa: BLE001 - report it
            self.rep.check(False, "no unexpected error", traceback.format_exc())

    def stop(self) -> None:
        if self.gen is not None:
            self.gen.stop()
        self.moto.stop()


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    default_gen = ROOT / "target" / "release" / "gen"
    if not default_gen.exists():
        default_gen = ROOT / "target" / "debug" / "gen"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", type=Path, required=True)
    parser.add_argument("--gen", type=Path, default=default_gen)
    parser.add_argument("--functions", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv[1:])
    args.gen = args.gen.resolve()
    args.bootstrap = args.bootstrap.resolve()
    if not args.gen.is_file():
        print(f"nested_e2e: no gen binary at {args.gen}", file=sys.stderr)
        return 2
    if not args.bootstrap.is_file() or not args.bootstrap.read_bytes()[:4] == b"\x7fELF":
        print(f"nested_e2e: {args.bootstrap} is not an ELF bootstrap (tests/run step 8 builds them)",
              file=sys.stderr)
        return 2
    if args.functions <= 150:
        print("nested_e2e: --functions must be over 150 (fn-0150a goes in the middle)", file=sys.stderr)
        return 2
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        del os.environ[var]

    tmp = Path(tempfile.mkdtemp(prefix="nested_e2e."))
    os.environ["HOME"] = str(tmp / "home")
    print(f"gen {args.gen}; bootstrap {args.bootstrap}; {args.functions} functions; dir {tmp}")
    test = NestedE2E(args, tmp)
    return run_guarded("nested_e2e", test, tmp, args.keep, "{:.1f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
