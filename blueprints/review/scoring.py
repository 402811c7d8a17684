"""Scores, aggregates, disagreement, calibration and ranking (pure; no request, no DB).

Aggregates are kept as Fractions so that equal means compare equal (ties are decided by the
documented tie-break order, never by floating-point noise); templates get floats to show.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

AGGREGATES = {
    "mean": "제출된 총점의 평균",
    "trimmed_mean": "절사평균(심사위원 5명 이상이면 최고·최저 1개씩 제외)",
}
COMMENT_RULES = {
    "always": "모든 항목에 의견 필수",
    "below": "기준 미만 점수에만 의견 필수",
}


# Validating one reviewer's scores -----------------------------------------------------------

MAX_COMMENT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # NUL above all: PostgreSQL refuses it

@dataclass
class ScoreCheck:
    values: dict[str, int | None]
    comments: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(v for v in self.values.values() if v is not None)

    @property
    def complete(self) -> bool:
        return all(v is not None for v in self.values.values())

    @property
    def ok(self) -> bool:
        return not self.errors


def comment_required(score: int | None, maximum: int, *, rule: str, below_pct: int) -> bool:
    if rule == "always":
        return True
    return score is not None and score * 100 < maximum * below_pct


def check_scores(rubric: list[dict], raw_scores: dict[str, str | int | None], comments: dict[str, str], *,
                 rule: str = "below", below_pct: int = 60, final: bool = False) -> ScoreCheck:
    """Read what the reviewer typed. A draft may leave things blank; a final submission needs
    every score and the comments the programme's rule asks for. Messages are Korean, per
    criterion code."""
    values: dict[str, int | None] = {}
    notes: dict[str, str] = {}
    errors: dict[str, str] = {}
    for criterion in rubric:
        code, maximum = criterion["code"], int(criterion["max"])
        text = "" if raw_scores.get(code) is None else str(raw_scores.get(code)).strip()
        # Stored composed (NFC), as every form stores typed text: a Mac or an iPhone sends jamo.
        comment = unicodedata.normalize("NFC", _CONTROL.sub("", comments.get(code) or "")).strip()
        notes[code] = comment
        value = None
        if text:
            if not re.fullmatch(r"\d{1,3}", text):
                errors[code] = f"0에서 {maximum} 사이의 정수로 입력해 주세요."
            else:
                value = int(text)
                if value > maximum:
                    errors[code] = f"배점({maximum}점)을 넘을 수 없습니다."
                    value = None
        values[code] = value
        if code not in errors and len(comment) > MAX_COMMENT:
            errors[code] = f"의견은 {MAX_COMMENT:,}자 이내로 적어 주세요."
        if code in errors or not final:
            continue
        if value is None:
            errors[code] = "점수를 입력해 주세요."
        elif not comment and comment_required(value, maximum, rule=rule, below_pct=below_pct):
            errors[code] = ("의견을 적어 주세요." if rule == "always"
                            else f"배점의 {below_pct}% 미만 점수에는 의견을 적어 주세요.")
    return ScoreCheck(values=values, comments=notes, errors=errors)


# Aggregates ---------------------------------------------------------------------------------

def aggregate(totals: list[int], method: str = "mean") -> Fraction | None:
    """The application's score from its reviewers' submitted totals (None when there are none)."""
    if not totals:
        return None
    values = sorted(totals)
    if method == "trimmed_mean" and len(values) >= 5:
        values = values[1:-1]
    return Fraction(sum(values), len(values))


def std_dev(totals: list[int]) -> float | None:
    """Population standard deviation of the totals (None with fewer than two)."""
    if len(totals) < 2:
        return None
    mean = sum(totals) / len(totals)
    return math.sqrt(sum((t - mean) ** 2 for t in totals) / len(totals))


def disagrees(totals: list[int], threshold: int) -> bool:
    """Reviewers disagree when their highest and lowest totals are more than ``threshold`` apart."""
    return len(totals) >= 2 and max(totals) - min(totals) > threshold


@dataclass(frozen=True, slots=True)
class Stats:
    """One application's figures over its reviews, the same for the score matrix, the ranking
    and the minutes: only submitted totals count; an open review is pending; a declined one
    counts nowhere."""
    totals: tuple[int, ...]     # the submitted totals
    score: Fraction | None
    sd: float | None
    spread: int | None          # highest − lowest, with two totals or more
    median: float | None        # with two totals or more
    disagree: bool
    pending: int

    @property
    def count(self) -> int:
        return len(self.totals)


def application_stats(reviews, *, method: str, disagreement_points: int) -> Stats:
    """``reviews``: (status, total) of each assignment of one application."""
    reviews = list(reviews)
    totals = [total for state, total in reviews if state == "submitted"]
    two = len(totals) >= 2
    return Stats(totals=tuple(totals), score=aggregate(totals, method), sd=std_dev(totals),
                 spread=max(totals) - min(totals) if two else None, median=median(totals) if two else None,
                 disagree=disagrees(totals, disagreement_points),
                 pending=sum(1 for state, _total in reviews if state == "assigned"))


@dataclass
class Calibration:
    reviewer_id: int
    bias: float          # mean of (their total − the median total of the same application)
    compared: int        # applications where others also submitted
    flagged: bool


def median(values: list[int]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def calibration(matrix: dict[int, dict[int, int]], threshold: int, min_compared: int = 2) -> dict[int, Calibration]:
    """``matrix``: application -> reviewer -> submitted total. Each total is compared with the
    median total of its application (the median, so that one far-off reviewer does not make
    the others look far off too). A reviewer is flagged when, over at least ``min_compared``
    applications shared with others, they sit on average more than ``threshold`` points above
    or below."""
    diffs: dict[int, list[float]] = {}
    for row in matrix.values():
        if len(row) < 2:
            continue
        middle = median(list(row.values()))
        for reviewer, total in row.items():
            diffs.setdefault(reviewer, []).append(total - middle)
    result = {}
    for reviewer in {r for row in matrix.values() for r in row}:
        values = diffs.get(reviewer, [])
        bias = sum(values) / len(values) if values else 0.0
        result[reviewer] = Calibration(reviewer, round(bias, 2), len(values),
                                       len(values) >= min_compared and abs(bias) > threshold)
    return result


# Ranking ------------------------------------------------------------------------------------

@dataclass
class RankItem:
    application_id: int
    score: Fraction | None                      # the aggregate; None = no submitted score
    criterion_means: dict[str, Fraction] = field(default_factory=dict)
    first_time: bool = False
    submitted_at: datetime | None = None
    eligible: bool = True
    # Filled by rank():
    rank: int = 0
    passes: bool = False
    decided_by: str | None = None              # the tie-break that separated it from the one above


def _key(item: RankItem, tie_break: list[str]):
    parts = [item.score is None, -(item.score or 0)]
    for code in tie_break:
        parts.append(_tie_value(item, code))
    parts.append(item.application_id)
    return tuple(parts)


def _tie_value(item: RankItem, code: str):
    if code == "first_time_group":
        return 0 if item.first_time else 1
    if code == "submitted_at":
        return item.submitted_at.timestamp() if item.submitted_at else math.inf
    return -(item.criterion_means.get(code) or 0)


def rank(items: list[RankItem], tie_break: list[str], pass_mark: int) -> list[RankItem]:
    """Order by score (highest first), then the programme's tie-break list in order, then the
    application number. Ranks are 1, 2, 3… (no shared ranks: the tie-break decides).
    ``decided_by`` names the tie-break code that put an item below an equal-scored one."""
    ordered = sorted(items, key=lambda i: _key(i, tie_break))
    previous = None
    for position, item in enumerate(ordered, start=1):
        item.rank = position
        item.passes = item.eligible and item.score is not None and item.score >= pass_mark
        item.decided_by = None
        if previous is not None and previous.score is not None and previous.score == item.score:
            item.decided_by = "application_id"
            for code in tie_break:
                if _tie_value(previous, code) != _tie_value(item, code):
                    item.decided_by = code
                    break
        previous = item
    return ordered
