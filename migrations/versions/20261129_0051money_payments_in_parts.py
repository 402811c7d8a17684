"""money: an instalment may be paid in parts; payment keys are scoped to one disbursement

Revision ID: 0051money
Revises: 0040retention
Create Date: 2026-11-29 15:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0051money'
down_revision = '0040retention'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_payments_disbursement_id_instalment', type_='unique')
        batch_op.drop_constraint('uq_payments_idempotency_key', type_='unique')
        batch_op.create_unique_constraint('uq_payments_disbursement_id_idempotency_key',
                                          ['disbursement_id', 'idempotency_key'])


def downgrade():
    # Keys were unique across disbursements and one payment per instalment before: fails if
    # payments made since in parts, or with the same key on two disbursements, are kept.
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_payments_disbursement_id_idempotency_key', type_='unique')
        batch_op.create_unique_constraint('uq_payments_idempotency_key', ['idempotency_key'])
        batch_op.create_unique_constraint('uq_payments_disbursement_id_instalment', ['disbursement_id', 'instalment'])
