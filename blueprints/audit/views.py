"""Browse the audit trail (admins): filter by who, object and date; pages swap in place."""
from datetime import datetime, time, timedelta

from flask import request
from sqlalchemy import select
from wtforms import DateField, SearchField, StringField
from wtforms.validators import Length, Optional

from blueprints.accounts.models import User
from blueprints.core.audit import AuditEvent
from blueprints.core.auth import permission_required, register_permission
from blueprints.core.forms import BaseForm
from blueprints.core.htmx import render
from blueprints.core.search import matches
from blueprints.core.timeutil import KST
from extensions import db

from . import bp

register_permission("view_audit", "admin")


class AuditFilterForm(BaseForm):
    class Meta:
        csrf = False

    who = SearchField("사용자(이메일·이름)", validators=[Optional(), Length(max=100)])
    object_type = StringField("대상 종류", validators=[Optional(), Length(max=40)])
    object_id = StringField("대상 번호", validators=[Optional(), Length(max=40)])
    date_from = DateField("시작일", validators=[Optional()])
    date_to = DateField("종료일", validators=[Optional()])


def filtered_events(form: AuditFilterForm):
    stmt = select(AuditEvent)
    if form.who.data:
        stmt = stmt.join(User, User.id == AuditEvent.actor_id).where(
            matches(form.who.data, User.search_key))
    if form.object_type.data:
        stmt = stmt.where(AuditEvent.object_type == form.object_type.data)
    if form.object_id.data:
        stmt = stmt.where(AuditEvent.object_id == form.object_id.data)
    # Dates are days in Seoul.
    if form.date_from.data:
        stmt = stmt.where(AuditEvent.created_at >= datetime.combine(form.date_from.data, time(), KST))
    if form.date_to.data:
        stmt = stmt.where(AuditEvent.created_at < datetime.combine(form.date_to.data + timedelta(days=1), time(), KST))
    return stmt.order_by(AuditEvent.id.desc())


@bp.route("/")
@permission_required("view_audit")
def list_events():
    form = AuditFilterForm(request.args)
    if not form.validate():
        form = AuditFilterForm()  # malformed filters: show everything, not an error
    page = request.args.get("page", 1, type=int)
    events = db.paginate(filtered_events(form), page=page, per_page=30, error_out=False)
    return render("audit/list.html", fragments={"audit-results": "results", "audit-filter": "results"},
                  form=form, events=events)
