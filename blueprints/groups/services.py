"""Group operations."""
from sqlalchemy import func, select

from extensions import db

from .models import Group


def next_reg_no(year: int) -> str:
    """G-2027-0007: the year and a running number within it. The unique constraint on
    reg_no catches the rare race; the caller retries."""
    prefix = f"G-{year}-"
    last = db.session.scalar(select(func.max(Group.reg_no)).where(Group.reg_no.like(prefix + "%")))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"
