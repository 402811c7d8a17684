"""Uploaded files (receipts, attachments): checked by content, size-limited, images shrunk and
stripped of metadata (GPS), stored outside the web root under their content hash.

Domains keep a foreign key to StoredFile and serve it with ``send_stored_file`` only after
their own access check.
"""
import hashlib
import io
import math
import unicodedata
import warnings
from datetime import datetime
from pathlib import Path

from flask import abort, current_app, send_file
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db

from .models import UTCDateTime, utcnow

KINDS = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
IMAGE_KINDS = {"jpeg", "png"}   # the kinds shown as pictures (thumbnails, print copies)
MAX_IMAGE_SIDE = 2000          # px; a phone photo of a receipt stays readable
# Our own limit (setting MAX_IMAGE_PIXELS, 40 MP by default; a 108-MP phone is the largest in
# use), checked on the header before a pixel is decoded. Pillow's own guard only warns up to
# twice its limit: a 462 KB PNG of 10,900² px decoded to 1.7 GB under it. Pillow's limit stays
# as a backstop for code that opens images elsewhere.
MAX_IMAGE_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = 60_000_000


class UploadError(ValueError):
    """The file was refused; the message is shown to the user next to the field."""


class StoredFile(db.Model):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    original_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def mimetype(self) -> str:
        return KINDS[self.kind]

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGE_KINDS

    def path(self) -> Path:
        return storage_path(self.sha256)


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256[2:4] / sha256


def print_copy(stored: StoredFile, width_mm: float, height_mm: float, dpi: int = 150) -> Path:
    """The stored image as a document prints it: scaled down to ``dpi`` in a box of width ×
    height mm, as a JPEG kept beside the uploads (``print/``, made once per file and box).
    A PDF embeds images as they are, so a 2000-px photo printed 10 cm high would carry three
    times the pixels the page can show, in every document and every export. Small images and
    non-images come back as the original file."""
    source = stored.path()
    if not stored.is_image:
        return source
    # Rounded up: 105 mm at 150 dpi is 620.08 px, and 620 px would print at 149.98 dpi.
    box = tuple(math.ceil(mm / 25.4 * dpi - 1e-6) for mm in (width_mm, height_mm))
    target = Path(current_app.config["UPLOAD_DIR"]) / "print" / f"{stored.sha256}-{box[0]}x{box[1]}.jpg"
    if target.exists():
        return target
    try:
        with Image.open(source) as image:
            if image.width <= box[0] and image.height <= box[1]:
                return source
            image.draft("RGB", box)   # JPEG: decode at a reduced scale straight away
            image = image.convert("RGBA")
            flat = Image.new("RGB", image.size, "white")
            flat.paste(image, mask=image.getchannel("A"))
            flat.thumbnail(box, Image.LANCZOS)
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_suffix(".part")
            flat.save(part, "JPEG", quality=85, optimize=True)
            part.replace(target)
    except (OSError, ValueError):   # unreadable: the document shows the original (or its placeholder)
        return source
    return target


def sniff(data: bytes) -> str | None:
    """The file's real kind from its first bytes, whatever its name says."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _too_many_pixels(width: int, height: int) -> UploadError:
    limit = current_app.config.get("MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS)
    return UploadError(f"이미지 해상도가 너무 큽니다(가로 {width:,} × 세로 {height:,} 화소). "
                       f"{limit // 10_000:,}만 화소 이하로 줄여서 다시 올려 주세요.")


def _clean_image(data: bytes, kind: str) -> bytes:
    """Check the size the header declares against our pixel limit, then decode fully (a
    truncated file fails here), turn upright, shrink, re-encode without metadata: EXIF with GPS
    position never reaches the disk."""
    limit = current_app.config.get("MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS)
    try:
        with warnings.catch_warnings():
            # Pillow only warns up to twice its own limit; our limit, checked next, decides
            # (above twice Pillow's, Image.open refuses by itself: DecompressionBombError).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:   # lazy: reads the header only
                width, height = probe.size
                if width * height > limit:
                    raise _too_many_pixels(width, height)
                probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            out = io.BytesIO()
            if kind == "jpeg":
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            else:
                image.save(out, "PNG", optimize=True)
            return out.getvalue()
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadError(f"이미지 해상도가 너무 큽니다. {limit // 10_000:,}만 화소 이하로 줄여서 다시 올려 주세요.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadError("이미지 파일이 손상되었거나 끝까지 올라오지 않았습니다. 다시 찍거나 다른 파일을 올려 주세요.") from exc


_SAFE_ACTIONS = ("/GoTo", "/URI")   # a link to a page of the receipt or to a web address


def strip_page_actions(page) -> None:
    """Remove from one pypdf page what runs by itself: the page's own actions (/AA: on open,
    on close), and every annotation's actions except a link to a page or a web address
    (JavaScript, /Launch of a program, form submission, …). Used at upload and again on each
    receipt page merged into a settlement PDF (a receipt stored before the check)."""
    from pypdf.generic import NameObject

    page.pop(NameObject("/AA"), None)
    annots = page.get("/Annots")
    if annots is None:
        return
    kept = []
    for ref in annots.get_object():
        annot = ref.get_object()
        if annot.get("/Subtype") in ("/Widget", "/Screen", "/Movie", "/Sound", "/RichMedia", "/FileAttachment"):
            continue   # form fields and media: scripts and files, never needed on a receipt
        annot.pop(NameObject("/AA"), None)
        action = annot.get("/A")
        if action is not None:
            action = action.get_object()
            uri = str(action.get("/URI", ""))
            if action.get("/S") not in _SAFE_ACTIONS or action.get("/Next") is not None or (
                    action.get("/S") == "/URI" and not uri.lower().startswith(("http://", "https://"))):
                annot.pop(NameObject("/A"), None)
        kept.append(ref)
    if kept:
        page[NameObject("/Annots")] = type(annots.get_object())(kept)
    else:
        page.pop(NameObject("/Annots"), None)


def drop_unreferenced(writer) -> None:
    """Leave out of the written file the objects nothing points at any more (the removed
    actions' scripts would otherwise still be in it, unreachable)."""
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)


def _clean_pdf(data: bytes) -> bytes:
    """Read the PDF (a damaged one is refused), refuse it above MAX_PDF_PAGES pages, and write
    it again without JavaScript, automatic actions, embedded files and forms."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    damaged = "PDF 파일이 손상되었거나 끝까지 올라오지 않았습니다."
    if b"%%EOF" not in data[-2048:]:
        raise UploadError(damaged)
    limit = current_app.config.get("MAX_PDF_PAGES", 30)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadError("암호가 걸린 PDF는 올릴 수 없습니다. 암호를 풀어서 다시 올려 주세요.")
        pages = len(reader.pages)
        if pages == 0:
            raise UploadError(damaged)
        if pages > limit:
            raise UploadError(f"PDF가 {pages:,}쪽입니다. {limit}쪽 이하만 올릴 수 있습니다. "
                              "영수증에 해당하는 쪽만 골라서 다시 올려 주세요.")
        # A new document from the pages alone: the catalog (/OpenAction, /AA, JavaScript and
        # embedded-file names, forms, outline) stays behind; then the pages' own actions go.
        writer = PdfWriter()
        for page in reader.pages:
            strip_page_actions(writer.add_page(page, excluded_keys=("/AA",)))
        drop_unreferenced(writer)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except UploadError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, NotImplementedError) as exc:   # pypdf's many ways of saying "unreadable"
        raise UploadError(damaged) from exc


def clean_filename(name: str | None) -> str:
    """The name a person sees for an uploaded file: its last part whichever slash a client
    used (an old browser sends C:\\fakepath\\…), composed (a Mac sends 한글 decomposed, which
    looks the same but matches nothing), without control or format characters (a
    right-to-left override makes "gpj.exe" read as "exe.jpg"), at most 200 characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()[:200]


def store_upload(upload, *, allowed=("pdf", "jpeg", "png"), max_bytes: int | None = None, user=None) -> StoredFile:
    """Check and store a werkzeug FileStorage; returns the (flushed) StoredFile row."""
    max_bytes = max_bytes or current_app.config.get("MAX_FILE_BYTES", 10 * 1024 * 1024)
    if upload is None or not getattr(upload, "filename", ""):
        raise UploadError("파일을 선택해 주세요.")
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError(f"파일이 너무 큽니다. {max_bytes // (1024 * 1024)}MB 이하로 올려 주세요.")
    if not data:
        raise UploadError("빈 파일입니다.")
    kind = sniff(data)
    if kind is None or kind not in allowed:
        names = ", ".join(EXTENSIONS[k].upper() for k in allowed)
        raise UploadError(f"{names} 파일만 올릴 수 있습니다. 파일 내용이 해당 형식이 아닙니다.")
    if kind == "pdf":
        data = _clean_pdf(data)
    else:
        data = _clean_image(data, kind)
    digest = hashlib.sha256(data).hexdigest()
    path = storage_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    name = clean_filename(upload.filename)
    row = StoredFile(sha256=digest, kind=kind, size=len(data), original_name=name,
                     created_by_id=user.id if user is not None else None)
    db.session.add(row)
    db.session.flush()
    return row


def remove_unreferenced(hashes) -> int:
    """After a commit that deleted StoredFile rows: unlink each content hash no row uses any more
    (one file can back several rows), with its print copies and thumbnails (print_copy), which
    show the same receipt. Returns how many files left the disk (the originals)."""
    from sqlalchemy import select

    removed = 0
    copies = Path(current_app.config["UPLOAD_DIR"]) / "print"
    for sha in set(hashes):
        if db.session.scalar(select(StoredFile.id).where(StoredFile.sha256 == sha).limit(1)) is None:
            path = storage_path(sha)
            if path.exists():
                path.unlink()
                removed += 1
            for copy in copies.glob(f"{sha}-*.jpg"):
                copy.unlink(missing_ok=True)
    return removed


def send_stored_file(stored: StoredFile, *, inline: bool = False):
    """Serve a stored file with its sniffed type; never executable, never sniffed by the browser."""
    download_name = stored.original_name or f"file-{stored.id}.{EXTENSIONS[stored.kind]}"
    if not download_name.lower().endswith("." + EXTENSIONS[stored.kind]):
        download_name += "." + EXTENSIONS[stored.kind]
    return _private(send_file(stored.path(), mimetype=stored.mimetype, as_attachment=not inline,
                              download_name=download_name, max_age=0))


def _private(response):
    """An applicant's file: never executable, never sniffed by the browser, never cached."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


THUMBNAIL_PX = 320  # the long side of a thumbnail: sharp at 2× on a 160-px box


def send_thumbnail(stored: StoredFile):
    """A small JPEG of a stored image for lists (ledger, line review, change history); 404 for
    a PDF, which pages show as a labelled link instead. Made once, beside the print copies."""
    if not stored.is_image:
        abort(404)
    path = print_copy(stored, THUMBNAIL_PX * 25.4 / 150, THUMBNAIL_PX * 25.4 / 150)
    return _private(send_file(path, mimetype="image/jpeg" if path.suffix == ".jpg" else stored.mimetype, max_age=0))


# Pending uploads ------------------------------------------------------------------------------
# A file chosen on a form that came back with a mistake is stored at once (store_upload) and the
# form carries a signed reference to it, so that nobody chooses it again. The reference names the
# person and the place ("scope", e.g. "award:12") it was made for; it is good for those only, and
# only while it is fresh. Another person's reference, one for another scope, an old or a
# tampered one reads as None.

PENDING_MAX_AGE = 24 * 3600   # s: a form left open over night is still saved with its files


def _pending_serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="core.files.pending")


def file_references():
    """Every column that points at a stored file, read from the schema: a domain's new table
    is covered without a change here (core knows no domain)."""
    return [fk.parent for table in db.metadata.tables.values() for fk in table.foreign_keys
            if fk.column.table is StoredFile.__table__]


def is_referenced(stored: StoredFile) -> bool:
    """Whether any row holds the stored file (a line's receipt, an attachment, a photo …)."""
    from sqlalchemy import exists, or_, select

    return bool(db.session.scalar(select(or_(*[exists().where(column == stored.id)
                                               for column in file_references()]))))


def pending_token(stored: StoredFile, *, user, scope: str) -> str:
    return _pending_serializer().dumps({"f": stored.id, "u": user.id, "s": scope})


def pending_file(token: str, *, user, scope: str) -> StoredFile | None:
    """The StoredFile a pending reference names, when it was made by ``user`` for ``scope``
    and is still pending: once its file is saved on a row, the reference is spent (a form sent
    again must not put the same receipt on a second line)."""
    from itsdangerous import BadData

    if not token or len(token) > 300:
        return None
    try:
        data = _pending_serializer().loads(token, max_age=PENDING_MAX_AGE)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or data.get("s") != scope:
        return None
    stored = db.session.get(StoredFile, data.get("f")) if isinstance(data.get("f"), int) else None
    if stored is None or stored.created_by_id != user.id or is_referenced(stored):
        return None
    return stored
