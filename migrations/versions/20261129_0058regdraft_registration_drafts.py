"""registration_drafts: the registration wizard's answers kept per account between visits

Revision ID: 0058regdraft
Revises: 0058settle
Create Date: 2026-11-29 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0058regdraft'
down_revision = '0058settle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registration_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_registration_drafts_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_drafts')),
        sa.UniqueConstraint('user_id', name=op.f('uq_registration_drafts_user_id')),
    )
    with op.batch_alter_table('registration_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_drafts_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('registration_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_drafts_updated_at'))
    op.drop_table('registration_drafts')
