"""CI step: audit the pinned requirements with pip-audit.

Fails (exit 1) when a known vulnerability is found. When the vulnerability service cannot be
reached or answers nothing — on a closed network the PyPI service reports every package as
"Dependency not found" and exits 0 having audited nothing, and OSV fails with a connection
error — it prints a clear warning and exits 0: an audit that could not run must not pass for
a clean one, and must not block the tests either.

The PyPI service is asked first, then OSV if PyPI audited nothing. ``PIP_AUDIT`` overrides the
command (tests use a stand-in).

    .venv/bin/python scripts/audit_deps.py [requirements.txt]
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("pypi", "osv")
TIMEOUT_S = 600


def pip_audit_command() -> list[str]:
    override = os.environ.get("PIP_AUDIT")
    if override:
        return shlex.split(override)
    return [sys.executable, "-m", "pip_audit"]


def verdict(stdout: str) -> tuple[str, str]:
    """Read pip-audit's JSON: ('vulnerable', list) | ('clean', summary) | ('unanswered', why)."""
    try:
        report = json.loads(stdout)
        deps = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        return "unanswered", "pip-audit gave no result"
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    found = [(d, v) for d in audited for v in d.get("vulns", [])]
    if found:
        lines = [f"  {d['name']} {d['version']}: {v['id']}"
                 + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "")
                 for d, v in found]
        return "vulnerable", f"{len(found)} known vulnerabilities:\n" + "\n".join(lines)
    if not audited:
        return "unanswered", f"the service audited none of the {len(skipped)} packages ({_first_reason(skipped)})"
    note = f"; {len(skipped)} not audited: {', '.join(d['name'] for d in skipped)}" if skipped else ""
    return "clean", f"no known vulnerabilities in {len(audited)} packages{note}"


def _first_reason(skipped) -> str:
    return skipped[0]["skip_reason"] if skipped else "empty answer"


def audit(requirements: Path, service: str) -> tuple[str, str]:
    # requirements.txt pins every package (transitive ones too): audit the list as written,
    # without building a throw-away virtualenv to resolve it (seconds instead of minutes).
    command = pip_audit_command() + ["-r", str(requirements), "--no-deps", "--disable-pip",
                                     "--vulnerability-service", service,
                                     "--format", "json", "--progress-spinner", "off"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "unanswered", f"pip-audit did not finish in {TIMEOUT_S} s"
    status, message = verdict(done.stdout)
    if status == "unanswered" and done.returncode != 0:
        tail = [line for line in done.stderr.strip().splitlines() if line.strip()][-1:]
        message += f"; exit {done.returncode}: {tail[0][:300] if tail else 'no message'}"
    return status, message


def main(argv: list[str]) -> int:
    requirements = Path(argv[0]) if argv else ROOT / "requirements.txt"
    reasons = []
    for service in SERVICES:
        status, message = audit(requirements, service)
        if status == "vulnerable":
            print(f"pip-audit ({service}): FAILED — {message}", file=sys.stderr)
            return 1
        if status == "clean":
            print(f"pip-audit ({service}): {message}")
            return 0
        reasons.append(f"{service}: {message}")
    print("WARNING: dependency audit NOT done — no vulnerability service answered. "
          "The run goes on; audit again where PyPI/OSV can be reached.\n  " + "\n  ".join(reasons),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
