"""The spending rules: one expense checked against the programme's rules, the group's budget
plan and award, and what the group has already spent. The same function runs live while the
회계 types and on save. Pure: plain data in, a CheckResult out (no request, no database).

It reuses the budget plan's vocabulary (``applications.checks.Issue``/``CheckResult``) and the
programme rules (``programmes.rules``: categories, caps, prohibited items, payment methods).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from blueprints.applications.checks import WITHHOLDING_FREE_MAX_WON, CheckResult, Issue
from blueprints.core.formatting import kdate
from blueprints.programmes.rules import PAYMENT_METHODS, category_problem, prohibited_problems
from blueprints.programmes.rules import category as find_category
from blueprints.core.korean import with_particle

METHOD_LABELS = {**PAYMENT_METHODS, "cash": "현금"}
EVIDENCE_LABELS = {
    "card_slip": "카드전표·영수증",
    "tax_invoice": "전자(세금)계산서",
    "statement": "거래명세서",
    "transfer_proof": "계좌이체확인증",
    "simple_receipt": "간이영수증",
}
BIZ_NO_RE = re.compile(r"^\d{3}-\d{2}-\d{5}$")
_BIZ_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def normalise_biz_no(text: str | None) -> str:
    """'1248210324' / '124 82 10324' -> '124-82-10324' (anything else comes back as typed)."""
    raw = (text or "").strip()
    digits = re.sub(r"[\s-]", "", raw)
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    return raw


def biz_no_problem(text: str | None) -> str | None:
    """None when empty or a well-formed 사업자등록번호 (format and check digit), else a message."""
    value = normalise_biz_no(text)
    if not value:
        return None
    if not BIZ_NO_RE.match(value):
        return "사업자등록번호는 000-00-00000 형식의 10자리 숫자입니다."
    digits = [int(c) for c in value.replace("-", "")]
    total = sum(d * w for d, w in zip(digits, _BIZ_WEIGHTS)) + (digits[8] * 5) // 10
    if (10 - total % 10) % 10 != digits[9]:
        return "사업자등록번호가 올바르지 않습니다(검증번호 불일치). 영수증의 번호를 다시 확인해 주세요."
    return None


@dataclass
class ExpenseIn:
    """An expense as the rules see it (from the form or the database)."""
    spent_on: date | None = None
    category: str = ""
    vendor: str = ""
    biz_no: str = ""
    description: str = ""
    amount_won: int | None = 0
    method: str = ""
    cash_reason: str = ""
    approval_no: str = ""
    evidence_kind: str = "card_slip"
    participants: int | None = 0
    hours: int | None = None
    has_receipt: bool = False
    session_id: int | None = None


@dataclass
class Ledger:
    """What the group planned and has spent, *without* the expense being checked."""
    award_won: int
    planned: dict[str, int] = field(default_factory=dict)     # category -> budget plan
    spent: dict[str, int] = field(default_factory=dict)       # category -> other expenses
    instructor_by_day: dict[date, int] = field(default_factory=dict)  # 강사비 already paid per day
    member_names: list[str] = field(default_factory=list)     # parents of the group (강사비 payee check)

    @property
    def spent_total(self) -> int:
        return sum(self.spent.values())


def check_expense(e: ExpenseIn, rules: dict, ledger: Ledger, *, activity_start: date, activity_end: date,
                  today: date | None = None) -> CheckResult:
    result = CheckResult()

    def add(level, message, code):
        result.issues.append(Issue(level, message, None, code))

    amount = e.amount_won or 0
    cat = find_category(rules, e.category) if e.category else None
    # What is there at all
    refused = category_problem(rules, e.category)
    if refused:
        add("hard", refused[1], refused[0])
    if e.spent_on is None:
        add("hard", "사용일을 입력해 주세요.", "no_date")
    elif not (activity_start <= e.spent_on <= activity_end):
        add("hard", f"활동기간({kdate(activity_start)} ~ {kdate(activity_end)}) 밖의 지출은 "
                    "인정되지 않습니다.", "outside_period")
    elif today is not None and e.spent_on > today:
        add("hard", "앞으로의 날짜는 입력할 수 없습니다. 실제로 쓴 날을 적어 주세요.", "future_date")
    if not e.vendor:
        add("hard", "사용처(가맹점·받는 사람)를 입력해 주세요.", "no_vendor")
    problem = biz_no_problem(e.biz_no)
    if problem:
        add("hard", problem, "biz_no")
    if not e.description:
        add("hard", "내용·품목을 입력해 주세요.", "no_description")
    if e.amount_won is not None and amount <= 0:
        add("hard", "금액을 입력해 주세요.", "no_amount")

    for message in prohibited_problems(f"{e.vendor} {e.description}", rules, what="지출"):
        add("hard", message, "prohibited")

    _check_payment(e, cat, rules, add, amount)
    _check_evidence(e, cat, rules, add, amount)

    if refused is None:
        _check_caps(e, cat, ledger, add, amount)

    total_after = ledger.spent_total + amount
    if total_after > ledger.award_won:
        add("hard", f"집행 합계 {total_after:,}원이 교부결정액 {ledger.award_won:,}원을 넘습니다.", "over_award")
    return result


def _check_payment(e, cat, rules, add, amount):
    pe = rules.get("payment_and_evidence") or {}
    accepted = pe.get("accepted_methods") or list(PAYMENT_METHODS)
    if not e.method:
        add("hard", "결제수단을 선택해 주세요.", "no_method")
        return
    if e.method == "cash":
        cash = pe.get("cash") or {}
        exception = cash.get("exception") or {}
        if cash.get("allowed"):
            return
        limit = exception.get("max_won")
        if exception and (limit is None or amount <= limit):
            if exception.get("requires_reason", True) and not e.cash_reason:
                add("hard", f"현금 결제는 원칙적으로 인정되지 않습니다. {limit:,}원 이하 예외로 처리하려면 "
                            "사유를 적어 주세요." if limit else "현금 결제 사유를 적어 주세요.", "cash_reason")
            else:
                add("warn", "현금 결제 예외로 표시됩니다. 정산 때 사유를 확인합니다.", "cash_exception")
        else:
            methods = "·".join(METHOD_LABELS.get(m, m) for m in accepted)
            add("hard", f"현금 결제는 인정되지 않습니다. {with_particle(methods, '으로/로')} 결제해 주세요.", "cash")
        return
    if e.method not in accepted:
        add("hard", f"{with_particle(METHOD_LABELS.get(e.method, e.method), '은/는')} 이 사업에서 인정하지 않는 결제수단입니다.", "method")
    if cat is not None and cat.get("payment_methods") and e.method not in cat["payment_methods"]:
        allowed = ", ".join(METHOD_LABELS.get(m, m) for m in cat["payment_methods"])
        add("hard", f"{with_particle(cat['label'], '은/는')} {with_particle(allowed, '으로/로')}만 지급할 수 있습니다.", "category_method")


def _check_evidence(e, cat, rules, add, amount):
    pe = rules.get("payment_and_evidence") or {}
    if e.evidence_kind == "simple_receipt" and pe.get("simple_receipt_간이영수증", "not_accepted") != "accepted":
        add("hard", "간이영수증은 증빙으로 인정되지 않습니다. 카드전표나 세금계산서를 받아 주세요.", "simple_receipt")
    required_above = pe.get("receipt_required_above_won", 0) or 0
    if not e.has_receipt and amount > required_above:
        add("hard", "영수증(사진 또는 PDF)을 올려 주세요. 모든 지출에 증빙이 필요합니다.", "no_receipt")
    if cat is not None and cat.get("evidence_extra"):
        add("warn", f"{cat['label']} 추가 증빙: " + ", ".join(cat["evidence_extra"]) + " — 정산 때 함께 제출합니다.",
            "evidence_extra")


def _check_caps(e, cat, ledger, add, amount):
    caps = cat.get("caps") or {}
    code, label = cat["code"], cat["label"]
    spent_after = ledger.spent.get(code, 0) + amount
    planned = ledger.planned.get(code, 0)
    share_max = caps.get("share_of_total_max")
    if share_max is not None and spent_after > share_max * ledger.award_won + 1e-6:
        add("hard", f"{with_particle(label, '은/는')} 교부액의 {share_max:.0%}({int(share_max * ledger.award_won):,}원)까지입니다. "
                    f"이 지출을 더하면 {spent_after:,}원입니다.", "share_cap")
    if planned == 0:
        add("warn", f"예산계획에 없던 비목({label})입니다. 변경 승인이 필요할 수 있습니다.", "unplanned")
    elif spent_after > planned:
        add("warn", f"{label} 집행액 {spent_after:,}원이 계획 {planned:,}원을 넘습니다.", "over_plan")
    per_participant = caps.get("per_participant_per_session_won")
    if per_participant is not None:
        if not e.participants:
            add("hard", f"{with_particle(label, '은/는')} 참석 인원을 적어야 합니다(1인 1회 {per_participant:,}원 이내).", "no_participants")
        elif amount > per_participant * e.participants:
            add("hard", f"{with_particle(label, '은/는')} 1인 1회 {per_participant:,}원까지입니다. {e.participants}명이면 "
                        f"{per_participant * e.participants:,}원 이내여야 합니다.", "per_participant_cap")
    per_hour, per_day = caps.get("per_hour_won"), caps.get("per_day_won")
    if per_hour is not None or per_day is not None:
        if not e.hours:
            add("hard", f"{with_particle(label, '은/는')} 강의 시간을 적어 주세요.", "no_hours")
        elif per_hour is not None and amount > per_hour * e.hours:
            add("hard", f"{with_particle(label, '은/는')} 시간당 {per_hour:,}원까지입니다. {e.hours}시간이면 {per_hour * e.hours:,}원 이내여야 "
                        "합니다.", "per_hour_cap")
        if per_day is not None and e.spent_on is not None:
            day_total = ledger.instructor_by_day.get(e.spent_on, 0) + amount
            if day_total > per_day:
                add("hard", f"{with_particle(label, '은/는')} 하루 {per_day:,}원까지입니다. 이 날 합계 {day_total:,}원입니다.", "per_day_cap")
        payee = _squash(e.vendor)
        if payee and any(_squash(name) and _squash(name) in payee for name in ledger.member_names):
            add("hard", f"{with_particle(label, '은/는')} 모임 구성원(대표·회계 포함)에게 지급할 수 없습니다.", "paid_to_member")
        if amount > WITHHOLDING_FREE_MAX_WON:
            add("warn", f"{with_particle(label, '을/를')} 한 번에 {WITHHOLDING_FREE_MAX_WON:,}원 넘게 지급하면 기타소득세 8.8%를 "
                        "원천징수해야 합니다.", "withholding")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")
