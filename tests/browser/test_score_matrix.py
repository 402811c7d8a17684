"""The score matrix in a browser: a filter swaps the results with htmx and pushes the URL
(back and forward work, a reload keeps the filter); without JavaScript the same form reloads
the page with the filter applied."""
from playwright.sync_api import expect

from tests.applications.conftest import complete_application, leader_group, open_programme  # noqa: F401
from tests.browser.conftest import assert_accessible, login
from tests.review.conftest import make_reviewers, scored, staff, submitted  # noqa: F401


def test_matrix_filters_with_htmx_and_without_js(laptop_page, nojs_page, live_url, shot, scored, staff):  # noqa: F811
    programme, apps, _ = scored([[90, 50, 85], [70, 72, 74], [40, 45]])
    url = f"{live_url}/review/programme/{programme.id}/matrix"
    page = laptop_page
    login(page, live_url, staff.email)
    page.goto(url)
    rows = page.locator("#matrix-results tbody tr")
    expect(rows).to_have_count(3)
    page.evaluate("document.body.dataset.marker = 'same-page'")
    page.select_option("#status", "disagree")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("위원 간 편차 큼")
    assert "status=disagree" in page.url
    assert page.evaluate("document.body.dataset.marker") == "same-page"   # swapped, not reloaded
    page.select_option("#sort", "score_asc")
    expect(page).to_have_url(f"{url}?district=&reviewer=&status=disagree&min_spread=&sort=score_asc")
    assert_accessible(page)
    shot(page, "matrix-filtered")
    page.go_back()
    expect(page).to_have_url(f"{url}?district=&reviewer=&status=disagree&min_spread=&sort=id")
    page.reload()
    expect(rows).to_have_count(1)

    nojs = nojs_page
    login(nojs, live_url, staff.email)
    nojs.goto(url)
    nojs.select_option("#sort", "score_asc")
    nojs.click("#matrix-filter button[type=submit]")
    nojs.wait_for_url("**sort=score_asc**")
    first_cells = nojs.locator("#matrix-results tbody tr th").all_inner_texts()
    assert [t.split()[0] for t in first_cells] == [f"#{apps[2].id}", f"#{apps[1].id}", f"#{apps[0].id}"]
