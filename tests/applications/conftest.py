"""Factories for applications: an open programme, an eligible group with its officers."""
from datetime import date, timedelta

import pytest

from blueprints.core.timeutil import now_utc
from extensions import db


@pytest.fixture
def open_programme(make_programme):
    """Open now for ten days; a two-month activity period keeps activity plans short."""
    def make(**overrides):
        now = now_utc()
        fields = dict(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10),
                      activity_start=date(2027, 4, 1), activity_end=date(2027, 5, 31),
                      settlement_due=date(2027, 6, 30))
        fields.update(overrides)
        return make_programme(**fields)

    return make


@pytest.fixture
def leader_group(make_user, make_group):
    """(leader user, treasurer user, group with five households)."""
    def make(email="leader@example.kr", households=5, **kwargs):
        leader = make_user(email, name="김대표")
        treasurer = make_user("t-" + email, name="이회계")
        group = make_group(leader=leader, treasurer=treasurer, households=households, **kwargs)
        return leader, treasurer, group

    return make


GOOD_LINES = [
    dict(category="program_fee", item="숲체험 참가비", unit_price_won=10000, quantity=20, note=""),
    dict(category="materials", item="만들기 재료", unit_price_won=5000, quantity=20, note=""),
    dict(category="snacks", item="과일 간식", unit_price_won=3000, quantity=20, note="1인 1회"),
]  # 200,000 + 100,000 + 60,000 = 360,000원 (간식비 16.7 %)

GOOD_SESSIONS = [
    dict(month="2027-04", title="봄 숲놀이", content="숲에서 놀이", place="불광천", expected_households=5, expected_children=7),
    dict(month="2027-05", title="만들기", content="재료 놀이", place="공동육아방", expected_households=5, expected_children=7),
]


@pytest.fixture
def complete_application(open_programme, leader_group):
    """A draft that passes every hard rule, ready to submit."""
    from blueprints.applications import services

    def make(programme=None, email="leader@example.kr", **group_kwargs):
        programme = programme or open_programme()
        leader, treasurer, group = leader_group(email, **group_kwargs)
        application = services.start_application(group, programme, user=leader)
        services.save_statements(application, purpose="아이들이 함께 자라는 모임", need="이웃 돌봄이 필요합니다",
                                 other_funding=False, other_funding_detail="", based_on_version=None, user=leader)
        services.save_sessions(application, GOOD_SESSIONS, based_on_version=None, user=leader)
        services.save_budget(application, GOOD_LINES, based_on_version=None, user=leader)
        db.session.commit()
        return leader, treasurer, application

    return make
