"""Configuration read from the environment. Secrets never live in the code."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url_from_env():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'gongdong.db'}"
    # Heroku-style URLs name the old driver; we use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    APP_ENV = os.environ.get("APP_ENV", "development")
    # No default: production refuses to start without one; development makes a random one
    # into instance/secret_key (mode 0600) on first start and reuses it (app.configure_secret_key).
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE") or None  # default: <instance>/secret_key
    SQLALCHEMY_DATABASE_URI = database_url_from_env()
    # hide_parameters: a database error in the log shows the SQL, never the bound values
    # (e-mails, names, phone numbers) — no personal data in logs.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
    # Settlement PDF cache and ZIP exports; beside UPLOAD_DIR when unset (pdf-cache/, exports/).
    PDF_CACHE_DIR = os.environ.get("PDF_CACHE_DIR") or None
    EXPORT_DIR = os.environ.get("EXPORT_DIR") or None
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024
    # Uploaded images larger than this (width × height) are refused before decoding; PDFs with
    # more pages are refused at upload (a settlement PDF merges every page of every receipt).
    MAX_IMAGE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", str(40_000_000)))
    MAX_PDF_PAGES = int(os.environ.get("MAX_PDF_PAGES", "30"))

    # Mail: the outbox is always written; SMTP delivers when MAIL_SERVER is set,
    # otherwise development prints the message to the console log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "공동육아 자조모임 지원사업 <noreply@example.kr>")

    SERVICE_NAME = "공동육아 자조모임 지원사업"
    OPERATOR_NAME = os.environ.get("OPERATOR_NAME", "서울시육아종합지원센터")
    TIMEZONE = "Asia/Seoul"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # Server-side session record (blueprints/accounts/sessions.py): idle and absolute limits.
    SESSION_IDLE_TIMEOUT = timedelta(hours=float(os.environ.get("SESSION_IDLE_HOURS", "8")))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=float(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))
    SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
    # Between the password and the second factor (enrolment or code): this long, this many wrong codes.
    SECOND_FACTOR_PENDING_TTL = timedelta(minutes=10)
    SECOND_FACTOR_MAX_FAILURES = 5
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    # Login throttling by back-off per (account, address); see accounts.services.login_wait.
    LOGIN_WINDOW = timedelta(minutes=15)
    LOGIN_FREE_FAILURES = 5
    LOGIN_BACKOFF_BASE = timedelta(seconds=2)
    LOGIN_MAX_FAILURES_PER_IP = 30
    # Reverse proxies in front of the app that append X-Forwarded-For/-Proto (werkzeug ProxyFix).
    # 0: use the connection's address (nothing in front, or a proxy we do not trust).
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
    RESET_MAX_PER_WINDOW = 5
    PASSWORD_RESET_TTL = timedelta(hours=1)
    INVITE_TTL = timedelta(days=7)

    # Proving an address: the verification link's life, and how often a confirmation or
    # invitation mail may be asked for one address (sign-up, resend) within the window.
    EMAIL_VERIFY_TTL = timedelta(hours=24)
    VERIFY_MAIL_WINDOW = timedelta(minutes=15)
    VERIFY_MAIL_MAX_PER_WINDOW = 3
    # Registration step 2: distinct mobile numbers one user may check against other groups' 대표.
    PHONE_CHECK_WINDOW = timedelta(minutes=10)
    PHONE_CHECK_MAX = 10
    # Failed sign-ins, ended sessions and expired tokens are deleted this many days on
    # (accounts/housekeeping.py, with the daily retention job).
    SIGN_IN_RECORD_DAYS = int(os.environ.get("SIGN_IN_RECORD_DAYS", "30"))
    # The registration wizard's draft (other households' names and numbers, typed before anyone
    # consented): offered this many days after it was last saved, then destroyed by `flask
    # retention` (audited). The registration page states the number.
    REGISTRATION_DRAFT_DAYS = int(os.environ.get("REGISTRATION_DRAFT_DAYS", "7"))

    # argon2id parameters (RFC 9106 second recommended option, memory lowered for 2-core hosts)
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 2

    HUEY_BACKEND = os.environ.get("HUEY_BACKEND", "sqlite")  # sqlite | redis
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    HUEY_IMMEDIATE = _bool("HUEY_IMMEDIATE")  # run tasks at once, in the caller (core/tasks.py)

    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo1234!")


class ProductionConfig(Config):
    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    TESTING = True
    APP_ENV = "test"
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    MAIL_SERVER = ""
    HUEY_IMMEDIATE = True


def config_for_env():
    return ProductionConfig if os.environ.get("APP_ENV") == "production" else Config
