"""The background task queue (huey), shared by every domain.

Storage: a SQLite file under instance/ (``instance/huey.db``) by default, so a single
machine needs nothing else; Redis when ``HUEY_BACKEND=redis`` (``REDIS_URL``). The worker is
``huey_consumer blueprints.core.tasks.huey`` (scripts/run starts one). Tests switch the queue
to immediate mode: a task runs at once, in the caller's process.

A task body runs inside an application context: the caller's when there is one (immediate
mode), otherwise one app built once per worker process.

    from blueprints.core.tasks import app_task

    @app_task()
    def build_zip(job_id): ...

    build_zip(job.id)      # enqueued after the caller commits the job row
"""
from __future__ import annotations

import os
import threading
from functools import wraps

from flask import has_app_context
from huey import RedisHuey, SqliteHuey

from config import INSTANCE_DIR, Config


def _make_huey():
    immediate = os.environ.get("HUEY_IMMEDIATE", "").lower() in {"1", "true", "yes"}
    if Config.HUEY_BACKEND == "redis":
        return RedisHuey("gongdong", url=Config.REDIS_URL, immediate=immediate)
    path = os.environ.get("HUEY_SQLITE_PATH") or str(INSTANCE_DIR / "huey.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey("gongdong", filename=path, immediate=immediate)


huey = _make_huey()

_app_lock = threading.Lock()
_worker_app = {}


def worker_app():
    """The Flask app of a worker process (created once)."""
    with _app_lock:
        if "app" not in _worker_app:
            from app import create_app

            _worker_app["app"] = create_app()
        return _worker_app["app"]


def app_task(**task_kwargs):
    """``huey.task`` whose body runs inside an application context."""

    def decorator(fn):
        @wraps(fn)
        def inner(*args, **kwargs):
            if has_app_context():
                return fn(*args, **kwargs)
            from extensions import db

            with worker_app().app_context():
                try:
                    return fn(*args, **kwargs)
                finally:
                    db.session.remove()

        return huey.task(**task_kwargs)(inner)

    return decorator


def _register_domain_tasks():
    """The consumer imports only this module: importing the blueprints package imports every
    domain, and with it the tasks they define (e.g. settlement.jobs)."""
    import blueprints  # noqa: F401


_register_domain_tasks()
