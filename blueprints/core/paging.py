"""One page of a list paged in Python or with LIMIT/OFFSET, with the interface the `pagination` macro in
templates/_macros/forms.html expects (like Flask-SQLAlchemy's), for lists paged in Python."""
from dataclasses import dataclass


def page_number(requested: int | None, total: int, per_page: int) -> int:
    """The page to show: the one asked for, kept within 1..last (a stale link past the end, after
    a filter or a deletion, shows the last page rather than an empty one)."""
    return min(max(1, requested or 1), max(1, -(-total // per_page)))


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
