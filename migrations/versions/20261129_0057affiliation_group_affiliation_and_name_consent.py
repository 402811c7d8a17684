"""groups.affiliation (센터/나눔터/기타) and groups.consent_publish_name_at

The centre's view counts groups by 자치구 and by where they meet (the city plan's 붙임1);
the public results page shows only the names of groups that agreed to it.

Revision ID: 0057affiliation
Revises: 0056published
Create Date: 2026-11-29 18:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0057affiliation'
down_revision = '0056published'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('affiliation', sa.String(length=16), nullable=False, server_default='other'))
        batch_op.add_column(sa.Column('consent_publish_name_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('known_affiliation', "affiliation IN ('centre', 'sharing', 'other')")


def downgrade():
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_groups_known_affiliation'), type_='check')
        batch_op.drop_column('consent_publish_name_at')
        batch_op.drop_column('affiliation')
