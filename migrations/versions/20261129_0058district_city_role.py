"""user_roles: the read-only role 'city' (시 담당관)

Revision ID: 0058district
Revises: 0057affiliation
Create Date: 2026-11-29 18:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0058district'
down_revision = '0057affiliation'
branch_labels = None
depends_on = None

OLD = "role IN ('applicant', 'reviewer', 'staff', 'finance', 'admin')"
NEW = "role IN ('applicant', 'reviewer', 'staff', 'finance', 'admin', 'city')"


def upgrade():
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_known_role'), type_='check')
        batch_op.create_check_constraint('known_role', NEW)


def downgrade():
    op.execute("DELETE FROM user_roles WHERE role = 'city'")
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_known_role'), type_='check')
        batch_op.create_check_constraint('known_role', OLD)
