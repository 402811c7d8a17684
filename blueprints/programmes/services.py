"""Programme operations: create (from the preset or by copying), edit a section, publish.

Each mutates, flushes and records an audit event; the view commits once.
"""
from copy import deepcopy
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm import selectinload

from blueprints.core import audit
from blueprints.core.models import utcnow
from blueprints.core.timeutil import to_kst
from extensions import db

from . import rules as R
from .defaults import programme_defaults, programme_fields_from_defaults
from .models import Programme, ProgrammeNotice, ProgrammeState
from .sections import COLUMNS, SECTIONS, changed_facts, snapshot

DEFAULT_TITLE = "{year}년 공동육아 자조모임 지원사업"


class ProgrammeError(Exception):
    """A request the rules refuse; the message is Korean and shown to staff."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ReasonRequired(ProgrammeError):
    pass


# Queries -----------------------------------------------------------------------------------

def all_programmes() -> list[Programme]:
    return list(db.session.scalars(select(Programme).order_by(Programme.year.desc(), Programme.opens_at.desc())))


def public_programmes(at: datetime | None = None) -> tuple[list[Programme], list[Programme]]:
    """Published programmes: (open or upcoming, soonest deadline first), (closed, newest first)."""
    at = at or utcnow()
    # The notices come along in one more statement (the list flags them), not one per programme.
    published = [p for p in db.session.scalars(
        select(Programme).options(selectinload(Programme.notices))
        .order_by(Programme.year.desc(), Programme.opens_at.desc())) if p.is_published]
    current = sorted((p for p in published if not p.is_closed(at)), key=lambda p: p.closes_at)
    past = [p for p in published if p.is_closed(at)]
    return current, past


def notices_for(programme: Programme) -> list[ProgrammeNotice]:
    return list(db.session.scalars(select(ProgrammeNotice).where(ProgrammeNotice.programme_id == programme.id)
                                   .order_by(ProgrammeNotice.created_at.desc(), ProgrammeNotice.id.desc())))


# Create ------------------------------------------------------------------------------------

def _shift(value, years: int):
    if value is None or years == 0:
        return value
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


def _title_taken(year: int, title: str) -> bool:
    return db.session.scalar(select(Programme.id).where(Programme.year == year, Programme.title == title)) is not None


def create_programme(*, year: int, title: str | None, source: Programme | None, by) -> Programme:
    """A draft programme for ``year``: from the preset (source None) or a copy of ``source``.

    Every date moves by the difference in years, so a copy of 2027's programme for 2028 keeps
    its calendar (window, review, activity, settlement) one year later.
    """
    if source is None:
        fields = programme_fields_from_defaults(programme_defaults())
        origin = "기본값"
    else:
        fields = {name: getattr(source, name) for name in COLUMNS}
        fields["rules"] = R.normalise_rules(deepcopy(source.rules or {}))
        origin = f"‘{source.title}’ 복사"
    years = year - fields["year"]
    for name in ("opens_at", "closes_at", "review_from", "review_to", "activity_start", "activity_end",
                 "settlement_due"):
        fields[name] = _shift(fields[name], years)
    fields["year"] = year
    fields["title"] = title or DEFAULT_TITLE.format(year=year)
    if _title_taken(year, fields["title"]):
        raise ProgrammeError(f"{year}년에 같은 이름의 사업이 이미 있습니다. 사업명을 바꾸어 주세요.", field="title")
    fields["rules"]["status"] = ProgrammeState.draft
    fields["rules"].pop("published_at", None)
    programme = Programme(**fields)
    db.session.add(programme)
    db.session.flush()
    audit.record("programme.copied" if source else "programme.created", programme, actor=by,
                 summary=f"{programme.title} 초안 생성 ({origin})",
                 after={"year": year, "title": programme.title, "source_id": source.id if source else None})
    return programme


# Edit --------------------------------------------------------------------------------------

def needs_reason(programme: Programme, section_key: str) -> bool:
    return programme.changes_need_reason and SECTIONS[section_key].affects_applicants


def update_section(programme: Programme, section_key: str, new_state: dict, *, reason: str | None,
                   by) -> tuple[list[tuple[str, str, str]], ProgrammeNotice | None]:
    """Write one section's new values. Returns the changed facts and the notice, if one was due.

    After the window has opened (published programme), a change to rules applicants rely on
    needs a written reason; it becomes a ProgrammeNotice that the public page shows.
    """
    section = SECTIONS[section_key]
    before = snapshot(programme)
    changes = changed_facts(section, before, new_state)
    if not changes:
        return [], None
    reason = (reason or "").strip()
    if needs_reason(programme, section_key) and not reason:
        raise ReasonRequired("신청 기간이 시작된 사업의 규칙은 변경 사유를 적어야 바꿀 수 있습니다. "
                             "사유는 신청자에게 변경 공지로 안내됩니다.", field="reason")
    if new_state["title"] != programme.title or new_state["year"] != programme.year:
        if _title_taken(new_state["year"], new_state["title"]):
            raise ProgrammeError("같은 연도에 같은 이름의 사업이 이미 있습니다.", field="title")
    for name in COLUMNS:
        setattr(programme, name, new_state[name])
    rules = deepcopy(new_state["rules"])
    rules["status"] = programme.status  # a section never changes draft/published
    programme.rules = rules
    flag_modified(programme, "rules")
    db.session.flush()
    summary = f"{section.title} 변경: " + "; ".join(f"{label} {old} → {new}" for label, old, new in changes)
    notice = None
    if needs_reason(programme, section_key):
        notice = ProgrammeNotice(programme_id=programme.id, created_by_id=by.id if by else None,
                                 summary=_clip(summary, 300), reason=reason)
        db.session.add(notice)
        db.session.flush()
    audit.record(f"programme.{section_key}_updated", programme, actor=by, summary=_clip(summary, 500),
                 before={label: old for label, old, _ in changes},
                 after={label: new for label, _, new in changes} | ({"사유": reason} if reason else {}))
    return changes, notice


def schedule_warnings(programme: Programme, at: datetime | None = None) -> list[str]:
    """What staff should hear after saving dates: periods that overlap, and an application
    window opened again after the results were published (nobody may apply then)."""
    warnings = R.schedule_overlaps(closes_local_date=to_kst(programme.closes_at).date(),
                                   review_from=programme.review_from, review_to=programme.review_to,
                                   activity_start=programme.activity_start, activity_end=programme.activity_end,
                                   settlement_due=programme.settlement_due)
    if programme.results_published and not programme.is_closed(at):
        warnings.append("선정 결과를 이미 공개했습니다. 신청 기간을 다시 열어도 신청하거나 제출할 수 없습니다.")
    return warnings


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Publish -----------------------------------------------------------------------------------

def publish_problems(programme: Programme) -> list[str]:
    """What must be fixed before applicants see the programme (Korean, empty when ready)."""
    problems = []
    rules = programme.rules or {}
    if not any(c.get("allowed", True) for c in rules.get("expense_categories", [])):
        problems.append("사용할 수 있는 집행 항목이 하나도 없습니다.")
    rubric = rules.get("review", {}).get("rubric", [])
    if not rubric:
        problems.append("심사 항목이 없습니다.")
    elif rules.get("review", {}).get("pass_mark", 0) > R.rubric_total(rubric):
        problems.append("합격 점수가 배점 합계보다 큽니다.")
    if programme.closes_at <= utcnow():
        problems.append("신청 마감이 이미 지났습니다. 일정을 먼저 고쳐 주세요.")
    return problems


def publish(programme: Programme, *, by) -> None:
    if programme.is_published:
        raise ProgrammeError("이미 공개된 사업입니다.")
    problems = publish_problems(programme)
    if problems:
        raise ProgrammeError(" ".join(problems))
    rules = deepcopy(programme.rules)
    rules["status"] = ProgrammeState.published
    rules["published_at"] = utcnow().isoformat()
    programme.rules = rules
    flag_modified(programme, "rules")
    db.session.flush()
    audit.record("programme.published", programme, actor=by, summary=f"{programme.title} 공개",
                 before={"status": ProgrammeState.draft}, after={"status": ProgrammeState.published})


def countdown(programme: Programme, at: datetime | None = None) -> str:
    """'마감까지 3일 4시간' / '신청 시작까지 2일' / '마감' in plain Korean (judged in UTC, same instant in KST)."""
    at = at or utcnow()
    if at >= programme.closes_at:
        return "마감되었습니다"
    opening = at < programme.opens_at
    left = (programme.opens_at if opening else programme.closes_at) - at
    days, seconds = left.days, left.seconds
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    if days:
        text = f"{days}일 {hours}시간" if hours else f"{days}일"
    elif hours:
        text = f"{hours}시간 {minutes}분" if minutes else f"{hours}시간"
    else:
        text = f"{max(minutes, 1)}분"
    return f"신청 시작까지 {text}" if opening else f"마감까지 {text} 남음"
