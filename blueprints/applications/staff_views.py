"""Staff: the application list of a programme (search, filter, sort, paging, bulk actions)
and its CSV/XLSX export with the budget lines."""
from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, lazyload, load_only
from wtforms import SearchField, SelectField
from wtforms.validators import Optional

from blueprints.core.auth import permission_required, register_permission
from blueprints.core.exports import DATETIME, FORMATS, INT, WON, Column, Sheet, send_table
from blueprints.core.forms import BaseForm
from blueprints.core.htmx import render
from blueprints.core.paging import Page, page_number
from blueprints.core.persistence import commit, get_or_404
from blueprints.core.search import matches
from blueprints.groups.models import Group
from blueprints.programmes.models import Programme
from data.districts import SEOUL_DISTRICTS
from extensions import db

from . import bp, services
from .forms import BulkActionForm
from .models import Application, ApplicationState, BudgetLine

register_permission("manage_applications", "staff")
register_permission("export_applications", "staff", "finance")

SORTS = {
    "submitted": Application.submitted_at.desc().nulls_last(),
    "requested": Application.requested_won.desc(),
    "group": Group.name.asc(),
    "district": Group.district.asc(),
    "warnings": Application.warning_count.desc(),
}


class ListFilterForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField("모임명·등록번호·동", validators=[Optional()])
    district = SelectField("자치구", choices=[("", "전체")] + [(d, d) for d in SEOUL_DISTRICTS], validators=[Optional()])
    status = SelectField("상태", choices=[("", "전체")] + ApplicationState.choices(), validators=[Optional()])
    warnings = SelectField("규칙 경고", choices=[("", "전체"), ("yes", "경고 있음"), ("no", "경고 없음")], validators=[Optional()])
    sort = SelectField("정렬", choices=[("submitted", "제출 최신순"), ("requested", "요청액 큰 순"), ("group", "모임명순"),
                                      ("district", "자치구순"), ("warnings", "경고 많은 순")], validators=[Optional()])


LIST_COLUMNS = (Application.group_id, Application.programme_id, Application.status, Application.requested_won,
                Application.warning_count, Application.submitted_at, Application.version)


def filtered(programme: Programme, form: ListFilterForm):
    # Only the columns the list shows: the database sorts whole rows before it can skip to page
    # 40, and the programme (the page's own, already in the session) is not joined into every
    # row, where its rules JSON (~13 KB) would be sorted along and decoded per row. The group
    # comes from the join the filters use (not a second join).
    stmt = (select(Application).join(Group, Group.id == Application.group_id)
            .where(Application.programme_id == programme.id)
            .options(load_only(*LIST_COLUMNS), lazyload(Application.programme),
                     contains_eager(Application.group).load_only(Group.name, Group.reg_no, Group.district)))
    return _where(stmt, form).order_by(SORTS.get(form.sort.data or "submitted", SORTS["submitted"]), Application.id)


def _where(stmt, form: ListFilterForm, *, status=True):
    """The list's filters on a statement that joins Group (the list, its export, its counts)."""
    if form.q.data:
        stmt = stmt.where(matches(form.q.data, Group.search_key))
    if form.district.data:
        stmt = stmt.where(Group.district == form.district.data)
    if status and ApplicationState.known(form.status.data):
        stmt = stmt.where(Application.status == form.status.data)
    if form.warnings.data == "yes":
        stmt = stmt.where(Application.warning_count > 0)
    elif form.warnings.data == "no":
        stmt = stmt.where(Application.warning_count == 0)
    return stmt


def _filter_form() -> ListFilterForm:
    """The filters of the query string; an invalid one (a hand-edited URL) shows everything."""
    form = ListFilterForm(request.args)
    return form if form.validate() else ListFilterForm()


def _page(programme: Programme, form: ListFilterForm, requested: int | None, per_page: int = 25) -> Page:
    """One page of the filtered list; a page past the end (a stale link) shows the last one."""
    total = db.session.scalar(_where(
        select(func.count(Application.id)).join(Group, Group.id == Application.group_id)
        .where(Application.programme_id == programme.id), form))
    number = page_number(requested, total, per_page)
    items = db.session.scalars(filtered(programme, form).limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=list(items), page=number, per_page=per_page, total=total)


@bp.route("/programme/<int:programme_id>")
@permission_required("manage_applications")
def staff_list(programme_id):
    programme = get_or_404(Programme, programme_id)
    form = _filter_form()
    page = _page(programme, form, request.args.get("page", 1, type=int))
    # What the filters other than the status select, by status (so each count is what choosing
    # that status would show).
    counts = dict(db.session.execute(_where(
        select(Application.status, func.count()).join(Group, Group.id == Application.group_id)
        .where(Application.programme_id == programme.id), form, status=False).group_by(Application.status)).all())
    return render("applications/staff_list.html", fragments={"app-results": "results", "app-filter": "results"},
                  programme=programme, form=form, page=page, counts=counts, bulk_form=BulkActionForm())


@bp.route("/programme/<int:programme_id>/bulk", methods=["POST"])
@permission_required("manage_applications")
def staff_bulk(programme_id):
    programme = get_or_404(Programme, programme_id)
    form = BulkActionForm()
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    if not form.validate_on_submit() or not ids:
        flash("처리할 신청서를 고르고 사유를 적어 주세요.", "error")
        return redirect(url_for("applications.staff_list", programme_id=programme.id), 303)
    applications = db.session.scalars(select(Application).where(
        Application.id.in_(ids), Application.programme_id == programme.id)).all()
    done, skipped = 0, 0
    for application in applications:
        try:
            if form.action.data == "return":
                services.return_for_changes(application, form.message.data, user=g.user)
            else:
                services.mark_ineligible(application, form.message.data, user=g.user)
            done += 1
        except services.ApplicationError:
            skipped += 1
    commit()
    flash(f"{done}건 처리했습니다." + (f" {skipped}건은 처리할 수 없는 상태라 건너뛰었습니다." if skipped else ""), "success")
    return redirect(url_for("applications.staff_list", programme_id=programme.id), 303)


EXPORT_COLUMNS = [Column("신청번호", INT), Column("등록번호"), Column("모임명"), Column("자치구"), Column("상태"),
                  Column("제출일시", DATETIME), Column("요청액(원)", WON), Column("경고 수", INT), Column("비목"),
                  Column("품목"), Column("단가(원)", WON), Column("수량", INT), Column("금액(원)", WON), Column("비고")]


def export_rows(programme: Programme, form: ListFilterForm | None = None):
    """The applications the list shows with these filters, in its order (all by number without),
    one row per budget line.
    Plain columns, not ORM objects: an application's JSON (its frozen snapshot, ~10 KB) would be
    decoded once per budget line."""
    from blueprints.programmes.rules import category

    stmt = (select(Application.id, Group.reg_no, Group.name, Group.district, Application.status,
                   Application.submitted_at, Application.requested_won, Application.warning_count,
                   BudgetLine.id, BudgetLine.category, BudgetLine.item, BudgetLine.unit_price_won,
                   BudgetLine.quantity, BudgetLine.amount_won, BudgetLine.note)
            .join(Group, Group.id == Application.group_id)
            .outerjoin(BudgetLine, BudgetLine.application_id == Application.id)
            .where(Application.programme_id == programme.id))
    sort = Application.id
    if form is not None:
        stmt = _where(stmt, form)
        sort = SORTS.get(form.sort.data or "submitted", SORTS["submitted"])
    stmt = stmt.order_by(sort, Application.id, BudgetLine.position)   # in the list's order
    labels: dict[str, str] = {}
    for (app_id, reg_no, name, district, status, submitted_at, requested, warnings,
         line_id, code, item, unit_price, quantity, amount, note) in db.session.execute(stmt):
        base = [app_id, reg_no, name, district, ApplicationState.title_of(status), submitted_at, requested, warnings]
        if line_id is None:
            yield base + ["", "", "", "", "", ""]
        else:
            if code not in labels:
                cat = category(programme.rules, code)
                labels[code] = cat["label"] if cat else code
            yield base + [labels[code], item, unit_price, quantity, amount, note]


@bp.route("/programme/<int:programme_id>/export.<fmt>")
@permission_required("export_applications")
def staff_export(programme_id, fmt):
    programme = get_or_404(Programme, programme_id)
    if fmt not in FORMATS:
        abort(404)
    return send_table(Sheet("신청서", EXPORT_COLUMNS, export_rows(programme, _filter_form())), fmt,
                      f"applications-{programme.year}-{programme.id}.{fmt}")
