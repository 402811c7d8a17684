"""Every page works without JavaScript (README): each htmx request in the templates sits on
something the browser can do by itself — a form with its method (and action, or its own page),
a link with its href, a submit button inside such a form — or is a live region that only
refreshes what a plain request already shows (a panel reloading on an event, a poll, a live
total), never the only way to an action."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HX = re.compile(r"<(\w+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?\bhx-(?:post|get|put|patch|delete)=(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
                re.S)
LIVE_TRIGGER = re.compile(r"""hx-trigger="(?![^"]*\b(?:click|submit)\b)[^"]+\"""")


def _inside_form(source: str, at: int) -> bool:
    opened = source.rfind("<form", 0, at)
    return opened != -1 and source.rfind("</form>", 0, at) < opened and "method=\"post\"" in source[opened:at]


def _included_only_inside_forms(name: str) -> bool:
    """A partial (``_x.html``) whose every include sits inside a post form of its includer."""
    sites = [(source, m.start()) for source in (p.read_text() for p in TEMPLATES.rglob("*.html"))
             for m in re.finditer(r"\{%\s*include\s+[\"']" + re.escape(name) + r"[\"']", source)]
    return bool(sites) and all(_inside_form(source, at) for source, at in sites)


def _problems():
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "pdf" in path.parts:
            continue
        source = path.read_text()
        for match in HX.finditer(source):
            tag, attrs = match.group(1).lower(), match.group(2)
            line = source.count("\n", 0, match.start()) + 1
            if tag == "form":
                ok = "method=" in attrs
            elif tag == "a":
                ok = "href=" in attrs
            elif tag in ("button", "input"):
                ok = _inside_form(source, match.start()) or (
                    path.name.startswith("_") and _included_only_inside_forms(path.relative_to(TEMPLATES).as_posix()))
            else:
                ok = bool(LIVE_TRIGGER.search(attrs))
            if not ok:
                yield f"{path.relative_to(TEMPLATES)}:{line} <{tag}>"


def test_every_htmx_request_has_a_plain_html_way():
    assert list(_problems()) == []


def test_the_check_finds_what_it_is_for(tmp_path, monkeypatch):
    """The check itself: an htmx-only button, link or clickable div is reported."""
    page = tmp_path / "t.html"
    page.write_text('<button hx-post="/x">a</button>\n<a hx-get="/y">b</a>\n<div hx-post="/z" hx-trigger="click">c</div>\n'
                    '<form method="post" action="/w"><button hx-post="/w">ok</button></form>\n'
                    '<div hx-get="/v" hx-trigger="changed from:body">ok</div>')
    import sys

    monkeypatch.setattr(sys.modules[__name__], "TEMPLATES", tmp_path)
    assert [p.split(":")[1] for p in _problems()] == ["1 <button>", "2 <a>", "3 <div>"]
