from app import create_app


def test_config_defaults_to_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from config import database_url_from_env

    assert database_url_from_env().startswith("sqlite:///")
    assert database_url_from_env().endswith("instance/gongdong.db")


def test_postgres_urls_use_psycopg3(monkeypatch):
    from config import database_url_from_env

    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/db")
    assert database_url_from_env() == "postgresql+psycopg://u@127.0.0.1/db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    assert database_url_from_env() == "postgresql+psycopg://u@127.0.0.1/db"


def test_production_refuses_the_development_secret(tmp_path):
    import pytest

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": None, "UPLOAD_DIR": str(tmp_path)})
    with pytest.raises(RuntimeError):
        create_app({"APP_ENV": "production", "SECRET_KEY": "short", "UPLOAD_DIR": str(tmp_path)})
    app = create_app({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "UPLOAD_DIR": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["APP_ENV"] == "production"


def test_production_cookie_flags():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_sqlite_connection_has_wal_and_foreign_keys(app):
    from sqlalchemy import text

    from extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from extensions import db

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_config_has_no_public_secret_key(monkeypatch):
    """Issue 12: the key comes from the environment or nowhere (no default in the code)."""
    import importlib

    import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    try:
        fresh = importlib.reload(config)
        assert fresh.Config.SECRET_KEY is None
        assert fresh.ProductionConfig.SECRET_KEY is None
        assert not hasattr(fresh, "DEV_SECRET_KEY")
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_production_without_a_secret_key_refuses_to_start_and_writes_nothing(tmp_path):
    import pytest

    key_file = tmp_path / "secret_key"
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": None, "SECRET_KEY_FILE": str(key_file),
                    "UPLOAD_DIR": str(tmp_path)})
    assert not key_file.exists()  # production never falls back to a generated key


def test_development_makes_a_private_random_key_once_and_reuses_it(tmp_path):
    import stat

    key_file = tmp_path / "secret_key"
    settings = {"APP_ENV": "development", "SECRET_KEY": None, "SECRET_KEY_FILE": str(key_file),
                "UPLOAD_DIR": str(tmp_path / "uploads"), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(dict(settings))
    key = first.config["SECRET_KEY"]
    assert key and len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == key
    assert create_app(dict(settings)).config["SECRET_KEY"] == key  # the next start reuses it
    other = create_app(dict(settings, SECRET_KEY_FILE=str(tmp_path / "other")))
    assert other.config["SECRET_KEY"] != key  # random, not a constant


def test_a_key_from_the_environment_wins_and_no_file_is_written(tmp_path):
    key_file = tmp_path / "secret_key"
    app = create_app({"APP_ENV": "development", "SECRET_KEY": "k" * 40, "SECRET_KEY_FILE": str(key_file),
                      "UPLOAD_DIR": str(tmp_path / "uploads"), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "k" * 40
    assert not key_file.exists()


def test_a_fresh_process_can_name_every_relationship_in_its_first_query(tmp_path):
    """The first request of a new process once answered 500 on the programme list and the
    finance dashboard: Programme.notices, Award.disbursement and Award.settlement were backrefs,
    which exist only once SQLAlchemy has configured the mappers."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("from app import create_app\n"
            "create_app()\n"
            "from sqlalchemy.orm import selectinload\n"
            "from blueprints.awards.models import Award\n"
            "from blueprints.programmes.models import Programme\n"
            "selectinload(Programme.notices), selectinload(Award.disbursement), selectinload(Award.settlement)\n")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
           "INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
