"""센터 현황 in a browser without JavaScript: the table and the five charts show (server-drawn
SVG) and a chart's table opens — at 1280×800 and 360 px. axe (which needs JavaScript to run)
then checks the same page in a second browser with JavaScript on: nothing at any impact, and
no CSP violation in the console (the charts carry no inline style or script)."""
from tests.browser.conftest import PHONE, axe_violations, login
from tests.centre.conftest import (_frozen_today, awarded, city, complete_application, finance,  # noqa: F401
                                   leader_group, money_world, open_programme, open_programme_period,
                                   paid_award)

DESKTOP = {"width": 1280, "height": 800}
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


def test_centre_dashboard_without_javascript(open_page, live_url, shot, money_world, city):  # noqa: F811
    programme = money_world["p"].id
    for viewport, name in ((DESKTOP, "1280"), (PHONE, "360")):
        page = open_page(viewport, javascript=False)
        login(page, live_url, city.email)
        page.click("nav.site-nav a:has-text('센터 현황')")
        page.select_option("#programme", str(programme))
        page.click("#centre-filter button[type=submit]")  # a plain GET form: the filters go in the URL
        page.wait_for_url(f"**/centre/?programme={programme}**")
        assert page.locator("table.district-table tfoot th").inner_text() == "합계"
        charts = page.locator("figure.chart svg[role=img]")
        assert charts.count() == 5
        for i in range(5):
            svg = charts.nth(i)
            svg.scroll_into_view_if_needed()
            assert svg.is_visible() and svg.bounding_box()["height"] > 60
        # Korean labels drawn in the chart, in the page's font.
        assert "마포구" in charts.nth(0).inner_html()
        font = page.evaluate("getComputedStyle(document.querySelector('figure.chart svg text')).fontFamily")
        assert "Pretendard GOV" in font
        page.locator("details.chart__data summary").first.click()
        assert page.locator("details.chart__data table").first.is_visible()
        shot(page, f"centre-{name}")

        checked = open_page(viewport)
        login(checked, live_url, city.email)
        checked.goto(page.url)
        assert checked.locator("figure.chart svg[role=img]").count() == 5
        checked.locator("details.chart__data summary").first.click()
        assert not checked.js_errors   # the page itself: no CSP violation
        violations = axe_violations(checked, impacts=ALL_IMPACTS)
        checked.wait_for_timeout(50)
        checked.js_errors.clear()      # axe's own injected styles trip our CSP; they are not the page's
        assert violations == []
