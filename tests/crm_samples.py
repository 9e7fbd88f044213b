"""Small documents the KYC tests upload (a PDF by its magic bytes and a PNG that decodes), and a
client they make KYC-approved."""

import io
from datetime import date, timedelta

from PIL import Image

from ingest.crm.commands import clients, leads
from ingest.crm.store import Actor, Store


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 25), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = _png()
NEXT_YEAR = date.today() + timedelta(days=365)


def client_with_approved_kyc(store: Store, staff: dict[str, Actor]) -> str:
    agent, compliance = staff["alice.agent"], staff["carol.compliance"]
    lead_id = leads.create_lead(store, agent, name="Ina", email="ina@example.com")
    leads.log_activity(store, agent, lead_id, "call", "keen")
    client_id = leads.convert_lead(store, agent, lead_id, 2)
    for doc_type, name, content in (("passport", "p.pdf", PDF), ("proof_of_address", "b.png", PNG)):
        doc = clients.upload_document(
            store, agent, client_id, doc_type, name, content, expires_on=NEXT_YEAR
        )
        clients.review_document(store, compliance, doc, "accept", 1)
    clients.set_kyc_status(
        store, compliance, client_id, "approved", store.get("client", client_id).version
    )
    return client_id
