"""Helpers for the programme tests: read a section's form the way a browser would submit it."""
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from blueprints.core.models import utcnow


class _FormReader(HTMLParser):
    """Collects the successful controls of the first form inside the element with ``root_id``."""

    def __init__(self, root_id):
        super().__init__()
        self.root_id, self.depth, self.in_form, self.done = root_id, 0, False, False
        self.values: list[tuple[str, str]] = []
        self._textarea = self._select = None
        self._select_value = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if a.get("id") == self.root_id:
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "form":
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button"}:
            if a.get("type") in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values.append((name, a.get("value", "on")))
            else:
                self.values.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select:
            if "selected" in a or self._select_value is None:  # the selected one, else the first
                self._select_value = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.values.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "select" and self._select:
            self.values.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


def read_form(html: str, root_id: str) -> dict:
    """{name: value or [values]} of the form in #root_id, as a browser would submit it."""
    reader = _FormReader(root_id)
    reader.feed(html)
    data: dict = {}
    for name, value in reader.values:
        if name in data:
            data[name] = data[name] if isinstance(data[name], list) else [data[name]]
            data[name].append(value)
        else:
            data[name] = value
    return data


@pytest.fixture
def section_form(client):
    """section_form(programme, "categories") -> the section's form data, ready to change and post."""

    def get(programme, key):
        page = client.get(f"/programmes/{programme.id}/edit?section={key}")
        assert page.status_code == 200
        data = read_form(page.get_data(as_text=True), f"section-{key}")
        data.pop("csrf_token", None)
        return data

    return get


@pytest.fixture
def staff(make_user, auth):
    user = make_user("staff@example.kr", roles=("staff",), name="김담당")
    auth.login("staff@example.kr")
    return user


@pytest.fixture
def open_programme(make_programme):
    """A published programme whose application window opened yesterday."""
    now = utcnow()
    return make_programme(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10))


def category_index(data: dict, label: str) -> int:
    for key, value in data.items():
        if key.startswith("categories-") and key.endswith("-label") and value == label:
            return int(key.split("-")[1])
    raise KeyError(label)
