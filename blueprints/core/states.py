"""States as string enums with Korean titles (indico's ``RichIntEnum`` idea, stored as text).

One definition per state machine gives the stored value, the label people read, the CHECK
constraint and the comparisons::

    class SettlementState(State):
        draft = "draft", "작성 중"
        submitted = "submitted", "제출"

    SettlementState.submitted == "submitted"        # True: members are the stored strings
    SettlementState.submitted.title                 # "제출"
    SettlementState.check_constraint("status", "known_status")  # status IN ('draft', 'submitted')

Members are ``str``: they compare equal to the column's plain strings, bind as text in SQL and
serialise as their value in JSON, so the database keeps exactly today's values. ``title`` is a
property that shadows ``str.title()`` on members (a state is never title-cased).

Templates see every state enum by its class name (``register_states`` in the app factory), so a
template writes ``{% if settlement.status == SettlementState.submitted %}``.
"""
from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint


class State(StrEnum):
    """Base of every state enum: ``member = "value", "제목"``; define it in the domain's models."""

    def __new__(cls, value: str, title: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member._title = title
        return member

    @property
    def title(self) -> str:  # type: ignore[override]
        return self._title

    @classmethod
    def title_of(cls, value: str) -> str:
        """The title of a stored value (a plain string from the database)."""
        return cls(value).title

    @classmethod
    def known(cls, value) -> bool:
        """Is ``value`` (a string from a form or the database) one of the members?"""
        return isinstance(value, str) and value in cls._value2member_map_

    @classmethod
    def titles(cls) -> dict[str, str]:
        """``{value: title}`` in definition order."""
        return {m.value: m.title for m in cls}

    @classmethod
    def choices(cls, *members: State) -> list[tuple[str, str]]:
        """``[(value, title)]`` for a form's choices: the members given, or all in order."""
        return [(m.value, m.title) for m in (members or cls)]

    @classmethod
    def sql_in(cls, column: str, members=None) -> str:
        """``column IN ('a', 'b')``: every member, or those given, in the order given."""
        return f"{column} IN (" + ", ".join(f"'{m.value}'" for m in (cls if members is None else members)) + ")"

    @classmethod
    def check_constraint(cls, column: str, name: str) -> CheckConstraint:
        """The CHECK that the column holds one of the members (as the migrations created it)."""
        return CheckConstraint(cls.sql_in(column), name=name)


def all_states() -> dict[str, type[State]]:
    """Every State subclass defined so far (after the domains' models are imported), by name."""
    found, todo = {}, list(State.__subclasses__())
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def register_states(app) -> None:
    """Make every state enum a Jinja global; called by the app factory after the blueprints
    (and so every domain's models) are imported."""
    app.jinja_env.globals.update(all_states())
