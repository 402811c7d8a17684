"""The form's steps and the helpers that fill the row-based steps (plan, budget)."""
from wtforms.validators import Length

from .checks import months_between
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
