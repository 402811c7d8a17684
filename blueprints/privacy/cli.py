"""`flask --app app retention [--dry-run] [--today YYYY-MM-DD]` — run daily by cron."""
from datetime import date

import click

from . import bp
from .retention import run


@bp.cli.command("retention")
@click.option("--dry-run", is_flag=True, help="바꾸지 않고 무엇이 파기될지 출력합니다")
@click.option("--today", "today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="기준일(서울 날짜, 기본값 오늘). 시험·재처리용")
def retention(dry_run, today):
    """보존기간이 지난 개인정보를 파기(익명화)합니다."""
    day: date | None = today.date() if today is not None else None
    report = run(today=day, dry_run=dry_run, echo=click.echo)
    click.echo(report.summary())
    if report.failures:
        raise click.ClickException(f"{len(report.failures)}개 모임은 실패해 되돌렸습니다(위 메시지 참고).")
