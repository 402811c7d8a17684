"""The PDF renderer's URL fetcher: our static files, uploads and data: URLs only. A file: URL is
decoded and resolved before it is compared with the roots (issue 12: ``%2e%2e`` escaped the
string-prefix comparison)."""
import os

import pytest

from blueprints.core.pdf import _restricted_fetcher


@pytest.fixture
def tree(app, tmp_path, monkeypatch):
    """uploads/ with a receipt, a secret beside it, a sibling uploads-evil/ and a symlink out."""
    uploads = tmp_path / "uploads"
    (uploads / "ab").mkdir(parents=True)
    (uploads / "ab" / "receipt.txt").write_text("receipt")
    (tmp_path / "secret.txt").write_text("SECRET")
    (tmp_path / "uploads-evil").mkdir()
    (tmp_path / "uploads-evil" / "x.txt").write_text("SECRET")
    os.symlink(tmp_path / "secret.txt", uploads / "ab" / "link.txt")
    os.symlink(tmp_path, uploads / "up")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(uploads))
    return uploads


def read(url):
    response = _restricted_fetcher().fetch(url)
    try:
        return response.read() if hasattr(response, "read") else response.string
    finally:
        if hasattr(response, "close"):
            response.close()


def test_files_inside_the_roots_and_data_urls_are_fetched(tree, app):
    assert read((tree / "ab" / "receipt.txt").as_uri()) == b"receipt"
    assert read(tree.as_uri() + "/ab/%72eceipt.txt") == b"receipt"          # escaped, still inside
    assert read(tree.as_uri() + "/ab/../ab/receipt.txt") == b"receipt"       # dots that stay inside
    assert read("data:text/plain,ok") == b"ok"
    from blueprints.core.pdf import FONT_FILES, font_dir
    assert read((font_dir() / FONT_FILES[400]).as_uri())[:4] == b"OTTO"      # the font from static/


@pytest.mark.parametrize("path", [
    "/%2e%2e/secret.txt",            # the reported escape
    "/%2E%2E/secret.txt",
    "/ab/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/../secret.txt",
    "/ab/../../secret.txt",
    "/ab/link.txt",                  # a symlink inside the root pointing out
    "/up/secret.txt",                # a symlinked directory
    "-evil/x.txt",                   # a sibling whose name starts like the root
    "/ab",                           # a directory, not a file
    "/ab/missing.txt",
])
def test_paths_that_leave_the_roots_are_refused(tree, path):
    with pytest.raises(ValueError, match="PDF may not fetch"):
        read(tree.as_uri() + path)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "file://evil.example/etc/passwd", "http://example.kr/a.png",
                                 "https://169.254.169.254/latest/meta-data/", "ftp://example.kr/a"])
def test_other_files_and_remote_urls_are_refused(tree, url):
    with pytest.raises(ValueError):
        read(url)
