"""The conditions of an award (교부조건) written from the programme's own rules, so what a
group is told and what the spending checks enforce are the same rules: the account, the
payment methods and cash, the category caps, the evidence and the activity period. Pure."""
from __future__ import annotations

from blueprints.core.formatting import kdate
from blueprints.core.korean import with_particle
from blueprints.programmes.rules import PAYMENT_METHODS


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def conditions_from_rules(rules: dict, *, activity_start=None, activity_end=None) -> str:
    rules = rules or {}
    pe = rules.get("payment_and_evidence") or {}
    sentences = []
    if pe.get("separate_account_required"):
        sentences.append("보조금은 전용 계좌로 따로 관리합니다.")
    methods = "·".join(PAYMENT_METHODS.get(m, m) for m in (pe.get("accepted_methods") or list(PAYMENT_METHODS)))
    cash = pe.get("cash") or {}
    exception = cash.get("exception") or {}
    if cash.get("allowed"):
        sentences.append(f"{with_particle(methods, '으로/로')} 결제하며, 현금도 쓸 수 있습니다.")
    elif exception.get("max_won"):
        sentences.append(f"{with_particle(methods, '으로/로')} 결제합니다. 현금은 {exception['max_won']:,}원 이하에서 "
                         "불가피한 사유를 적은 경우에만 씁니다.")
    else:
        sentences.append(f"{with_particle(methods, '으로/로')} 결제하고, 현금은 쓰지 않습니다.")
    capped = [(c["label"], c["caps"]["share_of_total_max"]) for c in rules.get("expense_categories", [])
              if c.get("allowed", True) and (c.get("caps") or {}).get("share_of_total_max")]
    if capped:
        sentences.append(", ".join(f"{with_particle(label, '은/는')} 지원금의 {_pct(share)}" for label, share in capped)
                         + "까지 씁니다.")
    closed = [c["label"] for c in rules.get("expense_categories", []) if not c.get("allowed", True)]
    if closed:
        sentences.append(f"{with_particle('·'.join(closed), '은/는')} 지원하지 않습니다.")
    if pe.get("itemised_or_거래명세서") == "required":
        sentences.append("모든 지출은 품목이 보이는 영수증이나 거래명세서를 받습니다.")
    if activity_start and activity_end:
        sentences.append(f"활동기간({kdate(activity_start)}~{kdate(activity_end)}) 안에 계획한 활동에만 씁니다.")
    else:
        sentences.append("활동기간 안에 계획한 활동에만 씁니다.")
    return " ".join(sentences)
