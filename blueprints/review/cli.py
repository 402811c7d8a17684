"""`flask --app app review-reminders`: deadline reminders for reviewers (run daily by cron)."""
import click

from blueprints.core.mail import deliver_pending
from blueprints.core.timeutil import today_kst
from extensions import db

from . import bp, services


@bp.cli.command("review-reminders")
def review_reminders():
    """E-mail reviewers with unfinished assignments when a review deadline is near (once a day)."""
    sent = services.send_reminders(today_kst())
    db.session.commit()
    deliver_pending()
    click.echo(f"심사 기한 안내 {sent}건을 보냈습니다.")
