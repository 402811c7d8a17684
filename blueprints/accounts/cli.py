"""`flask --app app invite-admin --email … --name … --site-url …`: an installation's first
administrator (or another one when none can be reached). Everyone else is invited from the
사용자·역할 screen by an administrator."""
import click
from flask import current_app

from blueprints.core.mail import deliver_pending
from extensions import db

from . import bp, services


@bp.cli.command("invite-admin")
@click.option("--email", required=True, help="관리자의 이메일 주소")
@click.option("--name", required=True, help="관리자의 이름")
@click.option("--site-url", required=True, help="사용자가 접속하는 주소 (예: https://gongdong.example.kr). 메일의 링크가 이 주소로 갑니다")
def invite_admin(email, name, site_url):
    """관리자를 초대합니다: 계정 설정 링크를 메일로 보내고 여기에도 출력합니다."""
    with current_app.test_request_context(base_url=site_url.rstrip("/")):
        try:
            user, link = services.admin_from_console(email=email, name=name)
        except services.AccountError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
    deliver_pending()
    if link:
        click.echo(f"{user.email} 주소로 관리자 초대 메일을 보냈습니다. 7일 안에 아래 링크에서 계정을 설정하고, "
                   "처음 로그인할 때 2단계 인증을 등록합니다.\n" + link)
    else:
        click.echo(f"{user.email} 계정에 관리자 역할을 주었습니다. 다음 로그인부터 관리자 메뉴가 보입니다.")
