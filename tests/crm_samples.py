"""Small documents the KYC tests upload: a PDF by its magic bytes and a PNG that decodes."""

import io
from datetime import date, timedelta

from PIL import Image


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 25), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = _png()
NEXT_YEAR = date.today() + timedelta(days=365)
