"""Response headers that make the browser refuse what we never do (inline script, framing), and
in production keep it on HTTPS (HSTS)."""
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
