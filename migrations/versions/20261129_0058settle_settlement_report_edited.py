"""settlements.report_edited and settlements.report_basis

The results report (결과보고) is drafted again from the numbers at every reading until the
group edits it; then its text is kept with the numbers it was written against, and the page
says which changed since. Settlements made before keep their text as it is (marked edited:
nobody can tell a stale draft from a group's own words).

Revision ID: 0058settle
Revises: 0058expense
Create Date: 2026-11-29 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0058settle'
down_revision = '0058expense'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_edited', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('report_basis', sa.JSON(), nullable=True))
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.alter_column('report_edited', server_default=None)


def downgrade():
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('report_basis')
        batch_op.drop_column('report_edited')
