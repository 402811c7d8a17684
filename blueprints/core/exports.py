"""Tables out of the system, one way: CSV (UTF-8 with a BOM, so Excel reads the Korean) or
XLSX with typed cells, one formula guard, one download response.

An export declares its columns and their kind; rows carry plain values (an int of 원, a date,
an aware datetime, text). XLSX cells are typed by the column: dates are dates shown
``yyyy-mm-dd``, money is a number shown ``#,##0"원"``, counts are numbers. CSV writes dates as
``2027-03-08`` and times as Seoul ``2027-03-08 18:00``. Text that a spreadsheet would run as a
formula gets a leading quote in both.

    COLUMNS = [Column("모임명"), Column("지급일", DATE), Column("지급액", WON)]
    return send_table(Sheet("교부내역", COLUMNS, rows), "csv", "교부내역.csv", fallback="payments.csv")
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence
from urllib.parse import quote

from flask import make_response

from .timeutil import to_kst

TEXT, INT, WON, NUMBER, DATE, DATETIME = "text", "int", "won", "number", "date", "datetime"
XLSX_FORMATS = {WON: '#,##0"원"', DATE: "yyyy-mm-dd", DATETIME: "yyyy-mm-dd hh:mm"}
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = TEXT
    width: int | None = None   # XLSX column width in characters


@dataclass(frozen=True)
class Cell:
    """A value whose kind differs from its column's (a label/value sheet, say)."""
    value: object
    kind: str = TEXT


@dataclass
class Sheet:
    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    header: bool = True


# Text a spreadsheet would run as a formula, or (tab, CR) use to smuggle one in (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _typed(value, kind):
    """The value as its column's kind wants it; '' and None are an empty cell."""
    if isinstance(value, Cell):
        value, kind = value.value, value.kind
    if value is None or value == "":
        return None, kind
    if isinstance(value, datetime):
        local = to_kst(value).replace(tzinfo=None)
        return (local.date(), DATE) if kind == DATE else (local, DATETIME)
    return value, kind


def _csv_text(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else formula_safe(value)


def csv_bytes(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if sheet.header:
        writer.writerow([c.title for c in sheet.columns])
    kinds = [c.kind for c in sheet.columns]
    for row in sheet.rows:
        writer.writerow([_csv_text(_typed(v, k)[0]) for v, k in zip(row, kinds)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(*sheets: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        for index, column in enumerate(sheet.columns, 1):
            if column.width:
                ws.column_dimensions[get_column_letter(index)].width = column.width
        if sheet.header:
            ws.append([c.title for c in sheet.columns])
        kinds = [c.kind for c in sheet.columns]
        for row in sheet.rows:
            cells = []
            for value, kind in zip(row, kinds):
                value, kind = _typed(value, kind)
                if kind in XLSX_FORMATS and isinstance(value, (int, float, date)):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = XLSX_FORMATS[kind]
                    cells.append(cell)
                else:
                    # A plain value: the same cell without a style object (most of the time of a
                    # large sheet went to making one per text cell).
                    cells.append(formula_safe(value))
            ws.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def content_disposition(filename: str, fallback: str | None = None, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''한글`` (RFC 6266/5987): old clients get
    the ASCII fallback, every current browser the Korean name."""
    kind = "inline" if inline else "attachment"
    ascii_name = fallback or filename
    ascii_name = "".join(ch for ch in ascii_name if 32 <= ord(ch) < 127 and ch not in '"\\') or "download"
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def download(body: bytes, filename: str, *, fallback: str | None = None, mimetype: str | None = None,
             inline: bool = False):
    """The response for a file made on request: its type, its name, and never kept by a cache
    (exports and documents carry personal data)."""
    response = make_response(body)
    response.headers["Content-Type"] = mimetype or MIMETYPES[filename.rsplit(".", 1)[-1]]
    response.headers["Content-Disposition"] = content_disposition(filename, fallback, inline=inline)
    response.headers["Cache-Control"] = "no-store"
    return response


def send_table(sheets: Sheet | Sequence[Sheet], fmt: str, filename: str, *, fallback: str | None = None):
    """One sheet as CSV, or one or more sheets as an XLSX workbook, as a download."""
    sheets = [sheets] if isinstance(sheets, Sheet) else list(sheets)
    if fmt == "csv":
        if len(sheets) != 1:
            raise ValueError("CSV holds one sheet")
        body = csv_bytes(sheets[0])
    elif fmt == "xlsx":
        body = xlsx_bytes(*sheets)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return download(body, filename, fallback=fallback)
