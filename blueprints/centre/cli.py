"""`flask --app app district-report [--programme ID] [--year YYYY] [--district 구]`: the 자치구
table as CSV on standard output (one row per 자치구 plus 합계), for operators."""
import sys

import click
from flask.cli import with_appcontext

from . import bp


@bp.cli.command("district-report")
@click.option("--programme", "programme_id", type=int, default=None, help="공모사업 ID")
@click.option("--year", type=int, default=None, help="사업 연도")
@click.option("--district", default=None, help="자치구 (예: 마포구)")
@with_appcontext
def district_report(programme_id, year, district):
    from sqlalchemy import select

    from blueprints.core.exports import csv_bytes
    from blueprints.core.korean import with_particle
    from blueprints.groups.models import Group
    from blueprints.programmes.models import Programme
    from data.districts import SEOUL_DISTRICTS
    from extensions import db

    from .queries import district_sheet, district_table

    if programme_id is not None and db.session.get(Programme, programme_id) is None:
        raise click.ClickException(f"{programme_id}번 공모사업이 없습니다.")
    # A typo would print a table of zeros that reads like real figures.
    if year is not None and db.session.scalar(select(Programme.id).where(Programme.year == year).limit(1)) is None:
        raise click.ClickException(f"{year}년 공모사업이 없습니다.")
    if district and district not in SEOUL_DISTRICTS and db.session.scalar(
            select(Group.id).where(Group.district == district).limit(1)) is None:
        raise click.ClickException(f"{with_particle(district, '은/는')} 서울시 자치구가 아닙니다 (예: 마포구).")
    rows, totals = district_table(programme_id=programme_id, year=year, district=district)
    # Without the BOM: a pipe or a script reads plain UTF-8.
    text = csv_bytes(district_sheet(rows, totals)).decode("utf-8").lstrip("\ufeff")
    click.echo(text, nl=False)
    sys.stdout.flush()
