"""`flask --app app export-settlements --programme ID --out DIR`: every settlement PDF of a
programme into a folder (cached PDFs are reused)."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from . import bp


@bp.cli.command("export-settlements")
@click.option("--programme", "programme_id", type=int, required=True, help="공모사업 ID")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="PDF를 쓸 폴더")
@with_appcontext
def export_settlements(programme_id, out_dir):
    from extensions import db
    from blueprints.programmes.models import Programme

    from .jobs import write_pdfs

    if db.session.get(Programme, programme_id) is None:
        raise click.ClickException(f"{programme_id}번 공모사업이 없습니다.")
    written = write_pdfs(programme_id, Path(out_dir),
                         progress=lambda i, n: click.echo(f"\r{i}/{n}", nl=False))
    click.echo(f"\n{len(written)}개 PDF를 {out_dir}에 썼습니다.")
