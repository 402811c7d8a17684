"""Hostile uploads and hostile form values on the expense form (issue 12, "Uploads and
documents"): refused with a Korean message next to the field and status 422, nothing stored."""
import io
import struct
import zlib

import pytest
from sqlalchemy import func, select

from blueprints.core.files import StoredFile
from blueprints.settlement.models import Expense
from extensions import db
from tests.settlement.test_flow import post_expense


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width × height black pixels: a few KB on disk, width × height × 4
    bytes once decoded (10,900² px = 475 MB RGBA)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


# 7,000² = 49 MP is under Pillow's own limit (the old code decoded it); 10,900² is the reported one.
@pytest.mark.parametrize("side", [7_000, 10_900])
def test_an_image_above_our_pixel_limit_is_refused_before_decoding(paid_award, client, auth, monkeypatch, side):
    from PIL import ImageFile

    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    data = huge_png(side, side)
    assert len(data) < 600 * 1024                        # tiny on disk
    decoded = []
    original_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: decoded.append(self.size) or original_load(self))
    response = post_expense(client, award, file=(io.BytesIO(data), "receipt.png"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"이미지 해상도가 너무 큽니다(가로 {side:,} × 세로 {side:,} 화소)" in body
    assert "4,000만 화소 이하로" in body
    assert decoded == []                                  # not a pixel decoded
    assert 'value="다이소 망원점"' in body                  # what was typed is kept
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0
    assert db.session.scalar(select(func.count(Expense.id))) == 0


def test_the_pixel_limit_is_a_setting(app, paid_award, client, auth, monkeypatch):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 1_000_000)
    response = post_expense(client, award, file=(io.BytesIO(huge_png(1100, 1000)), "receipt.png"))
    assert response.status_code == 422 and "100만 화소 이하로" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 2_000_000)
    response = post_expense(client, award, file=(io.BytesIO(huge_png(1100, 1000)), "receipt.png"))
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Expense.id))) == 1
