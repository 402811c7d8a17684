"""Conflicts of interest between a reviewer and an application's group (pure; no request, no DB).

A reviewer is never assigned when (제척·기피·회피 modelled on 지방보조금법 제26조⑦~⑨):
- they are a member of the group (their account is one of its households);
- they share a household or a mobile number with a member (same phone, same e-mail);
- they (or staff on their behalf) declared a conflict for the application;
- the programme applies the neighbourhood rule and they live in the group's 동.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

DECLARATION_KINDS = {
    "exclusion": "제척",   # by law: family or interest in the applicant
    "challenge": "기피",   # the applicant asked that this reviewer not judge
    "recusal": "회피",     # the reviewer stepped aside
}


def phone_digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def email_key(email: str | None) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class ReviewerInfo:
    user_id: int
    name: str = ""
    phone: str = ""
    email: str = ""
    district: str = ""
    dong: str = ""


@dataclass(frozen=True)
class MemberInfo:
    user_id: int | None
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class GroupInfo:
    district: str
    dong: str
    members: tuple[MemberInfo, ...] = field(default_factory=tuple)


def conflict_reasons(reviewer: ReviewerInfo, group: GroupInfo, *, declared: str | None = None,
                     same_dong_rule: bool = False) -> list[str]:
    """Korean reasons why this reviewer may not review this group's application ([] = none).

    ``declared`` is the kind of a declared conflict (exclusion/challenge/recusal), if any.
    """
    reasons: list[str] = []
    phone = phone_digits(reviewer.phone)
    email = email_key(reviewer.email)
    for member in group.members:
        if member.user_id is not None and member.user_id == reviewer.user_id:
            reasons.append("모임 구성원입니다")
            break
    else:
        for member in group.members:
            if phone and phone_digits(member.phone) == phone:
                reasons.append("구성원과 휴대전화번호가 같습니다(같은 가구)")
                break
            if email and email_key(member.email) == email:
                reasons.append("구성원과 전자우편이 같습니다(같은 가구)")
                break
    if declared:
        reasons.append(f"이해충돌 신고({DECLARATION_KINDS.get(declared, declared)})")
    if same_dong_rule and reviewer.dong and group.dong and reviewer.dong.strip() == group.dong.strip() \
            and (not reviewer.district or not group.district or reviewer.district == group.district):
        reasons.append(f"같은 동({group.dong}) 거주")
    return reasons
