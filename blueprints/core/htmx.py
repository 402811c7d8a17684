"""One way to answer a request: the full page, or for htmx the fragment that was asked for.

A page template names its swappable regions as blocks. The view says which block serves
which htmx target, e.g. ``render("admin/users.html", fragments={"user-table": "table"})``;
an htmx request whose HX-Target (or triggering element id/name) is listed gets only that
block plus, out of band, the flash messages that request itself added. Everything else — a
normal request, a boosted link — gets the whole page. ``Vary: HX-Request`` is always sent so
caches keep them apart.
"""
import json

from flask import g, make_response, message_flashed, render_template, request, session
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_boosted() -> bool:
    return request.headers.get("HX-Boosted") == "true"


def is_inline() -> bool:
    """An htmx request from an element of the page (a row, a live check, a section): it gets a
    fragment. A boosted link or form is htmx too, but wants the whole page or a redirect."""
    return is_htmx() and not is_boosted()


def requested_fragment(fragments: dict[str, str] | None) -> str | None:
    if not fragments or not is_inline():
        return None
    for header in ("HX-Target", "HX-Trigger", "HX-Trigger-Name"):
        name = request.headers.get(header)
        if name and name in fragments:
            return fragments[name]
    return None


def render(template: str, *, fragments: dict[str, str] | None = None, status: int = 200, **context):
    block = requested_fragment(fragments)
    if block is None:
        body = render_template(template, **context)
    else:
        body = render_block(template, block, **context) + render_flash_oob()
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_fragment(template: str, block: str, *, status: int = 200, **context):
    """Only the named block (plus, out of band, this request's flash messages), whatever the
    HX-Target: for a route that exists to refresh one region of a page (a panel that reloads
    itself on an event), which has no whole page of its own to fall back to."""
    response = make_response(render_block(template, block, **context) + render_flash_oob(), status)
    response.vary.add("HX-Request")
    return response


def render_flash_oob() -> str:
    """The messages this request flashed, taken off the queue and swapped in out of band.

    Only this request's own: a background request (a live check, an autosave, a poll)
    that lands between a POST and the page it redirects to must not take the message
    that POST left for that page — the page would show nothing.
    """
    messages = g.pop("flashed_here", [])
    if not messages:
        return ""
    queued = [tuple(m) for m in session.get("_flashes", [])]
    for message in messages:
        if message in queued:  # not when something this request rendered took it already
            queued.remove(message)
    if queued:
        session["_flashes"] = queued
    else:
        session.pop("_flashes", None)
    return render_template("_flash.html", messages=messages, oob=True)


def _note_flash(sender, message, category, **extra):
    g.setdefault("flashed_here", []).append((category, message))


message_flashed.connect(_note_flash)


def set_htmx_headers(response, *, trigger=None, retarget=None, reswap=None, redirect=None):
    """Our own helper for HX-* response headers (htmx-flask's make_response rejects
    some valid swap values)."""
    if trigger:
        if isinstance(trigger, str):
            trigger = {trigger: None}
        response.headers["HX-Trigger"] = json.dumps(trigger, ensure_ascii=False)
    if retarget:
        response.headers["HX-Retarget"] = retarget
    if reswap:
        response.headers["HX-Reswap"] = reswap
    if redirect:
        response.headers["HX-Redirect"] = redirect
    response.vary.add("HX-Request")
    return response


def page_redirect(url: str, code: int = 303):
    """The step is over; the whole page goes to ``url``: a 303 for a normal or boosted
    request, HX-Redirect for an element's own request (htmx would otherwise swap the next
    page into that element, e.g. a confirmation's place under its button)."""
    from flask import redirect

    if is_inline():
        return set_htmx_headers(make_response("", 204), redirect=url)
    return redirect(url, code)


def as_whole_page(response):
    """A full page answering an element's request (a form with errors where a fragment was
    asked for): swapped as the page's body, as a boosted request would be."""
    if is_inline():
        set_htmx_headers(response, retarget="body", reswap="innerHTML")
    return response
