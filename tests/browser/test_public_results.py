"""The public results page on a phone, signed out: reachable from the programme's page once the
results are published, the table and the named groups readable at 360 px, axe finds nothing."""
from blueprints.core.models import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible
from tests.centre.conftest import (_frozen_today, awarded, complete_application, finance,  # noqa: F401
                                   leader_group, money_world, open_programme, open_programme_period,
                                   paid_award)



def test_public_results_on_a_phone(phone_page, live_url, shot, money_world):  # noqa: F811
    p = money_world["p"]
    group = money_world["award_a"].application.group
    group.name, group.consent_publish_name_at = "햇살품앗이", utcnow()
    p.results_published_at = utcnow()
    db.session.commit()
    page = phone_page
    page.goto(f"{live_url}/programmes/{p.id}")
    page.click("text=자치구별 선정 결과 보기")
    page.wait_for_url(f"**/results/{p.id}")
    assert page.locator("h1").inner_text() == f"{p.title} 선정 결과"
    assert page.locator("tfoot th").inner_text() == "합계"
    assert page.get_by_text("햇살품앗이").is_visible()
    assert page.get_by_text("이름을 공개하지 않은 1개 모임").is_visible()
    # Nothing wider than the phone: the table scrolls inside its region, the page does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    table = page.locator("table.public-table")
    widths = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert widths[0] <= widths[1], widths   # every column in view
    shot(page, "public-results-360")
    assert assert_accessible(page) == []   # no violation of any impact
