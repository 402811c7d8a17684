"""Issue 12 (Accounts): after sign-in, `next` leads only to a path on this site."""
import pytest

HOSTILE = [
    "/\t/evil.kr",            # what /login?next=/%09/evil.kr hands the form: browsers drop the tab
    "/%09/evil.kr",
    "/%2509/evil.kr",
    "/\n/evil.kr",
    "/\r\n/evil.kr",
    "/ /evil.kr",
    "/\u3000/evil.kr",        # ideographic space
    "/\u200b/evil.kr",        # zero-width space
    "//evil.kr",
    "///evil.kr",
    "/\\evil.kr",
    "\\/evil.kr",
    "/%5Cevil.kr",
    "/%5C%5Cevil.kr",
    "/%2F%2Fevil.kr",
    "/%2f/evil.kr",
    "/%252F%252Fevil.kr",
    "https://evil.kr/",
    "HTTPS://evil.kr",
    "//evil.kr@example.kr",
    "javascript:alert(1)",
    "evil.kr",
    "@evil.kr",
    "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_redirects_off_site(client, make_user, target):
    make_user("a@example.kr")
    response = client.post_form("/login", {"email": "a@example.kr", "password": "pass1234!", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"


def test_login_query_string_next_with_a_tab_goes_to_the_dashboard(client, make_user):
    """The reproduction: the login page's own link, percent-encoded tab and all."""
    make_user("a@example.kr")
    page = client.get("/login?next=/%09/evil.kr").get_data(as_text=True)
    assert "evil.kr" in page  # carried in the hidden field …
    response = client.post_form("/login?next=/%09/evil.kr",
                                {"email": "a@example.kr", "password": "pass1234!", "next": "/\t/evil.kr"})
    assert response.headers["Location"] == "/dashboard"  # … but never followed


@pytest.mark.parametrize("target, expected", [
    ("/groups/mine", "/groups/mine"),
    ("/admin/users?q=%EA%B9%80&page=2", "/admin/users?q=%EA%B9%80&page=2"),
    ("/groups//mine#top", "/groups/mine"),
])
def test_login_keeps_a_same_site_next(client, make_user, target, expected):
    make_user("a@example.kr")
    response = client.post_form("/login", {"email": "a@example.kr", "password": "pass1234!", "next": target})
    assert response.headers["Location"] == expected
