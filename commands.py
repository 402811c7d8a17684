"""Command-line tasks: `flask --app app demo`, and the maintenance commands."""
import random

import click
from flask import current_app
from sqlalchemy import select

from extensions import db

DEMO_STAFF = [
    ("admin@demo.kr", "관리자", ["admin"]),
    ("staff@demo.kr", "사업담당 김담당", ["staff"]),
    ("finance@demo.kr", "회계담당 이회계", ["finance"]),
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
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민지", "서연", "지훈", "수빈", "하은", "도윤", "예린", "준호", "유진", "현우", "소희", "태윤"]


def register(app):
    app.cli.add_command(demo)


def _user(email, name, roles, password, phone):
    from blueprints.accounts.models import User, UserRole
    from blueprints.accounts.services import hash_password
    from blueprints.core.models import utcnow

    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, phone=phone, password_hash=hash_password(password),
                    privacy_consent_at=utcnow(), privacy_consent_version="2027-01")
        db.session.add(user)
    for role in roles:
        if role not in user.roles:
            user.role_rows.append(UserRole(role=role))
    return user


@click.command("demo")
def demo():
    """Create demo accounts, a programme from the defaults and a dozen groups (safe to rerun)."""
    from blueprints.core import audit
    from blueprints.core.models import utcnow
    from blueprints.groups.models import Child, Group, GroupMember
    from blueprints.groups.services import next_reg_no
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
        db.session.add(programme)
        db.session.flush()
        audit.record("programme.created", programme, actor=users["staff@demo.kr"], summary="데모: 기본값으로 사업 생성")

    for index, (name, district, dong) in enumerate(DEMO_GROUPS):
        if db.session.scalar(select(Group).where(Group.name == name)) is not None:
            continue
        now = utcnow()
        group = Group(reg_no=next_reg_no(programme.year), name=name, district=district, dong=dong,
                      meeting_place=f"{dong} 공동육아방", activity_type="놀이·체험",
                      description=f"{dong}에 사는 영유아 가정이 매달 함께 놀고 배우는 모임입니다.",
                      consent_collection_at=now, consent_provision_at=now, consent_photos_at=now)
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
            else:
                role = "leader" if h == 0 else "treasurer" if h == 1 else "member"
                member = GroupMember(parent_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                                     phone=f"010{rng.randint(10000000, 99999999)}", role=role)
            member.resident_district = district
            member.consent_at = now  # the 대표 confirmed each household agreed
            for _ in range(rng.randint(1, 2)):
                member.children.append(Child(birth_ym=f"{rng.randint(2021, 2026)}-{rng.randint(1, 12):02d}"))
            group.members.append(member)
        db.session.add(group)
        db.session.flush()
        audit.record("group.registered", group, actor=users["applicant@demo.kr"] if index == 0 else None,
                     summary=f"데모: {name} 등록")
    db.session.commit()

    click.echo("데모 데이터 준비 완료 (demo data ready). 모든 계정의 비밀번호: " + password)
    for email, name, roles in DEMO_STAFF:
        click.echo(f"  {email:<22} {name} ({', '.join(roles)})")
