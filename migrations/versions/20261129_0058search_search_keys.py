"""groups.search_key and users.search_key (NFC, no spacing, dong variants) with a pg_trgm index

The search boxes compare normalised keys (blueprints/core/search.py): a decomposed "모임", "햇살 품앗이"
for "햇살품앗이" and "망원동" for "망원1동" all find their rows. Existing rows get their keys here;
from now on the models keep them current. On PostgreSQL a trigram GIN index serves the
substring search (pg_trgm is a trusted extension: the database owner may create it); SQLite
has no such index and scans the key column.

Revision ID: 0058search
Revises: 0058regdraft
Create Date: 2026-11-29 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0058search'
down_revision = '0058regdraft'
branch_labels = None
depends_on = None

KEYED = {"groups": ("name", "reg_no", "dong"), "users": ("email", "name")}


def upgrade():
    from blueprints.core.search import search_key

    for table in KEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_key', sa.String(length=1000), nullable=False, server_default=''))
    bind = op.get_bind()
    for table, fields in KEYED.items():
        t = sa.table(table, sa.column("id"), sa.column("search_key"), *(sa.column(f) for f in fields))
        rows = bind.execute(sa.select(t.c.id, *(t.c[f] for f in fields))).all()
        keys = [{"row_id": row[0], "key": search_key(*row[1:])} for row in rows]
        for i in range(0, len(keys), 1000):
            bind.execute(t.update().where(t.c.id == sa.bindparam("row_id")).values(search_key=sa.bindparam("key")),
                         keys[i:i + 1000])
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The operator class named with its schema: the extension lives once per database, in
        # whichever schema first created it, which need not be on this connection's search_path.
        schema = bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                      "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar()
        for table in KEYED:
            op.create_index(f"ix_{table}_search_key_trgm", table, ["search_key"], postgresql_using="gin",
                            postgresql_ops={"search_key": f'"{schema}".gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in KEYED:
            op.drop_index(f"ix_{table}_search_key_trgm", table_name=table)
    for table in KEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('search_key')
