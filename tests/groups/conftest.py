"""Helpers for the group tests: the registration form's fields for all four steps."""
import pytest


def registration_data(*, name="햇살품앗이", district="마포구", households=5, leader_name="김대표",
                      leader_phone="010-2222-0000", birth_ym="2024-05", step=4,
                      consent_collection=True, consent_provision=True, consent_photos=False, emails=None,
                      affiliation="sharing", residences=None, consent_publish_name=False):
    """``residences``: {household index: 거주 자치구}; a household not named lives in ``district``."""
    data = {
        "step": str(step), "name": name, "district": district, "dong": "망원동",
        "meeting_place": "망원동 공동육아방", "activity_type": "놀이·체험", "affiliation": affiliation,
        "description": "망원동 영유아 가정이 매달 함께 놀아요.",
    }
    for i in range(households):
        data[f"households-{i}-parent_name"] = leader_name if i == 0 else f"보호자{i}"
        data[f"households-{i}-phone"] = leader_phone if i == 0 else f"010-3333-{i:04d}"
        data[f"households-{i}-role"] = "leader" if i == 0 else "treasurer" if i == 1 else "member"
        data[f"households-{i}-child_1"] = birth_ym
        data[f"households-{i}-resident_district"] = (residences or {}).get(i, district)
        if emails and i in emails:
            data[f"households-{i}-email"] = emails[i]
    if consent_collection:
        data["consent_collection"] = "y"
    if consent_provision:
        data["consent_provision"] = "y"
    if consent_photos:
        data["consent_photos"] = "y"
    if consent_publish_name:
        data["consent_publish_name"] = "y"
    return data


@pytest.fixture
def parent(make_user):
    return make_user("parent@example.kr", name="김대표", phone="01022220000")
