#!/usr/bin/env python3
"""Run checkov over CloudFormation templates and report failed and skipped checks.

Usage: python3 tests/checkov_check.py CHECKOV_BIN TEMPLATE.json [TEMPLATE.json ...]

Runs `CHECKOV_BIN --skip-download --framework cloudformation -o json -f ...`
once over all the templates (stdlib only: any python can run this; checkov
lives in its own venv, target/venv-checkov) and then:

  * prints every failed check (id, title, resource, file:lines);
  * prints every check skipped through the template's
    `Metadata: {"checkov": {"skip": [{"id": ..., "comment": ...}]}}` with its
    comment, so the exceptions can be reviewed; a skip without a comment fails;
  * warns about skip entries that matched no check (stale, or a typo in the
    id: checkov says nothing about those);
  * notes templates on which checkov ran no check at all;
  * prints `checkov summary: passed P, failed F, skipped S, parsing errors E`.

Exits non-zero on any failed check, any parsing error (checkov itself exits 0
on a template it cannot parse), a skip without a comment, or when checkov's
exit status disagrees with its report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def display(path: str, cwd: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(cwd))
    except ValueError:
        return path


def reports(data: Any) -> list[dict]:
    """checkov prints one report object, a list of them (several check types),
    or only a summary object when nothing was checked."""
    items = data if isinstance(data, list) else [data]
    return [r for r in items if isinstance(r, dict)]


def declared_skips(template: Path) -> list[tuple[str, str, Any]]:
    """(logical id, check id, comment) from Metadata.checkov.skip."""
    try:
        resources = json.loads(template.read_text()).get("Resources", {})
    except (ValueError, AttributeError):
        return []
    out = []
    for logical, res in resources.items():
        meta = res.get("Metadata") if isinstance(res, dict) else None
        skips = (meta or {}).get("checkov", {}).get("skip", []) if isinstance(meta, dict) else []
        for s in skips if isinstance(skips, list) else []:
            if isinstance(s, dict):
                out.append((logical, str(s.get("id")), s.get("comment")))
    return out


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    if len(argv) < 3:
        print(f"usage: {argv[0]} CHECKOV_BIN TEMPLATE.json [TEMPLATE.json ...]", file=sys.stderr)
        return 2
    checkov = argv[1]
    templates = [Path(t).resolve() for t in argv[2:]]
    cwd = Path.cwd().resolve()
    for t in templates:
        if not t.is_file():
            print(f"checkov_check: no such template: {t}", file=sys.stderr)
            return 2

    # Settings from the environment (CKV_SKIP_CHECK, CKV_FRAMEWORK, ...) would
    # change what is checked: run with none of them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "BC_", "PRISMA_"))}
    cmd = [checkov, "--skip-download", "--framework", "cloudformation", "-o", "json",
           "-f", *map(str, templates)]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env, check=False)
    problems: list[str] = []
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        print(proc.stdout[-4000:])
        print(proc.stderr[-4000:], file=sys.stderr)
        print(f"FAIL - checkov printed no JSON report (exit {proc.returncode})")
        return 1

    failed: list[dict] = []
    skipped: list[dict] = []
    passed: list[dict] = []
    parsing_errors: list[str] = []
    for rep in reports(data):
        results = rep.get("results", {})
        failed += results.get("failed_checks", [])
        skipped += results.get("skipped_checks", [])
        passed += results.get("passed_checks", [])
        parsing_errors += results.get("parsing_errors", [])
        # A summary-only report: nothing was checked; its counts must agree.
        if "results" not in rep and (rep.get("failed") or rep.get("parsing_errors")):
            problems.append(f"checkov summary without results: {rep}")

    def where(c: dict) -> str:
        lines = c.get("file_line_range") or []
        span = f":{lines[0]}-{lines[1]}" if len(lines) == 2 else ""
        return display(c.get("file_abs_path") or c.get("file_path", "?"), cwd) + span

    def order(c: dict) -> tuple:
        return (str(c.get("file_abs_path")), (c.get("file_line_range") or [0])[0], str(c.get("check_id")))

    for c in sorted(failed, key=order):
        print(f"FAILED  {c.get('check_id')} {c.get('check_name')!r}\n"
              f"        {c.get('resource')} at {where(c)}")
    for p in parsing_errors:
        print(f"PARSING ERROR  {display(p, cwd)} (checkov could not read it)")

    # Skips: what checkov reports, against what the templates declare.
    used: set[tuple[str, str, str]] = set()
    if skipped:
        print("skipped through Metadata.checkov.skip:")
    for c in sorted(skipped, key=order):
        comment = (c.get("check_result") or {}).get("suppress_comment")
        logical = str(c.get("resource", "")).split(".", 1)[-1]
        path = str(Path(c.get("file_abs_path") or "").resolve())
        used.add((path, logical, str(c.get("check_id"))))
        print(f"  {c.get('check_id')} on {c.get('resource')} ({display(path, cwd)}): {comment}")
    for t in templates:
        for logical, check_id, comment in declared_skips(t):
            if not (isinstance(comment, str) and comment.strip()):
                problems.append(f"{display(str(t), cwd)}: {logical} skips {check_id} "
                                "without a comment (say why it is a justified exception)")
            if (str(t), logical, check_id) not in used:
                print(f"warning - {display(str(t), cwd)}: {logical} skips {check_id}, "
                      "which checkov did not run on it (stale skip or wrong id?)")

    seen = {str(Path(c.get("file_abs_path") or "").resolve()) for c in passed + failed + skipped}
    seen |= {str(Path(p).resolve()) for p in parsing_errors}
    for t in templates:
        if str(t) not in seen:
            print(f"note - checkov ran no check on {display(str(t), cwd)} "
                  "(no resource of a type checkov has checks for, or not taken for a CloudFormation template)")

    print(f"checkov summary: passed {len(passed)}, failed {len(failed)}, skipped {len(skipped)}, "
          f"parsing errors {len(parsing_errors)} ({len(templates)} template(s))")
    if failed:
        problems.append(f"{len(failed)} failed check(s): fix them, or add a "
                        "Metadata.checkov.skip entry with a comment for a justified exception")
    if parsing_errors:
        problems.append(f"{len(parsing_errors)} template(s) checkov could not parse")
    if proc.returncode not in (0, 1) or (proc.returncode == 1) != bool(failed):
        problems.append(f"checkov exit {proc.returncode} does not match its report "
                        f"({len(failed)} failed)\n{proc.stderr[-4000:]}")
    for p in problems:
        print(f"FAIL - {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
