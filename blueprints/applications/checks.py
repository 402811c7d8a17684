"""The application's rule checks: the same functions run live while a parent types and at
submission. Pure: plain data in, a result out; no request, no database.

A hard issue blocks submission and is shown next to its line; a warning is shown and never
blocks. Rules come from the programme (``Programme.rules``, shape in programmes/rules.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from blueprints.programmes.rules import category as find_category
from blueprints.programmes.rules import category_problem, prohibited_problems

# 기타소득 is withheld (8.8 %) above 125,000원 a payment (소득세법: 필요경비 60 %, 과세최저한 50,000원).
WITHHOLDING_FREE_MAX_WON = 125_000


@dataclass
class Issue:
    level: str          # "hard" | "warn"
    message: str
    line: int | None = None   # index into the lines, None for the whole plan
    code: str = ""

    @property
    def is_hard(self) -> bool:
        return self.level == "hard"


@dataclass
class CategoryRow:
    code: str
    label: str
    total: int
    share: float
    cap_share: float | None
    over_cap: bool


@dataclass
class CheckResult:
    issues: list[Issue] = field(default_factory=list)
    categories: list[CategoryRow] = field(default_factory=list)
    total_won: int = 0
    limit_won: int = 0
    residency: object = None   # groups.eligibility.Residency, when the whole application was checked

    @property
    def hard(self) -> list[Issue]:
        return [i for i in self.issues if i.is_hard]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_hard]

    @property
    def passes(self) -> bool:
        return not self.hard

    def for_line(self, index: int) -> list[Issue]:
        return [i for i in self.issues if i.line == index]

    def general(self) -> list[Issue]:
        return [i for i in self.issues if i.line is None]

    def extend(self, other: "CheckResult") -> "CheckResult":
        """Add another check's issues (and its budget figures, when it has them)."""
        self.issues.extend(other.issues)
        if other.categories or other.total_won or other.limit_won:
            self.categories, self.total_won, self.limit_won = other.categories, other.total_won, other.limit_won
        return self


@dataclass
class Line:
    """A budget line as the rules see it (from the form or the database)."""
    category: str = ""
    item: str = ""
    unit_price_won: int | None = 0
    quantity: int | None = 0
    note: str = ""

    @property
    def amount_won(self) -> int:
        return (self.unit_price_won or 0) * (self.quantity or 0)

    @property
    def is_blank(self) -> bool:
        return not (self.category or self.item or self.unit_price_won or self.quantity or self.note)


def grant_limit(rules: dict, households: int, max_per_group_won: int) -> int:
    """The group's ceiling: its household tier's amount, never above the programme maximum.
    No tiers means the programme maximum; a group too small for every tier gets 0."""
    tiers = (rules.get("grant") or {}).get("tiers") or []
    if not tiers:
        return max_per_group_won
    for tier in tiers:
        low, high = tier.get("min_households", 0), tier.get("max_households")
        if households >= low and (high is None or households <= high):
            return min(int(tier["max_won"]), max_per_group_won)
    return 0


def check_budget(lines: list[Line], rules: dict, *, households: int, max_per_group_won: int) -> CheckResult:
    result = CheckResult()
    totals: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.is_blank:
            continue
        _check_line(index, line, rules, result)
        if line.category:
            totals[line.category] = totals.get(line.category, 0) + line.amount_won
    total = sum(totals.values())
    result.total_won = total
    result.limit_won = grant_limit(rules, households, max_per_group_won)

    for code, amount in totals.items():
        cat = find_category(rules, code)
        if cat is None:
            continue
        caps = cat.get("caps") or {}
        share = amount / total if total else 0.0
        cap_share = caps.get("share_of_total_max")
        over = cap_share is not None and share > cap_share + 1e-9
        result.categories.append(CategoryRow(code, cat["label"], amount, share, cap_share, over))
        indexes = [i for i, line in enumerate(lines) if line.category == code and not line.is_blank]
        if over:
            for i in indexes:
                result.issues.append(Issue("hard", f"{cat['label']}는 총액의 {cap_share:.0%}까지입니다. "
                                           f"지금 {share:.1%}({amount:,}원)입니다.", i, "share_cap"))
        elif caps.get("warn_above_share") is not None and share > caps["warn_above_share"] + 1e-9:
            for i in indexes:
                result.issues.append(Issue("warn", f"{cat['label']}가 총액의 {share:.1%}입니다. "
                                           f"{caps['warn_above_share']:.0%}를 넘으면 심사에서 적정성을 봅니다.", i, "share_warn"))
    result.categories.sort(key=lambda row: [c.get("code") for c in rules.get("expense_categories", [])].index(row.code)
                           if find_category(rules, row.code) else 99)

    if total > result.limit_won:
        if result.limit_won == 0:
            result.issues.append(Issue("hard", f"가구 수({households}가구)에 맞는 지원 한도가 없습니다. "
                                       "모임의 가구 수를 확인해 주세요.", None, "no_tier"))
        else:
            result.issues.append(Issue("hard", f"예산 총액 {total:,}원이 모임의 지원 한도 {result.limit_won:,}원"
                                       f"({households}가구 기준)을 넘습니다.", None, "over_limit"))
    minimum = (rules.get("grant") or {}).get("min_per_group_won")
    if total and minimum and total < minimum:
        result.issues.append(Issue("warn", f"예산 총액이 최소 지원액 {minimum:,}원보다 적습니다.", None, "under_min"))
    if total == 0:
        result.issues.append(Issue("hard", "예산 항목을 하나 이상 입력해 주세요.", None, "empty"))
    return result


def _check_line(index: int, line: Line, rules: dict, result: CheckResult) -> None:
    add = lambda level, message, code: result.issues.append(Issue(level, message, index, code))  # noqa: E731
    problem = category_problem(rules, line.category)
    if problem:
        code, message = problem
        add("hard", message + (" 다시 선택해 주세요." if code == "unknown_category" else ""), code)
    if not line.item:
        add("hard", "품목(내용)을 입력해 주세요.", "no_item")
    if line.unit_price_won is None or line.quantity is None:
        pass  # a number that could not be read; the form shows that message beside the field
    elif line.amount_won <= 0:
        add("hard", "단가와 수량을 입력해 주세요.", "no_amount")
    for message in prohibited_problems(f"{line.item} {line.note}", rules, what="품목"):
        add("hard", message, "prohibited")
    if problem:
        return
    cat = find_category(rules, line.category)
    caps = cat.get("caps") or {}
    price = line.unit_price_won or 0
    if caps.get("per_hour_won") is not None and price > caps["per_hour_won"]:
        add("hard", f"{cat['label']}는 시간당 {caps['per_hour_won']:,}원까지입니다. 단가에 시간당 금액을, "
                    "수량에 시간을 적어 주세요.", "per_hour_cap")
    if caps.get("per_participant_per_session_won") is not None and price > caps["per_participant_per_session_won"]:
        add("hard", f"{cat['label']}는 1인 1회 {caps['per_participant_per_session_won']:,}원까지입니다. "
                    "단가에 1인 1회 금액을, 수량에 인원×횟수를 적어 주세요.", "per_participant_cap")
    if line.category == "instructor" and line.amount_won > WITHHOLDING_FREE_MAX_WON:
        add("warn", f"강사비를 한 번에 {WITHHOLDING_FREE_MAX_WON:,}원 넘게 지급하면 기타소득세 8.8%를 "
                    "원천징수해야 합니다.", "withholding")
    for rule in cat.get("rules") or []:
        if "warn" in rule and "원천징수" not in rule["warn"]:
            add("warn", rule["warn"], "category_note")


def check_plan(sessions: list[dict], *, activity_start: date, activity_end: date, min_per_month: int = 1) -> CheckResult:
    """At least ``min_per_month`` sessions in every month of the activity period, each complete."""
    result = CheckResult()
    counts: dict[str, int] = {}
    for index, s in enumerate(sessions):
        if not any((s.get("title"), s.get("month"), s.get("content"))):
            continue
        if not s.get("title"):
            result.issues.append(Issue("hard", "활동명을 입력해 주세요.", index, "no_title"))
        month = s.get("month") or ""
        if not month:
            result.issues.append(Issue("hard", "활동 월을 선택해 주세요.", index, "no_month"))
        elif not (f"{activity_start:%Y-%m}" <= month <= f"{activity_end:%Y-%m}"):
            result.issues.append(Issue("hard", "활동 기간 밖의 달입니다.", index, "outside_period"))
        else:
            counts[month] = counts.get(month, 0) + 1
    missing = [m for m in months_between(activity_start, activity_end) if counts.get(m, 0) < min_per_month]
    if missing:
        listed = ", ".join(f"{int(m[5:])}월" for m in missing)
        result.issues.append(Issue("hard", f"활동 기간의 매달 {min_per_month}회 이상 활동을 계획해 주세요. 빠진 달: {listed}",
                                   None, "missing_months"))
    return result


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def check_statements(*, purpose: str, need: str, other_funding: bool | None, other_funding_detail: str) -> CheckResult:
    result = CheckResult()
    if not purpose.strip():
        result.issues.append(Issue("hard", "사업 목적을 입력해 주세요.", None, "no_purpose"))
    if not need.strip():
        result.issues.append(Issue("hard", "필요성을 입력해 주세요.", None, "no_need"))
    if other_funding is None:
        result.issues.append(Issue("hard", "중복 지원 여부를 선택해 주세요.", None, "no_declaration"))
    elif other_funding and not other_funding_detail.strip():
        result.issues.append(Issue("hard", "다른 공공 지원을 받는다면 사업명과 금액을 적어 주세요.", None, "declaration_detail"))
    elif other_funding:
        result.issues.append(Issue("warn", "같은 활동에 다른 공공 지원을 함께 받을 수 없습니다. 심사에서 확인합니다.",
                                   None, "declared_other_funding"))
    return result


def check_residency(residency) -> CheckResult:
    """The programme's "거주 가구 최소 비율", a hard rule at submission. ``residency`` is the
    group's verdict (``groups.eligibility.residency``: the same function the live panel shows),
    so the figures the parent saw are the figures that block."""
    result = CheckResult()
    if residency is None or residency.ok:
        return result
    message = residency.message
    if residency.unknown:
        message += (" 거주 자치구가 없는 가구는 거주하지 않는 것으로 셉니다: " + ", ".join(residency.unknown)
                    + ". 모임 화면의 '가구별 거주 자치구'에서 입력해 주세요.")
    result.issues.append(Issue("hard", message, None, "residency"))
    return result
