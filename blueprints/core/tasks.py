"""The background task queue (huey), shared by every domain; it knows no domain.

Storage: a SQLite file under instance/ (``instance/huey.db``) by default, so a single
machine needs nothing else; Redis when ``HUEY_BACKEND=redis`` (``REDIS_URL``). The worker is
``huey_consumer worker.huey`` (worker.py at the root builds the app; scripts/run starts one).
``HUEY_IMMEDIATE`` (config; on in TestConfig) runs a task at once, in the caller's process.

A task body runs inside an application context: the caller's when there is one (immediate
mode), otherwise the worker's app (``use_app``). A domain registers its tasks here:

    from blueprints.core.tasks import app_task

    @app_task()
    def build_zip(job_id): ...

    build_zip(job.id)      # enqueued after the caller commits the job row
"""
from __future__ import annotations

import os
from functools import wraps

from flask import Flask, has_app_context
from huey import Huey, RedisHuey, SqliteHuey

from config import INSTANCE_DIR, Config
from extensions import db


def _make_huey() -> Huey:
    if Config.HUEY_BACKEND == "redis":
        return RedisHuey("gongdong", url=Config.REDIS_URL)
    path = os.environ.get("HUEY_SQLITE_PATH") or str(INSTANCE_DIR / "huey.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey("gongdong", filename=path)


huey = _make_huey()
_worker: dict[str, Flask] = {}


def init_app(app: Flask) -> None:
    """Called by create_app: an app configured with ``HUEY_IMMEDIATE`` puts the process's
    queue in immediate mode (the queue is one per process; nothing switches it back)."""
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True


def use_app(app: Flask) -> Huey:
    """The app whose context task bodies run in, when the caller gives none (worker.py)."""
    _worker["app"] = app
    return huey


def _in_app_context(fn):
    @wraps(fn)
    def inner(*args, **kwargs):
        if has_app_context():
            return fn(*args, **kwargs)
        if "app" not in _worker:
            raise RuntimeError("No app for the task: start the worker as `huey_consumer worker.huey`.")
        with _worker["app"].app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()

    return inner


def app_task(**task_kwargs):
    """``huey.task`` whose body runs inside an application context."""
    return lambda fn: huey.task(**task_kwargs)(_in_app_context(fn))


def app_periodic_task(validate_datetime, **task_kwargs):
    """``huey.periodic_task`` (e.g. ``crontab(hour="9", minute="0")``) inside an application context."""
    return lambda fn: huey.periodic_task(validate_datetime, **task_kwargs)(_in_app_context(fn))
