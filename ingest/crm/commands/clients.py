"""Clients: registration, KYC, risk profile, account status and permissions, notes.

Only compliance decides KYC. A client is approved only on an accepted, unexpired identity
document and an accepted proof of address, and the approval lasts as long as the identity
document does. Status and permission changes keep to the lifecycle and carry a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from ingest.crm import validate as v
from ingest.crm.access import SALES_AGENT, authorize, owned_record, taken
from ingest.crm.commands.keyed import first_result
from ingest.crm.documents import store_document
from ingest.crm.errors import Duplicate, InvalidInput
from ingest.crm.rows import RowError, SourceRow, imported
from ingest.crm.store import Actor, Change, Store, new_id

IDENTITY = ("passport", "national_id", "driving_licence")
DOCUMENT_TYPES = (*IDENTITY, "proof_of_address", "selfie", "source_of_funds")
UPLOADED = "uploaded"  # a document waiting for compliance's review
REVIEW_DECISIONS = {"accept": "accepted", "reject": "rejected", "more_info": "more_info_required"}
KYC_STATUSES = (
    "not_started",
    "documents_pending",
    "under_review",
    "approved",
    "rejected",
    "more_info_required",
)
KYC_DECISIONS = ("under_review", "approved", "rejected", "more_info_required")
KYC_TRANSITIONS = {
    "not_started": ("under_review",),
    "documents_pending": ("under_review", "approved", "rejected", "more_info_required"),
    "under_review": ("approved", "rejected", "more_info_required"),
    "more_info_required": ("under_review", "rejected"),
    "approved": ("under_review", "rejected", "more_info_required"),
    "rejected": ("under_review",),
}
STATUSES = ("pending", "active", "suspended", "dormant", "closed")
STATUS_TRANSITIONS = {
    "pending": ("active", "closed"),
    "active": ("suspended", "dormant", "closed"),
    "suspended": ("active", "dormant", "closed"),
    "dormant": ("active", "closed"),
}
RISK_LEVELS = ("low", "medium", "high")
CATEGORIES = ("retail", "professional")
SCREENING = ("clear", "pep", "sanctions_match", "adverse_media")
PERMISSIONS = ("trading_enabled", "close_only", "deposits_enabled", "withdrawals_enabled")
NOTE_TARGETS = ("lead", "client", "trading_account", "payment", "partner")


def new_client_changes(
    store: Store,
    actor: Actor,
    client_id: str,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    country: str | None,
    language: str | None,
    lead_id: str | None,
    owner_id: str | None,
    referral_code: str | None,
    from_day: date,
    birth_date: date | None = None,
) -> list[Change]:
    """The events that register a client (shared by registration and lead conversion)."""
    email = v.email(email)
    if not email:
        raise InvalidInput("e-mail: a client needs an e-mail address")
    holder = store.holder("client", "email", email)
    if holder:
        raise taken(store, actor, "client", "email", email, holder)
    owner = store.find("user", owner_id) if owner_id else None
    partner_id = store.holder("partner", "referral_code", referral_code) if referral_code else None
    changes = [
        Change(
            "client",
            client_id,
            "client.registered",
            {
                "name": v.name("name", name),
                "email": email,
                "phone": v.phone(phone),
                "country": v.country(country),
                "language": v.language(language),
                "birth_date": birth_date,
                "lead_id": lead_id,
                "owner_id": owner_id,
                "owner": owner["username"] if owner else None,
                "kyc_status": "not_started",
                "kyc_expires_on": None,
                "risk_level": None,
                "category": "retail",
                "appropriateness_score": None,
                "screening": None,
                "status": "pending",
                "partner_id": partner_id,
            }
            | dict.fromkeys(PERMISSIONS, False),
            0,
            claims={"email": email},
        )
    ]
    if partner_id:
        changes.append(
            Change(
                "partner_mapping",
                new_id("M"),
                "partner_mapping.started",
                {
                    "client_id": client_id,
                    "partner_id": partner_id,
                    "effective_from": from_day,
                    "effective_to": None,
                    "how": f"referral code {referral_code}",
                },
                0,
            )
        )
    return changes


def register_client(
    store: Store,
    actor: Actor,
    *,
    name: str,
    email: str,
    phone: str | None = None,
    country: str | None = None,
    language: str | None = None,
    birth_date: date | str | None = None,
    referral_code: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    if done := store.replay(idempotency_key):
        return done[0]["record_id"]
    authorize(store, actor, "client.register", "client", "new")
    born = v.day("birth date", birth_date)
    if born and (date.today().year - born.year) < 18:
        raise InvalidInput("birth date: a client must be at least 18")
    code = (v.optional("referral code", referral_code, v.NAME_MAX) or "").upper() or None
    if code and not store.holder("partner", "referral_code", code):
        raise InvalidInput(f"referral code: '{code}' belongs to no partner")
    try:
        changes = new_client_changes(
            store,
            actor,
            new_id("C"),
            name=name,
            email=email,
            phone=phone,
            country=country,
            language=language,
            lead_id=None,
            owner_id=actor.user_id if actor.role == SALES_AGENT else None,
            referral_code=code,
            from_day=date.today(),
            birth_date=born,
        )
    except Duplicate as refusal:
        return first_result(store, idempotency_key, refusal)[0]["record_id"]
    return store.append(actor, changes, idempotency_key=idempotency_key)[0]["record_id"]


def upload_document(
    store: Store,
    actor: Actor,
    client_id: str,
    doc_type: str,
    file_name: str,
    content: bytes,
    declared_type: str | None = None,
    expires_on: date | str | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Store the file by its hash and record its metadata; a client not yet started, or asked
    for more, moves to documents pending."""
    if done := store.replay(idempotency_key):
        return done[0]["record_id"]
    client = owned_record(store, actor, "client.upload_document", "client", client_id)
    v.one_of("document type", doc_type, DOCUMENT_TYPES)
    expiry = v.day("expiry date", expires_on)
    if doc_type in IDENTITY and expiry is None:
        raise InvalidInput(f"expiry date: required for a {doc_type.replace('_', ' ')}")
    if expiry and expiry <= date.today():
        raise InvalidInput(f"expiry date: the document expired on {expiry}")
    if store.documents_dir is None:
        raise InvalidInput("documents: this store has no documents folder")
    stored = store_document(Path(store.documents_dir), file_name, content, declared_type)
    document_id = new_id("D")
    changes = [
        Change(
            "kyc_document",
            document_id,
            "kyc_document.uploaded",
            {
                "client_id": client_id,
                "doc_type": doc_type,
                "sha256": stored.sha256,
                "mime_type": stored.mime_type,
                "size": stored.size,
                "file_name": stored.file_name,
                "expires_on": expiry,
                "status": UPLOADED,
                "review_reason": None,
                "reviewed_by": None,
            },
            0,
        )
    ]
    if client["kyc_status"] in ("not_started", "more_info_required", "rejected"):
        changes.append(
            Change(
                "client",
                client_id,
                "client.kyc_status_set",
                {"kyc_status": "documents_pending"},
                client.version,
            )
        )
    return store.append(actor, changes, idempotency_key=idempotency_key)[0]["record_id"]


def review_document(
    store: Store,
    actor: Actor,
    document_id: str,
    decision: str,
    expected_version: int,
    reason: str | None = None,
) -> None:
    """Accept, reject (with a reason) or ask for more (saying what)."""
    document = store.get("kyc_document", document_id)
    authorize(store, actor, "client.review_document", "kyc_document", document_id)
    v.one_of("decision", decision, REVIEW_DECISIONS)
    if document["status"] != UPLOADED:
        raise InvalidInput(f"document {document_id} is already {document['status']}")
    why = v.optional("reason", reason)
    if decision != "accept" and not why:
        raise InvalidInput("reason: say why, so the client knows what to send")
    if (
        decision == "accept"
        and document.get("expires_on")
        and (date.fromisoformat(document["expires_on"]) <= date.today())
    ):
        raise InvalidInput(f"document {document_id} expired on {document['expires_on']}")
    store.append(
        actor,
        [
            Change(
                "kyc_document",
                document_id,
                f"kyc_document.{REVIEW_DECISIONS[decision]}",
                {
                    "status": REVIEW_DECISIONS[decision],
                    "review_reason": why,
                    "reviewed_by": actor.username,
                },
                expected_version,
            )
        ],
        reason=why,
    )


def set_kyc_status(
    store: Store,
    actor: Actor,
    client_id: str,
    status: str,
    expected_version: int,
    reason: str | None = None,
) -> None:
    client = store.get("client", client_id)
    authorize(store, actor, "client.set_kyc_status", "client", client_id)
    v.one_of("KYC status", status, KYC_DECISIONS)
    v.transition(f"KYC of client {client_id}", client["kyc_status"], status, KYC_TRANSITIONS)
    fields: dict = {"kyc_status": status}
    why = v.optional("reason", reason)
    if status == "approved":
        accepted = store.records("kyc_document", client_id=client_id, status="accepted")
        today = date.today().isoformat()
        identity = [d for d in accepted if d["doc_type"] in IDENTITY and d["expires_on"] > today]
        if not identity:
            raise InvalidInput("KYC: approval needs an accepted identity document still valid")
        if not any(d["doc_type"] == "proof_of_address" for d in accepted):
            raise InvalidInput("KYC: approval needs an accepted proof of address")
        fields["kyc_expires_on"] = max(d["expires_on"] for d in identity)
    elif status in ("rejected", "more_info_required") and not why:
        raise InvalidInput(f"reason: say why KYC is {status.replace('_', ' ')}")
    store.append(
        actor,
        [Change("client", client_id, "client.kyc_status_set", fields, expected_version)],
        reason=why,
    )


def set_risk_profile(
    store: Store,
    actor: Actor,
    client_id: str,
    expected_version: int,
    *,
    risk_level: str,
    category: str,
    appropriateness_score: int | None = None,
    screening: str | None = None,
    reason: str | None = None,
) -> None:
    store.get("client", client_id)
    authorize(store, actor, "client.set_risk_profile", "client", client_id)
    v.one_of("risk level", risk_level, RISK_LEVELS)
    v.one_of("category", category, CATEGORIES)
    if appropriateness_score is not None and not 0 <= int(appropriateness_score) <= 100:
        raise InvalidInput("appropriateness score: from 0 to 100")
    if screening is not None:
        v.one_of("screening", screening, SCREENING)
    store.append(
        actor,
        [
            Change(
                "client",
                client_id,
                "client.risk_profile_set",
                {
                    "risk_level": risk_level,
                    "category": category,
                    "appropriateness_score": appropriateness_score,
                    "screening": screening,
                },
                expected_version,
            )
        ],
        reason=v.optional("reason", reason),
    )


def change_status(
    store: Store, actor: Actor, client_id: str, status: str, reason: str, expected_version: int
) -> None:
    """Move the client along its lifecycle. Activation needs approved KYC; suspending, making
    dormant or closing also turns trading, deposits and withdrawals off."""
    client = store.get("client", client_id)
    authorize(store, actor, "client.change_status", "client", client_id)
    v.one_of("status", status, STATUSES)
    v.transition(f"client {client_id}", client["status"], status, STATUS_TRANSITIONS)
    why = v.required("reason", reason)
    if status == "active" and client["kyc_status"] != "approved":
        raise InvalidInput(f"client {client_id}: KYC is {client['kyc_status']}, not approved")
    fields: dict = {"status": status}
    if status != "active":
        fields |= dict.fromkeys(PERMISSIONS, False)
    store.append(
        actor,
        [Change("client", client_id, "client.status_changed", fields, expected_version)],
        reason=why,
    )


def set_permissions(
    store: Store,
    actor: Actor,
    client_id: str,
    expected_version: int,
    reason: str,
    **permissions: bool,
) -> None:
    client = store.get("client", client_id)
    authorize(store, actor, "client.set_permissions", "client", client_id)
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise InvalidInput(f"permissions: unknown {', '.join(sorted(unknown))}")
    after = {p: bool(permissions.get(p, client[p])) for p in PERMISSIONS}
    if any(after.values()) and client["status"] != "active":
        raise InvalidInput(f"client {client_id} is {client['status']}: nothing can be enabled")
    if after["close_only"] and not after["trading_enabled"]:
        raise InvalidInput("close only: applies to a client whose trading is enabled")
    store.append(
        actor,
        [Change("client", client_id, "client.permissions_set", after, expected_version)],
        reason=v.required("reason", reason),
    )


def add_note(store: Store, actor: Actor, record_type: str, record_id: str, text: str) -> str:
    """An internal note on a lead, client, account, payment or partner; never shown to them."""
    v.one_of("record type", record_type, NOTE_TARGETS)
    owned_record(store, actor, "note.add", record_type, record_id)
    note_id = new_id("N")
    store.append(
        actor,
        [
            Change(
                "note",
                note_id,
                "note.added",
                {
                    "record_type": record_type,
                    "record_id": record_id,
                    "text": v.required("note", text),
                    "by": actor.username,
                    "at": datetime.now(UTC),
                },
                0,
            )
        ],
    )
    return note_id


# -- import (`fxcrm crm import`): the files' rows as records ------------------------------------

DOCUMENT_STATUSES = (UPLOADED, *REVIEW_DECISIONS.values())


def client_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A client as the file states it (KYC decided, status reached: the steps are not replayed),
    with the lead it came from pointing at it. An active client may trade, deposit and withdraw."""
    client_id = row.text("client_id")
    lead = row.reference(store, "lead_id", "lead", required=False)
    email = row.check("email", v.email)
    if not email:
        raise RowError("email", "required")
    kyc_status = row.one_of("kyc_status", KYC_STATUSES)
    status = row.one_of("account_status", STATUSES)
    if status == "active" and kyc_status != "approved":
        raise RowError("account_status", f"an active client needs approved KYC, not {kyc_status}")
    score = row.integer("appropriateness_score", required=False)
    if score is not None and not 0 <= score <= 100:
        raise RowError("appropriateness_score", "from 0 to 100")
    first, last = row.text("first_name"), row.text("last_name")
    fields = {
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": lead.get("phone") if lead else None,
        "country": row.check("country", v.country),
        "language": lead.get("language") if lead else None,
        "birth_date": None,
        "lead_id": lead.record_id if lead else None,
        "owner_id": lead.get("owner_id") if lead else None,
        "owner": lead.get("owner") if lead else None,
        "kyc_status": kyc_status,
        "kyc_approved_at": row.moment("kyc_approved_at", required=kyc_status == "approved"),
        "kyc_expires_on": None,
        "risk_level": row.one_of("risk_level", RISK_LEVELS, required=False),
        "category": row.one_of("category", CATEGORIES),
        "appropriateness_score": score,
        "screening": None,
        "status": status,
        "partner_id": None,
    } | dict.fromkeys(
        ("trading_enabled", "deposits_enabled", "withdrawals_enabled"), status == "active"
    )
    fields["close_only"] = False
    changes = [imported("client", client_id, fields, email=email)]
    if lead:
        changes.append(imported("lead", lead.record_id, {"client_id": client_id}))
    return changes


def kyc_document_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A KYC document's metadata and the decision on it; the file itself stays with the broker."""
    client = row.reference(store, "client_id", "client")
    doc_type = row.one_of("document_type", DOCUMENT_TYPES)
    status = row.one_of("status", DOCUMENT_STATUSES)
    expires_on = row.day("expires_on", required=doc_type in IDENTITY)
    reason = row.text("rejection_reason", required=status == "rejected")
    reviewed_at = row.moment("reviewed_at", required=False)
    fields = {
        "client_id": client.record_id,
        "doc_type": doc_type,
        "sha256": None,
        "mime_type": None,
        "size": None,
        "file_name": None,
        "expires_on": expires_on,
        "status": status,
        "review_reason": reason,
        "reviewed_by": None,
        "reviewed_at": reviewed_at,
    }
    return [imported("kyc_document", row.text("document_id"), fields)]
