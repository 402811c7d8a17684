"""Times are stored in UTC and shown and judged in Asia/Seoul."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
WEEKDAYS_KO = "월화수목금토일"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def to_kst(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(KST)


def kst_datetime(year, month, day, hour=0, minute=0, second=0) -> datetime:
    """An aware datetime for a wall-clock time in Seoul, converted to UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=KST).astimezone(timezone.utc)


def parse_kst(text: str) -> datetime:
    """'2027-03-08T18:00' read as Seoul wall-clock time -> aware UTC datetime."""
    naive = datetime.fromisoformat(text)
    if naive.tzinfo is not None:
        return naive.astimezone(timezone.utc)
    return naive.replace(tzinfo=KST).astimezone(timezone.utc)


def today_kst() -> date:
    return now_utc().astimezone(KST).date()


def end_of_day_kst(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=KST).astimezone(timezone.utc)
