"""expense_attachments (도서목록, 거래명세서, 참석자 명단, 기타 beside the 영수증) and
deleted_expenses (a deleted line kept for its undo for a few seconds)

The 영수증 stays expenses.receipt_file_id: the settlement checks, PDF, line review, exports
and retention keep reading it; no existing row moves.

Revision ID: 0058expense
Revises: 0058district
Create Date: 2026-11-29 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0058expense'
down_revision = '0058district'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'expense_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('expense_id', sa.Integer(), nullable=False),
        sa.Column('stored_file_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('book_list', 'statement', 'attendees', 'other')",
                           name=op.f('ck_expense_attachments_known_kind')),
        sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_expense_attachments_expense_id_expenses'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'],
                                name=op.f('fk_expense_attachments_stored_file_id_stored_files'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_attachments')),
    )
    op.create_index(op.f('ix_expense_attachments_expense_id'), 'expense_attachments', ['expense_id'], unique=False)
    op.create_table(
        'deleted_expenses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('award_id', sa.Integer(), nullable=False),
        sa.Column('expense_id', sa.Integer(), nullable=False),
        sa.Column('summary', sa.String(length=400), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('deleted_by_id', sa.Integer(), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undo_until', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_deleted_expenses_award_id_awards'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_deleted_expenses_deleted_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deleted_expenses')),
    )
    op.create_index(op.f('ix_deleted_expenses_award_id'), 'deleted_expenses', ['award_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_deleted_expenses_award_id'), table_name='deleted_expenses')
    op.drop_table('deleted_expenses')
    op.drop_index(op.f('ix_expense_attachments_expense_id'), table_name='expense_attachments')
    op.drop_table('expense_attachments')
