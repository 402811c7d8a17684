"""PDF documents from Jinja templates with WeasyPrint, the Korean font embedded.

The font and its FontConfiguration are built once per process: re-reading the font per
document cost seconds each time (see MEASURED.md). Only our own static files may be
fetched while rendering; no file: or remote URLs. Documents get our own small user-agent
stylesheet (pdf_ua.css) instead of WeasyPrint's HTML5 one, whose ~300 selectors every element
was matched against.
"""
import atexit
import logging
import threading
from pathlib import Path

from flask import current_app, render_template

from .exports import download

_lock = threading.Lock()
_shared = {}
atexit.register(_shared.clear)  # free the FontConfiguration before interpreter teardown

FONT_FILES = {
    400: "PretendardGOV-Regular.otf",
    700: "PretendardGOV-Bold.otf",
}


def font_dir() -> Path:
    return Path(current_app.static_folder) / "vendor" / "pretendard"


def _font_css() -> str:
    faces = []
    for weight, name in FONT_FILES.items():
        path = font_dir() / name
        faces.append(
            "@font-face { font-family: 'PretendardGOV'; font-weight: %d; src: url('%s'); }"
            % (weight, path.as_uri())
        )
    return "\n".join(faces)


def _restricted_fetcher():
    """Our static files (the font), uploads (receipt images) and data: URLs only.

    A file: URL is decoded and resolved (``%2e%2e``, ``..``, symlinks) before it is compared
    with the roots, path against path: a string prefix let ``…/uploads/%2e%2e/…`` out and
    would let a sibling ``uploads-evil`` in. The resolved file is what gets fetched."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    dirs = [current_app.static_folder, current_app.config["UPLOAD_DIR"], *current_app.config.get("PDF_ALLOWED_DIRS", ())]
    roots = [Path(d).resolve() for d in dirs]

    def allowed_path(url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(unquote(parts.path, errors="strict")).resolve(strict=True)
        except (OSError, RuntimeError, UnicodeDecodeError, ValueError):  # missing, a loop, undecodable
            return None
        if path.is_file() and any(path.is_relative_to(root) for root in roots):
            return path
        return None

    class RestrictedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = allowed_path(url)
            if path is None:
                raise ValueError(f"PDF may not fetch {url[:80]}")
            return super().fetch(path.as_uri(), headers)

    return RestrictedFetcher(allowed_protocols={"file", "data"})


UA_STYLESHEET = Path(__file__).with_name("pdf_ua.css")


def _shared_resources():
    """(FontConfiguration, font stylesheet, URL fetcher, HTML class) — created once per process."""
    with _lock:
        if "font_config" not in _shared:
            from weasyprint import CSS, HTML
            from weasyprint.text.fonts import FontConfiguration

            fetcher = _restricted_fetcher()
            font_config = FontConfiguration()
            font_sheet = CSS(string=_font_css(), font_config=font_config, url_fetcher=fetcher)
            ua_sheet = CSS(filename=str(UA_STYLESHEET))

            class DocumentHTML(HTML):
                """WeasyPrint's HTML with our small user-agent stylesheet (pdf_ua.css)."""

                def _ua_stylesheets(self, forms=False):
                    return [ua_sheet]

            _shared.update(font_config=font_config, font_sheet=font_sheet, fetcher=fetcher, html=DocumentHTML)
        return _shared["font_config"], _shared["font_sheet"], _shared["fetcher"], _shared["html"]


def render_pdf(template: str, *, stylesheet: str = "pdf/pdf.css", **context) -> bytes:
    from weasyprint import CSS

    font_config, font_sheet, fetcher, html_class = _shared_resources()
    html = render_template(template, **context)
    # The stylesheet is read as a file, never through Jinja (autoescape breaks quotes in CSS).
    css_path = Path(current_app.root_path) / "templates" / stylesheet
    page_sheet = CSS(filename=str(css_path), font_config=font_config, url_fetcher=fetcher)
    document = html_class(string=html, base_url=current_app.static_folder + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[font_sheet, page_sheet], font_config=font_config)


def pdf_response(body: bytes, filename: str, *, fallback: str | None = None, inline: bool = False):
    """Send a PDF made on request: application/pdf, the name (Korean per RFC 5987, with an ASCII
    ``fallback``) and ``Cache-Control: no-store`` — documents carry personal data, and are made
    afresh on each request, so there is nothing for a cache or a conditional request to reuse."""
    return download(body, filename, fallback=fallback, mimetype="application/pdf", inline=inline)


class WeasyWarnings(logging.Handler):
    """Collects WeasyPrint warnings so tests can fail on an ignored CSS rule."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)
