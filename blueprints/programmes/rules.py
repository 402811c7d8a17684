"""A programme's rules as data: their shape, parsing of staff input, validation, matching.

Everything here is pure (no request, no database) so the later application, budget and
settlement rule engines can import it and tests can call it directly.

The shape of ``Programme.rules``
================================
The whole preset from ``data/programme-defaults.yaml`` is kept, normalised by
``normalise_rules`` into the structure below. Money is int 원, shares are fractions
(0.25 = 25 %), ``None`` means "no limit". Keys not listed (disbursement, settlement,
formatting, privacy…) are carried along unchanged from the preset.

.. code-block:: text

    status: "draft" | "published"      # absent = published (rows made outside the set-up screens)
    published_at: ISO UTC string        # when staff published it (absent for legacy rows)
    programme: {...}                    # the preset's programme block minus what the Programme
                                        # columns hold (title, operator, budget, all dates):
                                        # target_groups, additional_round, settlement_due_days_after_end…
    eligibility:
      min_households: int               # hard
      max_households: int | None        # hard
      child_age_rule:
        each_counted_household_has_child_aged: {min_man_age: int, max_man_age: int}
        reference_date: "activity_period.start"
      residency: {scope: str, min_resident_share: fraction}
      officers: {required_roles: [대표, 회계], distinct_persons: bool, leader_must_be_member_household: bool}
      one_application_per_group_per_programme: bool
      no_duplicate_public_funding_for_same_activity: bool
      min_meetings_per_month: int
      excluded_purposes: [str]
    grant:
      max_per_group_won: int            # mirrors Programme.max_per_group_won
      min_per_group_won: int
      rounding_unit_won: int            # awards are rounded down to this unit
      tiers: [{min_households: int, max_households: int | None, households: "5-6" | "10+", max_won: int}]
      addons: [{code: str, label: str, amount_won: int, requires_plan: bool}]
    expense_categories:
      - code: str                       # stable id used by budget and expense lines
        label: str
        allowed: bool                   # false = the category may not be used at all (hard)
        caps:                           # every key present; None = no cap
          share_of_total_max: fraction | None        # hard: category total / budget total
          warn_above_share: fraction | None          # warning only
          per_hour_won: int | None                   # hard (강사비)
          per_day_won: int | None                    # hard (강사비)
          per_participant_per_session_won: int | None  # hard (간식비)
        rules: [{hard: str} | {warn: str}]          # other rules, shown to applicants as text
        payment_methods: [method code]              # optional: only these methods for this category
        evidence_extra: [str]                       # evidence needed beyond the receipt
    prohibited_items:                   # hard violations; keywords match budget/expense text
      - {label: str, keywords: [str]}
    payment_and_evidence:
      accepted_methods: [clean_card | grant_check_card | zeropay | transfer]
      cash: {allowed: bool, exception: {...}}
      simple_receipt_간이영수증: "accepted" | "not_accepted"
      receipt_required_above_won: int
      itemised_or_거래명세서: "required" | "optional"
      per_session_evidence: [str]
      separate_account_required: bool
    review:
      reviewers_per_application: int
      rubric: [{code: str, label: str, max: int}]
      pass_mark: int
      tie_break: [rubric code | "first_time_group" | "submitted_at"]   # in order
      aggregate: "mean_of_submitted_totals"
      bonus: {max: int, reasons: [str]}
"""
from __future__ import annotations

import re
from copy import deepcopy
from functools import lru_cache
from datetime import date, datetime

from .models import ProgrammeState
from blueprints.core.forms import MAX_WON, format_percent, parse_won  # noqa: F401  (R.format_percent)
from blueprints.core.korean import with_particle
from blueprints.core.forms import parse_percent as _parse_percent

PAYMENT_METHODS = {
    "clean_card": "클린카드",
    "grant_check_card": "보조금 전용 체크카드",
    "zeropay": "제로페이",
    "transfer": "계좌이체",
}
TIE_BREAK_EXTRA = {
    "first_time_group": "처음 신청한 모임 우선",
    "submitted_at": "먼저 제출한 신청서 우선",
}
CAP_KEYS = ("share_of_total_max", "warn_above_share", "per_hour_won", "per_day_won",
            "per_participant_per_session_won")
SHARE_CAPS = ("share_of_total_max", "warn_above_share")
WON_CAPS = ("per_hour_won", "per_day_won", "per_participant_per_session_won")

# Default keywords for the preset's prohibited items, found by the first word of the label.
# Short or ambiguous words are avoided on purpose: 가구 is also "household", 술 is inside 미술.
DEFAULT_KEYWORDS = {
    "주류": ["술", "주류", "맥주", "소주", "와인", "막걸리", "양주", "위스키", "사케", "하이볼"],
    "담배": ["담배", "전자담배", "궐련", "니코틴"],
    "상품권": ["상품권", "기프티콘", "선불카드", "포인트 충전", "기프트카드", "모바일 쿠폰"],
    "현금": ["현금 지급", "현금성", "용돈", "사례금", "개인 선물", "답례품"],
    "개인 용품": ["개인 용품", "화장품", "의류", "신발"],
    "내구성 물품": ["가전", "냉장고", "세탁기", "노트북", "태블릿", "카메라", "책상", "집기", "비품", "유모차"],
    "운영비": ["운영비", "인건비", "임차료", "월세", "관리비", "공과금", "전기요금", "통신비", "사무관리비"],
    "구성원 인건비": ["구성원 인건비", "회원 수당", "활동 수당", "구성원 강사비", "회원 강사비"],
    "제한업종": ["유흥", "단란주점", "룸살롱", "나이트", "노래방", "노래연습장", "사우나", "안마", "마사지",
             "골프", "PC방", "피시방", "당구장", "카지노", "복권", "로또", "성인용품"],
    "활동기간 외": [],  # judged by the expense date, not by words
    "개인 포인트": ["마일리지", "포인트 적립", "적립금"],
    "해외 직구": ["해외 직구", "직구", "알리익스프레스", "테무", "아마존"],
}


class RuleError(ValueError):
    """A value staff typed that the rules cannot take; the message is Korean, for the form."""


# Parsing staff input -----------------------------------------------------------------------

def parse_money(text, *, required: bool = True, maximum: int = MAX_WON) -> int | None:
    """'1,000,000' / '1000000' / '1,000,000원' -> 1000000 (core.forms.parse_won); RuleError in Korean."""
    try:
        return parse_won(text, required=required, maximum=maximum)
    except ValueError as exc:
        raise RuleError(str(exc)) from None


def parse_percent(text, *, required: bool = True) -> float | None:
    """'25' / '25%' / '12.5' -> 0.25 / 0.125 (core.forms.parse_percent); RuleError in Korean."""
    try:
        return _parse_percent(text, required=required)
    except ValueError as exc:
        raise RuleError(str(exc)) from None


# Normalising the preset ---------------------------------------------------------------------

def default_keywords(label: str) -> list[str]:
    for key, words in DEFAULT_KEYWORDS.items():
        if label.startswith(key) or key in label.split("(")[0]:
            return list(words)
    return [label.split("(")[0].strip()]


def parse_keywords(text: str) -> list[str]:
    """'술, 맥주,소주' -> ['술', '맥주', '소주'] (commas or new lines; duplicates dropped)."""
    seen: list[str] = []
    for part in re.split(r"[,\n]", text or ""):
        word = " ".join(part.split())
        if word and word not in seen:
            seen.append(word)
    return seen


def _tier_bounds(households: str) -> tuple[int, int | None]:
    text = str(households).strip()
    if text.endswith("+"):
        return int(text[:-1]), None
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def tier_label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else (f"{low}-{high}" if high != low else str(low))


DUPLICATED_IN_COLUMNS = ("title", "operator", "budget_total_won", "application_window", "review_period",
                         "activity_period", "settlement_due")


def normalise_rules(raw: dict) -> dict:
    """The preset (or an older rules dict) in the documented shape; idempotent."""
    rules = deepcopy(raw)
    programme_block = rules.get("programme")
    if isinstance(programme_block, dict):
        # These live in Programme's columns; a second, stale copy here would mislead.
        for key in DUPLICATED_IN_COLUMNS:
            programme_block.pop(key, None)
    items = []
    for item in rules.get("prohibited_items") or []:
        if isinstance(item, str):
            items.append({"label": item, "keywords": default_keywords(item)})
        else:
            items.append({"label": item["label"], "keywords": list(item.get("keywords") or [])})
    rules["prohibited_items"] = items

    categories = []
    for cat in rules.get("expense_categories") or []:
        cat = dict(cat)
        caps = dict(cat.get("caps") or {})
        cat["caps"] = {key: caps.get(key) for key in CAP_KEYS}
        cat.setdefault("allowed", True)
        cat.setdefault("rules", [])
        cat.setdefault("evidence_extra", [])
        categories.append(cat)
    rules["expense_categories"] = categories

    grant = rules.setdefault("grant", {})
    tiers = []
    for tier in grant.get("tiers") or []:
        if "min_households" in tier:
            low, high = tier["min_households"], tier.get("max_households")
        else:
            low, high = _tier_bounds(tier["households"])
        tiers.append({"min_households": low, "max_households": high,
                      "households": tier_label(low, high), "max_won": int(tier["max_won"])})
    grant["tiers"] = tiers
    grant.setdefault("addons", [])

    review = rules.setdefault("review", {})
    review.setdefault("rubric", [])
    review.setdefault("tie_break", [])
    return rules


# Reading rules -------------------------------------------------------------------------------

def status(rules: dict) -> str:
    return (rules or {}).get("status", ProgrammeState.published)


def category(rules: dict, code: str) -> dict | None:
    return next((c for c in rules.get("expense_categories", []) if c.get("code") == code), None)


def rubric_total(rubric: list[dict]) -> int:
    return sum(int(c.get("max") or 0) for c in rubric)


def tie_break_label(code: str, rubric: list[dict]) -> str:
    for criterion in rubric:
        if criterion.get("code") == code:
            return f"‘{criterion['label']}’ 점수가 높은 순"
    return TIE_BREAK_EXTRA.get(code, code)


_SPACE_RE = re.compile(r"\s+")
_PARTICLES = "을를이가은는과와도값만의로"


@lru_cache(maxsize=2048)  # compiled once per keyword: the live budget check runs this per line per keystroke
def _keyword_pattern(keyword: str) -> re.Pattern:
    words = [re.escape(w) for w in keyword.split()]
    core = r"\s*".join(words)
    if len(keyword.replace(" ", "")) <= 1:
        # One syllable (술) matches only as a word of its own (not inside 미술, 기술).
        return re.compile(rf"(?<![0-9A-Za-z가-힣]){core}(?=$|[^0-9A-Za-z가-힣]|[{_PARTICLES}](?![가-힣]))",
                          re.IGNORECASE)
    return re.compile(core, re.IGNORECASE)


@lru_cache(maxsize=64)
def _any_keyword(keywords: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(r"\s*".join(re.escape(w) for w in k.split()) for k in keywords), re.IGNORECASE)


def match_prohibited(text: str, rules: dict) -> list[dict]:
    """Prohibited items whose keywords appear in ``text`` (a budget line or expense description).

    Returns ``[{"label": item label, "keyword": the keyword found}]``, one per item, in the
    programme's order. Spaces inside a keyword are optional in the text (포인트충전 matches
    '포인트 충전'); a one-syllable keyword must stand as a word of its own.
    """
    text = _SPACE_RE.sub(" ", text or "")
    found = []
    if not text.strip():
        return found
    items = rules.get("prohibited_items", [])
    # Most lines hold no keyword at all: one search for any of them first (a superset of the
    # exact patterns below, which only add word boundaries for one-syllable keywords).
    keywords = tuple(k.strip() for item in items for k in item.get("keywords", []) if k.strip())
    if not keywords or not _any_keyword(keywords).search(text):
        return found
    for item in items:
        for keyword in item.get("keywords", []):
            if keyword.strip() and _keyword_pattern(keyword.strip()).search(text):
                found.append({"label": item["label"], "keyword": keyword})
                break
    return found


# Judging spending (a budget line or an expense) -----------------------------------------------

def category_problem(rules: dict, code: str) -> tuple[str, str] | None:
    """Why spending may not go under category ``code``: (issue code, Korean message), or None
    when the programme has that category and allows it."""
    if not code:
        return "no_category", "비목을 선택해 주세요."
    found = category(rules, code)
    if found is None:
        return "unknown_category", "이 사업에 없는 비목입니다."
    if not found.get("allowed", True):
        return "category_not_allowed", f"{with_particle(found['label'], '은/는')} 이 사업에서 지원하지 않는 비목입니다."
    return None


def prohibited_problems(text: str, rules: dict, *, what: str) -> list[str]:
    """One message per prohibited item that ``text`` names; ``what`` is what is refused (품목, 지출)."""
    return [f"지원할 수 없는 {what}입니다: {hit['label']} (‘{hit['keyword']}’)" for hit in match_prohibited(text, rules)]


# Validation --------------------------------------------------------------------------------

def validate_schedule(*, opens_at: datetime, closes_at: datetime, review_from: date | None,
                      review_to: date | None, activity_start: date, activity_end: date,
                      settlement_due: date, closes_local_date: date | None = None) -> dict[str, str]:
    """Field -> Korean message for dates that contradict each other (empty when fine)."""
    errors: dict[str, str] = {}
    if closes_at <= opens_at:
        errors["closes_at"] = "신청 마감은 신청 시작보다 뒤여야 합니다."
    if review_from and review_to and review_to < review_from:
        errors["review_to"] = "심사 종료일은 심사 시작일과 같거나 뒤여야 합니다."
    if review_from and closes_local_date and review_from < closes_local_date:
        errors.setdefault("review_from", "심사는 신청 마감일 이후에 시작해야 합니다.")
    if activity_end < activity_start:
        errors["activity_end"] = "활동 종료일은 활동 시작일과 같거나 뒤여야 합니다."
    if settlement_due < activity_end:
        errors["settlement_due"] = "정산 마감일은 활동 종료일 이후여야 합니다."
    return errors


def schedule_overlaps(*, closes_local_date: date, review_from: date | None, review_to: date | None,
                      activity_start: date, activity_end: date, settlement_due: date) -> list[str]:
    """Korean warnings for dates that are allowed but overlap: the application window, the
    review and the publication of results, the activity period and the settlement due date
    should follow one another. Empty when the schedule runs in order."""
    warnings = []
    if closes_local_date >= activity_start:
        warnings.append("신청 마감일이 활동 시작일과 같거나 늦습니다. 선정 결과는 신청 마감 뒤에 공개할 수 있어, "
                        "활동이 결과 공개보다 먼저 시작됩니다.")
    if review_to and review_to >= activity_start:
        warnings.append("심사 종료일(결과 공개)이 활동 시작일과 같거나 늦습니다. 선정된 모임이 활동 시작 전에 "
                        "결과를 받을 수 있게 일정을 확인해 주세요.")
    if review_from and review_from > activity_end:
        warnings.append("심사 시작일이 활동 종료일보다 늦습니다.")
    if settlement_due == activity_end:
        warnings.append("정산 마감일이 활동 종료일과 같습니다. 정산서를 쓸 시간이 없습니다.")
    return warnings


def validate_categories(categories: list[dict]) -> dict[tuple[int, str], str]:
    """(row index, field) -> message for caps that make no sense together."""
    errors: dict[tuple[int, str], str] = {}
    labels: dict[str, int] = {}
    for i, cat in enumerate(categories):
        caps = cat["caps"]
        share, warn = caps.get("share_of_total_max"), caps.get("warn_above_share")
        for key in SHARE_CAPS:
            value = caps.get(key)
            if value is not None and not 0 <= value <= 1:
                errors[(i, key)] = "비율은 0%에서 100% 사이로 입력해 주세요."
        if share is not None and warn is not None and warn > share:
            errors[(i, "warn_above_share")] = "경고 기준은 상한보다 낮거나 같아야 합니다."
        hour, day = caps.get("per_hour_won"), caps.get("per_day_won")
        if hour is not None and day is not None and day < hour:
            errors[(i, "per_day_won")] = "하루 상한은 시간당 상한보다 작을 수 없습니다."
        if cat["label"] in labels:
            errors[(i, "label")] = "같은 이름의 항목이 이미 있습니다."
        labels[cat["label"]] = i
    return errors


def validate_rubric(rubric: list[dict], pass_mark: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not rubric:
        errors["rubric"] = "심사 항목을 하나 이상 두어야 합니다."
        return errors
    total = rubric_total(rubric)
    if pass_mark > total:
        errors["pass_mark"] = f"합격 점수는 배점 합계({total}점)보다 클 수 없습니다."
    return errors


def validate_tiers(tiers: list[dict], max_per_group_won: int) -> dict[tuple[int, str], str]:
    errors: dict[tuple[int, str], str] = {}
    previous_high = None
    for index in sorted(range(len(tiers)), key=lambda i: tiers[i]["min_households"]):
        tier = tiers[index]
        high = tier.get("max_households")
        if high is not None and high < tier["min_households"]:
            errors[(index, "max_households")] = "최대 가구 수는 최소 가구 수보다 작을 수 없습니다."
        if previous_high is not None and tier["min_households"] <= previous_high:
            errors[(index, "min_households")] = "가구 수 구간이 앞 구간과 겹칩니다."
        if tier["max_won"] > max_per_group_won:
            errors[(index, "max_won")] = f"모임당 최대 지원액({max_per_group_won:,}원)을 넘을 수 없습니다."
        previous_high = high if high is not None else 10**9
    return errors


def slug(label: str, taken: set[str], prefix: str = "item") -> str:
    """A stable code for a row staff added (ASCII only when the label has some)."""
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or prefix
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code
