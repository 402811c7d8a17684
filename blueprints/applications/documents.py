"""The PDF of a submitted application, built from its frozen snapshot."""
from blueprints.core.pdf import pdf_response, render_pdf
from blueprints.core.timeutil import now_utc


def application_pdf_bytes(application) -> bytes:
    return render_pdf("pdf/application.html", snap=application.snapshot, application=application,
                      generated_at=now_utc())


def application_pdf_response(application):
    filename = f"application-{application.group.reg_no}-{application.snapshot['submission']}.pdf"
    return pdf_response(application_pdf_bytes(application), filename)
