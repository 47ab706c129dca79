#!/usr/bin/env python3
"""Audit the IAM policy files of generated projects with parliament.

Usage: target/venv/bin/python tests/policy_check.py PROJECT_DIR [PROJECT_DIR ...]

A generated project writes every IAM policy document of its templates to
`policies/*.json` too (trust policies as `*-trust.json`; `policies/README.md`
and other non-JSON files are ignored). For each PROJECT_DIR this script:

  * requires `policies/*.json` when the project's `infra/*.json` templates hold
    policy documents (non-trust and trust counted apart), so a generator that
    stops writing them fails here instead of being skipped;
  * requires every file to be plain IAM JSON: valid JSON, an object, no
    CloudFormation intrinsic-function objects ({"Ref": ..}, {"Fn::...": ..});
  * audits every non-trust file with parliament (from the interpreter's venv)
    at minimum severity INFO: any finding fails the run.

Trust policies are only parsed: parliament stops at a statement without
Resource (a false HIGH "Statement contains neither Resource nor NotResource")
before it looks at actions or condition keys, so it would check nothing useful.

Placeholders: parliament reads `${AWS::AccountId}` in an ARN as a malformed
account ("MEDIUM - Invalid ARN ... Account expected to be of form like
123456789012"), and likewise `${AWS::Partition}` / `${AWS::Region}`. Parliament
is run on copies in which the pseudo parameters are replaced by example values
and CloudFormation's `${!Literal}` escape is turned into the IAM policy
variable `${Literal}` (parliament flags `user/${!aws:username}` as matching no
resource). Other `${...}` (template resources, IAM policy variables) are left
as they are. Substitution is textual, so line numbers stay right. A placeholder
standing for a whole ARN (`"Resource": "${Bucket.Arn}"`, `"${Topic}"`) is
reported as "Invalid ARN - Does not have 6 parts": spell ARNs out
(`arn:${AWS::Partition}:s3:::${Bucket}/*`), which also lets parliament match
actions to resource types (s3:GetObject needs `bucket/*`).

parliament 1.6.4 is run through its own CLI entry point (`parliament.cli.main`,
options `--directory --json --minimum_severity INFO`) with two patches, see
PARLIAMENT_SHIM: its table of global condition keys lacks `aws:ViaAWSService`
(and a few other documented ones), which it would report once per action
("Unknown condition aws:ViaAWSService for action s3:GetObject"); and its main()
writes its argv to the hard-coded /tmp/parliament.log (a leftover debug line),
which is sent to /dev/null instead.

Prints one `finding` line per parliament finding, mapped back to the original
file, and exits non-zero when anything failed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Example values for CloudFormation pseudo parameters (moto's, see moto_smoke.py).
PSEUDO = {
    "${AWS::AccountId}": "123456789012",
    "${AWS::Partition}": "aws",
    "${AWS::Region}": "us-east-1",
    "${AWS::URLSuffix}": "amazonaws.com",
    "${AWS::StackName}": "stackgen-stack",
}
TRUST_SUFFIX = "-trust.json"

# Documented AWS global condition keys missing from parliament 1.6.4's
# GLOBAL_CONDITION_KEYS (parliament/statement.py), with their types.
EXTRA_GLOBAL_CONDITION_KEYS = {
    "aws:ViaAWSService": "Bool",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "String",
}
PARLIAMENT_SHIM = f"""
import builtins, os, sys
import parliament.cli, parliament.statement
parliament.statement.GLOBAL_CONDITION_KEYS.update({EXTRA_GLOBAL_CONDITION_KEYS!r})
def _open(file, *args, **kwargs):
    if file == "/tmp/parliament.log":
        file = os.devnull
    return builtins.open(file, *args, **kwargs)
parliament.cli.open = _open
sys.exit(parliament.cli.main(["parliament"] + sys.argv[1:]))
"""
PLACEHOLDER = re.compile(r"\$\{!?([^}]*)\}")


def parliament_binary() -> Path:
    # Do not resolve symlinks: sys.executable is <venv>/bin/python.
    binary = Path(sys.executable).parent / "parliament"
    if not binary.exists():
        sys.exit(
            f"policy_check: {binary} not found; run this with the venv's python "
            "(target/venv/bin/python) after installing tests/requirements.txt"
        )
    return binary


def intrinsic_paths(value: Any, path: str = "") -> list[str]:
    """JSON paths of CloudFormation intrinsic-function objects inside value."""
    found = []
    if isinstance(value, dict):
        if len(value) == 1:
            (key,) = value
            if key == "Ref" or key.startswith("Fn::"):
                return [f"{path or '/'} ({key})"]
        for k, v in value.items():
            found += intrinsic_paths(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += intrinsic_paths(v, f"{path}/{i}")
    return found


def template_policy_counts(project: Path) -> tuple[int, int]:
    """(non-trust, trust) policy documents in the project's infra/*.json."""
    plain = trust = 0
    for tpl in sorted((project / "infra").rglob("*.json")):
        try:
            resources = json.loads(tpl.read_text()).get("Resources", {})
        except (ValueError, AttributeError):
            continue  # cfn-lint reports broken templates
        for res in resources.values():
            props = res.get("Properties", {}) if isinstance(res, dict) else {}
            if not isinstance(props, dict):
                continue
            if "PolicyDocument" in props:
                plain += 1
            policies = props.get("Policies")
            if isinstance(policies, list):
                plain += sum(1 for p in policies if isinstance(p, dict) and "PolicyDocument" in p)
            if "AssumeRolePolicyDocument" in props:
                trust += 1
    return plain, trust


def neutralise(text: str) -> str:
    for key, value in PSEUDO.items():
        text = text.replace(key, value)
    return text.replace("${!", "${")


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    if len(argv) < 2:
        print(f"usage: {argv[0]} PROJECT_DIR [PROJECT_DIR ...]", file=sys.stderr)
        return 2
    parliament_binary()  # installed?
    errors: list[str] = []
    audited = 0

    with tempfile.TemporaryDirectory(prefix="policy_check.") as tmp_name:
        tmp = Path(tmp_name)
        origin: dict[str, Path] = {}  # path relative to tmp -> original file
        for index, arg in enumerate(argv[1:]):
            project = Path(arg)
            if not project.is_dir():
                errors.append(f"{project}: not a directory")
                continue
            want_plain, want_trust = template_policy_counts(project)
            files = sorted(p for p in (project / "policies").rglob("*.json") if p.is_file())
            trust = [p for p in files if p.name.endswith(TRUST_SUFFIX)]
            plain = [p for p in files if not p.name.endswith(TRUST_SUFFIX)]
            print(
                f"{project}: infra/ has {want_plain} policy document(s) + {want_trust} trust "
                f"polic(ies); policies/ has {len(plain)} + {len(trust)} *{TRUST_SUFFIX}"
            )
            if want_plain and not plain:
                errors.append(f"{project}: no policies/*.json although infra/*.json holds "
                              f"{want_plain} policy document(s)")
            if want_trust and not trust:
                errors.append(f"{project}: no policies/*{TRUST_SUFFIX} although infra/*.json "
                              f"holds {want_trust} AssumeRolePolicyDocument(s)")
            for path in files:
                text = path.read_text()
                try:
                    doc = json.loads(text)
                except ValueError as exc:
                    errors.append(f"{path}: not valid JSON: {exc}")
                    continue
                if not isinstance(doc, dict) or "Statement" not in doc:
                    errors.append(f"{path}: not an IAM policy document (no top-level Statement)")
                    continue
                intrinsics = intrinsic_paths(doc)
                if intrinsics:
                    errors.append(f"{path}: CloudFormation intrinsic functions at "
                                  f"{', '.join(intrinsics)}; policies/*.json must be plain IAM JSON")
                    continue
                if path in trust:
                    continue
                left = sorted({m.group(0) for m in PLACEHOLDER.finditer(neutralise(text))})
                if left:
                    print(f"  {path.name}: left for parliament as is: {' '.join(left)}")
                rel = Path(str(index)) / path.name
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp / rel).write_text(neutralise(text))
                origin[str(rel)] = path
                audited += 1

        if audited:
            cmd = [sys.executable, "-c", PARLIAMENT_SHIM, "--directory", ".",
                   "--include_policy_extension", ".json", "--minimum_severity", "INFO", "--json"]
            # --file/stdin mode refuses to run without a terminal: --directory, stdin closed.
            proc = subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, check=False)
            findings = []
            junk = []
            for line in proc.stdout.splitlines():
                if not line.strip():
                    continue
                try:
                    findings.append(json.loads(line))
                except ValueError:
                    junk.append(line)
            for f in findings:
                loc = f.get("location") or {}
                rel = str(Path(str(loc.get("filepath", "?"))))
                where = str(origin.get(rel.removeprefix("./"), rel))
                if "line" in loc:
                    where += f":{loc['line']}:{loc.get('column', 0)}"
                detail = f.get("detail")
                extra = f" - {json.dumps(detail)}" if detail else ""
                if "string" in loc:
                    extra += f" - {loc['string']!r}"
                print(f"finding - {where}: {f.get('severity')} {f.get('issue')}: "
                      f"{f.get('title')}{extra}")
            if findings:
                errors.append(f"parliament: {len(findings)} finding(s)")
            if junk or (proc.returncode != 0 and not findings) or (proc.returncode == 0 and findings):
                errors.append(f"parliament: unexpected result (exit {proc.returncode})\n"
                              + "\n".join(junk + proc.stderr.splitlines()[-20:]))

    for e in errors:
        print(f"FAIL - {e}")
    print(f"policy_check: {audited} policy file(s) audited by parliament, "
          f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
