"""identity: verified e-mail addresses, invitations a household's owner accepts, phone-check limits

Revision ID: 0050identity
Revises: 0055reviewsettings
Create Date: 2026-11-29 15:30:00

Existing accounts that have a password count as verified (they signed up or accepted an
invitation link before this change); accounts still waiting for their invitation are not.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0050identity'
down_revision = '0055reviewsettings'
branch_labels = None
depends_on = None

OLD_PURPOSES = "purpose IN ('reset', 'invite')"
NEW_PURPOSES = "purpose IN ('reset', 'invite', 'verify')"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at WHERE password_hash IS NOT NULL")

    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_auth_tokens_known_purpose'), type_='check')
        batch_op.create_check_constraint('known_purpose', sa.text(NEW_PURPOSES))

    op.create_table(
        'member_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'accepted', 'declined', 'cancelled')",
                           name=op.f('ck_member_invitations_known_state')),
        sa.CheckConstraint("(state = 'pending') = (decided_at IS NULL)",
                           name=op.f('ck_member_invitations_decided_when_not_pending')),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_member_invitations_group_id_groups'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['group_members.id'],
                                name=op.f('fk_member_invitations_member_id_group_members'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_invitations_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'],
                                name=op.f('fk_member_invitations_invited_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_invitations')),
    )
    with op.batch_alter_table('member_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_invitations_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_invitations_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_member_invitations_one_pending', ['member_id'], unique=True,
                              sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.create_table(
        'phone_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('phone_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_phone_checks_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_checks')),
    )
    with op.batch_alter_table('phone_checks', schema=None) as batch_op:
        batch_op.create_index('ix_phone_checks_user_at', ['user_id', 'created_at'], unique=False)


def downgrade():
    op.drop_table('phone_checks')
    op.drop_table('member_invitations')
    op.execute("DELETE FROM auth_tokens WHERE purpose = 'verify'")
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_auth_tokens_known_purpose'), type_='check')
        batch_op.create_check_constraint('known_purpose', sa.text(OLD_PURPOSES))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
