"""retention: when a group's contacts, a settlement's records and an account were anonymised

Revision ID: 0040retention
Revises: 0030money
Create Date: 2026-11-23 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0040retention'
down_revision = '0030money'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contacts_anonymised_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_anonymised_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('records_anonymised_at')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('contacts_anonymised_at')
