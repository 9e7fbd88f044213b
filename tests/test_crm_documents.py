"""Identity documents: hostile files are refused at upload, previews are small and made once,
and only compliance, admins and the client's own agent may open one, each opening recorded.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest
from crm_samples import NEXT_YEAR, PDF, PNG
from PIL import Image

from ingest.crm import documents
from ingest.crm.commands import clients
from ingest.crm.documents import MAX_PIXELS, PREVIEW_PX, open_document, open_preview
from ingest.crm.errors import InvalidInput, NotPermitted

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def image(fmt: str, size: tuple[int, int] = (300, 200), **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, fmt, **options)
    return out.getvalue()


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + bytes(100))
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A 1-bit PNG of `width` by `height` blank pixels: tiny on disk, huge when decoded."""
    rows = (b"\x00" + bytes((width + 7) // 8)) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def upload(store, staff, name: str, content: bytes) -> str:
    client_id = store.records("client")[0].record_id if store.records("client") else None
    if client_id is None:
        agent = staff["alice.agent"]
        client_id = clients.register_client(
            store, agent, name="Mia", email="mia@example.com", birth_date="1990-05-01"
        )
    return clients.upload_document(
        store, staff["alice.agent"], client_id, "passport", name, content, expires_on=NEXT_YEAR
    )


ACTIVE_PDFS = {
    "open action": b"<< /Type /Catalog /OpenAction 2 0 R >>",
    "javascript": b"<< /S /JavaScript /JS (app.alert(1)) >>",
    "launch": b"<< /S /Launch /F (cmd.exe) >>",
    "embedded file": b"<< /Type /EmbeddedFile /Length 3 >>",
    "additional actions": b"<< /Type /Page /AA << /O 3 0 R >> >>",
    "escaped name": b"<< /S /J#61vaScript /J#53 (x) >>",
}


@pytest.mark.parametrize("body", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_a_pdf_with_active_content_is_refused(crm_store, staff, body):
    pdf = b"%PDF-1.7\n1 0 obj " + body + b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    with pytest.raises(InvalidInput, match=r"p\.pdf: the PDF holds active content"):
        upload(crm_store, staff, "p.pdf", pdf)
    assert not crm_store.records("kyc_document")


def test_active_content_hidden_in_a_compressed_object_stream_is_refused(crm_store, staff):
    hidden = zlib.compress(b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")
    pdf = (
        b"%PDF-1.7\n1 0 obj << /Type /ObjStm /Filter /FlateDecode >>\nstream\n"
        + hidden
        + b"\nendstream\nendobj\n%%EOF\n"
    )
    with pytest.raises(InvalidInput, match="/JS, /JavaScript, /OpenAction"):
        upload(crm_store, staff, "p.pdf", pdf)


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("p.pdf", b"%PDF-1.4\n" + a_zip(), "also a ZIP archive"),
        ("p.pdf", PDF + b"<script>", "data follows the PDF's end"),
        ("p.pdf", PDF + a_zip()[:-2] + b"\x05\x00%%EOF", "also a ZIP archive"),
        ("p.png", PNG + a_zip(), "also a ZIP archive"),
        ("p.png", PNG + b"trailing", "8 bytes follow the image's end"),
        ("p.jpg", image("JPEG") + b"\x00junk", "5 bytes follow the image's end"),
        ("p.jpg", image("JPEG") + a_zip(), "also a ZIP archive"),
    ],
    ids=["pdf-zip", "pdf-tail", "pdf-zip-polyglot", "png-zip", "png-tail", "jpeg-tail", "jpeg-zip"],
)
def test_a_file_that_is_more_than_it_says_is_refused(crm_store, staff, name, content, why):
    with pytest.raises(InvalidInput, match=why):
        upload(crm_store, staff, name, content)
    assert not list(crm_store.documents_dir.rglob("*"))


def test_clean_images_of_every_kind_are_accepted(crm_store, staff):
    for name, content in [
        ("a.jpg", image("JPEG")),
        ("b.jpg", image("JPEG", progressive=True)),
        ("c.png", image("PNG")),
        ("d.pdf", PDF),
    ]:
        upload(crm_store, staff, name, content)
    assert len(crm_store.records("kyc_document")) == 4


@pytest.mark.parametrize("side", [7_000, 20_000], ids=["over-the-cap", "pillow-bomb"])
def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(crm_store, staff, side):
    assert side * side > MAX_PIXELS
    with pytest.raises(InvalidInput, match="over the 40 megapixel limit"):
        upload(crm_store, staff, "huge.png", png_bomb(side, side))


def test_the_preview_is_small_made_once_at_upload_and_read_instead_of_the_original(
    crm_store, staff, monkeypatch
):
    doc = upload(crm_store, staff, "scan.jpg", image("JPEG", (3000, 2000)))
    sha = crm_store.get("kyc_document", doc)["sha256"]
    stored = documents.preview_path(crm_store.documents_dir, sha)
    with Image.open(stored) as preview:
        assert max(preview.size) == PREVIEW_PX and preview.format == "JPEG"

    def no_original(*args):
        raise AssertionError("the original was read to show a preview")

    monkeypatch.setattr(documents, "_read", no_original)
    assert open_preview(crm_store, staff["carol.compliance"], doc) == stored.read_bytes()


ALLOWED = ["carol.compliance", "admin", "alice.agent"]
REFUSED = ["ann.analyst", "paul.partners", "bob.agent", "sam.manager", "frank.finance"]


def test_only_compliance_admins_and_the_own_agent_open_documents_and_each_opening_is_recorded(
    crm_store, staff
):
    doc = upload(crm_store, staff, "id.png", PNG)
    client_id = crm_store.get("kyc_document", doc)["client_id"]
    version = crm_store.get("client", client_id).version
    for name in REFUSED:
        for opening in (open_document, open_preview):
            with pytest.raises(NotPermitted):
                opening(crm_store, staff[name], doc)
    refused = crm_store.events(event_type="command.refused")
    assert [e["actor"] for e in refused] == [n for n in REFUSED for _ in range(2)]
    assert {json.loads(e["payload"])["command"] for e in refused} == {"client.view_document"}
    assert not crm_store.events(event_type="client.document_viewed")

    for name in ALLOWED:
        assert open_document(crm_store, staff[name], doc) == PNG
        assert open_preview(crm_store, staff[name], doc) is not None
    viewed = crm_store.events(event_type="client.document_viewed")
    assert [(e["actor"], e["record_id"], json.loads(e["payload"])) for e in viewed] == [
        (name, client_id, {"document_id": doc, "doc_type": "passport", "how": how})
        for name in ALLOWED
        for how in ("download", "preview")
    ]
    assert crm_store.get("client", client_id).version == version  # viewing changes nothing
