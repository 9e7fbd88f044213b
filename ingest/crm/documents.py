"""Identity documents on disk, named by the SHA-256 of their bytes, never inside a database.

The same file uploaded twice is stored once; a stored file can be checked against its name at
any time. The type is read from the content (magic bytes), not trusted from the upload, and a
file whose content is not what its name or declared type says is refused."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ingest.crm.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
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
    checking size and type; what is returned becomes the upload event."""
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
    if mime.startswith("image/") and not _decodes(content):
        raise InvalidInput(f"document {name}: the image is damaged and cannot be opened")
    digest = hashlib.sha256(content).hexdigest()
    path = document_path(folder, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(content)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    return StoredDocument(digest, mime, len(content), name)


def _decodes(content: bytes) -> bool:
    """A reviewer must be able to see the image: it has to decode, not only start right."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


def document_path(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def read_document(folder: Path, sha256: str) -> bytes:
    """The document's bytes, refused if the file no longer hashes to its name."""
    content = document_path(folder, sha256).read_bytes()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise InvalidInput(f"document {sha256[:12]}: the stored file was altered")
    return content
