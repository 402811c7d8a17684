"""Staff are warned when a date change makes the schedule overlap: the application window,
the review and publication of results, the activity period and the settlement due date."""
from datetime import date

from blueprints.programmes import rules as R

IN_ORDER = dict(opens_at="2027-02-15T09:00", closes_at="2027-03-08T18:00", review_from="2027-03-10",
                review_to="2027-03-20", activity_start="2027-04-01", activity_end="2027-11-30",
                settlement_due="2027-12-15")


def _save(client, programme, section_form, **dates):
    data = section_form(programme, "schedule")
    data.update(IN_ORDER, **dates)
    return client.post_form(f"/programmes/{programme.id}/edit/schedule", data, follow_redirects=True)


def test_a_schedule_in_order_saves_without_a_warning(client, staff, make_programme, section_form):
    page = _save(client, make_programme(), section_form).get_data(as_text=True)
    assert "항목을 저장했습니다" in page and "일정 확인" not in page


def test_overlapping_dates_are_saved_with_a_visible_warning(client, staff, make_programme, section_form):
    response = _save(client, make_programme(), section_form, closes_at="2027-04-05T18:00", review_from="2027-04-06",
                     review_to="2027-04-20")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "항목을 저장했습니다" in page
    assert 'class="flash flash--warning">일정 확인: 신청 마감일이 활동 시작일과 같거나 늦습니다.' in page
    assert "일정 확인: 심사 종료일(결과 공개)이 활동 시작일과 같거나 늦습니다." in page


def test_overlaps_are_judged_by_date():
    kw = dict(review_from=date(2027, 3, 10), review_to=date(2027, 3, 31), activity_start=date(2027, 4, 1),
              activity_end=date(2027, 11, 30), settlement_due=date(2027, 12, 15))
    assert R.schedule_overlaps(closes_local_date=date(2027, 3, 8), **kw) == []
    assert len(R.schedule_overlaps(closes_local_date=date(2027, 4, 1), **kw)) == 1
    assert len(R.schedule_overlaps(closes_local_date=date(2027, 3, 8), **{**kw, "review_to": date(2027, 4, 1)})) == 1
    assert len(R.schedule_overlaps(closes_local_date=date(2027, 3, 8), **{**kw, "settlement_due": date(2027, 11, 30)})) == 1
