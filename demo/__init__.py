"""Demo data, all of it in this package: `flask --app app demo` creates the accounts, a programme
from the defaults with its window open, a dozen groups and applications in several states
(here), and a finished 2026 programme awarded, paid, spent and settled (settlements.py).
The domains know nothing of it; it goes through their services like a person would."""
import random
from datetime import timedelta

import click
from flask import current_app
from sqlalchemy import select

from blueprints.core.timeutil import kst_datetime, today_kst
from extensions import db

from .settlements import demo_settlements

DEMO_STAFF = [
    ("admin@demo.kr", "관리자", ["admin"]),
    ("staff@demo.kr", "사업담당 김담당", ["staff"]),
    ("finance@demo.kr", "회계담당 이회계", ["finance"]),
    ("city@demo.kr", "시 담당관 한시청", ["city"]),
    ("reviewer1@demo.kr", "심사위원 박심사", ["reviewer"]),
    ("reviewer2@demo.kr", "심사위원 최심사", ["reviewer"]),
    ("reviewer3@demo.kr", "심사위원 정심사", ["reviewer"]),
    ("applicant@demo.kr", "김대표", ["applicant"]),
    ("treasurer@demo.kr", "이회계", ["applicant"]),
]

DEMO_GROUPS = [
    ("햇살품앗이", "마포구", "망원동"), ("도담도담 육아모임", "서초구", "방배동"),
    ("숲속놀이터", "은평구", "불광동"), ("책읽는 엄마아빠", "노원구", "상계동"),
    ("꼬마농부단", "강동구", "고덕동"), ("무지개 공동육아", "관악구", "봉천동"),
    ("아장아장 산책모임", "송파구", "잠실동"), ("함께크는 우리", "성북구", "정릉동"),
    ("토닥토닥", "양천구", "목동"), ("놀이하는 가족", "동작구", "사당동"),
    ("작은도서관 친구들", "강서구", "화곡동"), ("별빛 품앗이", "중랑구", "면목동"),
]
# Where each demo group meets (the centre's counts by 센터/나눔터/기타 read it), in DEMO_GROUPS order.
DEMO_AFFILIATIONS = ["sharing", "centre", "sharing", "centre", "other", "sharing",
                     "centre", "sharing", "other", "centre", "sharing", "centre"]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민지", "서연", "지훈", "수빈", "하은", "도윤", "예린", "준호", "유진", "현우", "소희", "태윤"]


def _day(offset: int):
    """A date ``offset`` days from the day the demo is built (Asia/Seoul)."""
    return today_kst() + timedelta(days=offset)


def _at(offset: int, hour: int):
    """A Seoul wall-clock time on that day, as UTC."""
    return kst_datetime(*_day(offset).timetuple()[:3], hour, 0)


def register(app):
    app.cli.add_command(demo)


def _user(email, name, roles, password, phone):
    from blueprints.accounts.models import User, UserRole
    from blueprints.accounts.services import hash_password
    from blueprints.core.models import utcnow

    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, phone=phone, password_hash=hash_password(password),
                    privacy_consent_at=utcnow(), privacy_consent_version="2027-01",
                    email_verified_at=utcnow())  # demo accounts count as verified
        db.session.add(user)
    for role in roles:
        if role not in user.roles:
            user.role_rows.append(UserRole(role=role))
    return user


@click.command("demo")
def demo():
    """Create demo accounts, a programme from the defaults and a dozen groups (safe to rerun)."""
    if current_app.config.get("APP_ENV") == "production":
        # Known accounts with a published password: never in the city's real database.
        raise click.ClickException("운영(production) 환경에서는 데모 데이터를 만들 수 없습니다. "
                                   "데모 계정은 공개된 비밀번호를 쓰므로 개발·시연 서버에서만 실행하세요.")
    from blueprints.core import audit
    from blueprints.core.models import utcnow
    from data.districts import SEOUL_DISTRICTS
    from blueprints.groups.models import Child, Group, GroupMember
    from blueprints.groups.services import insert_with_reg_no
    from blueprints.programmes.defaults import programme_fields_from_defaults
    from blueprints.programmes.models import Programme

    password = current_app.config["DEMO_PASSWORD"]
    rng = random.Random(2027)
    users = {}
    for i, (email, name, roles) in enumerate(DEMO_STAFF):
        users[email] = _user(email, name, roles, password, f"0105555{i:04d}")
    db.session.flush()

    fields = programme_fields_from_defaults()
    programme = db.session.scalar(select(Programme).where(
        Programme.year == fields["year"], Programme.title == fields["title"]))
    if programme is None:
        programme = Programme(**fields)
        # The demo's application window is open now, so every screen can be tried; the
        # activity period follows the review (all relative to the day the demo is built).
        programme.opens_at, programme.closes_at = _at(-7, 9), _at(21, 18)
        programme.review_from, programme.review_to = _day(22), _day(32)
        programme.activity_start, programme.activity_end, programme.settlement_due = _day(45), _day(245), _day(275)
        db.session.add(programme)
        db.session.flush()
        audit.record("programme.created", programme, actor=users["staff@demo.kr"], summary="데모: 기본값으로 사업 생성")

    for index, (name, district, dong) in enumerate(DEMO_GROUPS):
        if db.session.scalar(select(Group).where(Group.name == name)) is not None:
            continue
        now = utcnow()
        group = Group(name=name, district=district, dong=dong, affiliation=DEMO_AFFILIATIONS[index],
                      meeting_place=f"{dong} 공동육아방", activity_type="놀이·체험",
                      description=f"{dong}에 사는 영유아 가정이 매달 함께 놀고 배우는 모임입니다.",
                      consent_collection_at=now, consent_provision_at=now, consent_photos_at=now,
                      # Two in three agreed that their name may appear on the public results page.
                      consent_publish_name_at=now if index % 3 != 2 else None)
        households = rng.randint(5, 10)
        for h in range(households):
            if index == 0 and h == 0:
                leader = users["applicant@demo.kr"]
                member = GroupMember(user_id=leader.id, parent_name=leader.name, phone=leader.phone,
                                     email=leader.email, role="leader")
            elif index == 0 and h == 1:
                treasurer = users["treasurer@demo.kr"]
                member = GroupMember(user_id=treasurer.id, parent_name=treasurer.name, phone=treasurer.phone,
                                     email=treasurer.email, role="treasurer")
            elif h == 0:
                # Every demo group's 대표 can sign in: leader02@demo.kr … leader12@demo.kr.
                leader = _user(f"leader{index + 1:02d}@demo.kr", rng.choice(SURNAMES) + rng.choice(GIVEN),
                               ["applicant"], password, f"0106666{index:04d}")
                db.session.flush()
                member = GroupMember(user_id=leader.id, parent_name=leader.name, phone=leader.phone,
                                     email=leader.email, role="leader")
            else:
                role = "treasurer" if h == 1 else "member"
                member = GroupMember(parent_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                                     phone=f"010{rng.randint(10000000, 99999999)}", role=role)
            # Most households live in the group's 자치구, every fourth next door (still in Seoul:
            # the default rule asks that all live in Seoul).
            member.resident_district = district if h % 4 != 3 else SEOUL_DISTRICTS[
                (SEOUL_DISTRICTS.index(district) + 1) % len(SEOUL_DISTRICTS)]
            member.consent_at = now  # the 대표 confirmed each household agreed
            for _ in range(rng.randint(1, 2)):
                year = rng.randint(2021, 2026)
                month = rng.randint(1, 9 if year == 2026 else 12)  # no child born in the future
                member.children.append(Child(birth_ym=f"{year}-{month:02d}"))
            group.members.append(member)
        insert_with_reg_no(group)  # the same numbering as a registration through the wizard
        audit.record("group.registered", group, actor=users["applicant@demo.kr"] if index == 0 else None,
                     summary=f"데모: {name} 등록")
    db.session.flush()
    _demo_applications(programme, users)
    _demo_review(users, fields)
    demo_settlements(users)
    db.session.commit()

    click.echo("데모 데이터 준비 완료 (demo data ready). 모든 계정의 비밀번호: " + password)
    for email, name, roles in DEMO_STAFF:
        click.echo(f"  {email:<22} {name} ({', '.join(roles)})")
    click.echo("  leader02@demo.kr … leader12@demo.kr  다른 데모 모임의 대표")
    click.echo("사업담당·회계담당·관리자(staff, finance, admin)는 처음 로그인할 때 휴대전화 인증 앱으로 2단계 인증을 "
               "등록합니다 (second factor: enrol an authenticator app at first sign-in).")


DEMO_SESSIONS = ["봄 숲놀이", "텃밭 가꾸기", "그림책 읽기", "물놀이", "여름 만들기", "가을 소풍", "전래놀이", "한 해 나눔잔치"]
DEMO_LINES = [
    dict(category="program_fee", item="숲체험 프로그램 참가비", unit_price_won=10_000, quantity=20, note=""),
    dict(category="materials", item="만들기 재료(점토·색종이)", unit_price_won=5_000, quantity=20, note=""),
    dict(category="books", item="그림책", unit_price_won=15_000, quantity=10, note="도서목록 첨부"),
    dict(category="snacks", item="과일 간식", unit_price_won=3_000, quantity=30, note="1인 1회 3,000원"),
]


def _demo_applications(programme, users):
    """Applications in several states: drafts, submitted, returned for changes, withdrawn."""
    from blueprints.applications import services
    from blueprints.applications.checks import months_between
    from blueprints.applications.models import Application
    from blueprints.groups.models import Group

    groups = db.session.scalars(select(Group).where(Group.name.in_([g[0] for g in DEMO_GROUPS])).order_by(Group.id)).all()
    states = ["draft", "submitted", "submitted", "submitted", "submitted", "returned", "withdrawn", "empty_draft"]
    months = months_between(programme.activity_start, programme.activity_end)
    for group, state in zip(groups, states):
        if db.session.scalar(select(Application).where(Application.group_id == group.id,
                                                       Application.programme_id == programme.id)):
            continue
        leader = group.officer("leader").user
        application = services.start_application(group, programme, user=leader)
        if state == "empty_draft":
            continue
        _fill(application, group, months, leader)
        if state in {"submitted", "returned", "withdrawn"}:
            services.submit(application, user=leader)
        if state == "returned":
            services.return_for_changes(application, "간식비 산출 근거(인원×횟수)를 비고에 적어 주세요.", user=users["staff@demo.kr"])
        if state == "withdrawn":
            services.withdraw(application, user=leader, reason="모임 사정으로 올해는 쉽니다")


def _fill(application, group, months, leader):
    """The three parts of a complete application, as its 대표 would type them."""
    from blueprints.applications import services

    services.save_statements(application, purpose=f"{group.dong} 영유아 가정이 함께 놀고 배우며 서로 돌보는 이웃이 됩니다.",
                             need="맞벌이·한부모 가정이 많아 주말과 방학에 함께 돌볼 이웃이 필요합니다.",
                             other_funding=False, other_funding_detail="", based_on_version=None, user=leader)
    sessions = [dict(month=m, title=DEMO_SESSIONS[i % len(DEMO_SESSIONS)], content="보호자와 아이가 함께하는 활동",
                     place=group.meeting_place, expected_households=len(group.members), expected_children=len(group.members) + 2)
                for i, m in enumerate(months)]
    services.save_sessions(application, sessions, based_on_version=None, user=leader)
    services.save_budget(application, DEMO_LINES, based_on_version=None, user=leader)


REVIEW_TITLE = "공동육아 자조모임 지원사업 (심사 데모)"
REVIEW_GROUPS = 4


def _demo_review(users, fields):
    """A programme in its review period: the window closed ten days ago, four applications in
    review, each with three reviewers; 심사위원 박심사 (reviewer1) still has one to score, the
    others are submitted. Staff see the results held back by that one review (결과 공개 says
    why), and can publish as soon as it is in."""
    from blueprints.applications import services
    from blueprints.applications.checks import months_between
    from blueprints.groups.models import Group
    from blueprints.programmes.models import Programme
    from blueprints.review import services as review

    if db.session.scalar(select(Programme).where(Programme.title == REVIEW_TITLE)) is not None:
        return
    programme = Programme(**dict(fields, title=REVIEW_TITLE, opens_at=_at(-40, 9), closes_at=_at(1, 18),
                                 review_from=_day(-9), review_to=_day(10), activity_start=_day(30),
                                 activity_end=_day(210), settlement_due=_day(240)))
    programme.year = programme.activity_start.year
    db.session.add(programme)
    db.session.flush()
    groups = db.session.scalars(select(Group).where(Group.name.in_([g[0] for g in DEMO_GROUPS]))
                                .order_by(Group.id)).all()[-REVIEW_GROUPS:]
    months = months_between(programme.activity_start, programme.activity_end)
    staff = users["staff@demo.kr"]
    reviewers = [users[f"reviewer{i}@demo.kr"] for i in (1, 2, 3)]
    rubric = review.rubric(programme)
    for index, group in enumerate(groups):
        leader = group.officer("leader").user
        application = services.start_application(group, programme, user=leader)
        _fill(application, group, months, leader)
        services.submit(application, user=leader, now=_at(-12, 10 + index))
        for reviewer in reviewers:
            item = review.assign(application, reviewer, user=staff, notify=False)
            if reviewer is reviewers[0] and index == 0:
                continue   # the review still to do
            values, left = {}, 60 + 7 * index + reviewers.index(reviewer) * 3
            for c in rubric:
                take = min(left, int(c["max"]))
                values[c["code"]], left = str(take), left - take
            check = review.check_for(item, values, {c["code"]: "활동 계획이 구체적입니다." for c in rubric}, final=True)
            review.save_scores(item, check, user=reviewer, submit=True)
    programme.closes_at = _at(-10, 18)   # the window was open while they applied; it has closed since
    db.session.flush()
