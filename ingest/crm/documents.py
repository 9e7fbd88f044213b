"""Identity documents on disk, named by the SHA-256 of their bytes, never inside a database.

The same file uploaded twice is stored once; a stored file can be checked against its name at
any time. The type is read from the content (magic bytes), not trusted from the upload, and a
file whose content is not what its name or declared type says is refused: a PDF that can run
something (JavaScript, an open action, a launch, an embedded file), anything that is also a ZIP
archive, and bytes after an image's or a PDF's end. An image's preview, at most PREVIEW_PX on a
side, is made once at upload and kept beside it, so a page never decodes the original.

Reading a document is a command: only compliance, admins and the client's own agent may open
one, and every opening is an event on the client's record."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.crm.access import owned_record
from ingest.crm.errors import InvalidInput
from ingest.crm.store import Actor, Change, Record, Store

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
PREVIEW_PX = 1024
SIGNATURES = {  # content starts with → MIME type
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
# PDF names that make a reader act on its own: run script, open or launch something, carry files.
ACTIVE_PDF_NAMES = frozenset(
    {
        b"/OpenAction",
        b"/AA",
        b"/JS",
        b"/JavaScript",
        b"/Launch",
        b"/EmbeddedFile",
        b"/EmbeddedFiles",
        b"/RichMedia",
        b"/SubmitForm",
        b"/ImportData",
        b"/XFA",
    }
)
PDF_NAME = re.compile(rb"/[^\s()<>\[\]{}/%]*")
PDF_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
MAX_INFLATED = 64 * 1024 * 1024  # what a PDF's compressed streams may expand to when scanned


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    mime_type: str
    size: int
    file_name: str


def sniff(content: bytes) -> str | None:
    return next((mime for magic, mime in SIGNATURES.items() if content.startswith(magic)), None)


def store_document(
    folder: Path, file_name: str, content: bytes, declared_type: str | None = None
) -> StoredDocument:
    """Write the file under its hash (atomically: a temporary file renamed into place) after
    checking size, type and content, and its preview beside it; what is returned becomes the
    upload event."""
    name = Path(file_name or "").name
    if not content:
        raise InvalidInput(f"document {name or '(no name)'}: the file is empty")
    if len(content) > MAX_BYTES:
        raise InvalidInput(
            f"document {name}: {len(content) / 2**20:.1f} MB is over the "
            f"{MAX_BYTES // 2**20} MB limit"
        )
    mime = sniff(content)
    if mime is None:
        raise InvalidInput(f"document {name}: not a PDF, JPEG or PNG file")
    by_name = EXTENSIONS.get(Path(name).suffix.lower())
    if by_name != mime or (declared_type and declared_type != mime):
        raise InvalidInput(
            f"document {name}: the content is {mime}, but the file says "
            f"{declared_type or by_name or 'an unknown type'}"
        )
    if problem := _content_problem(content, mime):
        raise InvalidInput(f"document {name}: {problem}")
    preview = _make_preview(name, content) if mime.startswith("image/") else None
    digest = hashlib.sha256(content).hexdigest()
    path = document_path(folder, digest)
    if not path.exists():
        _write_atomically(path, content)
    if preview is not None and not preview_path(folder, digest).exists():
        _write_atomically(preview_path(folder, digest), preview)
    return StoredDocument(digest, mime, len(content), name)


def _content_problem(content: bytes, mime: str) -> str | None:
    """Why the bytes are not simply the document they claim to be, or None."""
    if zipfile.is_zipfile(io.BytesIO(content)):
        return f"the file is also a ZIP archive, not only a {_KIND[mime]}"
    if mime == "application/pdf":
        if not content.rstrip().endswith(b"%%EOF"):
            return "data follows the PDF's end (%%EOF), or the PDF is cut short"
        if found := _active_pdf_names(content):
            return (
                f"the PDF holds active content ({', '.join(sorted(found))}); print it to a new "
                "PDF or scan it, and upload that"
            )
        return None
    end = _png_end(content) if mime == "image/png" else _jpeg_end(content)
    if end is None:
        return "the image is damaged and cannot be opened"
    if end < len(content):
        return f"{len(content) - end} bytes follow the image's end; upload the image alone"
    return None


_KIND = {"application/pdf": "PDF", "image/jpeg": "JPEG image", "image/png": "PNG image"}


def _active_pdf_names(content: bytes) -> set[str]:
    """Names of active content anywhere in the PDF: in its text and inside its compressed
    streams (object streams hide dictionaries there), with `#xx` escapes in names decoded."""
    found: set[str] = set()
    budget = MAX_INFLATED
    for text in _pdf_texts(content):
        for raw in PDF_NAME.findall(text):
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw)
            if name in ACTIVE_PDF_NAMES:
                found.add(name.decode())
        budget -= len(text)
        if budget <= 0:
            found.add("compressed streams too large to check")
            break
    return found


def _pdf_texts(content: bytes) -> Iterator[bytes]:
    yield content
    for match in PDF_STREAM.finditer(content):
        inflater = zlib.decompressobj()
        try:
            yield inflater.decompress(memoryview(content)[match.end() :], MAX_INFLATED)
        except zlib.error:
            continue  # not a Flate stream: its raw bytes were scanned with the file


def _png_end(content: bytes) -> int | None:
    """The offset just after the IEND chunk, walking the chunks from the signature."""
    pos = 8
    while pos + 8 <= len(content):
        length = int.from_bytes(content[pos : pos + 4], "big")
        kind = content[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(content) else None
    return None


def _jpeg_end(content: bytes) -> int | None:
    """The offset just after the end-of-image marker, walking the segments (an embedded
    thumbnail's own marker is inside a segment and skipped) and each scan's coded data."""
    pos, size = 2, len(content)
    while pos + 1 < size:
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xD9:
            return pos + 2
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
        else:
            pos += 2 + int.from_bytes(content[pos + 2 : pos + 4], "big")
            if marker == 0xDA:  # coded data runs to the next marker that is not a stuffed 0
                while (pos := content.find(b"\xff", pos)) >= 0 and pos + 1 < size:
                    following = content[pos + 1]
                    if following != 0x00 and not 0xD0 <= following <= 0xD7:
                        break
                    pos += 2
                else:
                    return None
    return None


def _make_preview(name: str, content: bytes) -> bytes:
    """The image at most PREVIEW_PX a side (turned upright), refused cleanly if it is too many
    pixels or does not decode: the check is on the header, before anything is decompressed."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput(_too_many_pixels(name, width, height))
                image.draft("RGB", (PREVIEW_PX, PREVIEW_PX))  # JPEG: decode at a smaller scale
                small = ImageOps.exif_transpose(image)
                small.thumbnail((PREVIEW_PX, PREVIEW_PX))
                out = io.BytesIO()
                if image.format == "JPEG":
                    small.convert("RGB").save(out, "JPEG", quality=85)
                else:
                    small.save(out, "PNG", optimize=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(_too_many_pixels(name)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(f"document {name}: the image is damaged and cannot be opened") from None
    return out.getvalue()


def _too_many_pixels(name: str, width: int | None = None, height: int | None = None) -> str:
    size = f"{width} x {height} pixels is" if width and height else "the image is"
    return (
        f"document {name}: {size} over the {MAX_PIXELS // 1_000_000} megapixel limit; scan or "
        "photograph it at a lower resolution"
    )


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(content)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


def document_path(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def preview_path(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / f"{sha256}.preview"


# -- opening a document: a command -----------------------------------------------------------


def open_document(store: Store, actor: Actor, document_id: str) -> bytes:
    """The document's bytes for a download, once the actor may see them; recorded."""
    document = _opened(store, actor, document_id, "download")
    return _read(Path(store.documents_dir), document["sha256"])


def open_preview(store: Store, actor: Actor, document_id: str) -> bytes | None:
    """The image's small preview (None for a PDF), once the actor may see it; recorded. A
    document stored before previews existed gets its preview now, once."""
    document = _opened(store, actor, document_id, "preview")
    if not document["mime_type"].startswith("image/"):
        return None
    folder = Path(store.documents_dir)
    path = preview_path(folder, document["sha256"])
    if not path.exists():
        content = _read(folder, document["sha256"])
        _write_atomically(path, _make_preview(document["file_name"], content))
    return path.read_bytes()


def _opened(store: Store, actor: Actor, document_id: str, how: str) -> Record:
    """The document's record, after checking that the actor may see the client's identity
    documents (compliance, an admin, or the sales agent who owns the client) and recording
    the opening on the client's record."""
    if store.documents_dir is None:
        raise InvalidInput("documents: this store has no documents folder")
    document = store.get("kyc_document", document_id)
    client_id = document["client_id"]
    owned_record(store, actor, "client.view_document", "client", client_id)
    store.append(
        actor,
        [
            Change(
                "client",
                client_id,
                "client.document_viewed",
                {"document_id": document_id, "doc_type": document["doc_type"], "how": how},
                None,
            )
        ],
    )
    return document


def _read(folder: Path, sha256: str) -> bytes:
    """The document's bytes, refused if the file no longer hashes to its name."""
    content = document_path(folder, sha256).read_bytes()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise InvalidInput(f"document {sha256[:12]}: the stored file was altered")
    return content
