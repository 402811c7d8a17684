"""Review settings rows are made with the programme, never by a page: a GET of the review
pages writes nothing, and the default deadline follows the review dates until staff set one."""
import contextlib
from datetime import date, timedelta

from sqlalchemy import event, func, select

from blueprints.core.timeutil import end_of_day_kst
from blueprints.review import services
from blueprints.review.models import ReviewSettings
from extensions import db


@contextlib.contextmanager
def writes():
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_a_programme_has_its_settings_from_the_start(make_programme, client, auth, staff):
    from blueprints.programmes import services as programmes

    made = make_programme(review_to=date(2027, 3, 19))
    copied = programmes.create_programme(year=2028, title=None, source=made, by=staff)
    db.session.commit()
    rows = {s.programme_id: s for s in db.session.scalars(select(ReviewSettings))}
    assert set(rows) == {made.id, copied.id}
    assert rows[made.id].deadline == end_of_day_kst(date(2027, 3, 19))
    assert rows[copied.id].deadline == end_of_day_kst(date(2028, 3, 19))   # the copy's dates, a year on


def test_get_of_the_review_pages_writes_nothing(client, auth, submitted, scored, staff):
    fresh, (waiting,) = submitted(1)      # nothing of the review has happened yet
    programme, apps, people = scored([[90, 50], [70]])
    item = services.assignment_of(apps[1], people[0])
    staff_pages = [f"/review/application/{waiting.id}/assign", f"/review/application/{apps[0].id}/assign"]
    for p in (fresh, programme):
        base = f"/review/programme/{p.id}"
        staff_pages += [base, f"{base}/settings", f"{base}/assignments", f"{base}/matrix", f"{base}/ranking",
                        f"{base}/minutes.xlsx", f"{base}/minutes.pdf"]
    pages = {staff: staff_pages, people[0]: ["/review/mine", f"/review/assignment/{item.id}"]}
    for person, urls in pages.items():
        auth.logout()
        auth.login(person.email)          # signing in writes (the session's account, the audit); pages must not
        with writes() as seen:
            for url in urls:
                assert client.get(url).status_code == 200, url
        assert seen == [], (person.email, seen)


def test_the_default_deadline_follows_the_review_dates_until_staff_set_one(make_programme, staff):
    programme = make_programme(review_to=date(2027, 3, 19))
    programme.review_to = date(2027, 3, 26)
    db.session.commit()
    settings = services.settings_for(programme)
    assert settings.deadline == end_of_day_kst(date(2027, 3, 26))
    values = {k: getattr(settings, k) for k in services.SETTING_FIELDS}
    services.save_settings(settings, dict(values, deadline=settings.deadline - timedelta(days=2)), user=staff)
    db.session.commit()
    programme.review_to = date(2027, 4, 2)
    db.session.commit()
    assert services.settings_for(programme).deadline == end_of_day_kst(date(2027, 3, 24))   # staff's, kept
