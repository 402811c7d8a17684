"""What the search boxes mean by "contains": the same answer on SQLite and PostgreSQL."""
from sqlalchemy import func, or_


def contains_text(typed: str, *columns):
    """Rows where any of the columns contains what was typed, ignoring case (PostgreSQL's LIKE
    does not), with % and _ matched as the characters a person typed, not as wildcards."""
    escaped = typed.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(func.lower(column).like(f"%{escaped}%", escape="\\") for column in columns))
