from app import create_app
from config import Config


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
        create_app({"APP_ENV": "production", "SECRET_KEY": Config.SECRET_KEY, "UPLOAD_DIR": str(tmp_path)})
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
