"""Application factory: `flask --app app run` finds create_app."""
import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import Config, config_for_env
from extensions import csrf, db, htmx, migrate


def create_app(test_config=None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    if test_config is None:
        app.config.from_object(config_for_env())
    elif isinstance(test_config, type):
        app.config.from_object(test_config)
    else:
        app.config.from_object(Config)
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_secret_key(app)
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    configure_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    configure_logging(app)
    return app


def configure_secret_key(app: Flask) -> None:
    """Never a public default: production needs a real SECRET_KEY from the environment;
    development without one makes a random key into instance/secret_key on first start."""
    key = app.config.get("SECRET_KEY") or ""
    if app.config.get("APP_ENV") == "production":
        if len(key) < 32:
            raise RuntimeError("운영 모드에는 32자 이상의 SECRET_KEY 환경 변수가 필요합니다 (production needs a real SECRET_KEY).")
        return
    if not key:
        path = Path(app.config.get("SECRET_KEY_FILE") or Path(app.instance_path) / "secret_key")
        app.config["SECRET_KEY"] = instance_secret_key(path)


def instance_secret_key(path: Path) -> str:
    """The key kept in ``path``, made (random, owner-only 0600) if there is none yet. Two
    processes starting together (web and worker) agree: only one creates the file."""
    import secrets
    import time

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other process may still be writing it
            key = path.read_text().strip()
            if key:
                if path.stat().st_mode & 0o077:
                    os.chmod(path, 0o600)
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it to make a new development SECRET_KEY")
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


def configure_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT reverse proxies (README: nginx in front of gunicorn), take the
    client's address and scheme from the X-Forwarded-For/-Proto values those proxies appended
    (counted from the right, so a client cannot choose its own address). Never X-Forwarded-Host:
    the host stays what the proxy asked for."""
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=0, x_port=0, x_prefix=0)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, foreign keys and a busy timeout on every SQLite connection."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_extensions(app: Flask) -> None:
    from blueprints.core import tasks

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    tasks.init_app(app)
    import blueprints.core.audit  # noqa: F401  (model registration)
    import blueprints.core.files  # noqa: F401
    import blueprints.core.mail  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from blueprints import ALL_BLUEPRINTS
    from blueprints.core.persistence import IdConverter

    # Before the blueprints' rules are bound: every <int:…> in a URL is a database id.
    app.url_map.converters["int"] = IdConverter
    for blueprint in ALL_BLUEPRINTS:
        app.register_blueprint(blueprint)
    # Every model is imported now: set up the mappers, so that a backref (Award.disbursement,
    # Award.settlement) exists as a class attribute for the first request's query, not only
    # after some earlier query happened to configure them.
    from sqlalchemy.orm import configure_mappers

    configure_mappers()


def register_error_handlers(app: Flask) -> None:
    from blueprints.core.errors import register_error_handlers as register
    from blueprints.core.security import add_security_headers

    register(app)
    app.after_request(add_security_headers)


def register_template_helpers(app: Flask) -> None:
    from blueprints.core.auth import ROLE_LABELS, can
    from blueprints.core.formatting import register_filters
    from blueprints.core.forms import EmptyForm
    from blueprints.core.paging import list_url
    from blueprints.core.states import register_states

    register_filters(app)
    register_states(app)
    app.jinja_env.globals["list_url"] = list_url  # links of a list page that carry its filters

    @app.context_processor
    def inject_globals():
        from flask import g

        return {
            "service_name": app.config["SERVICE_NAME"],
            "operator_name": app.config["OPERATOR_NAME"],
            "current_user": g.get("user"),
            "ROLE_LABELS": ROLE_LABELS,
            "can": lambda action, obj=None: can(g.get("user"), action, obj),
            "empty_form": EmptyForm,
        }


def register_commands(app: Flask) -> None:
    from blueprints.core import backup
    from demo import register

    register(app)
    backup.register(app)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(logging.INFO)
    # WeasyPrint reports every layout step at INFO; keep its warnings only.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
