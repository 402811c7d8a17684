"""The programme editor's sections: how each fills its form, reads it back, and describes itself.

A *state* is a plain dict of the Programme columns plus a deep copy of ``rules``; sections
read a form into a new state (or leave Korean errors on the form's fields) and describe a
state as facts — ``[(label, text)]`` — that the editor shows and that the change notice
compares before and after.
"""
from copy import deepcopy

from blueprints.core.formatting import kdate, kdatetime, won
from blueprints.core.timeutil import to_kst

from . import forms as F
from . import rules as R

COLUMNS = ("title", "year", "operator", "opens_at", "closes_at", "review_from", "review_to",
           "activity_start", "activity_end", "settlement_due", "budget_total_won", "max_per_group_won")


class Section:
    key = ""
    title = ""
    form_class = None
    affects_applicants = True

    def fill(self, form, state):  # state -> form (GET)
        raise NotImplementedError

    def prepare(self, form, state):  # before any render: choices that depend on the state
        pass

    def read(self, form, state) -> dict | None:  # form -> new state, None when errors were put on the form
        raise NotImplementedError

    def facts(self, state) -> list[tuple[str, str]]:
        raise NotImplementedError


def snapshot(programme) -> dict:
    state = {name: getattr(programme, name) for name in COLUMNS}
    state["rules"] = deepcopy(programme.rules or {})
    return state


def changed_facts(section: "Section", before: dict, after: dict) -> list[tuple[str, str, str]]:
    """[(label, before text, after text)] for facts that differ (added/removed show '없음')."""
    old, new = dict(section.facts(before)), dict(section.facts(after))
    labels = list(old) + [k for k in new if k not in old]
    return [(label, old.get(label, "없음"), new.get(label, "없음"))
            for label in labels if old.get(label) != new.get(label)]


def _pct(fraction) -> str:
    return f"{R.format_percent(fraction)}%"


def _yes(value) -> str:
    return "예" if value else "아니오"


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def _rows(form_list):
    """Submitted rows that are neither blank nor marked for removal, with their index."""
    return [(i, entry.form) for i, entry in enumerate(form_list.entries)
            if not entry.form.remove.data and not entry.form.is_blank()]


def _fill_rows(field_list, rows: list[dict], extra: int = 1):
    while field_list.entries:
        field_list.pop_entry()
    for row in rows:
        field_list.append_entry(row)
    for _ in range(extra):
        field_list.append_entry()


class Basic(Section):
    key, title, form_class, affects_applicants = "basic", "기본 정보", F.BasicForm, False

    def fill(self, form, state):
        form.title.data, form.year.data = state["title"], state["year"]
        form.operator.data, form.budget_total_won.data = state["operator"], state["budget_total_won"]

    def read(self, form, state):
        new = deepcopy(state)
        new.update(title=form.title.data, year=form.year.data, operator=form.operator.data,
                   budget_total_won=form.budget_total_won.data)
        return new

    def facts(self, state):
        return [("사업명", state["title"]), ("사업 연도", f"{state['year']}년"), ("운영 기관", state["operator"]),
                ("총 사업 예산", won(state["budget_total_won"]))]


class Schedule(Section):
    key, title, form_class = "schedule", "일정", F.ScheduleForm

    def fill(self, form, state):
        for name in ("opens_at", "closes_at", "review_from", "review_to", "activity_start", "activity_end",
                     "settlement_due"):
            getattr(form, name).data = state[name]

    def read(self, form, state):
        values = {name: getattr(form, name).data for name in
                  ("opens_at", "closes_at", "review_from", "review_to", "activity_start", "activity_end",
                   "settlement_due")}
        errors = R.validate_schedule(**values, closes_local_date=to_kst(values["closes_at"]).date())
        for name, message in errors.items():
            getattr(form, name).errors.append(message)
        if errors:
            return None
        new = deepcopy(state)
        new.update(values)
        return new

    def facts(self, state):
        review = "-" if not state["review_from"] else f"{kdate(state['review_from'])} ~ {kdate(state['review_to'])}"
        return [("신청 시작", kdatetime(state["opens_at"])), ("신청 마감", kdatetime(state["closes_at"])),
                ("심사 기간", review),
                ("활동 기간", f"{kdate(state['activity_start'])} ~ {kdate(state['activity_end'])}"),
                ("정산 마감", kdate(state["settlement_due"]))]


class Grant(Section):
    key, title, form_class = "grant", "지원 금액", F.GrantForm

    def fill(self, form, state):
        grant = state["rules"].get("grant", {})
        form.max_per_group_won.data = state["max_per_group_won"]
        form.min_per_group_won.data = grant.get("min_per_group_won", 0)
        form.rounding_unit_won.data = grant.get("rounding_unit_won", 1)
        _fill_rows(form.tiers, [dict(t) for t in grant.get("tiers", [])])
        _fill_rows(form.addons, [dict(a) for a in grant.get("addons", [])])

    def read(self, form, state):
        ok = True
        maximum, minimum = form.max_per_group_won.data, form.min_per_group_won.data
        if minimum > maximum:
            form.min_per_group_won.errors.append("최소 지원액은 최대 지원액보다 클 수 없습니다.")
            ok = False
        if form.rounding_unit_won.data < 1:
            form.rounding_unit_won.errors.append("1원 이상으로 입력해 주세요.")
            ok = False
        tiers, tier_forms = [], []
        for _, row in _rows(form.tiers):
            if row.min_households.data is None:
                row.min_households.errors.append("최소 가구 수를 입력해 주세요.")
                ok = False
                continue
            if row.max_won.data is None:
                row.max_won.errors.append("최대 지원액을 입력해 주세요.")
                ok = False
                continue
            low, high = row.min_households.data, row.max_households.data
            tiers.append({"min_households": low, "max_households": high, "households": R.tier_label(low, high),
                          "max_won": row.max_won.data})
            tier_forms.append(row)
        for (index, name), message in R.validate_tiers(tiers, maximum).items():
            getattr(tier_forms[index], name).errors.append(message)
            ok = False
        addons, taken = [], set()
        for _, row in _rows(form.addons):
            if not row.label.data:
                row.label.errors.append("이름을 입력해 주세요.")
                ok = False
                continue
            if row.amount_won.data is None:
                row.amount_won.errors.append("금액을 입력해 주세요.")
                ok = False
                continue
            code = row.code.data or R.slug(row.label.data, taken, "addon")
            taken.add(code)
            addons.append({"code": code, "label": row.label.data, "amount_won": row.amount_won.data,
                           "requires_plan": bool(row.requires_plan.data)})
        if not ok:
            return None
        new = deepcopy(state)
        new["max_per_group_won"] = maximum
        grant = new["rules"].setdefault("grant", {})
        grant.update(max_per_group_won=maximum, min_per_group_won=minimum,
                     rounding_unit_won=form.rounding_unit_won.data,
                     tiers=sorted(tiers, key=lambda t: t["min_households"]), addons=addons)
        return new

    def facts(self, state):
        grant = state["rules"].get("grant", {})
        facts = [("모임당 최대 지원액", won(state["max_per_group_won"])),
                 ("모임당 최소 지원액", won(grant.get("min_per_group_won"))),
                 ("지원액 절사 단위", won(grant.get("rounding_unit_won")))]
        for tier in grant.get("tiers", []):
            facts.append((f"{household_range(tier)} 모임", f"최대 {won(tier['max_won'])}"))
        for addon in grant.get("addons", []):
            plan = " (별도 활동계획 필요)" if addon.get("requires_plan") else ""
            facts.append((f"추가 지원: {addon['label']}", won(addon["amount_won"]) + plan))
        return facts


def household_range(tier: dict) -> str:
    low, high = tier["min_households"], tier.get("max_households")
    if high is None:
        return f"{low}가구 이상"
    return f"{low}가구" if low == high else f"{low}~{high}가구"


class Eligibility(Section):
    key, title, form_class = "eligibility", "신청 자격", F.EligibilityForm

    def fill(self, form, state):
        e = state["rules"].get("eligibility", {})
        ages = e.get("child_age_rule", {}).get("each_counted_household_has_child_aged", {})
        form.min_households.data = e.get("min_households")
        form.max_households.data = e.get("max_households")
        form.child_min_age.data, form.child_max_age.data = ages.get("min_man_age", 0), ages.get("max_man_age", 6)
        form.residency_scope.data = e.get("residency", {}).get("scope", "")
        form.min_resident_share.data = e.get("residency", {}).get("min_resident_share", 1.0)
        form.min_meetings_per_month.data = e.get("min_meetings_per_month", 1)
        form.distinct_officers.data = e.get("officers", {}).get("distinct_persons", True)
        form.one_application.data = e.get("one_application_per_group_per_programme", True)
        form.no_duplicate_funding.data = e.get("no_duplicate_public_funding_for_same_activity", True)
        form.excluded_purposes.data = "\n".join(e.get("excluded_purposes", []))

    def read(self, form, state):
        ok = True
        if form.max_households.data is not None and form.max_households.data < form.min_households.data:
            form.max_households.errors.append("최대 가구 수는 최소 가구 수보다 작을 수 없습니다.")
            ok = False
        if form.child_max_age.data < form.child_min_age.data:
            form.child_max_age.errors.append("최대 나이는 최소 나이보다 작을 수 없습니다.")
            ok = False
        if not ok:
            return None
        new = deepcopy(state)
        e = new["rules"].setdefault("eligibility", {})
        e["min_households"], e["max_households"] = form.min_households.data, form.max_households.data
        age_rule = e.setdefault("child_age_rule", {})
        age_rule["each_counted_household_has_child_aged"] = {"min_man_age": form.child_min_age.data,
                                                             "max_man_age": form.child_max_age.data}
        age_rule.setdefault("reference_date", "activity_period.start")
        e.setdefault("residency", {}).update(scope=form.residency_scope.data,
                                             min_resident_share=form.min_resident_share.data)
        e.setdefault("officers", {})["distinct_persons"] = bool(form.distinct_officers.data)
        e["min_meetings_per_month"] = form.min_meetings_per_month.data
        e["one_application_per_group_per_programme"] = bool(form.one_application.data)
        e["no_duplicate_public_funding_for_same_activity"] = bool(form.no_duplicate_funding.data)
        e["excluded_purposes"] = _lines(form.excluded_purposes.data)
        return new

    def facts(self, state):
        e = state["rules"].get("eligibility", {})
        ages = e.get("child_age_rule", {}).get("each_counted_household_has_child_aged", {})
        households = f"{e.get('min_households')}가구 이상"
        if e.get("max_households"):
            households = f"{e.get('min_households')}~{e['max_households']}가구"
        residency = e.get("residency", {})
        return [("모임 규모", households),
                ("자녀 나이", f"가구마다 만 {ages.get('min_man_age', 0)}~{ages.get('max_man_age', 6)}세 자녀"),
                ("거주 지역", f"{residency.get('scope', '-')} (가구의 {_pct(residency.get('min_resident_share', 1))} 이상)"),
                ("월 최소 모임", f"{e.get('min_meetings_per_month', 0)}회"),
                ("대표·회계 분리", _yes(e.get("officers", {}).get("distinct_persons"))),
                ("모임당 1회 신청", _yes(e.get("one_application_per_group_per_programme"))),
                ("중복 지원 금지", _yes(e.get("no_duplicate_public_funding_for_same_activity"))),
                ("지원하지 않는 목적", ", ".join(e.get("excluded_purposes", [])) or "-")]


def cap_phrases(cat: dict) -> list[str]:
    """Plain-Korean caps of one expense category, e.g. ['예산 총액의 25% 이하 (20%를 넘으면 주의)']."""
    caps = cat.get("caps", {})
    phrases = []
    if caps.get("share_of_total_max") is not None:
        text = f"예산 총액의 {_pct(caps['share_of_total_max'])} 이하"
        if caps.get("warn_above_share") is not None:
            text += f" ({_pct(caps['warn_above_share'])}를 넘으면 주의)"
        phrases.append(text)
    elif caps.get("warn_above_share") is not None:
        phrases.append(f"예산 총액의 {_pct(caps['warn_above_share'])}를 넘으면 주의")
    if caps.get("per_hour_won") is not None:
        phrases.append(f"시간당 {won(caps['per_hour_won'])} 이하")
    if caps.get("per_day_won") is not None:
        phrases.append(f"하루 {won(caps['per_day_won'])} 이하")
    if caps.get("per_participant_per_session_won") is not None:
        phrases.append(f"1인 1회 {won(caps['per_participant_per_session_won'])} 이하")
    return phrases


class Categories(Section):
    key, title, form_class = "categories", "쓸 수 있는 항목과 상한", F.CategoriesForm

    def fill(self, form, state):
        rows = []
        for cat in state["rules"].get("expense_categories", []):
            row = {"code": cat["code"], "label": cat["label"], "allowed": cat.get("allowed", True),
                   "evidence_extra": ", ".join(cat.get("evidence_extra", []))}
            row.update(cat.get("caps", {}))
            rows.append(row)
        _fill_rows(form.categories, rows)
        for entry in form.categories.entries[len(rows):]:
            entry.form.allowed.data = True

    def read(self, form, state):
        old = {c["code"]: c for c in state["rules"].get("expense_categories", [])}
        categories, row_forms, ok, taken = [], [], True, set(old)
        for _, row in _rows(form.categories):
            if not row.label.data:
                row.label.errors.append("항목 이름을 입력해 주세요.")
                ok = False
                continue
            code = row.code.data if row.code.data in old else R.slug(row.label.data, taken, "category")
            taken.add(code)
            cat = deepcopy(old.get(code, {"rules": []}))
            cat.update(code=code, label=row.label.data, allowed=bool(row.allowed.data),
                       caps={key: getattr(row, key).data for key in R.CAP_KEYS},
                       evidence_extra=R.parse_keywords(row.evidence_extra.data))
            categories.append(cat)
            row_forms.append(row)
        for (index, name), message in R.validate_categories(categories).items():
            getattr(row_forms[index], name).errors.append(message)
            ok = False
        if not categories and ok:
            form.form_errors.append("항목을 하나 이상 두어야 합니다.")
            ok = False
        if not ok:
            return None
        new = deepcopy(state)
        new["rules"]["expense_categories"] = categories
        return new

    def facts(self, state):
        facts = []
        for cat in state["rules"].get("expense_categories", []):
            if not cat.get("allowed", True):
                facts.append((cat["label"], "사용 불가"))
                continue
            facts.append((cat["label"], ", ".join(cap_phrases(cat)) or "상한 없음"))
            if cat.get("evidence_extra"):
                facts.append((f"{cat['label']} 추가 증빙", ", ".join(cat["evidence_extra"])))
        return facts


class Prohibited(Section):
    key, title, form_class = "prohibited", "살 수 없는 것", F.ProhibitedForm

    def fill(self, form, state):
        _fill_rows(form.items, [{"label": i["label"], "keywords": ", ".join(i.get("keywords", []))}
                                for i in state["rules"].get("prohibited_items", [])])

    def read(self, form, state):
        items, ok, labels = [], True, set()
        for _, row in _rows(form.items):
            if not row.label.data:
                row.label.errors.append("금지 항목 이름을 입력해 주세요.")
                ok = False
                continue
            if row.label.data in labels:
                row.label.errors.append("같은 이름의 항목이 이미 있습니다.")
                ok = False
                continue
            labels.add(row.label.data)
            items.append({"label": row.label.data, "keywords": R.parse_keywords(row.keywords.data)})
        if not ok:
            return None
        new = deepcopy(state)
        new["rules"]["prohibited_items"] = items
        return new

    def facts(self, state):
        return [(i["label"], ", ".join(i.get("keywords", [])) or "(낱말 없음: 담당자가 확인)")
                for i in state["rules"].get("prohibited_items", [])]


class Payment(Section):
    key, title, form_class = "payment", "결제 수단과 증빙", F.PaymentForm

    def fill(self, form, state):
        p = state["rules"].get("payment_and_evidence", {})
        form.accepted_methods.data = [m for m in p.get("accepted_methods", []) if m in R.PAYMENT_METHODS]
        form.cash_allowed.data = bool(p.get("cash", {}).get("allowed"))
        form.simple_receipt_accepted.data = p.get("simple_receipt_간이영수증") == "accepted"
        form.itemised_required.data = p.get("itemised_or_거래명세서", "required") == "required"
        form.separate_account_required.data = bool(p.get("separate_account_required"))
        form.receipt_required_above_won.data = p.get("receipt_required_above_won", 0)
        form.per_session_evidence.data = "\n".join(p.get("per_session_evidence", []))

    def read(self, form, state):
        if not form.accepted_methods.data and not form.cash_allowed.data:
            form.accepted_methods.errors.append("결제 수단을 하나 이상 골라 주세요.")
            return None
        new = deepcopy(state)
        p = new["rules"].setdefault("payment_and_evidence", {})
        p["accepted_methods"] = [m for m in R.PAYMENT_METHODS if m in form.accepted_methods.data]
        p.setdefault("cash", {})["allowed"] = bool(form.cash_allowed.data)
        p["simple_receipt_간이영수증"] = "accepted" if form.simple_receipt_accepted.data else "not_accepted"
        p["itemised_or_거래명세서"] = "required" if form.itemised_required.data else "optional"
        p["separate_account_required"] = bool(form.separate_account_required.data)
        p["receipt_required_above_won"] = form.receipt_required_above_won.data
        p["per_session_evidence"] = _lines(form.per_session_evidence.data)
        return new

    def facts(self, state):
        p = state["rules"].get("payment_and_evidence", {})
        methods = [R.PAYMENT_METHODS[m] for m in p.get("accepted_methods", []) if m in R.PAYMENT_METHODS]
        above = p.get("receipt_required_above_won", 0)
        return [("인정하는 결제 수단", ", ".join(methods) or "-"),
                ("현금 결제", "인정" if p.get("cash", {}).get("allowed") else "인정하지 않음"),
                ("간이영수증", "인정" if p.get("simple_receipt_간이영수증") == "accepted" else "인정하지 않음"),
                ("품목이 적힌 영수증·거래명세서", "필수" if p.get("itemised_or_거래명세서") == "required" else "선택"),
                ("보조금 전용 계좌", "필수" if p.get("separate_account_required") else "선택"),
                ("영수증", "모든 지출" if not above else f"{won(above)} 초과 지출"),
                ("활동마다 내는 증빙", ", ".join(p.get("per_session_evidence", [])) or "-")]


def tie_break_choices(rubric: list[dict]) -> list[tuple[str, str]]:
    choices = [("", "(없음)")]
    choices += [(c["code"], R.tie_break_label(c["code"], rubric)) for c in rubric]
    choices += list(R.TIE_BREAK_EXTRA.items())
    return choices


class Review(Section):
    key, title, form_class = "review", "심사 기준", F.ReviewForm

    def fill(self, form, state):
        review = state["rules"].get("review", {})
        form.reviewers_per_application.data = review.get("reviewers_per_application", 3)
        form.pass_mark.data = review.get("pass_mark", 60)
        _fill_rows(form.rubric, [dict(c) for c in review.get("rubric", [])])
        order = list(review.get("tie_break", []))[:4]
        for i, entry in enumerate(form.tie_break.entries):
            entry.data = order[i] if i < len(order) else ""

    def prepare(self, form, state):
        self.set_choices(form, state["rules"].get("review", {}).get("rubric", []))

    @staticmethod
    def set_choices(form, rubric):
        for entry in form.tie_break.entries:
            entry.choices = tie_break_choices(rubric)

    def submitted_rubric(self, form) -> list[dict]:
        """The criteria as typed (for the live total), ignoring rows with mistakes."""
        return [{"code": row.code.data, "label": row.label.data, "max": row.max.data or 0}
                for _, row in _rows(form.rubric) if row.label.data]

    def read(self, form, state):
        old_codes = {c["code"] for c in state["rules"].get("review", {}).get("rubric", [])}
        rubric, ok, taken = [], True, set(old_codes)
        for _, row in _rows(form.rubric):
            if not row.label.data:
                row.label.errors.append("심사 항목 이름을 입력해 주세요.")
                ok = False
            if row.max.data is None:
                row.max.errors.append("배점을 입력해 주세요.")
                ok = False
            if row.label.data and row.max.data is not None:
                code = row.code.data if row.code.data in old_codes else R.slug(row.label.data, taken, "criterion")
                taken.add(code)
                rubric.append({"code": code, "label": row.label.data, "max": row.max.data})
        self.set_choices(form, rubric)
        errors = R.validate_rubric(rubric, form.pass_mark.data) if ok else {}
        if "pass_mark" in errors:
            form.pass_mark.errors.append(errors["pass_mark"])
        if "rubric" in errors:
            form.form_errors.append(errors["rubric"])
        valid_codes = {c["code"] for c in rubric} | set(R.TIE_BREAK_EXTRA)
        order = []
        for entry in form.tie_break.entries:
            if not entry.data:
                continue
            if entry.data not in valid_codes:
                entry.errors.append("목록에서 골라 주세요.")
                ok = False
            elif entry.data in order:
                entry.errors.append("같은 기준을 두 번 고를 수 없습니다.")
                ok = False
            else:
                order.append(entry.data)
        if not ok or errors:
            return None
        new = deepcopy(state)
        review = new["rules"].setdefault("review", {})
        review.update(reviewers_per_application=form.reviewers_per_application.data,
                      pass_mark=form.pass_mark.data, rubric=rubric, tie_break=order)
        return new

    def facts(self, state):
        review = state["rules"].get("review", {})
        rubric = review.get("rubric", [])
        facts = [(f"심사 항목: {c['label']}", f"{c['max']}점") for c in rubric]
        facts += [("배점 합계", f"{R.rubric_total(rubric)}점"), ("합격 점수", f"{review.get('pass_mark')}점"),
                  ("동점 처리 순서", " → ".join(R.tie_break_label(c, rubric) for c in review.get("tie_break", [])) or "-"),
                  ("신청서당 심사위원", f"{review.get('reviewers_per_application')}명")]
        return facts


SECTIONS: dict[str, Section] = {s.key: s for s in (Basic(), Schedule(), Grant(), Eligibility(), Categories(),
                                                    Prohibited(), Payment(), Review())}
