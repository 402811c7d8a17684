"""The form's steps and the helpers that fill the row-based steps (plan, budget)."""
from dataclasses import dataclass

from wtforms.validators import Length

from . import services
from .checks import CheckResult, Issue, months_between
from .forms import BudgetForm, PlanForm

STEPS = [
    ("purpose", "목적·필요성"),
    ("plan", "활동계획"),
    ("budget", "예산계획"),
    ("declaration", "중복지원 신고"),
    ("attachments", "첨부파일"),
    ("review", "검토·제출"),
]


def step_index(step: str) -> int:
    return [name for name, _ in STEPS].index(step)


def finished_steps(application) -> set[str]:
    """The steps the group has done: saved at least once (the section's save mark) or holding
    content (older drafts have no marks). The attachments are optional: done once the step
    before them is. The last step is never done while the application can be edited."""
    marks = application.section_marks or {}
    done = set()
    if "purpose" in marks or application.purpose or application.need:
        done.add("purpose")
    if "plan" in marks or application.sessions:
        done.add("plan")
    if "budget" in marks or application.lines:
        done.add("budget")
    if "declaration" in marks or application.other_funding is not None:
        done.add("declaration")
    if "declaration" in done or application.attachments:
        done.add("attachments")
    return done


def reachable_steps(finished: set[str]) -> set[str]:
    """The finished steps and the first step not finished yet: where the step bar links to."""
    reachable = set(finished)
    for name, _ in STEPS:
        reachable.add(name)
        if name not in finished:
            break
    return reachable


def step_bar(application, step: str) -> dict:
    """What the step bar shows: the current step's number and name ('2/6 활동계획'), and per
    step whether it is done and whether it is a link (never the current one)."""
    finished = finished_steps(application)
    reachable = reachable_steps(finished)
    number = step_index(step) + 1
    return {"label": f"{number}/{len(STEPS)} {STEPS[number - 1][1]}", "number": number, "total": len(STEPS),
            "items": [{"name": name, "label": label, "number": i + 1, "current": name == step,
                       "done": name in finished, "link": name in reachable and name != step}
                      for i, (name, label) in enumerate(STEPS)]}


def month_choices(programme) -> list[tuple[str, str]]:
    months = months_between(programme.activity_start, programme.activity_end)
    return [("", "선택")] + [(m, f"{m[:4]}년 {int(m[5:])}월") for m in months]


def category_choices(programme) -> list[tuple[str, str]]:
    categories = programme.rules.get("expense_categories", [])
    return [("", "선택")] + [(c["code"], c["label"]) for c in categories if c.get("allowed", True)]


def rows_from_form(field_list, names, *, raw: bool = False) -> list[dict]:
    """The typed rows as plain dicts, safe to store: numbers that could not be read become
    None, a choice not on the list becomes "", text is cut to its field's length. With
    raw=True everything stays as typed (to show the form again with nothing lost)."""
    def value(field):
        if raw:
            return field.raw if getattr(field, "parse_error", None) else field.data
        if getattr(field, "choices", None) is not None and field.data not in {c[0] for c in field.choices}:
            return ""
        limit = next((v.max for v in field.validators if isinstance(v, Length) and v.max > 0), None)
        if limit and isinstance(field.data, str):
            return field.data[:limit]
        return field.data

    return [{name: value(entry.form[name]) for name in names} for entry in field_list]


def plan_form_for(application, rows=None, editor=None) -> PlanForm:
    if rows is None:
        rows = [dict(month=s.month, title=s.title, content=s.content, place=s.place,
                     expected_households=s.expected_households, expected_children=s.expected_children)
                for s in application.sessions] or [{}]
    form = PlanForm(formdata=None, data={"sessions": rows}).stamp(application, editor)
    choices = month_choices(application.programme)
    for entry in form.sessions:
        entry.form.month.choices = choices
    return form


def budget_form_for(application, rows=None, editor=None) -> BudgetForm:
    if rows is None:
        rows = [dict(category=l.category, item=l.item, unit_price_won=l.unit_price_won, quantity=l.quantity,
                     note=l.note) for l in application.lines] or [{}]
    form = BudgetForm(formdata=None, data={"lines": rows}).stamp(application, editor)
    choices = category_choices(application.programme)
    for entry in form.lines:
        entry.form.category.choices = choices
    return form


def next_month_row(months: list[str]):
    """'이전 활동 복사' for the plan: the previous activity's fields in a new row, its month moved
    to the next month of the activity period (a plan needs every month), or kept in the last."""
    def copy(row: dict) -> dict:
        new = dict(row)
        month = row.get("month") or ""
        if month in months and months.index(month) + 1 < len(months):
            new["month"] = months[months.index(month) + 1]
        return new
    return copy


@dataclass
class PlanSummary:
    """The plan step's summary: how many activities, which months of the period they cover,
    and the rule checks (the same check_plan the submission runs)."""
    count: int
    months: list[tuple[str, int]]   # (label '4월', activities that month)
    check: CheckResult
    total_months: int
    labels: dict[str, str]          # '2027-04' -> '4월'

    def month_label(self, month: str) -> str:
        return self.labels.get(month or "", "달 미정")

    @property
    def covered(self) -> int:
        return sum(1 for _, n in self.months if n)

    def row_issues(self, index: int) -> list[Issue]:
        return self.check.for_line(index)

    def is_complete(self, index: int, row: dict) -> bool:
        """A row shown folded: month, name and content given and no rule against it."""
        return bool(row.get("month") and row.get("title") and row.get("content")) and not any(
            i.is_hard for i in self.row_issues(index))


def plan_summary(application, rows: list[dict] | None = None) -> PlanSummary:
    """rows: the plan's rows as typed (numbers may be text); None: as stored."""
    if rows is None:
        rows = [dict(month=s.month, title=s.title, content=s.content) for s in application.sessions]
    sessions = [dict(month=r.get("month") or "", title=r.get("title") or "", content=r.get("content") or "")
                for r in rows]
    check = services.check_plan(application, sessions)
    programme = application.programme
    period = months_between(programme.activity_start, programme.activity_end)
    counts = {m: 0 for m in period}
    planned = [s for s in sessions if any(s.values())]
    for s in planned:
        if s["month"] in counts:
            counts[s["month"]] += 1
    labels = {m: f"{int(m[5:])}월" if m[:4] == period[0][:4] else f"{m[:4]}년 {int(m[5:])}월" for m in period}
    return PlanSummary(count=len(planned), months=[(labels[m], n) for m, n in counts.items()], check=check,
                       total_months=len(period), labels=labels)
