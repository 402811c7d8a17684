"""review settings for every programme: the row is now made with the programme, never on a
page view, so programmes made before (whose row a first page view would have made) get theirs
here, from the same defaults: the rules' aggregate and the end of the review's last day (KST).

Revision ID: 0055reviewsettings
Revises: 0053sessions
Create Date: 2026-11-29 15:30:00

"""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0055reviewsettings'
down_revision = '0053sessions'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    programmes = sa.table('programmes', sa.column('id', sa.Integer), sa.column('rules', sa.JSON),
                          sa.column('review_to', sa.Date))
    settings = sa.table('review_settings', sa.column('programme_id', sa.Integer), sa.column('blind', sa.Boolean),
                        sa.column('comment_rule', sa.String), sa.column('comment_below_pct', sa.Integer),
                        sa.column('aggregate', sa.String), sa.column('disagreement_points', sa.Integer),
                        sa.column('calibration_points', sa.Integer), sa.column('same_dong_rule', sa.Boolean),
                        sa.column('deadline', sa.DateTime(timezone=True)), sa.column('remind_days_before', sa.Integer),
                        sa.column('updated_at', sa.DateTime(timezone=True)))
    sqlite = bind.dialect.name == 'sqlite'

    def utc(value):
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if sqlite else value

    have = set(bind.execute(sa.select(settings.c.programme_id)).scalars())
    now = utc(datetime.now(timezone.utc))
    rows = []
    for programme_id, rules, review_to in bind.execute(sa.select(programmes.c.id, programmes.c.rules,
                                                                 programmes.c.review_to)):
        if programme_id in have:
            continue
        rule = str(((rules or {}).get('review') or {}).get('aggregate', ''))
        deadline = (utc(datetime.combine(review_to, time(23, 59, 59), tzinfo=ZoneInfo('Asia/Seoul')))
                    if review_to else None)
        rows.append(dict(programme_id=programme_id, blind=True, comment_rule='below', comment_below_pct=60,
                         aggregate='trimmed_mean' if 'trimmed' in rule else 'mean', disagreement_points=20,
                         calibration_points=10, same_dong_rule=False, deadline=deadline, remind_days_before=3,
                         updated_at=now))
    if rows:
        op.bulk_insert(settings, rows)


def downgrade():
    pass  # the rows stay: a first page view made them before
