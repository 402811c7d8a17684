"""Does a group meet a programme's eligibility rules? Plain functions, no request needed.

The rules are the programme's data (``Programme.rules["eligibility"]``, from the preset
in data/programme-defaults.yaml). The answer is advice in plain Korean: it lists what is
missing and never blocks saving a group.

Children are known by birth year-month only. 만 나이 (completed years) is computed as if
the child were born on the 1st of that month — the oldest the child can be — so a group
is never told it qualifies when the real birthday could make a child too old.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from blueprints.core.forms import format_percent
from data.districts import SEOUL_DISTRICTS

SEOUL = "서울특별시"
# A household living outside Seoul (경기·인천 …): the list offers it after the 25 자치구.
OUTSIDE_SEOUL = "서울 밖"
RESIDENCE_CHOICES = SEOUL_DISTRICTS + (OUTSIDE_SEOUL,)
_YM_RE = re.compile(r"^\s*(\d{4})\s*[-./년]?\s*(\d{1,2})\s*[.월]?\s*$")


# Birth year-month and 만 나이 ------------------------------------------------------------

def parse_birth_ym(text: str | None) -> tuple[int, int] | None:
    """'2024-05', '2024.5', '2024. 5.', '202405', '2024년 5월' -> (2024, 5); else None."""
    match = _YM_RE.match(text or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1900:
        return None
    return year, month


def format_ym(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def man_age(birth_ym: str | tuple[int, int], at: date) -> int:
    """만 나이 on ``at`` of a child born in ``birth_ym``, taking the 1st of the month as the
    birthday. Negative when the child is born after ``at``'s month (not yet born)."""
    if isinstance(birth_ym, str):
        parsed = parse_birth_ym(birth_ym)
        if parsed is None:
            raise ValueError(f"not a birth year-month: {birth_ym!r}")
        birth_ym = parsed
    year, month = birth_ym
    if (at.year, at.month) < (year, month):
        return -1
    return at.year - year - (1 if at.month < month else 0)


# Rules ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    programme_title: str
    reference_date: date
    min_households: int = 5
    max_households: int | None = 15
    min_age: int = 0
    max_age: int = 6
    scope: str = SEOUL
    min_resident_share: float = 1.0
    distinct_officers: bool = True
    officer_roles: tuple[str, ...] = ("leader", "treasurer")


def rules_from_programme(programme) -> Rules:
    """Read the eligibility settings of a Programme (missing keys fall back to the preset)."""
    rules = (programme.rules or {}).get("eligibility") or {}
    age_rule = rules.get("child_age_rule") or {}
    ages = age_rule.get("each_counted_household_has_child_aged") or {}
    min_age, max_age = int(ages.get("min_man_age", 0)), int(ages.get("max_man_age", 6))
    elementary = age_rule.get("option_elementary") or {}
    if elementary.get("enabled"):
        max_age = int(elementary.get("max_man_age", max_age))
    reference = age_rule.get("reference_date") or "activity_period.start"
    if reference == "activity_period.start":
        reference_date = programme.activity_start
    else:
        try:
            reference_date = date.fromisoformat(str(reference))
        except ValueError:
            reference_date = programme.activity_start
    officers = rules.get("officers") or {}
    required = officers.get("required_roles") or ["대표", "회계"]
    role_codes = {"대표": "leader", "회계": "treasurer"}
    residency = rules.get("residency") or {}
    max_households = rules.get("max_households", 15)
    return Rules(
        programme_title=programme.title,
        reference_date=reference_date,
        min_households=int(rules.get("min_households", 5)),
        max_households=int(max_households) if max_households else None,
        min_age=min_age,
        max_age=max_age,
        scope=str(residency.get("scope") or SEOUL),
        min_resident_share=float(residency.get("min_resident_share", 1.0)),
        distinct_officers=bool(officers.get("distinct_persons", True)),
        officer_roles=tuple(role_codes[r] for r in required if r in role_codes),
    )


_SEOUL_NAMES = (SEOUL, "서울시", "서울")


def _scope_parts(scope: str) -> list[str]:
    """The names in a scope as staff type it: commas, 가운뎃점, slashes or spaces between."""
    return [part for part in re.split(r"[,·/\s]+", scope or "") if part]


def districts_in_scope(scope: str) -> tuple[str, ...]:
    """'서울특별시' -> all 25 자치구; '마포구', '마포구, 서대문구' or '서울특별시 마포구' -> those."""
    parts = _scope_parts(scope)
    named = [part for part in parts if part not in _SEOUL_NAMES]
    if parts and not named:
        return SEOUL_DISTRICTS
    return tuple(named)


def unknown_scope_parts(scope: str) -> list[str]:
    """The names in a scope that are neither Seoul nor one of its 자치구 (a typo no household
    could match)."""
    return [part for part in _scope_parts(scope) if part not in _SEOUL_NAMES and part not in SEOUL_DISTRICTS]


# What is judged ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Household:
    parent_name: str
    phone: str = ""
    role: str = "member"
    birth_yms: tuple[str, ...] = ()
    email: str = ""
    district: str = ""  # 거주 자치구 (RESIDENCE_CHOICES); "" when not recorded

    @property
    def label(self) -> str:
        return self.parent_name or "이름 없는 가구"


@dataclass(frozen=True)
class Candidate:
    """A group as typed in the form or as stored."""

    district: str
    households: tuple[Household, ...]
    consent_provision: bool = False


def candidate_from_group(group) -> Candidate:
    return Candidate(
        district=group.district,
        households=tuple(
            Household(parent_name=m.parent_name, phone=m.phone, role=m.role,
                      birth_yms=tuple(c.birth_ym for c in m.children), email=m.email or "",
                      district=m.resident_district or "")
            for m in group.members
        ),
        consent_provision=group.consent_provision_at is not None,
    )


@dataclass
class Check:
    code: str
    title: str
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


@dataclass
class Result:
    rules: Rules
    checks: list[Check]
    counted_households: int
    notes: list[str] = field(default_factory=list)
    residency: "Residency | None" = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def missing(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def check(self, code: str) -> Check:
        return next(c for c in self.checks if c.code == code)


def _kdate(day: date) -> str:
    return f"{day.year}. {day.month}. {day.day}."


def household_has_child_in_range(household: Household, rules: Rules) -> bool:
    for text in household.birth_yms:
        parsed = parse_birth_ym(text)
        if parsed and rules.min_age <= man_age(parsed, rules.reference_date) <= rules.max_age:
            return True
    return False


def _why_not_counted(household: Household, rules: Rules) -> str:
    parsed = [p for p in (parse_birth_ym(t) for t in household.birth_yms) if p]
    if not parsed:
        return f"{household.label} 가구: 자녀 출생 연월이 없습니다."
    parts = []
    for year, month in parsed:
        age = man_age((year, month), rules.reference_date)
        if age < 0:
            parts.append(f"{year}년 {month}월생은 기준일에 아직 태어나기 전입니다")
        else:
            parts.append(f"{year}년 {month}월생은 만 {age}세입니다")
    return f"{household.label} 가구: " + ", ".join(parts) + "."


def _same_person(a: Household, b: Household) -> bool:
    phone_a, phone_b = re.sub(r"\D", "", a.phone), re.sub(r"\D", "", b.phone)
    if phone_a and phone_b:
        return phone_a == phone_b
    return bool(a.parent_name) and a.parent_name == b.parent_name


# Residency -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Residency:
    """The programme's "거주 가구 최소 비율": of the group's households, the share whose 거주
    자치구 lies in the programme's area (``Rules.scope``: 서울특별시 = the 25 자치구, or named
    자치구). A household with no 거주 자치구 recorded counts as not resident and is named."""

    scope: str
    min_share: Fraction
    total: int
    resident: int
    outside: tuple[str, ...] = ()   # labels of households living outside the area
    unknown: tuple[str, ...] = ()   # labels of households with no 거주 자치구

    @property
    def share(self) -> Fraction:
        return Fraction(self.resident, self.total) if self.total else Fraction(0)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.share >= self.min_share

    @property
    def share_text(self) -> str:
        """The share in whole per cent, rounded down so a short group never reads as meeting
        the minimum ('69%', not '70%', for 69.6%); decimals when that would hide a pass."""
        whole = math.floor(self.share * 100)
        if self.ok and whole < self.min_share * 100:
            # As many decimals as it takes to read at least the minimum (it is typed with up to 4).
            for digits in range(1, 7):
                shown = Fraction(math.floor(self.share * 100 * 10 ** digits), 10 ** digits)
                if shown >= self.min_share * 100:
                    return f"{float(shown):.{digits}f}"
        return str(whole)

    @property
    def message(self) -> str:
        minimum = format_percent(self.min_share)  # as the programme page writes it
        if not self.total:
            return "아직 입력한 가구가 없습니다."
        if not self.min_share:
            return "이 사업은 거주 가구 비율을 따지지 않습니다."
        if len(self.unknown) == self.total:
            return (f"거주 자치구를 입력해 주세요. 가구마다 사는 자치구를 알아야 {self.scope} 거주 가구 비율"
                    f"(최소 {minimum}%)을 확인할 수 있습니다.")
        figures = f"{self.scope} 거주 가구가 {self.total}가구 중 {self.resident}가구({self.share_text}%)로"
        if self.ok:
            return f"{figures}, 최소 {minimum}% 요건을 충족합니다."
        return f"{figures}, 최소 {minimum}%에 못 미칩니다."

    @property
    def details(self) -> list[str]:
        lines = []
        if not self.min_share:
            return lines
        if self.unknown and len(self.unknown) < self.total:
            lines.append("거주 자치구를 입력해 주세요: " + ", ".join(self.unknown) + " 가구")
        elif self.unknown:
            lines.append("거주 자치구가 없는 가구: " + ", ".join(self.unknown))
        if self.outside:
            lines.append(f"{self.scope} 밖에 사는 가구: " + ", ".join(self.outside))
        return lines


def residency(households, rules: Rules) -> Residency:
    area = set(districts_in_scope(rules.scope))
    outside, unknown, resident = [], [], 0
    for household in households:
        if not household.district:
            unknown.append(household.label)
        elif household.district in area:
            resident += 1
        else:
            outside.append(household.label)
    minimum = Fraction(str(rules.min_resident_share)).limit_denominator(1_000_000)
    return Residency(scope=rules.scope, min_share=minimum, total=len(households), resident=resident,
                     outside=tuple(outside), unknown=tuple(unknown))


def evaluate(candidate: Candidate, rules: Rules) -> Result:
    households = [h for h in candidate.households if h.parent_name or h.birth_yms]
    in_range = [household_has_child_in_range(h, rules) for h in households]
    counted = [h for h, ok in zip(households, in_range) if ok]
    age_text = f"만 {rules.min_age}~{rules.max_age}세" if rules.min_age > 0 else f"만 {rules.max_age}세 이하"
    checks: list[Check] = []

    # 1. Households with a child of the right age on the reference date.
    short = rules.min_households - len(counted)
    details = [_why_not_counted(h, rules) for h, ok in zip(households, in_range) if not ok]
    if short <= 0:
        message = f"{age_text} 자녀가 있는 가구가 {len(counted)}가구로, 최소 {rules.min_households}가구 요건을 충족합니다."
    else:
        message = (f"{age_text} 자녀가 있는 가구가 {len(counted)}가구입니다. "
                   f"최소 {rules.min_households}가구가 필요하므로 {short}가구가 더 있어야 합니다.")
    checks.append(Check("households", "가구 수", short <= 0, message))

    # 2. Not too many households (the preset keeps groups small enough to meet together).
    if rules.max_households:
        over = len(households) - rules.max_households
        checks.append(Check(
            "max_households", "최대 가구 수", over <= 0,
            f"{len(households)}가구로 최대 {rules.max_households}가구 이내입니다." if over <= 0 else
            f"{len(households)}가구입니다. 한 모임은 {rules.max_households}가구까지이므로 {over}가구를 줄이거나 모임을 나누어 주세요."))

    # 3. Children's ages, explained (the rule behind check 1, with the reference date).
    if not households:
        age_message = "아직 입력한 가구가 없습니다."
    elif details:
        age_message = (f"각 가구에 활동 시작일({_kdate(rules.reference_date)}) 기준 {age_text} 자녀가 있어야 합니다. "
                       "출생 연월만 받으므로 그 달 1일에 태어난 것으로 보고 계산합니다.")
    else:
        age_message = f"모든 가구에 활동 시작일({_kdate(rules.reference_date)}) 기준 {age_text} 자녀가 있습니다."
    checks.append(Check("child_age", "자녀 나이", not details and bool(households), age_message, details))

    # 4. District in the programme's area.
    allowed = districts_in_scope(rules.scope)
    if not candidate.district:
        checks.append(Check("district", "활동 지역", False, "자치구를 선택해 주세요."))
    elif candidate.district in allowed:
        checks.append(Check("district", "활동 지역", True, f"{candidate.district}는 사업 대상 지역({rules.scope})입니다."))
    else:
        checks.append(Check("district", "활동 지역", False,
                            f"{candidate.district}는 사업 대상 지역({rules.scope})이 아닙니다."))

    # 5. Officers: a 대표 and a 회계, two different people.
    leader = next((h for h in households if h.role == "leader"), None)
    treasurer = next((h for h in households if h.role == "treasurer"), None)
    if "treasurer" in rules.officer_roles and treasurer is None:
        checks.append(Check("officers", "대표·회계", False, "회계를 맡을 가구를 정해 주세요. 대표와 회계가 모두 있어야 합니다."))
    elif leader is None:
        checks.append(Check("officers", "대표·회계", False, "대표를 정해 주세요."))
    elif rules.distinct_officers and treasurer is not None and _same_person(leader, treasurer):
        checks.append(Check("officers", "대표·회계", False, "대표와 회계는 서로 다른 사람이어야 합니다."))
    else:
        checks.append(Check("officers", "대표·회계", True, "대표와 회계가 서로 다른 사람으로 정해져 있습니다."))

    # 6. Households living in the programme's area, at least the rule's share.
    living = residency(households, rules)
    checks.append(Check("residency", "거주 가구", living.ok, living.message, living.details))

    # Not an eligibility rule but needed to apply: the consent to provide data to the 자치구/시.
    notes = []
    if not candidate.consent_provision:
        notes.append("모임 등록은 할 수 있지만, 공모사업에 신청하려면 '자치구·서울시 제공' 동의가 필요합니다.")

    return Result(rules=rules, checks=checks, counted_households=len(counted), notes=notes, residency=living)
