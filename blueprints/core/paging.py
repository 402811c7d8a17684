"""One page of a list paged in Python or with LIMIT/OFFSET, with the interface the `pagination` macro in
templates/_macros/forms.html expects (like Flask-SQLAlchemy's), for lists paged in Python."""
from dataclasses import dataclass

from flask import request, url_for


def page_number(requested: int | None, total: int, per_page: int) -> int:
    """The page to show: the one asked for, kept within 1..last (a stale link past the end, after
    a filter or a deletion, shows the last page rather than an empty one)."""
    return min(max(1, requested or 1), max(1, -(-total // per_page)))


def list_url(endpoint: str, **changes) -> str:
    """A link from a list page to ``endpoint`` (the list itself: another page or sort; its
    export) with the list's query string carried: the page's own URL values win, then
    ``changes`` (None drops a value), and a name ``url_for`` reads for itself (``endpoint``,
    ``_external``, ``_anchor``, ``_method``, ``_scheme``) is never taken from the query string,
    so a hand-edited URL can neither break the page nor point its links elsewhere."""
    values = {key: value for key, value in request.args.items() if key != "endpoint" and not key.startswith("_")}
    values.update(request.view_args or {})
    values.update(changes)
    return url_for(endpoint, **{key: value for key, value in values.items() if value is not None})


@dataclass
class Page:
    """The pagination interface the `pagination` macro expects (like Flask-SQLAlchemy's)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    def iter_pages(self, left_edge=1, right_edge=1, left_current=2, right_current=2):
        last = 0
        for num in range(1, self.pages + 1):
            if (num <= left_edge or num > self.pages - right_edge
                    or self.page - left_current <= num <= self.page + right_current):
                if last + 1 != num:
                    yield None
                yield num
                last = num
