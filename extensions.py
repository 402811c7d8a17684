"""Extension objects, created unbound and initialised in create_app (avoids import cycles)."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations work on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Views commit once and then render: keep what was loaded instead of reloading every object
# row by row (expired objects made list pages run one query per row after the commit).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def _render_migration_type(type_, obj, autogen_context):
    """Write our TypeDecorators (UTCDateTime) into migrations as the plain type they store."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: a schema object meant for another database (``ddl_if(dialect=…)``, such
    as the PostgreSQL-only trigram indexes of core/search.py) is not compared, so the SQLite
    schema without it matches the models."""
    ddl_if = getattr(obj, "_ddl_if", None)
    if ddl_if is None or ddl_if.dialect is None:
        return True
    return db.engine.dialect.name == ddl_if.dialect


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_migration_type,
                  include_object=include_object)
csrf = CSRFProtect()
htmx = Htmx()
