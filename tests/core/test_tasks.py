"""The task queue of core: immediate mode from the config, a task body in the worker's app
when the caller has none, and core importing no domain."""
import ast
import threading
from pathlib import Path

from flask import current_app, has_app_context

from blueprints.core import tasks

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = {p.name for p in (ROOT / "blueprints").iterdir() if (p / "__init__.py").exists()} - {"core"}


def test_the_test_config_runs_tasks_at_once(app):
    assert app.config["HUEY_IMMEDIATE"] is True and tasks.huey.immediate


def test_a_task_called_outside_an_app_context_runs_in_the_worker_app(app):
    seen = []

    @tasks.app_task()
    def probe(value):
        seen.append((value, has_app_context() and current_app.name, current_app.config["TESTING"]))

    previous = tasks._worker.get("app")
    assert tasks.use_app(app) is tasks.huey
    try:
        thread = threading.Thread(target=probe, args=(7,))   # a new thread has no app context
        thread.start()
        thread.join()
    finally:
        tasks._worker.pop("app", None)
        if previous is not None:
            tasks._worker["app"] = previous
    assert seen == [(7, app.name, True)]


def test_core_imports_no_domain_and_not_the_app():
    for path in (ROOT / "blueprints" / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                parts = name.split(".")
                assert parts[0] not in {"app", "worker", "commands", "demo"} and name != "blueprints", (path.name, name)
                assert not (parts[0] == "blueprints" and len(parts) > 1 and parts[1] in DOMAINS), (path.name, name)
