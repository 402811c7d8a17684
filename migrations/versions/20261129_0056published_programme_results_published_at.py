"""programmes.results_published_at: when the selection results were published

Applying and the schedule ask the programme itself instead of reaching up into review's
selection scenarios. Filled from the scenarios already published.

Revision ID: 0056published
Revises: 0050identity
Create Date: 2026-11-29 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0056published'
down_revision = '0050identity'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_published_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE programmes SET results_published_at = (SELECT MIN(s.published_at) FROM selection_scenarios s "
               "WHERE s.programme_id = programmes.id AND s.status = 'published')")


def downgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('results_published_at')
