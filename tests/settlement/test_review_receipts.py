"""Finance's line review shows each line's receipt: a photo as a thumbnail (with alt text that
says whose receipt, when and how much) linking to the full image, a PDF as a labelled link."""
from datetime import date

from blueprints.settlement import services as s
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes
from tests.settlement.test_pdf import receipt_pdf


def _submitted(paid_award):
    _, treasurer, award = paid_award()
    photo = s.save_expense(award, expense_in(vendor="하나로마트 망원점", spent_on=date(2027, 4, 3), amount_won=45_000),
                           user=treasurer, receipt=Upload(jpeg_bytes(size=(1200, 1600)), "IMG_0001.jpg"))
    pdf = s.save_expense(award, expense_in(vendor="알파문구", description="색종이", amount_won=12_000),
                         user=treasurer, receipt=Upload(receipt_pdf(), "세금계산서.pdf"))
    quoted = s.save_expense(award, expense_in(vendor='"큰" <마트>', description="풀", amount_won=3_000),
                            user=treasurer, receipt=Upload(jpeg_bytes(color=(9, 9, 9)), "r.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    return settlement, photo, pdf, quoted


def test_review_shows_photo_thumbnails_with_alt_text_and_pdf_receipts_as_links(paid_award, finance, client, auth):
    settlement, photo, pdf, quoted = _submitted(paid_award)
    auth.login(finance.email)
    page = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    line = page.split(f'id="line-{photo.id}"')[1].split("</article>")[0]
    # the thumbnail links to the full image (a new page without JavaScript; the viewer with it)
    assert f'<a class="receipt-thumb" href="/settlement/expenses/{photo.id}/receipt?inline=1"' in line
    assert "data-viewer" in line
    assert (f'<img src="/settlement/expenses/{photo.id}/receipt/thumbnail" alt="하나로마트 망원점 영수증, '
            f'2027. 4. 3., 45,000원"') in line
    # a PDF has no thumbnail (the route answers 404): a labelled link that says what it opens
    line = page.split(f'id="line-{pdf.id}"')[1].split("</article>")[0]
    assert f"/settlement/expenses/{pdf.id}/receipt/thumbnail" not in line
    assert f'href="/settlement/expenses/{pdf.id}/receipt?inline=1"' in line and "PDF 영수증 보기" in line
    assert "알파문구 영수증, 2027. 4. 10., 12,000원" in line
    # what the group typed is escaped in the alt text too
    line = page.split(f'id="line-{quoted.id}"')[1].split("</article>")[0]
    assert 'alt="&#34;큰&#34; &lt;마트&gt; 영수증, 2027. 4. 10., 3,000원"' in line
    # the thumbnail is small (320 px at most), the link opens the full stored image
    thumbnail = client.get(f"/settlement/expenses/{photo.id}/receipt/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    from PIL import Image
    import io

    assert max(Image.open(io.BytesIO(thumbnail.data)).size) == 320
    full = client.get(f"/settlement/expenses/{photo.id}/receipt?inline=1")
    assert full.status_code == 200 and Image.open(io.BytesIO(full.data)).size == (1200, 1600)
    assert client.get(f"/settlement/expenses/{pdf.id}/receipt/thumbnail").status_code == 404


def test_a_decided_line_comes_back_with_its_thumbnail(paid_award, finance, client, auth):
    """The line htmx swaps in after a decision is built from the expense itself (not the page's
    rows): the same thumbnail and alt text, and the PDF's link."""
    settlement, photo, pdf, _ = _submitted(paid_award)
    auth.login(finance.email)
    for expense in (photo, pdf):
        r = client.htmx("POST", f"/settlement/review/{settlement.id}/lines/{expense.id}", target=f"line-{expense.id}",
                        data={"decision": "recognised"})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "<html" not in html
        if expense is photo:
            assert f'src="/settlement/expenses/{photo.id}/receipt/thumbnail" alt="하나로마트 망원점 영수증' in html
        else:
            assert "PDF 영수증 보기" in html and "receipt/thumbnail" not in html


def test_another_groups_receipt_thumbnail_is_refused(paid_award, finance, make_user, client, auth):
    settlement, photo, _pdf, _ = _submitted(paid_award)
    _, other_treasurer, _ = paid_award(email="other@example.kr")
    auth.login(other_treasurer.email)
    assert client.get(f"/settlement/expenses/{photo.id}/receipt/thumbnail").status_code in (403, 404)
    assert client.get(f"/settlement/expenses/{photo.id}/receipt?inline=1").status_code in (403, 404)


def test_the_lines_other_evidence_files_open_from_the_review(paid_award, finance, client, auth):
    """도서목록, 거래명세서 … go with the line to finance: a photo opens large like the receipt, a PDF
    in a new tab; each link names the line for a screen reader, and opens the file."""
    _, treasurer, award = paid_award()
    line = s.save_expense(award, expense_in(vendor="책방", amount_won=30_000), user=treasurer,
                          receipt=Upload(jpeg_bytes(), "r.jpg"),
                          attachments=[(Upload(jpeg_bytes(color=(1, 2, 3)), "목록.jpg"), "book_list"),
                                       (Upload(receipt_pdf(), "명세서.pdf"), "statement")])
    plain = s.save_expense(award, expense_in(vendor="마트", amount_won=5_000), user=treasurer,
                           receipt=Upload(jpeg_bytes(color=(7, 7, 7)), "m.jpg"))
    settlement = s.settlement_for(award, create=True)
    s.save_settlement(settlement, report_text="보고", interest_won=0, user=treasurer)
    s.submit(settlement, user=treasurer)
    db.session.commit()
    book, statement = sorted(line.attachments, key=lambda a: a.id)
    auth.login(finance.email)
    page = client.get(f"/settlement/review/{settlement.id}").get_data(as_text=True)
    shown = page.split(f'id="line-{line.id}"')[1].split("</article>")[0]
    assert (f'<a href="/settlement/expense-attachments/{book.id}" hx-boost="false" target="_blank" rel="noopener" '
            f'data-viewer>도서목록<span class="sr-only"> (증빙-001)</span></a>') in shown
    assert (f'<a href="/settlement/expense-attachments/{statement.id}" hx-boost="false" target="_blank" rel="noopener">'
            f'거래명세서(PDF)<span class="sr-only"> (증빙-001)</span></a>') in shown
    assert "other-evidence" not in page.split(f'id="line-{plain.id}"')[1].split("</article>")[0]
    assert client.get(f"/settlement/expense-attachments/{statement.id}").mimetype == "application/pdf"
    # the line htmx swaps in after a decision lists them too
    answer = client.htmx("POST", f"/settlement/review/{settlement.id}/lines/{line.id}", target=f"line-{line.id}",
                         data={"decision": "recognised", "reason": ""}).get_data(as_text=True)
    assert "도서목록" in answer and "거래명세서(PDF)" in answer
