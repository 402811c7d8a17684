"""States as enums with titles: one definition gives the stored value, the label, the CHECK
constraint and the comparisons, and the database keeps exactly the strings it had."""
import json
import re
from pathlib import Path

from sqlalchemy import CheckConstraint, select

from blueprints.applications.models import Application, ApplicationState
from blueprints.core.states import State, all_states
from extensions import db


def _check(table, name):
    (found,) = [c for c in table.constraints if isinstance(c, CheckConstraint) and c.name == name]
    return str(found.sqltext)


def test_a_state_is_its_stored_string_with_a_korean_title():
    state = ApplicationState.under_review
    assert state == "under_review" and "under_review" == state
    assert state in {"under_review"} and "under_review" in {state}
    assert f"{state}" == str(state) == "under_review"
    assert json.dumps({"status": state}) == '{"status": "under_review"}'
    assert state.title == "심사중"
    assert ApplicationState.title_of("draft") == "작성중"
    assert ApplicationState.known("withdrawn") and not ApplicationState.known("nonsense")
    assert not ApplicationState.known(None) and not ApplicationState.known("")


def test_choices_and_titles_follow_the_definition_order():
    assert ApplicationState.choices()[:2] == [("draft", "작성중"), ("submitted", "제출")]
    assert ApplicationState.choices(ApplicationState.selected) == [("selected", "선정")]
    assert list(ApplicationState.titles()) == [m.value for m in ApplicationState]


def test_check_constraints_are_the_ones_the_migrations_created(app):
    """The CHECK text must not move: alembic does not compare CHECK constraints."""
    expected = {
        ("applications", "known_status"): "status IN ('draft', 'submitted', 'returned', 'under_review', "
                                          "'selected', 'not_selected', 'withdrawn', 'ineligible')",
        ("awards", "known_status"): "status IN ('offered', 'accepted', 'paid', 'settling', 'settled', 'closed')",
        ("groups", "known_status"): "status IN ('active', 'inactive')",
        ("review_assignments", "known_status"): "status IN ('assigned', 'declined', 'submitted')",
        ("selection_scenarios", "known_status"): "status IN ('draft', 'published')",
        ("expenses", "known_review"): "review_status IN ('pending', 'recognised', 'not_recognised', 'needs_fix')",
        ("settlements", "known_status"): "status IN ('draft', 'submitted', 'needs_changes', 'approved', 'closed')",
        ("settlement_export_jobs", "known_status"): "status IN ('queued', 'running', 'done', 'failed')",
    }
    tables = db.metadata.tables
    for (table, name), text in expected.items():
        assert _check(tables[table], f"ck_{table}_{name}") == text


def test_every_state_enum_is_a_template_global(app):
    assert all_states(), "no State subclass found"
    for name, cls in all_states().items():
        assert issubclass(cls, State)
        assert app.jinja_env.globals[name] is cls
    rendered = app.jinja_env.from_string(
        "{{ ApplicationState.returned.title }} {{ 'returned' == ApplicationState.returned }}").render()
    assert rendered == "보완 요청 True"


def test_members_bind_and_compare_in_sql(make_programme, make_group):
    """A member written and used in a WHERE is stored and bound as its plain string."""
    group, programme = make_group(), make_programme()
    row = Application(group_id=group.id, programme_id=programme.id, status=ApplicationState.withdrawn)
    db.session.add(row)
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(Application.status).where(Application.id == row.id)) == "withdrawn"
    found = db.session.scalars(select(Application.id).where(Application.status == ApplicationState.withdrawn)).all()
    assert found == [row.id]
    assert db.session.scalars(select(Application.id).where(
        Application.status.in_(ApplicationState.editable()))).all() == []
    assert db.session.get(Application, row.id).status_label == "철회"


LITERAL_STATE_TESTS = re.compile(r"""status\w*\s*(?:==|!=)\s*['"]|status\w*\s+(?:not\s+)?in\s+[(\[{]\s*['"]"""
                                 r"""|attr\(\s*'status'\s*,\s*'equalto'\s*,\s*['"]""")


def test_templates_compare_states_with_enum_members_not_strings():
    root = Path(__file__).resolve().parents[2] / "templates"
    found = [f"{path.relative_to(root)}:{n}: {line.strip()[:80]}"
             for path in sorted(root.rglob("*.html"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if LITERAL_STATE_TESTS.search(line)]
    assert found == []
