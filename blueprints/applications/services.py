"""Application operations: start, save a section (optimistic locking), attach, submit
(inside the window, hard rules passing, once), withdraw, and the staff's return/ineligible.
They mutate, flush and record the audit event; the view commits once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from blueprints.core import audit
from blueprints.core.files import store_upload
from blueprints.core.mail import queue_email
from blueprints.core.models import utcnow
from blueprints.core.timeutil import to_kst
from extensions import db

from . import checks
from .models import Application, ApplicationAttachment, ApplicationState, BudgetLine, DraftConflict, PlannedSession

MAX_ATTACHMENTS = 10
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


class ApplicationError(Exception):
    """A rule of the application domain; the message is shown to the person."""


class VersionConflict(ApplicationError):
    def __init__(self, conflict: DraftConflict):
        super().__init__("다른 담당자가 먼저 이 신청서를 고쳤습니다. 최신 내용을 불러왔고, 입력하신 내용도 아래에 따로 보관했습니다.")
        self.conflict = conflict


# Reading ------------------------------------------------------------------------------------

def household_count(application: Application) -> int:
    return len(application.group.members)


def budget_lines_for_check(lines) -> list[checks.Line]:
    return [checks.Line(category=l.category, item=l.item, unit_price_won=l.unit_price_won,
                        quantity=l.quantity, note=l.note) for l in lines]


def lines_from_rows(rows: list[dict]) -> list[checks.Line]:
    return [checks.Line(category=r.get("category") or "", item=r.get("item") or "",
                        unit_price_won=r.get("unit_price_won"), quantity=r.get("quantity"), note=r.get("note") or "")
            for r in rows]


def history(application: Application):
    """The application's audit events, oldest first (the group's and staff's view of its life)."""
    from blueprints.core.audit import AuditEvent

    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "application", AuditEvent.object_id == str(application.id),
        AuditEvent.action != "application.saved").order_by(AuditEvent.id)).all()


def sessions_for_check(sessions) -> list[dict]:
    return [dict(month=s.month, title=s.title, content=s.content) for s in sessions]


def check_budget(application: Application, lines: list[checks.Line] | None = None) -> checks.CheckResult:
    programme = application.programme
    return checks.check_budget(lines if lines is not None else budget_lines_for_check(application.lines),
                               programme.rules, households=household_count(application),
                               max_per_group_won=programme.max_per_group_won)


def check_plan(application: Application, sessions: list[dict] | None = None) -> checks.CheckResult:
    programme = application.programme
    per_month = (programme.rules.get("eligibility") or {}).get("min_meetings_per_month", 1) or 1
    return checks.check_plan(sessions if sessions is not None else sessions_for_check(application.sessions),
                             activity_start=programme.activity_start, activity_end=programme.activity_end,
                             min_per_month=per_month)


def full_check(application: Application) -> checks.CheckResult:
    """Everything submission requires, in one result (the same code the live checks run)."""
    result = checks.check_statements(purpose=application.purpose, need=application.need,
                                     other_funding=application.other_funding,
                                     other_funding_detail=application.other_funding_detail)
    result.extend(check_plan(application))
    result.extend(check_budget(application))
    group = application.group
    from blueprints.groups import eligibility

    verdict = eligibility.evaluate(eligibility.candidate_from_group(group),
                                   eligibility.rules_from_programme(application.programme))
    for check in verdict.missing:
        if check.code == "residency":
            continue  # its own check below, with the figures and the households to fix
        result.issues.append(checks.Issue("hard", f"모임 요건({check.title}): {check.message}", None,
                                          f"eligibility_{check.code}"))
    result.extend(checks.check_residency(verdict.residency))
    result.residency = verdict.residency
    if group.consent_provision_at is None:
        result.issues.append(checks.Issue("hard", "신청하려면 모임 정보의 자치구·시 제공에 동의해야 합니다. 모임 정보에서 동의해 주세요.",
                                          None, "provision_consent"))
    return result


def groups_user_can_apply_for(user) -> list:
    """The active groups where the user is 대표 or 회계."""
    from blueprints.groups.models import Group, GroupMember, GroupState

    return db.session.scalars(
        select(Group).join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id, GroupMember.role.in_(("leader", "treasurer")), Group.status == GroupState.active)
        .order_by(Group.name)).unique().all()


# Writing ------------------------------------------------------------------------------------

RESULTS_PUBLISHED = "선정 결과가 이미 공개되어 신청하거나 제출할 수 없습니다."


def start_application(group, programme, *, user) -> Application:
    if not programme.is_published:   # a draft is staff's alone: nobody applies to it
        raise ApplicationError("신청할 수 있는 공모사업이 아닙니다.")
    existing = db.session.scalar(select(Application).where(
        Application.group_id == group.id, Application.programme_id == programme.id))
    if existing is not None:
        return existing
    if not programme.is_open():
        raise ApplicationError("신청 기간이 아닙니다.")
    if programme.results_published:
        raise ApplicationError(RESULTS_PUBLISHED)
    application = Application(group=group, programme=programme, created_by_id=user.id, updated_by_id=user.id)
    db.session.add(application)
    db.session.flush()
    audit.record("application.started", application, summary=f"{group.name}: 신청서 작성 시작")
    return application


def _guard_version(application: Application, based_on_version: int | None, section: str, data: dict, user,
                   editor: str = "") -> None:
    """Refuse a save when this section was saved by another open form after the version the
    person was looking at. Their typing is kept as a DraftConflict, never dropped."""
    mark = (application.section_marks or {}).get(section)
    same_form = bool(editor) and mark is not None and mark["editor"] == editor
    if based_on_version is not None and mark is not None and mark["version"] > based_on_version and not same_form:
        conflict = DraftConflict(application_id=application.id, user_id=user.id, section=section,
                                 based_on_version=based_on_version, data=data)
        db.session.add(conflict)
        db.session.flush()
        audit.record("application.save_conflict", application,
                     summary=f"동시 수정 충돌: {section} (기준 v{based_on_version}, 현재 v{application.version})")
        raise VersionConflict(conflict)


def _editable(application: Application) -> None:
    if not application.is_editable:
        raise ApplicationError("제출했거나 심사 중인 신청서는 고칠 수 없습니다.")


def save_statements(application: Application, *, purpose: str, need: str, other_funding: bool | None,
                    other_funding_detail: str, based_on_version: int | None, user, section: str = "purpose",
                    editor: str = "") -> None:
    _editable(application)
    data = dict(purpose=purpose, need=need, other_funding=other_funding, other_funding_detail=other_funding_detail)
    _guard_version(application, based_on_version, section, data, user, editor)
    application.purpose, application.need = purpose, need
    application.other_funding, application.other_funding_detail = other_funding, other_funding_detail
    _touch(application, user, section, editor)


def save_sessions(application: Application, sessions: list[dict], *, based_on_version: int | None, user,
                  editor: str = "") -> None:
    _editable(application)
    _guard_version(application, based_on_version, "plan", {"sessions": sessions}, user, editor)
    application.sessions.clear()
    db.session.flush()
    for position, s in enumerate(sessions):
        application.sessions.append(PlannedSession(position=position, **s))
    _touch(application, user, "plan", editor)


_LINE_FIELDS = ("category", "item", "unit_price_won", "quantity", "amount_won", "note")


def save_budget(application: Application, lines: list[dict], *, based_on_version: int | None, user,
                editor: str = "") -> bool:
    """Make the budget lines these (by position: a changed line is updated, extra lines are
    added or removed). Values that could not be read are saved as 0 (the form keeps showing
    what was typed, with its message). When nothing differs from what is stored, nothing is
    written (no new version, no audit event) and False is returned."""
    _editable(application)
    _guard_version(application, based_on_version, "budget", {"lines": lines}, user, editor)
    wanted = []
    for line in lines:
        price, quantity = line.get("unit_price_won") or 0, line.get("quantity") or 0
        wanted.append(dict(category=line.get("category") or "", item=line.get("item") or "", unit_price_won=price,
                           quantity=quantity, amount_won=price * quantity, note=line.get("note") or ""))
    current = list(application.lines)
    if len(current) == len(wanted) and all(
            getattr(have, f) == want[f] for have, want in zip(current, wanted) for f in _LINE_FIELDS):
        return False
    for position, want in enumerate(wanted):
        if position < len(current):
            have = current[position]
            have.position = position
            for f in _LINE_FIELDS:
                if getattr(have, f) != want[f]:
                    setattr(have, f, want[f])
        else:
            application.lines.append(BudgetLine(position=position, **want))
    for extra in current[len(wanted):]:
        application.lines.remove(extra)
    application.requested_won = sum(w["amount_won"] for w in wanted)
    _touch(application, user, "budget", editor)
    return True


# Autosave saves on every pause in typing. The audit trail keeps one "application.saved" event
# per run of saves of one section by one person, with nothing else saved in between, for at most
# this long from its first save: the event is updated (versions, number of saves, last time)
# instead of a new row per pause.
SAVE_EVENT_WINDOW = timedelta(minutes=10)


def _touch(application: Application, user, section: str, editor: str = "") -> None:
    now = utcnow()
    application.updated_by_id = user.id
    application.updated_at = now
    # The version this save will produce (the version column bumps on flush).
    version = application.version + 1
    marks = dict(application.section_marks or {})
    previous = marks.get(section) or {}
    started = previous.get("audit_at")
    coalesce = (started is not None and previous.get("user") == user.id
                and previous.get("version") == application.version  # no other save since
                and now - datetime.fromisoformat(started) < SAVE_EVENT_WINDOW)
    mark = {"version": version, "editor": (editor or "")[:32], "user": user.id,
            "audit_at": started if coalesce else now.isoformat(),
            "first_version": previous.get("first_version", previous.get("version")) if coalesce else version,
            "saves": previous.get("saves", 1) + 1 if coalesce else 1}
    marks[section] = mark
    application.section_marks = marks
    try:
        db.session.flush()  # a concurrent writer of the same row raises StaleDataError here
    except StaleDataError as exc:
        raise ApplicationError("다른 담당자가 동시에 저장했습니다. 페이지를 새로 고쳐 주세요.") from exc
    # Audit the save, not every keystroke's content.
    if coalesce:
        summary = (f"{section} 저장 (v{mark['first_version']}–v{version}, {mark['saves']}회, "
                   f"마지막 {to_kst(now):%H:%M:%S})")
        changes = json.dumps({"before": {"version": mark["first_version"]},
                              "after": {"version": version, "saves": mark["saves"], "last_saved_at": now.isoformat()}})
        updated = db.session.execute(
            update(audit.AuditEvent)
            .where(audit.AuditEvent.object_type == "application", audit.AuditEvent.object_id == str(application.id),
                   audit.AuditEvent.action == "application.saved", audit.AuditEvent.actor_id == user.id,
                   audit.AuditEvent.created_at == datetime.fromisoformat(started))
            .values(summary=summary, changes=changes).execution_options(synchronize_session=False))
        if updated.rowcount == 1:
            return
        # The run's event is gone (never expected): record this save on its own.
    event = audit.record("application.saved", application, object_id=application.id, actor=user,
                         summary=f"{section} 저장 (v{version})")
    event.created_at = now  # the key the next save of this run finds the event by


def add_attachment(application: Application, upload, label: str, *, user) -> ApplicationAttachment:
    _editable(application)
    if len(application.attachments) >= MAX_ATTACHMENTS:
        raise ApplicationError(f"첨부파일은 {MAX_ATTACHMENTS}개까지 올릴 수 있습니다.")
    stored = store_upload(upload, max_bytes=ATTACHMENT_MAX_BYTES, user=user)
    attachment = ApplicationAttachment(stored_file_id=stored.id, label=label or stored.original_name)
    application.attachments.append(attachment)
    db.session.flush()
    audit.record("application.attachment_added", application, summary=f"첨부: {attachment.label}")
    return attachment


def remove_attachment(application: Application, attachment: ApplicationAttachment, *, user) -> None:
    _editable(application)
    label = attachment.label
    application.attachments.remove(attachment)
    db.session.flush()
    audit.record("application.attachment_removed", application, summary=f"첨부 삭제: {label}")


def submit(application: Application, *, user, now: datetime | None = None) -> bool:
    """Submit (or resubmit after a return). Returns False when it was already submitted —
    a double click, a second tab or a retried request — and changes nothing then."""
    now = now or utcnow()
    if application.status == ApplicationState.submitted:
        return False
    _editable(application)
    programme = application.programme
    if programme.results_published:
        raise ApplicationError(RESULTS_PUBLISHED)
    # A returned application may be resubmitted after the window; a new one only inside it.
    if application.status == ApplicationState.draft and not programme.is_open(now):
        raise ApplicationError(f"신청 기간({to_kst(programme.closes_at):%Y. %-m. %-d. %H:%M} 마감)이 지나 제출할 수 없습니다. "
                               "작성한 내용은 그대로 저장되어 있습니다.")
    result = full_check(application)
    if not result.passes:
        raise ApplicationError(f"고쳐야 할 항목이 {len(result.hard)}개 있습니다. 표시된 내용을 확인해 주세요.")
    previous = application.status
    # One conditional UPDATE decides who submits: a concurrent second request matches no row.
    claimed = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status == previous,
               Application.version == application.version)
        .values(status=ApplicationState.submitted, submitted_at=now, version=Application.version + 1,
                submission_count=Application.submission_count + 1, warning_count=len(result.warnings))
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return False
    db.session.refresh(application)
    application.snapshot = build_snapshot(application, result)
    db.session.flush()
    audit.record("application.submitted" if previous == ApplicationState.draft else "application.resubmitted", application,
                 summary=f"{application.group.name}: 제출 (요청액 {application.requested_won:,}원)",
                 before={"status": previous}, after={"status": ApplicationState.submitted})
    for member in application.group.members:
        if member.role in {"leader", "treasurer"} and member.user is not None:
            queue_email(member.user.email, f"[공동육아 자조모임] {programme.title} 신청서 제출 완료",
                        f"{application.group.name}의 신청서가 {to_kst(now):%Y. %-m. %-d. %H:%M}에 제출되었습니다.\n"
                        f"요청액: {application.requested_won:,}원")
    return True


def build_snapshot(application: Application, result: checks.CheckResult) -> dict:
    """The frozen submission: what reviewers read and the PDF prints, whatever changes later."""
    group, programme = application.group, application.programme
    leader = group.officer("leader")
    return {
        "submitted_at": application.submitted_at.isoformat(),
        "submission": application.submission_count,
        "programme": {"id": programme.id, "title": programme.title, "operator": programme.operator},
        "group": {"id": group.id, "reg_no": group.reg_no, "name": group.name, "district": group.district,
                  "dong": group.dong, "meeting_place": group.meeting_place, "households": len(group.members),
                  "children": sum(len(m.children) for m in group.members),
                  "leader": leader.parent_name if leader else ""},
        "purpose": application.purpose,
        "need": application.need,
        "other_funding": application.other_funding,
        "other_funding_detail": application.other_funding_detail,
        "sessions": [dict(month=s.month, title=s.title, content=s.content, place=s.place,
                          expected_households=s.expected_households, expected_children=s.expected_children)
                     for s in application.sessions],
        "lines": [dict(category=l.category, category_label=_category_label(programme.rules, l.category),
                       item=l.item, unit_price_won=l.unit_price_won, quantity=l.quantity,
                       amount_won=l.amount_won, note=l.note) for l in application.lines],
        "categories": [dict(code=c.code, label=c.label, total=c.total, share=round(c.share, 4))
                       for c in result.categories],
        "total_won": result.total_won,
        "limit_won": result.limit_won,
        "warnings": [i.message for i in result.warnings],
        "attachments": [dict(id=a.id, label=a.label, kind=a.stored_file.kind, size=a.stored_file.size)
                        for a in application.attachments],
        # What held at submission: households move and districts get corrected later.
        "residency": _residency_figures(result.residency),
    }


def _residency_figures(residency) -> dict | None:
    if residency is None:
        return None
    return {"scope": residency.scope, "households": residency.total, "resident": residency.resident,
            "share_percent": residency.share_text, "minimum": float(residency.min_share),
            "outside": list(residency.outside), "unknown": list(residency.unknown)}


def _category_label(rules: dict, code: str) -> str:
    from blueprints.programmes.rules import category

    found = category(rules, code)
    return found["label"] if found else code


def withdraw(application: Application, *, user, reason: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    if application.status not in {ApplicationState.draft, ApplicationState.submitted, ApplicationState.returned}:
        raise ApplicationError("이 단계에서는 신청을 철회할 수 없습니다.")
    if not application.programme.is_open(now):
        raise ApplicationError("신청 기간이 끝나 철회할 수 없습니다. 담당자에게 문의해 주세요.")
    previous = application.status
    application.status = ApplicationState.withdrawn
    application.updated_by_id = user.id
    db.session.flush()
    audit.record("application.withdrawn", application, summary=f"신청 철회{': ' + reason if reason else ''}",
                 before={"status": previous}, after={"status": ApplicationState.withdrawn})


def return_for_changes(application: Application, message: str, *, user) -> None:
    _staff_decision(application, ApplicationState.returned, message, empty="보완 요청 내용을 적어 주세요.",
                    action="application.returned", summary="보완 요청",
                    mail=("신청서 보완 요청", "담당자가 신청서 보완을 요청했습니다.\n\n{text}"))


def mark_ineligible(application: Application, reason: str, *, user) -> None:
    _staff_decision(application, ApplicationState.ineligible, reason, empty="부적격 사유를 적어 주세요.",
                    action="application.marked_ineligible", summary="부적격",
                    mail=("신청서 검토 결과(부적격)", "신청서가 부적격으로 처리되었습니다.\n사유: {text}"))


def _staff_decision(application: Application, status: str, text: str, *, empty: str, action: str, summary: str,
                    mail: tuple[str, str]) -> None:
    """Staff send a submitted application back (returned) or out (ineligible), with a reason."""
    if application.status not in {ApplicationState.submitted, ApplicationState.under_review}:
        raise ApplicationError("제출된 신청서만 처리할 수 있습니다.")
    text = text.strip()
    if not text:
        raise ApplicationError(empty)
    previous = application.status
    application.status = status
    application.staff_message = text
    db.session.flush()
    audit.record(action, application, summary=f"{summary}: {text[:100]}",
                 before={"status": previous}, after={"status": status})
    subject, body = mail
    _notify_officers(application, subject, body.format(text=text))


def _notify_officers(application: Application, subject: str, body: str) -> None:
    for member in application.group.members:
        if member.role in {"leader", "treasurer"} and member.user is not None:
            queue_email(member.user.email, f"[공동육아 자조모임] {subject}", f"{application.group.name}\n{body}")
