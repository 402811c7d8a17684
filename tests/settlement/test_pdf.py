"""The settlement PDF: 60 lines, 30 photo receipts and a PDF receipt; Korean headings and
amounts in the text, the font embedded, receipts merged, cached per version; ZIP job; CLI."""
import io
import os
from pathlib import Path
import logging
import shutil
import subprocess
import time
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from blueprints.core.pdf import WeasyWarnings
from blueprints.settlement import services as s
from blueprints.settlement.models import ExportJob
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")


def receipt_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>전자 세금계산서 RECEIPT-PDF-PAGE</p>").write_pdf()


@pytest.fixture
def big_settlement(paid_award, finance):
    leader, treasurer, award = paid_award(amount=1_000_000)
    start = date(2027, 4, 1)
    for i in range(60):
        # 30 phone-sized photos, one PDF receipt, the rest small scans
        if i % 2 == 0:
            upload = Upload(jpeg_bytes(size=(900, 1200), color=(250 - i, 240, 230)), f"r{i}.jpg")
        elif i == 1:
            upload = Upload(receipt_pdf(), "세금계산서.pdf")
        else:
            upload = Upload(jpeg_bytes(size=(60, 60), color=(i, 200, 200)), f"s{i}.jpg")
        data = expense_in(spent_on=start + timedelta(days=i), description=f"만들기 재료 {i + 1}호 (쀍 포함)",
                          amount_won=15_000 + i, vendor=f"문구점 {i + 1}")
        s.save_expense(award, data, user=treasurer, receipt=upload)
    s.save_session(award, held_on=date(2027, 4, 10), title="봄 숲놀이", place="불광천", content="숲에서 놀이",
                   households=5, adults=6, children=7, outcome="즐거웠어요", user=treasurer)
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=1_234,
                      interest_file=Upload(jpeg_bytes(), "통장.jpg"), user=treasurer)
    s.submit(settlement, user=treasurer)
    for e in s.expenses(award):
        s.review_line(e, decision="recognised" if e.seq != 3 else "not_recognised",
                      reason="" if e.seq != 3 else "영수증 불명확", user=finance)
    s.approve(settlement, user=finance)
    db.session.commit()
    return settlement


@needs_poppler
def test_settlement_pdf_text_fonts_pages_and_cache(big_settlement, tmp_path, app):
    from blueprints.settlement.documents import settlement_pdf

    warnings = WeasyWarnings()
    logging.getLogger("weasyprint").addHandler(warnings)
    try:
        started = time.perf_counter()
        data, name = settlement_pdf(big_settlement)
        first = time.perf_counter() - started
    finally:
        logging.getLogger("weasyprint").removeHandler(warnings)
    assert not [r.getMessage() for r in warnings.records]
    out = os.environ.get("SETTLEMENT_PDF_OUT")
    path = Path(out) if out else tmp_path / "s.pdf"
    print(f"settlement PDF: {first:.2f} s, {len(data) // 1024} KB")
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("기본정보", "사업실적", "정산총괄표", "집행내역 명세", "반환내역", "확인·서명", "붙임 1. 영수증철",
                    "붙임 2. 처리 이력", "증빙-060", "1,000,000원", "2027. 4. 1.", "쀍", "RECEIPT-PDF-PAGE"):
        assert heading in text, heading
    # refund: 1,000,000 + 1,234 − (sum of 60 lines − line 3)
    total = sum(15_000 + i for i in range(60))
    refund = 1_000_000 + 1_234 - (total - 15_002)
    assert f"{refund:,}원" in text
    # the merged PDF receipt replaced a reserved page: the footer's total is the real page count
    from pypdf import PdfReader

    pages = len(PdfReader(str(path)).pages)
    assert f"1 / {pages}" in text and f"{pages} / {pages}" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "PretendardGOV" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:]
                                            if "PretendardGOV" in line)
    # the 900 × 1200 photos are embedded pre-scaled to their printed box at 150 dpi, rounded up
    # (180 × 105 mm: ≤ 1063 × 621 px)
    sizes = [image.image.size for page in PdfReader(str(path)).pages for image in page.images]
    assert (466, 621) in sizes and max(h for _w, h in sizes) <= 621 and max(w for w, _h in sizes) <= 1063
    started = time.perf_counter()
    again, _ = settlement_pdf(big_settlement)
    assert again == data and time.perf_counter() - started < first / 3    # from the cache
    big_settlement.content_version += 1
    big_settlement.report_text += "\n추가"
    db.session.commit()
    changed, _ = settlement_pdf(big_settlement)
    assert changed != data


def statement_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>STATEMENT-PAGE-ONE</p><p style='break-before: page'>STATEMENT-PAGE-TWO</p>").write_pdf()


@needs_poppler
def test_a_lines_other_evidence_follows_its_receipt_in_the_appendix(paid_award, finance, tmp_path):
    """도서목록 (a photo) and 거래명세서 (a two-page PDF) are printed after the line's receipt, each
    captioned with the line and its kind; the PDF's own pages are merged in."""
    from pypdf import PdfReader

    from blueprints.settlement.documents import settlement_pdf

    _, treasurer, award = paid_award()
    s.save_expense(award, expense_in(vendor="책방", description="그림책", amount_won=30_000), user=treasurer,
                   receipt=Upload(jpeg_bytes(), "r.jpg"),
                   attachments=[(Upload(jpeg_bytes(color=(1, 2, 3)), "목록.jpg"), "book_list"),
                                (Upload(statement_pdf(), "명세서.pdf"), "statement")])
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    data, _ = settlement_pdf(settlement)
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    appendix = text.split("붙임 1. 영수증철")[1]
    assert appendix.index("증빙-001 · ") < appendix.index("증빙-001 도서목록 · ") < appendix.index("증빙-001 거래명세서 · ")
    assert "PDF 거래명세서 2쪽이 이어집니다" in appendix
    assert "STATEMENT-PAGE-ONE" in appendix and "STATEMENT-PAGE-TWO" in appendix
    reader = PdfReader(str(path))
    pages = len(reader.pages)
    assert f"{pages}/{pages}" in text.replace(" ", "")    # the footer counts the merged pages
    assert not [item for item in reader.outline if not isinstance(item, list) and "PDF 1/" in str(item.title)]
    # two pictures embedded (WeasyPrint shares them among the pages' resources): receipt and book list
    assert len({image.data for page in reader.pages for image in page.images}) == 2


def test_zip_job_and_cli(big_settlement, finance, client, auth, runner, tmp_path):
    auth.login(finance.email)
    programme_id = big_settlement.award.programme_id
    response = client.post_form(f"/settlement/programme/{programme_id}/zip")
    assert response.status_code == 303
    job = db.session.scalar(select(ExportJob))
    assert (job.status, job.done, job.total) == ("done", 1, 1)
    progress = client.htmx("GET", f"/settlement/jobs/{job.id}", target="job-progress")
    assert "<html" not in progress.get_data(as_text=True) and "완료" in progress.get_data(as_text=True)
    archive = client.get(f"/settlement/jobs/{job.id}/download")
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert len(names) == 1 and names[0].endswith(".pdf")
    result = runner.invoke(args=["export-settlements", "--programme", str(programme_id), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.pdf"))) == 1
    for what in ("expenses", "settlements"):
        for fmt in ("csv", "xlsx"):
            r = client.get(f"/settlement/programme/{programme_id}/{what}.{fmt}")
            assert r.status_code == 200 and len(r.data) > 100
    csv_text = client.get(f"/settlement/programme/{programme_id}/expenses.csv").data.decode("utf-8-sig")
    assert "증빙-060" in csv_text and "불인정" in csv_text
    assert client.get("/disbursement/payments.csv").status_code == 200
    assert "미지급" in client.get("/disbursement/").get_data(as_text=True)


def test_pdf_user_agent_stylesheet_has_no_ignored_rule():
    """pdf_ua.css replaces WeasyPrint's HTML5 sheet: a rule it ignores would silently change every document."""
    from weasyprint import CSS

    from blueprints.core.pdf import UA_STYLESHEET

    warnings = WeasyWarnings()
    logging.getLogger("weasyprint").addHandler(warnings)
    try:
        CSS(string=UA_STYLESHEET.read_text())
    finally:
        logging.getLogger("weasyprint").removeHandler(warnings)
    assert not [r.getMessage() for r in warnings.records]
