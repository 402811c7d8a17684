"""The stack's floor: Flask + Flask-SQLAlchemy + Jinja listing 50 rows of a 10,000-row table
(~20 KB of HTML), and a 50 KB static file. Same database as the app under test (DATABASE_URL).

    python bench/baseline.py --init      # create and fill the table (once, before gunicorn)
    gunicorn -w 2 'baseline:app'         # (run from bench/)
"""
import os
import sys
from pathlib import Path

from flask import Flask, render_template, render_template_string, request
from jinja2 import DictLoader
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

STATIC = Path(__file__).resolve().parent / "data" / "static"
url = os.environ["DATABASE_URL"]
app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
app.config["SQLALCHEMY_DATABASE_URI"] = url
db = SQLAlchemy(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, record):   # the same pragmas as the app
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL", "synchronous=NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")


class Row(db.Model):
    __tablename__ = "bench_baseline_rows"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(60), nullable=False)
    district = db.Column(db.String(20), nullable=False)
    amount = db.Column(db.BigInteger, nullable=False)
    note = db.Column(db.String(200), nullable=False)


PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>목록</title></head><body>
<h1>모임 목록 ({{ page }}쪽)</h1><table><thead><tr><th>번호</th><th>모임명</th><th>자치구</th><th>금액</th><th>비고</th></tr></thead>
<tbody>{% for r in rows %}<tr><td>{{ r.id }}</td><td><a href="/rows/{{ r.id }}">{{ r.name }}</a></td><td>{{ r.district }}</td>
<td>{{ "{:,}".format(r.amount) }}원</td><td>{{ r.note }}</td></tr>{% endfor %}</tbody></table>
<nav><a href="?page={{ page - 1 }}">이전</a> <a href="?page={{ page + 1 }}">다음</a></nav></body></html>"""


# A template loaded like a real app's (compiled once per process and cached), not
# render_template_string, which would compile it again on every request and lower the floor.
app.jinja_loader = DictLoader({"rows.html": PAGE})


@app.route("/rows")
def rows():
    page = request.args.get("page", 1, type=int)
    items = db.session.scalars(db.select(Row).order_by(Row.id).limit(50).offset((page - 1) * 50)).all()
    return render_template("rows.html", rows=items, page=page)


@app.route("/rows-compiled")
def rows_compiled():
    """The same page with render_template_string: the template is compiled again on every
    request (~2–3 ms here), nearer to issue 8's calibration figures (~290 / ~170 req/s),
    so bench/run reports each page against both floors."""
    page = request.args.get("page", 1, type=int)
    items = db.session.scalars(db.select(Row).order_by(Row.id).limit(50).offset((page - 1) * 50)).all()
    return render_template_string(PAGE, rows=items, page=page)


def init():
    with app.app_context():
        Row.__table__.drop(db.engine, checkfirst=True)
        Row.__table__.create(db.engine)
        db.session.execute(Row.__table__.insert(), [
            dict(id=i, name=f"공동육아 자조모임 {i}", district="마포구", amount=i * 1000,
                 note="영유아 가정이 매달 함께 놀고 배우는 모임입니다. " * 2) for i in range(1, 10_001)])
        db.session.commit()
    STATIC.mkdir(parents=True, exist_ok=True)
    (STATIC / "file50k.txt").write_bytes(b"0123456789abcdef" * 3200)   # 51,200 bytes


if __name__ == "__main__" and "--init" in sys.argv:
    init()
