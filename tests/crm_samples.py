"""Small documents the KYC tests upload: real magic bytes, so the content check passes."""

from datetime import date, timedelta

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NEXT_YEAR = date.today() + timedelta(days=365)
