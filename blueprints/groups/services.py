"""Group operations: they mutate, flush and record the audit event; the view commits.

Audit events about a group are recorded on the group (object_type "group") so its history
is one query. They never carry phone numbers or e-mail addresses; households are named by
their row id so that deleting a member's personal data leaves no copy in the trail.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, has_request_context, url_for
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from blueprints.accounts.models import User, UserRole
from blueprints.accounts.services import find_user_by_email, issue_token, normalize_email, normalize_phone
from blueprints.core import audit
from blueprints.core.audit import AuditEvent
from blueprints.core.exports import DATE, INT, Column, Sheet
from blueprints.core.mail import queue_email
from blueprints.core.models import utcnow
from blueprints.core.paging import Page, page_number
from blueprints.core.persistence import lock_row
from blueprints.core.search import matches
from blueprints.core.timeutil import to_kst
from blueprints.programmes.models import Programme
from extensions import db

from .eligibility import (RESIDENCE_CHOICES, Candidate, Household, evaluate, format_ym, parse_birth_ym,
                          rules_from_programme)
from .models import (MEMBER_ROLE_LABELS, STAFF_ROLES, Child, Group, GroupAffiliation, GroupMember, GroupState,
                     MemberInvitation, PhoneCheck, RegistrationDraft)


class GroupError(Exception):
    """A rule of the group domain was broken; the message is shown to the user."""


# Registration numbers -------------------------------------------------------------------
#
# One rule for every group however it is made (the wizard, the demo, an import): G-<year>-<n>,
# the year being the Seoul calendar year of the registration, n running within that year.

REG_NO_ATTEMPTS = 5
REG_NO_LOCK = 0x47520000  # advisory-lock key space of registration numbers ("GR"), plus the year


def reg_no_year(when: datetime | None = None) -> int:
    """The year of a registration number: the registration's date in Seoul (UTC 31 Dec 15:00
    is already the next year there)."""
    return to_kst(when or utcnow()).year


def next_reg_no(year: int) -> str:
    """G-2027-0007: the next free running number of the year (one query)."""
    prefix = f"G-{year}-"
    # The longest first: as text, G-2027-9999 would come after G-2027-10000.
    last = db.session.scalar(select(Group.reg_no).where(Group.reg_no.like(prefix + "%"))
                             .order_by(func.length(Group.reg_no).desc(), Group.reg_no.desc()).limit(1))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def take_numbering_turn(year: int) -> None:
    """On PostgreSQL, wait for the registrations of this year before ours to commit (an
    advisory lock held to the end of the transaction; taking it again is harmless). A
    registration takes it before its duplicate checks, so the same form sent twice at once
    finds the first group instead of making a second."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REG_NO_LOCK + year})


def insert_with_reg_no(group: Group, *, when: datetime | None = None) -> Group:
    """Add the group with the next registration number of its year. Two registrations at the
    same moment read the same last number: the unique constraint refuses the second insert,
    which is undone alone (a savepoint) and takes the number after, so neither request fails.
    On PostgreSQL the numbering of a year is also taken in turns (a transaction-scoped advisory
    lock, held to the commit): retries alone let the last of many racers run out of attempts."""
    year = reg_no_year(when or group.created_at)
    take_numbering_turn(year)
    for attempt in range(REG_NO_ATTEMPTS):
        group.reg_no = next_reg_no(year)
        try:
            with db.session.begin_nested():
                db.session.add(group)
                db.session.flush()
            return group
        except IntegrityError as exc:
            if "reg_no" not in str(exc.orig) or attempt == REG_NO_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def group_with_households(group_id) -> Group | None:
    """The group with its households and their children (the group page and its eligibility
    panel read them all): three queries whatever the number of households."""
    return db.session.scalar(select(Group).where(Group.id == group_id).options(
        selectinload(Group.members).selectinload(GroupMember.children)))


def applications_of(group: Group) -> list:
    """The group's applications across programmes, newest first (``Group.applications``, which
    the applications domain declares), their programmes loaded in one query, not one each."""
    applications = group.applications
    ids = {a.programme_id for a in applications}
    if ids:
        programmes = {p.id: p for p in db.session.scalars(select(Programme).where(Programme.id.in_(ids)))}
        for application in applications:
            set_committed_value(application, "programme", programmes[application.programme_id])
    return applications


# The programme the eligibility panel judges against ---------------------------------------

def current_programme():
    """The published programme whose window is open now; else the next to open; else the most
    recent closed one. None when nothing is published (drafts are never judged against)."""
    from blueprints.programmes.services import public_programmes

    now = utcnow()
    current, past = public_programmes(now)
    open_now = [p for p in current if p.is_open(now)]
    if open_now:
        return open_now[0]
    if current:
        return current[0]
    return past[0] if past else None


def check_eligibility(candidate: Candidate, programme=None):
    programme = programme if programme is not None else current_programme()
    if programme is None:
        return None
    return evaluate(candidate, rules_from_programme(programme))


# Duplicates -----------------------------------------------------------------------------

def duplicate_by_name(name: str, leader: User, exclude_group_id: int | None = None) -> Group | None:
    """An active group of the same name that this person already leads."""
    stmt = (select(Group).join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id == leader.id, GroupMember.role == "leader",
                   Group.status == GroupState.active, func.lower(Group.name) == (name or "").strip().lower()))
    if exclude_group_id:
        stmt = stmt.where(Group.id != exclude_group_id)
    return db.session.scalar(stmt.limit(1))


class PhoneCheckLimit:
    """What `duplicate_by_leader_phone` answers when the person checked too many numbers:
    neither "free" nor a group, and `phone_duplicate_message` turns it into the wait."""

    def __bool__(self):
        return True


PHONE_CHECK_LIMIT = PhoneCheckLimit()


def duplicate_by_leader_phone(phone: str, exclude_group_id: int | None = None, *,
                              by: User | None = None) -> Group | PhoneCheckLimit | None:
    """An active group whose 대표 has this mobile number.

    A registration check (no group excluded) by a signed-in person is rate-limited: each
    person may check PHONE_CHECK_MAX distinct numbers in PHONE_CHECK_WINDOW (the numbers
    are kept only as keyed hashes). Past it, the answer is PHONE_CHECK_LIMIT, not a lookup,
    so nobody can walk the number space to learn who leads a group."""
    digits = normalize_phone(phone)
    if not digits:
        return None
    if exclude_group_id is None:
        checker = by if by is not None else (g.get("user") if has_request_context() else None)
        if checker is not None and not _phone_check_allowed(digits, checker):
            return PHONE_CHECK_LIMIT
    stmt = (select(Group).join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.phone == digits, GroupMember.role == "leader", Group.status == GroupState.active))
    if exclude_group_id:
        stmt = stmt.where(Group.id != exclude_group_id)
    return db.session.scalar(stmt.limit(1))


def _phone_hash(digits: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def _phone_check_allowed(digits: str, user: User) -> bool:
    """Checking a number already checked in the window is free (the wizard checks at step 2
    and again at the end); a new number counts, up to the limit."""
    config = current_app.config
    digest = _phone_hash(digits)
    since = utcnow() - config["PHONE_CHECK_WINDOW"]
    seen = set(db.session.scalars(select(PhoneCheck.phone_hash).where(
        PhoneCheck.user_id == user.id, PhoneCheck.created_at >= since)))
    if digest in seen:
        return True
    if len(seen) >= config["PHONE_CHECK_MAX"]:
        return False
    # Its own short transaction: the wizard's steps render without committing, and the count
    # must hold even when the request's own work is rolled back. Older rows go at once.
    with db.engine.begin() as connection:
        connection.execute(delete(PhoneCheck).where(PhoneCheck.user_id == user.id, PhoneCheck.created_at < since))
        connection.execute(insert(PhoneCheck).values(user_id=user.id, phone_hash=digest, created_at=utcnow()))
    return True


def name_duplicate_message(group: Group) -> str:
    return (f"이미 같은 이름의 모임({group.reg_no})을 대표로 등록하셨습니다. "
            "새로 등록하지 말고 기존 모임 페이지에서 내용을 확인해 주세요.")


def phone_duplicate_message(found: Group | PhoneCheckLimit) -> str:
    """What the person must fix, and nothing about the other group (neither its name nor its
    number: a stranger must not learn who leads which group)."""
    if isinstance(found, PhoneCheckLimit):
        minutes = int(current_app.config["PHONE_CHECK_WINDOW"].total_seconds() // 60)
        return (f"휴대전화번호를 너무 여러 번 확인했습니다. {minutes}분 뒤에 다시 시도해 주세요. "
                "본인의 번호를 정확히 입력했는지도 확인해 주세요.")
    return ("이 휴대전화번호는 이미 활동 중인 다른 모임의 대표 번호로 등록되어 있습니다. "
            "한 사람이 두 모임의 대표가 될 수 없습니다. 번호가 맞는지 확인하고, 맞다면 기존 모임의 대표를 먼저 인계해 주세요.")


# Registration -----------------------------------------------------------------------------

@dataclass
class Registration:
    name: str
    district: str
    dong: str
    meeting_place: str
    activity_type: str
    description: str
    households: list[Household]
    consent_collection: bool
    consent_provision: bool = False
    consent_photos: bool = False
    affiliation: str = GroupAffiliation.other.value
    consent_publish_name: bool = False


def register_group(data: Registration, *, by: User) -> tuple[Group, list[GroupMember]]:
    """Create the group with its households; the first household is the registering parent,
    who becomes 대표. Households with an e-mail address are invited. Returns the group and
    the invited members."""
    if not by.is_verified:
        raise GroupError("이메일 주소를 먼저 확인해야 모임을 등록할 수 있습니다.")
    if not data.consent_collection:
        raise GroupError("개인정보 수집·이용에 동의해야 모임을 등록할 수 있습니다.")
    if not data.households or data.households[0].role != "leader":
        raise GroupError("등록하는 분이 대표가 됩니다. 첫 번째 가구를 대표로 적어 주세요.")
    if any(h.role == "leader" for h in data.households[1:]):
        raise GroupError("대표는 한 명입니다.")
    if sum(h.role == "treasurer" for h in data.households) > 1:
        raise GroupError("회계는 한 명만 지정할 수 있습니다.")
    if not GroupAffiliation.known(data.affiliation):
        raise GroupError("모임이 주로 활동하는 곳을 선택해 주세요.")
    if any(h.district and h.district not in RESIDENCE_CHOICES for h in data.households):
        raise GroupError("가구의 거주 자치구를 목록에서 선택해 주세요.")
    now = utcnow()
    take_numbering_turn(reg_no_year(now))  # a double click waits here and then meets the first group
    duplicate = duplicate_by_name(data.name, by)
    if duplicate is not None:
        raise GroupError(name_duplicate_message(duplicate))
    duplicate = duplicate_by_leader_phone(data.households[0].phone, by=by)
    if duplicate is not None:
        raise GroupError(phone_duplicate_message(duplicate))

    group = Group(
        reg_no="", name=data.name.strip(), district=data.district, dong=data.dong.strip(),
        meeting_place=data.meeting_place.strip(), activity_type=data.activity_type,
        description=data.description.strip(), status=GroupState.active, created_by_id=by.id,
        affiliation=data.affiliation,
        consent_collection_at=now,
        consent_provision_at=now if data.consent_provision else None,
        consent_photos_at=now if data.consent_photos else None,
        consent_publish_name_at=now if data.consent_publish_name else None,
    )
    for index, household in enumerate(data.households):
        member = GroupMember(
            parent_name=household.parent_name.strip(),
            phone=normalize_phone(household.phone),
            role=household.role,
            resident_district=household.district or None,
            consent_at=now,
        )
        if index == 0:
            member.user_id = by.id
            member.email = by.email
        for text in household.birth_yms:
            parsed = parse_birth_ym(text)
            if parsed:
                member.children.append(Child(birth_ym=format_ym(*parsed)))
        group.members.append(member)
    insert_with_reg_no(group, when=now)
    delete_draft(by)
    audit.record("group.registered", group, summary=f"모임 등록 ({group.reg_no})",
                 after={"reg_no": group.reg_no, "name": group.name, "district": group.district,
                        "affiliation": group.affiliation, "households": len(group.members),
                        "consents": {"collection": True, "provision": data.consent_provision,
                                     "photos": data.consent_photos, "publish_name": data.consent_publish_name}})
    invited = []
    for member, household in zip(group.members[1:], data.households[1:]):
        if household.email:
            invite_member(group, member, household.email, by=by)
            invited.append(member)
    return group, invited


# The registration wizard's draft ------------------------------------------------------------

DRAFT_MAX_CHARS = 100_000  # 30 households typed in full are ~15,000; more is not a person typing


def draft_ttl() -> timedelta:
    """How long a draft is offered after its last save (``REGISTRATION_DRAFT_DAYS``); `flask
    retention` destroys it after that (privacy/retention.py)."""
    return timedelta(days=current_app.config["REGISTRATION_DRAFT_DAYS"])


def load_draft(user: User) -> RegistrationDraft | None:
    """The account's draft, unless older than draft_ttl() (reading never deletes: GET writes nothing)."""
    draft = db.session.scalar(select(RegistrationDraft).where(RegistrationDraft.user_id == user.id))
    if draft is None or draft.updated_at < utcnow() - draft_ttl():
        return None
    return draft


def save_draft(user: User, step: int, data: dict, *, same_step_only: bool = False) -> bool:
    """Keep what the wizard holds after a step (no audit: nothing is registered yet); False when
    nothing was kept. Other people's old drafts are retention's to destroy, with its audit event.

    ``same_step_only`` (the live check, which can arrive after the step it was sent from was
    left): keep the answers only if the draft is still on that step; else change nothing. Past
    step 1 it never starts a draft: from step 2 on there is one unless the group was just
    registered or the person started again, and a late check must not bring it back.

    One UPDATE decides, so a draft removed meanwhile by another request (the registration,
    '새로 시작') is simply not there to update: never an error."""
    now = utcnow()
    if len(json.dumps(data, ensure_ascii=False, default=str)) > DRAFT_MAX_CHARS:
        return False
    stmt = update(RegistrationDraft).where(RegistrationDraft.user_id == user.id)
    if same_step_only:
        stmt = stmt.where(RegistrationDraft.step == step)
    if db.session.execute(stmt.values(step=step, data=data, updated_at=now)).rowcount:
        return True
    if same_step_only and (step > 1 or db.session.scalar(
            select(RegistrationDraft.id).where(RegistrationDraft.user_id == user.id))):
        return False
    db.session.add(RegistrationDraft(user_id=user.id, step=step, data=data, updated_at=now))
    db.session.flush()  # two first saves at once: the unique user_id refuses one (views._keep_draft)
    return True


def delete_draft(user: User) -> None:
    db.session.execute(delete(RegistrationDraft).where(RegistrationDraft.user_id == user.id))


# Affiliation, the consent to publish the name, households' 거주 자치구 ---------------------------

def set_affiliation(group: Group, affiliation: str, *, by: User) -> bool:
    """Staff correct where the group meets. False when it was already so (nothing recorded)."""
    if not GroupAffiliation.known(affiliation):
        raise GroupError("모임이 주로 활동하는 곳을 선택해 주세요.")
    if group.affiliation == affiliation:
        return False
    before = group.affiliation
    group.affiliation = affiliation
    db.session.flush()
    audit.record("group.affiliation_changed", group,
                 summary=f"활동 거점: {GroupAffiliation.title_of(before)} → {GroupAffiliation.title_of(affiliation)}",
                 before={"affiliation": before}, after={"affiliation": affiliation})
    return True


def set_publish_name_consent(group: Group, consent: bool, *, by: User) -> bool:
    """The 대표 agrees (or no longer agrees) that the group's name and 자치구 appear on the public
    results page. False when nothing changed (the same request twice)."""
    if not group.can(by, "consent_publish_name"):
        raise GroupError("모임 이름 공개 동의는 대표만 바꿀 수 있습니다.")
    if (group.consent_publish_name_at is not None) == consent:
        return False
    before = group.consent_publish_name_at
    group.consent_publish_name_at = utcnow() if consent else None
    db.session.flush()
    audit.record("group.publish_name_consent_given" if consent else "group.publish_name_consent_withdrawn", group,
                 summary="모임 이름 공개 동의" if consent else "모임 이름 공개 동의 철회",
                 before={"publish_name": before is not None}, after={"publish_name": consent})
    return True


def set_residences(group: Group, districts: dict[int, str], *, by: User) -> int:
    """Record each household's 거주 자치구 (``{member id: district}``). Returns how many changed;
    the audit names households by number, never the district with a name."""
    changed = []
    for member in group.members:
        value = districts.get(member.id)
        if value is None:
            continue
        if value not in RESIDENCE_CHOICES:
            raise GroupError("가구의 거주 자치구를 목록에서 선택해 주세요.")
        if member.resident_district != value:
            member.resident_district = value
            changed.append(member.id)
    if changed:
        db.session.flush()
        audit.record("group.residences_changed", group, summary=f"가구 {len(changed)}곳의 거주 자치구 입력",
                     after={"member_ids": changed})
    return len(changed)


# Invitations ------------------------------------------------------------------------------

def may_change_officers(group: Group, user: User) -> bool:
    """The 대표 (or staff) decides who holds an office and whose account a household is."""
    if user.has_any_role(STAFF_ROLES):
        return True
    member = group.member_for(user)
    return member is not None and member.role == "leader"


def invite_member(group: Group, member: GroupMember, email: str, *, by: User) -> MemberInvitation:
    """Invite an account to a household so that parent can sign in and act for the group.

    Nothing is linked here: the household becomes that account's only when its owner, with
    a confirmed address, accepts (`accept_invitation`). A new address gets an account to set
    up (the accounts 'invite' link, which also proves the address); an existing one is told
    by e-mail and on its dashboard. A household already linked to an account is never
    re-pointed by an invitation: the 대표 or staff unlinks it first (`unlink_member`)."""
    email = normalize_email(email)
    if member.group_id != group.id:
        raise GroupError("이 모임의 가구가 아닙니다.")
    lock_row(GroupMember, member.id)  # an acceptance of the invitation this one replaces waits, or is seen
    if member.role in ("leader", "treasurer") and not may_change_officers(group, by):
        raise GroupError(f"{member.role_label} 가구의 초대는 대표만 할 수 있습니다.")
    if member.user_id is not None:
        raise GroupError("이미 계정과 연결된 가구입니다. 다른 계정으로 바꾸려면 대표가 먼저 연결을 해제해야 합니다.")
    user = find_user_by_email(email)
    if user is not None and group.member_for(user) is not None:
        raise GroupError("이 이메일의 계정은 이미 모임의 다른 가구와 연결되어 있습니다.")
    now = utcnow()
    if user is not None and any(i.member_id != member.id for i in _open_invitations(group, user, now)):
        raise GroupError("이 이메일로 이미 다른 가구에 보낸 초대가 있습니다. 그 초대를 먼저 정리해 주세요.")
    for old in _open_invitations_of_member(member):
        old.state, old.decided_at = "cancelled", now
    db.session.flush()  # one open invitation per household
    is_new = user is None
    if is_new:
        # The account set-up form opens with what the group entered (name and phone).
        user = User(email=email, name=member.parent_name, phone=member.phone or None)
        db.session.add(user)
        db.session.flush()
    member.invited_at = now
    invitation = MemberInvitation(group_id=group.id, member_id=member.id, user_id=user.id, invited_by_id=by.id,
                                  state="pending", expires_at=now + current_app.config["INVITE_TTL"])
    db.session.add(invitation)
    role = MEMBER_ROLE_LABELS[member.role]
    where = f"'{group.name}' 모임({group.reg_no})의 {role} 가구"
    if not user.has_password:
        token = issue_token(user, "invite")
        link = url_for("accounts.accept_invite", token=token, _external=True)
        body = (f"{member.parent_name}님, {where}로 초대되었습니다.\n"
                f"아래 링크에서 7일 안에 계정을 설정한 뒤, 내 업무 화면에서 초대를 수락하면 모임 일을 함께 할 수 있습니다.\n\n{link}\n\n"
                "모르는 모임이라면 이 메일을 무시하시거나 초대를 거절해 주세요.")
    else:
        link = url_for("home.dashboard", _external=True)
        body = (f"{member.parent_name}님, {where}로 초대되었습니다.\n"
                f"로그인한 뒤 내 업무 화면에서 초대를 수락하거나 거절해 주세요. 수락하기 전에는 모임에 연결되지 않습니다.\n\n{link}")
    queue_email(email, "[공동육아 자조모임] 모임 초대 안내", body)
    db.session.flush()
    audit.record("group.member_invited", group, summary=f"가구 #{member.id} ({role}) 초대",
                 after={"member_id": member.id, "role": member.role, "new_account": is_new,
                        "invitation_id": invitation.id})
    return invitation


def known_email(member: GroupMember) -> str:
    """The e-mail address the group already gave for this household: the one it was last
    invited at (registration step 3 or the group page), else the one it was linked with."""
    email = db.session.scalar(
        select(User.email).join(MemberInvitation, MemberInvitation.user_id == User.id)
        .where(MemberInvitation.member_id == member.id)
        .order_by(MemberInvitation.created_at.desc(), MemberInvitation.id.desc()).limit(1)) or member.email or ""
    return "" if email.endswith("@invalid") else email


def _open_invitations(group: Group, user: User, now=None) -> list[MemberInvitation]:
    now = now or utcnow()
    return db.session.scalars(select(MemberInvitation).where(
        MemberInvitation.group_id == group.id, MemberInvitation.user_id == user.id,
        MemberInvitation.state == "pending", MemberInvitation.expires_at > now)).all()


def _open_invitations_of_member(member: GroupMember) -> list[MemberInvitation]:
    return db.session.scalars(select(MemberInvitation).where(
        MemberInvitation.member_id == member.id, MemberInvitation.state == "pending")).all()


def pending_invitations(user: User) -> list[MemberInvitation]:
    """The invitations this person may still answer (dashboard)."""
    return db.session.scalars(
        select(MemberInvitation).where(MemberInvitation.user_id == user.id, MemberInvitation.state == "pending",
                                       MemberInvitation.expires_at > utcnow())
        .order_by(MemberInvitation.created_at.desc(), MemberInvitation.id.desc())).all()


def accept_invitation(invitation: MemberInvitation, *, by: User) -> GroupMember:
    """The invited owner, with a confirmed address, takes the household: only now is it linked."""
    if invitation.user_id != by.id:
        raise GroupError("본인에게 온 초대만 수락할 수 있습니다.")
    # The household's row is the turn-taker for everything that decides whose it is (this, a
    # new invitation that cancels this one, an unlink): after it, the invitation is read afresh.
    lock_row(GroupMember, invitation.member_id)
    db.session.refresh(invitation)
    if not invitation.is_open():
        raise GroupError("이미 답했거나 기한이 지난 초대입니다. 모임의 대표에게 다시 초대해 달라고 요청해 주세요.")
    if not by.is_verified or not by.is_active:
        raise GroupError("이메일 주소를 먼저 확인해야 초대를 수락할 수 있습니다.")
    group, member = invitation.group, invitation.member
    if member.user_id is not None:
        raise GroupError("이 가구는 이미 다른 계정과 연결되어 있습니다. 모임의 대표에게 문의해 주세요.")
    if group.member_for(by) is not None:
        raise GroupError("이미 이 모임의 다른 가구와 연결되어 있습니다.")
    now = utcnow()
    member.user_id = by.id
    member.email = by.email
    invitation.state, invitation.decided_at = "accepted", now
    if not by.has_role("applicant"):
        by.role_rows.append(UserRole(role="applicant", granted_by_id=invitation.invited_by_id))
    db.session.flush()
    audit.record("group.invitation_accepted", group, actor=by,
                 summary=f"가구 #{member.id} ({member.role_label}) 초대 수락, 계정 연결",
                 after={"member_id": member.id, "role": member.role, "invitation_id": invitation.id})
    return member


def decline_invitation(invitation: MemberInvitation, *, by: User) -> None:
    if invitation.user_id != by.id:
        raise GroupError("본인에게 온 초대만 거절할 수 있습니다.")
    lock_row(GroupMember, invitation.member_id)  # an acceptance in another tab went first: read it
    db.session.refresh(invitation)
    if invitation.state != "pending":
        raise GroupError("이미 답한 초대입니다.")
    invitation.state, invitation.decided_at = "declined", utcnow()
    db.session.flush()
    audit.record("group.invitation_declined", invitation.group, actor=by,
                 summary=f"가구 #{invitation.member_id} 초대 거절",
                 after={"member_id": invitation.member_id, "invitation_id": invitation.id})


def unlink_member(group: Group, member: GroupMember, *, by: User) -> None:
    """The explicit, audited way to change whose account a household is: the 대표 or staff
    unlinks it, then invites the right person, who accepts. The 대표's own household is
    the staff's to unlink (a group always has its 대표)."""
    if member.group_id != group.id:
        raise GroupError("이 모임의 가구가 아닙니다.")
    if not may_change_officers(group, by):
        raise GroupError("가구의 계정 연결은 대표나 사업담당만 바꿀 수 있습니다.")
    if member.user_id is None:
        raise GroupError("계정과 연결되지 않은 가구입니다.")
    if member.role == "leader" and not by.has_any_role(STAFF_ROLES):
        raise GroupError("대표 가구의 연결은 사업담당만 해제할 수 있습니다. 먼저 대표를 인계해 주세요.")
    before = member.user_id
    member.user_id = None
    member.email = None
    member.invited_at = None
    db.session.flush()
    audit.record("group.member_unlinked", group, summary=f"가구 #{member.id} ({member.role_label}) 계정 연결 해제",
                 before={"member_id": member.id, "user_id": before}, after={"member_id": member.id, "user_id": None})


# Officer handover -------------------------------------------------------------------------

def handover(group: Group, role: str, new_member: GroupMember, *, by: User) -> GroupMember | None:
    """A new 대표 or 회계 takes over; the previous one becomes an ordinary member and loses
    the officer's rights. Returns the previous officer (None if the role was vacant)."""
    if role not in ("leader", "treasurer"):
        raise GroupError("인계할 수 있는 역할은 대표와 회계입니다.")
    if new_member.group_id != group.id:
        raise GroupError("이 모임의 가구가 아닙니다.")
    previous = group.officer(role)
    if previous is not None and previous.id == new_member.id:
        raise GroupError(f"이미 {MEMBER_ROLE_LABELS[role]}입니다.")
    if new_member.role in ("leader", "treasurer"):
        raise GroupError("대표와 회계는 서로 다른 사람이어야 합니다. 다른 역할을 맡은 분에게는 인계할 수 없습니다.")
    if role == "leader":
        duplicate = duplicate_by_leader_phone(new_member.phone, exclude_group_id=group.id)
        if duplicate is not None:
            raise GroupError(phone_duplicate_message(duplicate))
    if previous is not None:
        previous.role = "member"
        db.session.flush()  # one officer per role: free the role before it is taken
    new_member.role = role
    db.session.flush()
    label = MEMBER_ROLE_LABELS[role]
    audit.record(f"group.{role}_handover", group, summary=f"{label} 인계",
                 before={"role": role, "member_id": previous.id if previous else None},
                 after={"role": role, "member_id": new_member.id})
    return previous


# A member's own data ----------------------------------------------------------------------

def delete_own_data(group: Group, member: GroupMember, *, by: User) -> None:
    """A parent removes their household's personal data from the group.

    Officers hand over first (a group always has its 대표, and 회계 answers for spending).
    The row goes with its children; the audit trail keeps only what the grant records need,
    anonymised: that a household left, and its children's birth year-months."""
    if member.user_id != by.id:
        raise GroupError("본인의 정보만 삭제할 수 있습니다.")
    if member.role in ("leader", "treasurer"):
        raise GroupError(f"{member.role_label}는 먼저 다른 구성원에게 역할을 인계한 뒤 삭제할 수 있습니다.")
    children = [c.birth_ym for c in member.children]
    member_id = member.id
    group.members.remove(member)
    db.session.flush()
    audit.record("group.member_data_deleted", group, summary=f"가구 #{member_id} 본인 요청으로 개인정보 삭제",
                 before={"member_id": member_id, "children_birth_ym": children},
                 after={"member_id": None})


# Status -----------------------------------------------------------------------------------

def set_status(group: Group, status: str, *, by: User) -> None:
    if not GroupState.known(status):
        raise GroupError("알 수 없는 상태입니다.")
    if group.status == status:
        return
    if status == GroupState.active and group.leader is not None:
        duplicate = duplicate_by_leader_phone(group.leader.phone, exclude_group_id=group.id)
        if duplicate is not None:
            raise GroupError(phone_duplicate_message(duplicate))
    before = group.status
    group.status = status
    audit.record("group.status_changed", group, summary="모임 활성화" if status == GroupState.active else "모임 비활성화",
                 before={"status": before}, after={"status": status})


# Reading ----------------------------------------------------------------------------------

def groups_of(user: User) -> list[tuple[Group, GroupMember]]:
    rows = db.session.execute(
        select(Group, GroupMember).join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id).order_by(Group.created_at.desc(), Group.id.desc())).all()
    return [(group, member) for group, member in rows]


def history(group: Group, limit: int = 50) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "group", AuditEvent.object_id == str(group.id))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)).all()


SORTS = {
    "reg_no": Group.reg_no,
    "name": Group.name,
    "district": Group.district,
    "households": "households",
    "created": Group.created_at,
}


def _household_count():
    return (select(func.count(GroupMember.id)).where(GroupMember.group_id == Group.id)
            .correlate(Group).scalar_subquery())


def _children_count():
    return (select(func.count(Child.id)).join(GroupMember, GroupMember.id == Child.member_id)
            .where(GroupMember.group_id == Group.id).correlate(Group).scalar_subquery())


def search_statement(q: str = "", district: str = "", status: str = "", sort: str = "reg_no",
                     direction: str = "asc", affiliation: str = ""):
    households = _household_count().label("households")
    stmt = select(Group, households)
    if q:
        stmt = stmt.where(matches(q, Group.search_key))
    if district:
        stmt = stmt.where(Group.district == district)
    if status:
        stmt = stmt.where(Group.status == status)
    if affiliation:
        stmt = stmt.where(Group.affiliation == affiliation)
    column = SORTS.get(sort, Group.reg_no)
    key = households if column == "households" else column
    key = key.desc() if direction == "desc" else key.asc()
    return stmt.order_by(key, Group.id.asc())


def search_groups(page: int = 1, per_page: int = 20, **filters):
    stmt = search_statement(**filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = page_number(page, total, per_page)
    # The households come along in one more query (the 대표 column), not one per row.
    rows = db.session.execute(stmt.options(selectinload(Group.members))
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=[(row[0], row[1]) for row in rows], page=page, per_page=per_page, total=total)


# Export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = [Column("등록번호", width=14), Column("모임명", width=24), Column("자치구", width=10),
                  Column("동", width=10), Column("모임 장소", width=24), Column("활동 유형", width=14),
                  Column("상태", width=8), Column("가구 수", INT, 8), Column("자녀 수", INT, 8),
                  Column("대표", width=10), Column("등록일", DATE, 14), Column("모이는 곳", width=16)]


def export_sheet(**filters) -> Sheet:
    """One row per group, no contact details (an export needs no phone numbers). One statement
    whatever the number of groups: the list's own filters and order, with the household and
    child counts from one grouped pass over the households and children each (a correlated
    count per row made PostgreSQL scan every child once per group) and the 대표 (one per group,
    a unique index), and only the columns the sheet prints, as plain rows (no ORM objects)."""
    from sqlalchemy import and_
    from sqlalchemy.orm import aliased

    households = (select(GroupMember.group_id, func.count(GroupMember.id).label("n"))
                  .group_by(GroupMember.group_id).subquery())
    children = (select(GroupMember.group_id, func.count(Child.id).label("n"))
                .join(Child, Child.member_id == GroupMember.id).group_by(GroupMember.group_id).subquery())
    leader = aliased(GroupMember)
    stmt = (search_statement(**filters)
            .with_only_columns(Group.reg_no, Group.name, Group.district, Group.dong, Group.meeting_place,
                               Group.activity_type, Group.status, func.coalesce(households.c.n, 0),
                               func.coalesce(children.c.n, 0), leader.parent_name, Group.created_at,
                               Group.affiliation, maintain_column_froms=True)
            .outerjoin(households, households.c.group_id == Group.id)
            .outerjoin(children, children.c.group_id == Group.id)
            .outerjoin(leader, and_(leader.group_id == Group.id, leader.role == "leader")))
    rows = [[reg_no, name, district, dong, place, activity, GroupState.title_of(status), n_households, n_children,
             leader_name or "", created_at, GroupAffiliation.title_of(affiliation)]
            for (reg_no, name, district, dong, place, activity, status, n_households, n_children, leader_name, created_at,
                 affiliation) in db.session.execute(stmt)]
    return Sheet("자조모임", EXPORT_COLUMNS, rows)
