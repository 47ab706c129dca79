#!/usr/bin/env python3
"""End-to-end test of `gen deploy` interrupted by a signal, and throttled, against tests/moto_server.py.

Usage: target/venv/bin/python tests/interrupt_e2e.py [--gen PATH] [--bootstrap PATH] [--keep]

  --gen PATH        the gen binary (default: target/release/gen if present, else
                    target/debug/gen)
  --bootstrap PATH  an x86_64 ELF needing glibc <= 2.34, deployed as every function's prebuilt
                    bootstrap (default /bin/true; tests/run passes step 8's release authorizer)
  --keep            keep the temporary directory (projects, pty transcripts, moto logs) and
                    print its path

Issue #18, items 3 and 4. Each scenario starts its own tests/moto_server.py on a free loopback
port (stopped by PID at the end) and runs gen as nested_e2e.py does (HOME in the temporary
directory, only AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL of
AWS_*, `gen deploy --prebuilt DIR` so nothing is compiled; CARGO is a script that records any
call and fails). The app: one bucket, one x86_64 function reading it, us-east-1. Checked through
the service APIs (boto3), not only through gen's output:

  1. Interrupted at the y/N question (gen on a pseudo-terminal, without --yes; the signal sent
     to gen's PID once `Deploy these changes to intr? [y/N] ` is shown), first deploy (a CREATE
     change set, which makes an empty REVIEW_IN_PROGRESS stack):
     a. SIGINT: exit 130; the output says the change set (named) and the empty stack were
        deleted; the stack does not exist (ListStacks: it was made, and is DELETE_COMPLETE);
        ListChangeSets is empty and DescribeChangeSet of that name fails; nothing recorded in
        .gen/outputs/; no function, no app bucket.
     b. SIGTERM: the same, exit 143.
  2. After those, `gen deploy --yes` creates the stack (CREATE_COMPLETE, outputs recorded,
     the function exists); a second one with no edit says `no changes`, leaves the stack as it
     was and no change set waiting.
  3. An edit (the function's memory 128 -> 256) interrupted at the question (an UPDATE change
     set), SIGINT: exit 130; the change set named as deleted (no empty stack this time); the
     stack untouched (status, LastUpdatedTime, template as before); no change set left that
     is not EXECUTE_COMPLETE, none more than before, DescribeChangeSet of that name fails;
     the outputs record unchanged; Lambda still has 128 MB. Then `gen deploy --yes` carries
     the edit out (UPDATE_COMPLETE, 256 MB).
  4. A server throttling its first 3 CloudFormation and S3 requests
     (STACKGEN_MOTO_THROTTLE=3): `gen deploy --yes` succeeds (the SDK's standard retry), the
     stack CREATE_COMPLETE; the server's log shows the 3 throttled requests.
  5. A server throttling every CloudFormation and S3 request (STACKGEN_MOTO_THROTTLE=all):
     `gen deploy --yes` fails (exit 2) within 120 s, its stderr naming the throttled call and
     its 6 attempts (`AWS throttled DescribeStacks after 6 attempts (Throttling: Rate
     exceeded)`); the server saw exactly 6 requests of that call; nothing recorded.
  6. A server throttling every S3 request only (STACKGEN_MOTO_THROTTLE_SERVICES=s3): the
     deploy's first S3 call, HeadObject of the function's zip, gets S3's bare 503 (a HEAD
     answer has no body, so no SlowDown code); gen gives up after 6 attempts naming it as
     throttling (`AWS throttled HeadObject after 6 attempts`), within 120 s; no app stack.

moto keeps an executed change set listed (EXECUTE_COMPLETE): "no change set left" means none
that is not EXECUTE_COMPLETE, and no more of them than before.

Prints one line per check (`PASS - ...` / `FAIL - ...`) and ends with
`interrupt_e2e: N passed, M failed`. Exit status is non-zero when any check failed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from botocore.exceptions import ClientError  # noqa: E402

from deploy_e2e import (  # noqa: E402 - tests/ on sys.path first
    ROOT, TOOLKIT_STACK, Aws, Gen, Moto, Report, Result, StepFailed, outputs_record, run_guarded,
)
from nested_e2e import function_crates  # noqa: E402

APP = "intr"
REGION = "us-east-1"
FUNCTION = f"{APP}-worker"
MAX_ATTEMPTS = 6  # generator/deploy/src/cloud.rs MAX_ATTEMPTS
THROTTLED_LIMIT_S = 120.0
QUICK_TIMEOUT_S = 180.0
PROMPT_TIMEOUT_S = 120.0
PROMPT = re.compile(rf"Deploy these changes to {APP}\? \[y/N\] ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DELETED = re.compile(rf"Interrupted before executing: deleted change set (\S+) of stack {APP}"
                     r"( and the empty stack \(REVIEW_IN_PROGRESS\) it had made)?; nothing was deployed, "
                     r"and nothing recorded in \.gen/outputs/")
THROTTLED = re.compile(r"AWS throttled (\w+) after (\d+) attempts \(([^)]*)\)")


def manifest(memory: int | None = None) -> str:
    return (
        f"name: {APP}\n"
        "description: A small app to interrupt\n"
        f"region: {REGION}\n"
        "buckets:\n  data: {}\n"
        "functions:\n  worker:\n    description: Reads the data bucket\n    architecture: x86_64\n"
        + (f"    memory: {memory}\n" if memory else "")
        + "    reads: [data]\n"
    )


def screen_text(raw: bytes) -> str:
    """What a terminal shows, roughly: no escape sequences, no carriage returns."""
    text = ANSI.sub("", raw.decode("utf-8", errors="replace"))
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


class PtyResult:
    def __init__(self, code: int, text: str, prompted: bool, seconds: float, after_signal: float | None) -> None:
        self.code, self.text, self.prompted, self.seconds = code, text, prompted, seconds
        self.after_signal = after_signal

    def dump(self, lines: int = 40) -> str:
        return (f"exit {self.code} in {self.seconds:.1f} s (prompted: {self.prompted})\n"
                + "\n".join("    | " + line for line in self.text.splitlines()[-lines:]))


class InterruptReport(Report):
    def summary(self) -> str:
        return f"interrupt_e2e: {self.passed} passed, {self.failed} failed"


class InterruptE2E:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.rep = InterruptReport()
        self.servers: list[Moto] = []
        self.moto = Moto(tmp / "moto-unused.log")  # the current server (run_guarded shows its log)
        self.aws: Aws | None = None
        self.gen: Gen | None = None
        self.pty_child: subprocess.Popen | None = None
        self.cargo_marker = tmp / "cargo-was-called"
        self.fake_cargo = tmp / "fake-cargo"
        self.timings: dict[str, float] = {}
        self.transcripts = 0

    # ---- processes

    def server(self, name: str, extra: dict[str, str] | None = None) -> None:
        """A fresh tests/moto_server.py (its environment plus `extra`), and gen pointed at it."""
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STACKGEN_MOTO_"))}
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION,
                   HOME=str(home), **(extra or {}))
        self.moto = Moto(self.tmp / f"moto-{name}.log")
        self.servers.append(self.moto)
        self.moto.start(env)
        self.aws = Aws(self.moto.endpoint)
        self.gen = Gen(self.args.gen, self.env())

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=str(self.tmp / "home"), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION=REGION, AWS_ENDPOINT_URL=self.moto.endpoint,
                   CARGO=str(self.fake_cargo), CARGO_TARGET_DIR=str(self.tmp / "no-target"))
        return env

    def on_pty(self, args: list[str], cwd: Path, signum: int) -> PtyResult:
        """gen with stdin, stdout and stderr on a pseudo-terminal (so it asks y/N), signalled by
        PID once the question is on the screen; its whole output as the terminal got it."""
        assert self.gen is not None
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        started = time.monotonic()
        try:
            child = subprocess.Popen([str(self.args.gen), *args], cwd=cwd, env=self.gen.env, stdin=slave,
                                     stdout=slave, stderr=slave, start_new_session=True, close_fds=True)
        finally:
            os.close(slave)
        self.pty_child = child
        raw = bytearray()
        signalled: float | None = None
        deadline = started + PROMPT_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:  # EIO: gen (and all it started) closed the terminal
                        chunk = b""
                    if not chunk:
                        break
                    raw += chunk
                if signalled is None and PROMPT.search(screen_text(bytes(raw))):
                    signalled = time.monotonic()
                    os.kill(child.pid, signum)
                    deadline = signalled + QUICK_TIMEOUT_S
            try:
                code = child.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                code = -1
        finally:
            os.close(master)
            self.pty_child = None
        ended = time.monotonic()
        text = screen_text(bytes(raw))
        self.transcripts += 1
        (self.tmp / f"pty-{self.transcripts}.txt").write_text(text)
        result = PtyResult(code, text, signalled is not None, ended - started,
                           None if signalled is None else ended - signalled)
        name = signal.Signals(signum).name
        print(f"  $ gen {' '.join(args)}  (on a pty, {name} at the question) -> exit {code} "
              f"({result.seconds:.1f} s, {result.after_signal or 0:.1f} s after the signal)")
        return result

    def stop(self) -> None:
        child = self.pty_child
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        if self.gen is not None:
            self.gen.stop()
        for server in self.servers:
            server.stop()

    # ---- the project

    def new_project(self, parent: str) -> Path:
        assert self.gen is not None
        project = self.tmp / parent / APP
        project.mkdir(parents=True)
        (project / "gen.yaml").write_text(manifest())
        result = self.gen.run(["build"], cwd=project)
        self.rep.require(result.code == 0, f"{parent}: gen build exit 0", result.dump())
        prebuilt = project.parent / "prebuilt"
        crates = function_crates(project)
        self.rep.require(bool(crates), f"{parent}: functions/Cargo.toml lists the function crate(s)", str(crates))
        for crate in crates:
            target = prebuilt / crate / "bootstrap"
            target.parent.mkdir(parents=True)
            shutil.copyfile(self.args.bootstrap, target)
            target.chmod(0o755)
        return project

    def deploy_args(self, project: Path, yes: bool) -> list[str]:
        return ["deploy", *(["--yes"] if yes else []), "--prebuilt", str(project.parent / "prebuilt")]

    def deploy(self, what: str, project: Path) -> Result:
        assert self.gen is not None
        result = self.gen.run(self.deploy_args(project, True), cwd=project, timeout=QUICK_TIMEOUT_S)
        self.timings[what] = result.seconds
        (self.tmp / f"{what.replace(' ', '-')}.out").write_text(result.out + "\n--- stderr\n" + result.err)
        return result

    # ---- what the cloud holds

    def change_set_gone(self, what: str, name: str) -> None:
        """No change set `name` of the stack is left but executed ones: a name is to the
        second, so an earlier deploy's executed change set (which moto keeps listed, and
        which DescribeChangeSet by name finds) may share it."""
        assert self.aws is not None
        same = [c for c in self.aws.change_sets(APP, REGION) if c["ChangeSetName"] == name]
        if same:
            self.rep.check(all(c.get("ExecutionStatus") == "EXECUTE_COMPLETE" for c in same),
                           f"{what}: every change set named {name} left is an earlier, executed one",
                           str([(c["ChangeSetId"], c["Status"], c["ExecutionStatus"]) for c in same]))
            return
        try:
            described = self.aws("cloudformation", REGION).describe_change_set(ChangeSetName=name, StackName=APP)
            self.rep.check(False, f"{what}: DescribeChangeSet {name} fails (it was deleted)",
                           f"{described.get('Status')}/{described.get('ExecutionStatus')}")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            self.rep.check(code in {"ChangeSetNotFound", "ChangeSetNotFoundException", "ValidationError"},
                           f"{what}: DescribeChangeSet {name} fails (it was deleted)", str(exc))

    def pending_change_sets(self) -> list[str]:
        assert self.aws is not None
        return [f"{c['ChangeSetName']} {c['Status']}/{c['ExecutionStatus']}" for c in self.aws.change_sets(APP, REGION)
                if c.get("ExecutionStatus") != "EXECUTE_COMPLETE"]

    def deleted_stacks(self) -> list[dict]:
        assert self.aws is not None
        found = []
        for page in self.aws("cloudformation", REGION).get_paginator("list_stacks").paginate(
                StackStatusFilter=["DELETE_COMPLETE"]):
            found += [s for s in page["StackSummaries"] if s["StackName"] == APP]
        return found

    def function(self) -> dict | None:
        assert self.aws is not None
        try:
            return self.aws("lambda", REGION).get_function_configuration(FunctionName=FUNCTION)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise

    def app_buckets(self) -> list[str]:
        assert self.aws is not None
        return sorted(b["Name"] for b in self.aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(f"{APP}-"))

    def recorded(self, project: Path) -> list[str]:
        outputs = project / ".gen" / "outputs"
        return sorted(p.name for p in outputs.iterdir()) if outputs.is_dir() else []

    def cargo_calls(self) -> list[str]:
        return self.cargo_marker.read_text().splitlines() if self.cargo_marker.exists() else []

    # ---- the scenarios

    def interrupted_create(self, project: Path, signum: int) -> None:
        rep, aws = self.rep, self.aws
        assert aws is not None
        name = signal.Signals(signum).name
        what = f"{name} at the first deploy's question"
        deleted_before = len(self.deleted_stacks())
        result = self.on_pty(self.deploy_args(project, False), project, signum)
        self.timings[f"{name} (create)"] = result.seconds
        rep.require(result.prompted, f"{what}: gen deploy on a terminal asks `Deploy these changes to {APP}? [y/N]`",
                    result.dump())
        rep.equal(f"{what}: exit status 128 + {int(signum)}", result.code, 128 + int(signum))
        deleted = DELETED.search(result.text)
        rep.check(deleted is not None and deleted.group(2) is not None,
                  f"{what}: the output says the change set and the empty REVIEW_IN_PROGRESS stack were deleted",
                  result.dump(15))
        printed = result.text[result.text.find("[y/N]"):]
        rep.check("Interrupted before executing" in printed, f"{what}: that is said after the question", result.dump(8))
        rep.check(aws.stack(APP, REGION) is None, f"{what}: stack {APP} does not exist (DescribeStacks)",
                  str(aws.stack(APP, REGION)))
        rep.equal(f"{what}: ListStacks shows one more {APP} DELETE_COMPLETE (the empty stack it had made, deleted)",
                  len(self.deleted_stacks()), deleted_before + 1)
        rep.equal(f"{what}: ListChangeSets of {APP} is empty", aws.change_sets(APP, REGION), [])
        if deleted is not None:
            self.change_set_gone(what, deleted.group(1))
        rep.equal(f"{what}: nothing recorded in .gen/outputs/", self.recorded(project), [])
        rep.check(self.function() is None, f"{what}: no function {FUNCTION} in Lambda")
        rep.equal(f"{what}: no bucket of the app in S3", self.app_buckets(), [])
        rep.equal(f"{what}: cargo never ran", self.cargo_calls(), [])

    def deploys(self, project: Path) -> dict[str, Any]:
        rep, aws = self.rep, self.aws
        assert aws is not None
        rep.section("2. gen deploy --yes after the interrupted ones, then a no-change deploy")
        result = self.deploy("deploy after interrupts", project)
        rep.require(result.code == 0, "gen deploy --yes: exit 0", result.dump())
        stack = aws.stack(APP, REGION)
        rep.require(stack is not None and stack["StackStatus"] == "CREATE_COMPLETE", f"stack {APP}: CREATE_COMPLETE",
                    str(stack and stack["StackStatus"]))
        record = outputs_record(project, APP)
        rep.require(record.is_file(), f".gen/outputs/{APP}.json written")
        fn = self.function()
        rep.check(fn is not None and fn.get("MemorySize") == 128, f"{FUNCTION} exists with 128 MB",
                  str(fn and fn.get("MemorySize")))
        rep.equal("no change set left waiting", self.pending_change_sets(), [])

        change_sets = aws.change_sets(APP, REGION)
        result = self.deploy("no-change deploy", project)
        rep.require(result.code == 0, "no-change gen deploy --yes: exit 0", result.dump())
        rep.check("no changes" in result.out, "stdout says `no changes`", result.dump(20))
        after = aws.stack(APP, REGION)
        rep.equal(f"stack {APP}: status and LastUpdatedTime as before",
                  after and (after["StackStatus"], after.get("LastUpdatedTime")),
                  (stack["StackStatus"], stack.get("LastUpdatedTime")))
        rep.equal("no change set left waiting", self.pending_change_sets(), [])
        rep.equal("no new change set kept", len(aws.change_sets(APP, REGION)), len(change_sets))
        return {"stack": after, "record": record.read_bytes(), "template": aws.template(APP, REGION)}

    def interrupted_update(self, project: Path, before: dict[str, Any]) -> None:
        rep, aws = self.rep, self.aws
        assert aws is not None
        rep.section("3. an edit (memory 128 -> 256) interrupted at the question (SIGINT)")
        what = "SIGINT at the update's question"
        (project / "gen.yaml").write_text(manifest(memory=256))
        change_sets = aws.change_sets(APP, REGION)
        result = self.on_pty(self.deploy_args(project, False), project, signal.SIGINT)
        self.timings["SIGINT (update)"] = result.seconds
        rep.require(result.prompted, f"{what}: gen deploy asks", result.dump())
        rep.equal(f"{what}: exit status 130", result.code, 130)
        rep.check("~ AWS::Lambda::Function" in result.text, f"{what}: the change set shown modifies the function",
                  result.dump(20))
        deleted = DELETED.search(result.text)
        rep.check(deleted is not None and deleted.group(2) is None,
                  f"{what}: the output says the change set was deleted (and no stack)", result.dump(15))
        stack = aws.stack(APP, REGION)
        rep.equal(f"{what}: stack {APP}: status and LastUpdatedTime as before",
                  stack and (stack["StackStatus"], stack.get("LastUpdatedTime")),
                  (before["stack"]["StackStatus"], before["stack"].get("LastUpdatedTime")))
        rep.check(aws.template(APP, REGION) == before["template"], f"{what}: the deployed template is as before")
        rep.equal(f"{what}: no change set left that is not EXECUTE_COMPLETE", self.pending_change_sets(), [])
        rep.equal(f"{what}: no more change sets listed than before", len(aws.change_sets(APP, REGION)), len(change_sets))
        if deleted is not None:
            self.change_set_gone(what, deleted.group(1))
        rep.check(outputs_record(project, APP).read_bytes() == before["record"],
                  f"{what}: .gen/outputs/{APP}.json unchanged")
        fn = self.function()
        rep.equal(f"{what}: {FUNCTION} still has 128 MB", fn and fn.get("MemorySize"), 128)

        result = self.deploy("deploy of the edit", project)
        rep.require(result.code == 0, "then gen deploy --yes: exit 0", result.dump())
        stack = aws.stack(APP, REGION)
        rep.equal(f"stack {APP}: UPDATE_COMPLETE", stack and stack["StackStatus"], "UPDATE_COMPLETE")
        fn = self.function()
        rep.equal(f"{FUNCTION} has 256 MB", fn and fn.get("MemorySize"), 256)
        rep.equal("no change set left waiting", self.pending_change_sets(), [])

    def throttled_log(self) -> list[str]:
        try:
            return [line for line in self.moto.log_path.read_text(errors="replace").splitlines()
                    if line.startswith("throttled ")]
        except OSError:
            return []

    def some_throttling(self) -> None:
        rep = self.rep
        rep.section("4. a server throttling its first 3 CloudFormation and S3 requests")
        self.server("throttle-3", {"STACKGEN_MOTO_THROTTLE": "3"})
        project = self.new_project("throttle-3")
        result = self.deploy("deploy throttled 3 times", project)
        rep.check(result.code == 0, "gen deploy --yes: exit 0 (retried)", result.dump())
        stack = self.aws.stack(APP, REGION) if self.aws else None
        rep.equal(f"stack {APP}: CREATE_COMPLETE", stack and stack["StackStatus"], "CREATE_COMPLETE")
        rep.check(outputs_record(project, APP).is_file(), f".gen/outputs/{APP}.json written")
        throttled = self.throttled_log()
        rep.equal("the server throttled 3 requests", len(throttled), 3)

    def all_throttled(self) -> None:
        rep = self.rep
        rep.section("5. a server throttling every CloudFormation and S3 request")
        self.server("throttle-all", {"STACKGEN_MOTO_THROTTLE": "all"})
        project = self.new_project("throttle-all")
        result = self.deploy("deploy always throttled", project)
        rep.equal("gen deploy --yes: exit 2", result.code, 2)
        rep.check(result.seconds < THROTTLED_LIMIT_S, f"it gives up within {THROTTLED_LIMIT_S:.0f} s",
                  f"{result.seconds:.1f} s")
        found = THROTTLED.search(result.err)
        rep.check(found is not None, "stderr: `AWS throttled <call> after <n> attempts (...)`", result.dump(10))
        if found is not None:
            rep.equal("stderr: the attempts", int(found.group(2)), MAX_ATTEMPTS)
            rep.check(found.group(3).startswith("Throttling: ") or found.group(3).startswith("SlowDown: "),
                      "stderr: the service's code and message", found.group(3))
            call = found.group(1)
            throttled = self.throttled_log()
            rep.check(len(throttled) == MAX_ATTEMPTS,
                      f"the server saw {MAX_ATTEMPTS} attempts ({call}), then gen stopped", "\n".join(throttled))
        rep.check("hint: wait a minute and rerun" in result.err, "stderr: the hint", result.dump(10))
        rep.equal("nothing recorded in .gen/outputs/", self.recorded(project), [])
        rep.equal("cargo never ran", self.cargo_calls(), [])

    def s3_throttled(self) -> None:
        """Only S3 throttled: the toolkit stack is made, then the upload's first S3 call
        (HeadObject: S3 answers a HEAD request with a bare 503, no SlowDown code) gives up."""
        rep = self.rep
        rep.section("6. a server throttling every S3 request (CloudFormation answered)")
        self.server("throttle-s3", {"STACKGEN_MOTO_THROTTLE": "all", "STACKGEN_MOTO_THROTTLE_SERVICES": "s3"})
        project = self.new_project("throttle-s3")
        result = self.deploy("deploy with S3 always throttled", project)
        rep.equal("gen deploy --yes: exit 2", result.code, 2)
        rep.check(result.seconds < THROTTLED_LIMIT_S, f"it gives up within {THROTTLED_LIMIT_S:.0f} s",
                  f"{result.seconds:.1f} s")
        found = THROTTLED.search(result.err)
        rep.check(found is not None and found.group(1) == "HeadObject" and int(found.group(2)) == MAX_ATTEMPTS,
                  f"stderr: `AWS throttled HeadObject after {MAX_ATTEMPTS} attempts (...)` (S3's SlowDown "
                  "to a HEAD request, a 503 without a body, named as throttling)", result.dump(10))
        throttled = self.throttled_log()
        rep.check(len(throttled) == MAX_ATTEMPTS and all(t.startswith("throttled s3 ") for t in throttled),
                  f"the server throttled {MAX_ATTEMPTS} S3 requests, then gen stopped", "\n".join(throttled))
        rep.check(self.aws is not None and self.aws.stack(APP, REGION) is None,
                  f"stack {APP} was not created (nothing got past the upload)")
        rep.equal("nothing recorded in .gen/outputs/", self.recorded(project), [])

    def run(self) -> None:
        self.fake_cargo.write_text(f"#!/bin/sh\necho \"$@\" >> '{self.cargo_marker}'\nexit 1\n")
        self.fake_cargo.chmod(self.fake_cargo.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        for scenario in (self.interrupts, self.some_throttling, self.all_throttled, self.s3_throttled):
            try:
                scenario()
            except StepFailed as exc:
                print(f"  (scenario stopped: {exc})")
            except Exception:  # noqa: BLE001 - report it
                self.rep.check(False, "no unexpected error", traceback.format_exc())

    def interrupts(self) -> None:
        self.rep.section("1. a signal at the first deploy's question (a CREATE change set)")
        self.server("interrupt")
        project = self.new_project("interrupt")
        assert self.aws is not None
        self.interrupted_create(project, signal.SIGINT)
        toolkit = self.aws.stack(TOOLKIT_STACK, REGION)
        self.rep.check(toolkit is not None and toolkit["StackStatus"] == "CREATE_COMPLETE",
                       f"the toolkit stack made before the question stays ({TOOLKIT_STACK} CREATE_COMPLETE)",
                       str(toolkit and toolkit["StackStatus"]))
        self.interrupted_create(project, signal.SIGTERM)
        before = self.deploys(project)
        self.interrupted_update(project, before)


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    default_gen = ROOT / "target" / "release" / "gen"
    if not default_gen.exists():
        default_gen = ROOT / "target" / "debug" / "gen"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gen", type=Path, default=default_gen)
    parser.add_argument("--bootstrap", type=Path, default=Path("/bin/true"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv[1:])
    args.gen = args.gen.resolve()
    args.bootstrap = args.bootstrap.resolve()
    if not args.gen.is_file():
        print(f"interrupt_e2e: no gen binary at {args.gen}", file=sys.stderr)
        return 2
    if not args.bootstrap.is_file() or args.bootstrap.read_bytes()[:4] != b"\x7fELF":
        print(f"interrupt_e2e: {args.bootstrap} is not an ELF bootstrap", file=sys.stderr)
        return 2
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        del os.environ[var]

    tmp = Path(tempfile.mkdtemp(prefix="interrupt_e2e."))
    os.environ["HOME"] = str(tmp / "home")
    print(f"gen {args.gen}; bootstrap {args.bootstrap}; dir {tmp}")
    test = InterruptE2E(args, tmp)
    return run_guarded("interrupt_e2e", test, tmp, args.keep, "{:.1f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
