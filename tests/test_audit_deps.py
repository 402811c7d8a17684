"""The CI audit step (scripts/audit_deps.py) against a stand-in pip-audit: a vulnerability fails
the run; a service that cannot be reached or audits nothing only warns."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit_deps.py"
SKIPPED = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"}],
           "fixes": []}
CLEAN = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}], "fixes": []}
VULNERABLE = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []},
                               {"name": "jinja2", "version": "3.0.0",
                                "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]}],
              "fixes": []}


def fake_pip_audit(tmp_path, pypi, osv):
    """A pip-audit that answers per service: (stdout JSON or None, exit code, stderr)."""
    script = tmp_path / "fake_pip_audit.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        answers = {{"pypi": {pypi!r}, "osv": {osv!r}}}
        out, code, err = answers[sys.argv[sys.argv.index("--vulnerability-service") + 1]]
        if out is not None:
            print(json.dumps(out))
        print(err, file=sys.stderr)
        sys.exit(code)
    """))
    return f"{sys.executable} {script}"


def run_step(tmp_path, pypi, osv):
    env = {"PIP_AUDIT": fake_pip_audit(tmp_path, pypi, osv), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(SCRIPT), "requirements.txt"], capture_output=True, text=True,
                          env=env, timeout=60)


UNREACHABLE = (None, 1, "requests.exceptions.ConnectionError: Failed to resolve 'api.osv.dev'")


@pytest.mark.parametrize("pypi, osv", [
    ((VULNERABLE, 1, ""), UNREACHABLE),
    ((SKIPPED, 0, ""), (VULNERABLE, 1, "")),      # PyPI answered nothing, OSV found it
])
def test_a_known_vulnerability_fails_the_run(tmp_path, pypi, osv):
    done = run_step(tmp_path, pypi, osv)
    assert done.returncode == 1
    assert "GHSA-h5c8-rqwp-cp95" in done.stderr and "jinja2 3.0.0" in done.stderr and "3.1.3" in done.stderr


def test_no_service_answering_warns_and_passes(tmp_path):
    # What this machine does: PyPI says "Dependency not found" for everything (exit 0), OSV cannot resolve.
    done = run_step(tmp_path, (SKIPPED, 0, ""), UNREACHABLE)
    assert done.returncode == 0
    assert "WARNING: dependency audit NOT done" in done.stderr
    assert "audited none of the 1 packages" in done.stderr and "api.osv.dev" in done.stderr


def test_a_clean_answer_passes_quietly(tmp_path):
    done = run_step(tmp_path, (CLEAN, 0, ""), UNREACHABLE)
    assert done.returncode == 0 and "no known vulnerabilities in 1 packages" in done.stdout
    assert "WARNING" not in done.stderr


def test_the_real_json_shape_of_pip_audit_is_read():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from audit_deps import verdict
    finally:
        sys.path.pop(0)
    assert verdict(json.dumps(VULNERABLE))[0] == "vulnerable"
    assert verdict(json.dumps(SKIPPED))[0] == "unanswered"
    assert verdict("Traceback (most recent call last):")[0] == "unanswered"
    assert verdict(json.dumps({"dependencies": [], "fixes": []}))[0] == "unanswered"
