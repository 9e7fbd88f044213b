"""Partners (IBs and affiliates) in a hierarchy, their referral codes, and which partner each
client belongs to from which day. A move closes one mapping and opens the next on the same day,
so a deal always belongs to exactly one partner: the one mapped at the deal's time."""

from __future__ import annotations

import secrets
from datetime import date

from ingest.crm import validate as v
from ingest.crm.access import authorize
from ingest.crm.errors import InvalidInput
from ingest.crm.store import Actor, Change, Record, Store, new_id

KINDS = ("ib", "affiliate")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def register_partner(
    store: Store,
    actor: Actor,
    *,
    name: str,
    kind: str,
    email: str,
    parent_id: str | None = None,
    country: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    if done := store.replay(idempotency_key):
        return done[0]["record_id"]
    authorize(store, actor, "partner.register", "partner", "new")
    v.one_of("kind", kind, KINDS)
    address = v.email(email)
    if not address:
        raise InvalidInput("e-mail: required")
    level = 1
    if parent_id:
        parent = store.get("partner", parent_id)
        level = parent["level"] + 1
    events = store.append(
        actor,
        [
            Change(
                "partner",
                new_id("PT"),
                "partner.registered",
                {
                    "name": v.name("name", name),
                    "kind": kind,
                    "email": address,
                    "country": v.country(country),
                    "parent_id": parent_id or None,
                    "level": level,
                    "referral_codes": [],
                    "active": True,
                },
                0,
                claims={"email": address},
            )
        ],
        idempotency_key=idempotency_key,
    )
    return events[0]["record_id"]  # the first caller's, when the key was used concurrently


def issue_referral_code(
    store: Store, actor: Actor, partner_id: str, expected_version: int, code: str | None = None
) -> str:
    partner = store.get("partner", partner_id)
    authorize(store, actor, "partner.issue_code", "partner", partner_id)
    code = (code or "").strip().upper() or "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    if not code.isalnum() or not 4 <= len(code) <= 20:
        raise InvalidInput("referral code: 4 to 20 letters or digits")
    store.append(
        actor,
        [
            Change(
                "partner",
                partner_id,
                "partner.code_issued",
                {"referral_codes": [*partner["referral_codes"], code]},
                expected_version,
                claims={"referral_code": code},
            )
        ],
    )
    return code


def attach_client(
    store: Store,
    actor: Actor,
    client_id: str,
    partner_id: str,
    effective_from: date | str,
    expected_version: int,
) -> str:
    """Attach a client that has no partner, from a day on."""
    client = store.get("client", client_id)
    authorize(store, actor, "partner.attach_client", "client", client_id)
    partner = _active_partner(store, partner_id)
    start = v.day("effective from", effective_from) or date.today()
    if client.get("partner_id"):
        raise InvalidInput(
            f"client {client_id} is with partner {client['partner_id']}: move the client instead"
        )
    mapping_id = new_id("M")
    store.append(
        actor,
        [
            Change(
                "partner_mapping",
                mapping_id,
                "partner_mapping.started",
                {
                    "client_id": client_id,
                    "partner_id": partner.record_id,
                    "effective_from": start,
                    "effective_to": None,
                    "how": "by hand",
                },
                0,
            ),
            Change(
                "client",
                client_id,
                "client.partner_set",
                {"partner_id": partner_id},
                expected_version,
            ),
        ],
    )
    return mapping_id


def move_client(
    store: Store,
    actor: Actor,
    client_id: str,
    partner_id: str,
    effective_from: date | str,
    reason: str,
    expected_version: int,
) -> str:
    """End the client's current mapping the day the new one starts; history stays."""
    store.get("client", client_id)
    authorize(store, actor, "partner.move_client", "client", client_id)
    partner = _active_partner(store, partner_id)
    start = v.day("effective from", effective_from) or date.today()
    why = v.required("reason", reason)
    current = [
        m
        for m in store.records("partner_mapping", client_id=client_id)
        if m["effective_to"] is None
    ]
    if not current:
        raise InvalidInput(f"client {client_id} has no partner: attach the client instead")
    mapping = current[0]
    if mapping["partner_id"] == partner_id:
        raise InvalidInput(f"client {client_id} is already with partner {partner_id}")
    if start.isoformat() <= mapping["effective_from"]:
        raise InvalidInput(
            f"effective from: after {mapping['effective_from']}, when the current mapping began"
        )
    new_mapping = new_id("M")
    store.append(
        actor,
        [
            Change(
                "partner_mapping",
                mapping.record_id,
                "partner_mapping.ended",
                {"effective_to": start},
                mapping.version,
            ),
            Change(
                "partner_mapping",
                new_mapping,
                "partner_mapping.started",
                {
                    "client_id": client_id,
                    "partner_id": partner.record_id,
                    "effective_from": start,
                    "effective_to": None,
                    "how": "moved",
                },
                0,
            ),
            Change(
                "client",
                client_id,
                "client.partner_set",
                {"partner_id": partner_id},
                expected_version,
            ),
        ],
        reason=why,
    )
    return new_mapping


def _active_partner(store: Store, partner_id: str) -> Record:
    partner = store.get("partner", partner_id)
    if not partner.get("active"):
        raise InvalidInput(f"partner {partner_id} is not active")
    return partner
