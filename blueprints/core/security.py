"""Response headers that make the browser refuse what we never do (inline script, framing), in
production keep it on HTTPS (HSTS), and the one check of a redirect target taken from the request."""
import re
from urllib.parse import unquote, urlsplit

from flask import current_app

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
])
# One year, subdomains too: after the first visit over HTTPS the browser never tries plain HTTP
# (no downgrade on a café's Wi-Fi). Only in production: development runs on http://localhost.
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
    if current_app.config.get("APP_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html":
        # Pages carry personal data: never keep them in shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


# Redirect targets ---------------------------------------------------------------------------

_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]|[\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f\u2060\u3000\ufeff]")


def same_site_path(target) -> str | None:
    """``target`` as a path on this site (``/a/b?c=d``), or None when it could lead elsewhere.

    Browsers forgive a lot: they drop tabs and newlines inside URLs, read ``\\`` as ``/`` and
    ``//host`` as another site, so ``/%09/evil.kr`` (a tab, once decoded) becomes
    ``//evil.kr``. Refused: anything not starting with exactly one ``/``, any control
    character, space or backslash, a scheme or host, and a path that has any of these or
    starts with ``//`` once or twice percent-decoded. What passes is rebuilt from its path
    (runs of ``/`` collapsed) and query; the fragment is dropped.
    """
    if not isinstance(target, str) or not target or len(target) > 2000 or _UNSAFE_CHARS.search(target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path
    for _ in range(3):  # as given, once and twice percent-decoded (%09, %2509, %5C, %2F%2F)
        if _UNSAFE_CHARS.search(path) or not path.startswith("/") or path.startswith("//"):
            return None
        path = unquote(path)
    path = re.sub(r"/{2,}", "/", parts.path)
    return path + (f"?{parts.query}" if parts.query else "")
