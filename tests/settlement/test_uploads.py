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


# PDFs: a page cap at upload, nothing that runs by itself, stored or merged -------------------

ACTIVE = (b"/JavaScript", b"/JS", b"/OpenAction", b"/AA", b"/Launch", b"/EmbeddedFiles")


def hostile_pdf() -> bytes:
    """A one-page receipt (text RECEIPT-PDF-PAGE) that runs JavaScript when opened, on its
    page's open, through a link, launches a program and carries a document-level script."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Link
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
    from weasyprint import HTML

    js = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                           NameObject("/JS"): TextStringObject("app.alert('pwned');")})
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(HTML(string="<p>RECEIPT-PDF-PAGE</p>").write_pdf())))
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("names"), writer._add_object(js)])})})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(js)
    page = writer.pages[0]
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): writer._add_object(js)})
    writer.add_annotation(0, Link(rect=(10, 10, 100, 40), url="https://example.kr"))
    writer.add_annotation(0, Link(rect=(10, 50, 100, 80), target_page_index=0))
    launch = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
                               NameObject("/Rect"): ArrayObject([]),
                               NameObject("/A"): DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                                                   NameObject("/F"): TextStringObject("cmd.exe")})})
    page[NameObject("/Annots")].append(writer._add_object(launch))
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    missing = [m for m in ACTIVE if m not in data and m != b"/EmbeddedFiles"]
    assert not missing, missing
    return data


def many_pages_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def assert_inert(data: bytes):
    from pypdf import PdfReader

    for marker in ACTIVE:
        assert marker not in data, marker
    reader = PdfReader(io.BytesIO(data))
    assert "/OpenAction" not in reader.trailer["/Root"] and "/AA" not in reader.trailer["/Root"]
    for page in reader.pages:
        assert "/AA" not in page
        for annot in page.get("/Annots", []):
            action = annot.get_object().get("/A")
            assert action is None or action.get_object()["/S"] in ("/URI", "/GoTo")


def test_a_pdf_receipt_is_stored_without_javascript_or_automatic_actions(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    response = post_expense(client, award, file=(io.BytesIO(hostile_pdf()), "세금계산서.pdf"))
    assert response.status_code == 303
    stored = db.session.scalar(select(Expense)).receipt
    data = stored.path().read_bytes()
    assert_inert(data)
    from pypdf import PdfReader
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert "RECEIPT-PDF-PAGE" in page.extract_text()                        # the receipt itself is kept
    links = [a.get_object() for a in page["/Annots"]]     # its links stay; the /Launch one without its action
    assert len(links) == 3 and [a["/A"]["/URI"] for a in links if "/A" in a] == ["https://example.kr"]


def test_a_receipt_stored_before_the_check_is_merged_without_its_actions(paid_award, finance):
    """A receipt on disk as it was uploaded before the fix: the settlement PDF takes its page
    only, never its catalog (OpenAction, JavaScript names) nor its page's actions."""
    from pypdf import PdfReader

    from blueprints.settlement import services as s
    from blueprints.settlement.documents import settlement_pdf
    from tests.settlement.conftest import Upload, expense_in

    _, treasurer, award = paid_award()
    saved = s.save_expense(award, expense_in(), user=treasurer, receipt=Upload(hostile_pdf(), "세금계산서.pdf"))
    saved.receipt.path().write_bytes(hostile_pdf())          # as stored by the old code
    settlement = s.settlement_for(award, create=True)
    db.session.commit()
    data, _ = settlement_pdf(settlement)
    assert_inert(data)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "RECEIPT-PDF-PAGE" in text                          # merged all the same


def test_a_1000_page_pdf_is_refused_with_a_message(paid_award, client, auth):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    response = post_expense(client, award, file=(io.BytesIO(many_pages_pdf(1000)), "영수증묶음.pdf"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "PDF가 1,000쪽입니다. 30쪽 이하만 올릴 수 있습니다." in body
    assert 'value="다이소 망원점"' in body
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0


def test_the_page_cap_is_a_setting_and_30_pages_pass(app, paid_award, client, auth, monkeypatch):
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    assert post_expense(client, award, file=(io.BytesIO(many_pages_pdf(30)), "a.pdf")).status_code == 303
    monkeypatch.setitem(app.config, "MAX_PDF_PAGES", 2)
    response = post_expense(client, award, {"description": "두 번째"}, file=(io.BytesIO(many_pages_pdf(3)), "b.pdf"))
    assert response.status_code == 422 and "PDF가 3쪽입니다. 2쪽 이하만" in response.get_data(as_text=True)


def test_a_receipt_photo_has_a_small_thumbnail_and_a_pdf_receipt_none(paid_award, client, auth):
    from PIL import Image
    _, treasurer, award = paid_award()
    auth.login(treasurer.email)
    photo = io.BytesIO()
    Image.new("RGB", (1600, 1200), "white").save(photo, "JPEG")
    assert post_expense(client, award, file=(io.BytesIO(photo.getvalue()), "영수증.jpg")).status_code == 303
    expense = db.session.scalar(select(Expense))
    response = client.get(f"/settlement/expenses/{expense.id}/receipt/thumbnail")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-store"
    with Image.open(io.BytesIO(response.data)) as thumb:
        assert max(thumb.size) == 320 and thumb.size[0] > thumb.size[1]   # shrunk, shape kept

    post_expense(client, award, file=(io.BytesIO(hostile_pdf()), "세금계산서.pdf"))
    pdf_expense = db.session.scalars(select(Expense).order_by(Expense.id.desc())).first()
    assert client.get(f"/settlement/expenses/{pdf_expense.id}/receipt/thumbnail").status_code == 404
