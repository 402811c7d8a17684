"""core.htmx.is_inline: an htmx request from an element of the page gets a fragment; a boosted
link or form (htmx too) gets what a plain browser gets."""
import pytest

from blueprints.core.htmx import is_inline


@pytest.mark.parametrize("headers, inline", [
    ({}, False), ({"HX-Request": "true"}, True), ({"HX-Request": "true", "HX-Boosted": "true"}, False),
    ({"HX-Request": "false"}, False), ({"HX-Boosted": "true"}, False),
])
def test_is_inline(app, headers, inline):
    with app.test_request_context("/", headers=headers):
        assert is_inline() is inline


def test_a_boosted_form_is_redirected_an_inline_one_gets_its_row(client, auth, make_user):
    make_user("admin@example.kr", roles=("admin",))
    user = make_user("p@example.kr")
    auth.login("admin@example.kr")
    url = f"/admin/users/{user.id}/active"
    boosted = client.post_form(url, {"active": "0"}, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.status_code == 303   # the boosted form follows the redirect to the whole page
    inline = client.post_form(url, {"active": "1"}, headers={"HX-Request": "true", "HX-Target": f"user-{user.id}"})
    assert inline.status_code == 200 and "<html" not in inline.get_data(as_text=True)
    assert f'id="user-{user.id}"' in inline.get_data(as_text=True)
