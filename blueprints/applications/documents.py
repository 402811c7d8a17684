"""The PDF of a submitted application, built from its frozen snapshot."""
from flask import make_response

from blueprints.core.pdf import render_pdf
from blueprints.core.timeutil import now_utc


def application_pdf_bytes(application) -> bytes:
    return render_pdf("pdf/application.html", snap=application.snapshot, application=application,
                      generated_at=now_utc())


def application_pdf_response(application):
    data = application_pdf_bytes(application)
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    filename = f"application-{application.group.reg_no}-{application.snapshot['submission']}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
