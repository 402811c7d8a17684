"""The settlement PDF as people read it on paper: a 60-line ledger over several pages with the
합계 row once, after the last line (never under page 1's rows), no Korean word, date or amount
broken in the middle, and a large phone photo of a receipt embedded at ≥ 150 dpi at the size
it prints, so the approval number and the VAT lines can be read.

SETTLEMENT_LAYOUT_OUT=/some/dir keeps the PDF there (render it with pdftoppm to look at it)."""
import io
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from blueprints.core.formatting import kdate
from blueprints.settlement import services as s
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")

# Korean words that a character-by-character line break splits ("놀이/터").
VENDORS = ["공동육아나눔터 놀이터", "알파문구 망원점", "햇살어린이 도서관 북카페", "다이소 망원역점",
           "숲속놀이터 체험학교", "우리동네 친환경 과일가게"]
DESCRIPTIONS = ["숲놀이 체험 참가비와 보험료", "만들기 재료(색종이, 풀, 가위)", "그림책 읽어주기 도서 구입",
                "간식 과일과 유기농 우유", "놀이터 탐방 교통비와 입장료"]


def phone_receipt_photo(size=(3000, 4000)) -> bytes:
    """A portrait phone photo of a receipt: fine print lines like an approval number and VAT."""
    image = Image.new("RGB", size, (248, 246, 240))
    draw = ImageDraw.Draw(image)
    for y in range(200, size[1] - 200, 60):
        draw.line((300, y, size[0] - 300, y), fill=(40, 40, 40), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
def autumn_settlement(paid_award, finance, monkeypatch):
    """60 lines in October and November (two-digit months: "2027. 11. 28."), long Korean
    vendor names and descriptions, amounts up to seven digits; line 1 has a 3000 × 4000
    phone photo, line 2 a 1000 × 4000 long till receipt, the others small scans."""
    leader, treasurer, award = paid_award(amount=9_000_000)
    programme = award.programme
    programme.activity_start, programme.activity_end = date(2027, 10, 1), date(2027, 11, 30)
    programme.settlement_due = date(2027, 12, 31)
    monkeypatch.setattr(s, "today_kst", lambda: date(2027, 12, 10))
    db.session.commit()
    start = date(2027, 10, 1)
    for i in range(60):
        if i == 0:
            receipt = Upload(phone_receipt_photo(), "IMG_4031.jpg")
        elif i == 1:   # a long till receipt, photographed whole
            receipt = Upload(phone_receipt_photo(size=(1000, 4000)), "IMG_4032.jpg")
        else:
            receipt = Upload(jpeg_bytes(size=(60, 80), color=(200, 220 - i, 200)), f"s{i}.jpg")
        amount = 1_234_560 if i == 5 else 12_340 + i * 1_000
        data = expense_in(spent_on=start + timedelta(days=i), vendor=VENDORS[i % len(VENDORS)],
                          description=DESCRIPTIONS[i % len(DESCRIPTIONS)], amount_won=amount,
                          approval_no=f"3001{i:04d}")
        s.save_expense(award, data, user=treasurer, receipt=receipt)
    for day in (10, 28):
        s.save_session(award, held_on=date(2027, 11, day), title="가을 놀이터 탐방", place="공동육아나눔터 놀이터",
                       content="숲놀이와 그림책 읽기", households=5, adults=6, children=7, outcome="즐거웠어요",
                       user=treasurer)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=0, user=treasurer)
    db.session.commit()
    return settlement


def _pdf(settlement, tmp_path) -> Path:
    from blueprints.settlement.documents import settlement_pdf

    data, _name = settlement_pdf(settlement)
    out = os.environ.get("SETTLEMENT_LAYOUT_OUT")
    folder = Path(out) if out else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settlement-60.pdf"
    path.write_bytes(data)
    return path


@needs_poppler
def test_ledger_total_once_after_last_line_and_no_word_or_date_broken(autumn_settlement, tmp_path):
    path = _pdf(autumn_settlement, tmp_path)
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    # 합계 of the ledger: once in the whole document, on the page of the last line, below it.
    totals = [i for i, page in enumerate(pages) if "합계 (60건)" in page]
    assert len(totals) == 1 and pages[totals[0]].count("합계 (60건)") == 1, totals
    # the ledger's pages: from its heading to its total (not the receipts' captions after it)
    first = next(i for i, page in enumerate(pages) if "4. 집행내역 명세" in page)
    ledger = list(range(first, totals[0] + 1))
    assert len(ledger) >= 2, "the 60-line ledger spans pages"
    ledger_text = "\n".join(pages[i] for i in ledger)
    last = pages[totals[0]]
    assert last.index("증빙-060") < last.index("합계 (60건)")
    assert all("증빙-001" not in pages[i] for i in ledger[1:])   # page 1's rows are not repeated
    # Every date of the ledger whole on one line ("2027. 11. 28.", never "2027. 11./28.").
    lines = [e for e in s.expenses(autumn_settlement.award)]
    for e in lines:
        assert kdate(e.spent_on) in ledger_text, kdate(e.spent_on)
        assert f"3001{e.seq - 1:04d}" in ledger_text     # the approval number whole
    text = "\n".join(pages)
    for held_on in ("2027. 11. 10.", "2027. 11. 28."):    # the activity table's dates too
        assert text.count(held_on) >= 1, held_on
    # Every vendor, description and amount whole on one line (keep-all: "놀이터", never "놀이/터").
    for word in ("공동육아나눔터", "놀이터", "북카페", "친환경", "체험학교", "색종이,", "1,234,560원"):
        expected = sum(f"{e.vendor} {e.description} {e.amount_won:,}원".count(word) for e in lines)
        assert ledger_text.count(word) >= expected, (word, ledger_text.count(word), expected)


def _placements(path):
    """(pixel width, pixel height, printed width in inches, printed height in inches) of every
    image drawn in the PDF: the XObject's size against the transformation matrix in force
    when the page's content stream paints it (Do)."""
    from pypdf import PdfReader

    found = []
    for page in PdfReader(str(path)).pages:
        xobjects = page["/Resources"].get("/XObject") or {}

        def visit(op, args, cm, tm):
            if op == b"Do":
                name = args[0]
                if name in xobjects:
                    xobj = xobjects[name].get_object()
                    if xobj.get("/Subtype") == "/Image":
                        a, b, c, d = cm[0], cm[1], cm[2], cm[3]
                        width_pt, height_pt = (a * a + b * b) ** 0.5, (c * c + d * d) ** 0.5
                        found.append((int(xobj["/Width"]), int(xobj["/Height"]), width_pt / 72, height_pt / 72))

        page.extract_text(visitor_operand_before=visit)
    return found


def test_large_phone_photo_is_embedded_at_150_dpi_or_more(autumn_settlement, tmp_path):
    path = _pdf(autumn_settlement, tmp_path)
    placed = _placements(path)
    # the 3000 × 4000 photo and the 1000 × 4000 till receipt (stored at most 2000 px long) and
    # the 60 × 80 scans; in ledger order
    big = [p for p in placed if p[1] > 80]
    assert len(big) == 2, placed
    for px_w, px_h, in_w, in_h in big:
        assert px_w / in_w >= 150 and px_h / in_h >= 150, (px_w, px_h, px_w / in_w, px_h / in_h)
        # and not carrying far more pixels than the page shows (a PDF of 30 such photos stays small)
        assert px_w / in_w < 320 and px_h / in_h < 320
    photo, till = big
    # printed large enough to read: the photo at least 10 cm high (two to a page); the long
    # receipt on a page of its own, at least 20 cm high (at 105 mm it would be 26 mm wide)
    assert photo[3] * 25.4 >= 100 and photo[2] * 25.4 >= 75
    assert till[3] * 25.4 >= 200 and till[2] * 25.4 >= 50


def test_no_document_table_has_a_tfoot(app):
    """WeasyPrint repeats a <tfoot> at the foot of every page a table spans: a 합계 row under
    page 1's rows that is the total of all of them. Totals close their table once, as a last
    <tbody class="total"> (pdf.css makes it bold)."""
    folder = Path(app.root_path) / "templates" / "pdf"
    for template in sorted(folder.glob("*.html")):
        assert "<tfoot" not in template.read_text(), template.name
