"""Partners (IBs and affiliates) in a hierarchy, their referral codes, and which partner each
client belongs to from which day. A move closes one mapping and opens the next on the same day,
so a deal always belongs to exactly one partner: the one mapped at the deal's time."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from ingest.crm import validate as v
from ingest.crm.access import authorize
from ingest.crm.errors import InvalidInput
from ingest.crm.rows import RowError, SourceRow, imported
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
    """Attach a client that has no partner, from a day on; a client detached before is
    attached again from after the day it was detached (the detachment ends then)."""
    client = store.get("client", client_id)
    authorize(store, actor, "partner.attach_client", "client", client_id)
    partner = _active_partner(store, partner_id)
    start = v.day("effective from", effective_from) or date.today()
    if client.get("partner_id"):
        raise InvalidInput(
            f"client {client_id} is with partner {client['partner_id']}: move the client instead"
        )
    ending = []
    if (last := _open_mapping(store, client_id)) is not None:
        _check_after(start, last, "when the client's last mapping began")
        ending = [_ended(last, start)]
    mapping_id = new_id("M")
    store.append(
        actor,
        [
            *ending,
            Change(
                "partner_mapping",
                mapping_id,
                "partner_mapping.started",
                _mapping_fields(client_id, partner.record_id, start, None, "by hand"),
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
    mapping = _partner_mapping(store, client_id)
    if mapping["partner_id"] == partner_id:
        raise InvalidInput(f"client {client_id} is already with partner {partner_id}")
    return _switch(store, actor, mapping, partner.record_id, start, "moved", why, expected_version)


def detach_client(
    store: Store,
    actor: Actor,
    client_id: str,
    effective_from: date | str,
    reason: str,
    expected_version: int,
) -> str:
    """End the client's partner from a day on (commissions.md rule 8): the current mapping
    ends that day and a mapping with no partner starts, as a partner_links.csv row with a
    blank partner_id records it, so the client's later deals and first deposit earn no one
    anything until it is attached again. History stays."""
    store.get("client", client_id)
    authorize(store, actor, "partner.move_client", "client", client_id)
    start = v.day("effective from", effective_from) or date.today()
    why = v.required("reason", reason)
    mapping = _partner_mapping(store, client_id)
    return _switch(store, actor, mapping, None, start, "detached", why, expected_version)


def _switch(
    store: Store,
    actor: Actor,
    mapping: Record,
    partner_id: str | None,
    start: date,
    how: str,
    why: str,
    expected_version: int,
) -> str:
    """End the client's current `mapping` on `start` and begin one with `partner_id` (None: no
    partner) in one append, the client's partner set to match. Returns the new mapping's id."""
    _check_after(start, mapping, "when the current mapping began")
    client_id = mapping["client_id"]
    new_mapping = new_id("M")
    store.append(
        actor,
        [
            _ended(mapping, start),
            Change(
                "partner_mapping",
                new_mapping,
                "partner_mapping.started",
                _mapping_fields(client_id, partner_id, start, None, how),
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


def _mapping_fields(
    client_id: str,
    partner_id: str | None,
    start: date | datetime,
    effective_to: date | datetime | None,
    how: str,
) -> dict[str, Any]:
    """A partner_mapping record: the client's partner from `start` (None: no partner, the
    client detached) until `effective_to` (None: until further notice)."""
    return {
        "client_id": client_id,
        "partner_id": partner_id,
        "effective_from": start,
        "effective_to": effective_to,
        "how": how,
    }


def _open_mapping(store: Store, client_id: str) -> Record | None:
    """The client's mapping without an end, latest first (a partner's or a detachment)."""
    open_ = [
        m
        for m in store.records("partner_mapping", client_id=client_id)
        if m["effective_to"] is None
    ]
    return max(open_, key=lambda m: str(m["effective_from"]), default=None)


def _partner_mapping(store: Store, client_id: str) -> Record:
    """The client's current mapping to a partner, which a move or a detachment ends."""
    mapping = _open_mapping(store, client_id)
    if mapping is None or mapping["partner_id"] is None:
        raise InvalidInput(f"client {client_id} has no partner: attach the client instead")
    return mapping


def _check_after(start: date, mapping: Record, what: str) -> None:
    if start.isoformat() <= str(mapping["effective_from"]):
        raise InvalidInput(f"effective from: after {mapping['effective_from']}, {what}")


def _ended(mapping: Record, end: date) -> Change:
    return Change(
        "partner_mapping",
        mapping.record_id,
        "partner_mapping.ended",
        {"effective_to": end},
        mapping.version,
    )


def _active_partner(store: Store, partner_id: str) -> Record:
    partner = store.get("partner", partner_id)
    if not partner.get("active"):
        raise InvalidInput(f"partner {partner_id} is not active")
    return partner


# -- import (`fxcrm crm import`): the files' rows as records ------------------------------------

SYMBOL_GROUPS = ("fx_major", "fx_minor", "metals", "indices", "energies", "crypto")
COMPONENTS = ("per_lot", "spread_share", "commission_share", "cpa", "revshare")
CPA_KEYS = ("amount_usd", "min_deposit_usd", "min_lots", "within_days")


def partner_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A partner in the tree: its parent comes first (the importer orders the file so)."""
    parent = row.reference(store, "parent_partner_id", "partner", required=False)
    level = parent["level"] + 1 if parent else 1
    stated = row.integer("level", required=False)
    if stated is not None and stated != level:
        raise RowError("level", f"{stated}, but its place in the tree makes it level {level}")
    code = (row.text("referral_code", required=False) or "").upper() or None
    if code and (not code.isalnum() or not 4 <= len(code) <= 20):
        raise RowError("referral_code", "4 to 20 letters or digits")
    fields = {
        "name": row.text("name"),
        "kind": row.one_of("kind", KINDS),
        "email": None,
        "country": None,
        "parent_id": parent.record_id if parent else None,
        "level": level,
        "referral_codes": [code] if code else [],
        "min_payout_usd": row.decimal("min_payout_usd", required=False),
        "active": True,
    }
    claims = {"referral_code": code} if code else {}
    return [imported("partner", row.text("partner_id"), fields, **claims)]


def partner_link_from_row(store: Store, row: SourceRow) -> list[Change]:
    """The client's partner from a time on, until the client's next link in the file starts
    (`row.context['effective_to']`); the latest link is the client's partner now. A blank
    partner_id detaches the client from that time (rule 8): a mapping with no partner, as
    `detach_client` records one. Its id is `<client>@<UTC start>`, since the file has none."""
    client = row.reference(store, "client_id", "client")
    partner = row.reference(store, "partner_id", "partner", required=False)
    partner_id = partner.record_id if partner else None
    start = row.moment("effective_from")
    mapping_id = f"{client.record_id}@{start.strftime('%Y%m%dT%H%M%S')}"
    how = row.text("attached_by", required=False) or ("imported" if partner else "detached")
    changes = [
        imported(
            "partner_mapping",
            mapping_id,
            _mapping_fields(
                client.record_id, partner_id, start, row.context.get("effective_to"), how
            ),
        )
    ]
    if row.context.get("effective_to") is None:
        changes.append(imported("client", client.record_id, {"partner_id": partner_id}))
    return changes


def partner_plan_from_row(store: Store, row: SourceRow) -> list[Change]:
    """Which commission plan a partner is on from a month on: `<partner>@<YYYY-MM>`. A blank
    plan_id ends the partner's plan from that month (rule 8), as the plan form does."""
    partner = row.reference(store, "partner_id", "partner")
    plan = row.reference(store, "plan_id", "commission_plan", required=False)
    start = row.moment("effective_from")
    if reason := _not_a_month_start(start):
        raise RowError("effective_from", reason)
    plan_id = plan.record_id if plan else None
    return [imported("partner_plan", *_plan_assignment(partner.record_id, plan_id, start))]


def _not_a_month_start(start: datetime) -> str | None:
    """Why a (UTC) instant cannot start a plan (commissions.md §1), or None when it can."""
    if (start.day, start.hour, start.minute, start.second, start.microsecond) != (1, 0, 0, 0, 0):
        return f"{start:%Y-%m-%d %H:%M:%S} UTC: a plan starts at 00:00 UTC on a month's 1st"
    return None


def _plan_assignment(
    partner_id: str, plan_id: str | None, start: datetime
) -> tuple[str, dict[str, Any]]:
    return f"{partner_id}@{start:%Y-%m}", {
        "partner_id": partner_id,
        "plan_id": plan_id,
        "effective_from": start,
    }


def spread_markup_from_row(store: Store, row: SourceRow) -> list[Change]:
    group = row.one_of("symbol_group", SYMBOL_GROUPS)
    markup = row.decimal("usd_per_lot")
    return [imported("spread_markup", group, {"symbol_group": group, "usd_per_lot": markup})]


def commission_plan_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A plan of commission_plans.yaml (`row.context['plan']`)."""
    return [imported("commission_plan", *plan_fields(row.context["plan"]))]


def plan_fields(plan: object) -> tuple[str, dict[str, Any]]:
    """A plan as commission_plans.yaml writes it (id, fields), checked against commissions.md
    §2: known components at most once each, rates per known symbol group, a split of at most
    100 percent. The import and the plan form both come here, so a plan the form accepts is
    one the file would; a refusal (RowError) names the field."""
    if not isinstance(plan, dict):
        raise RowError("plans", "each plan is a mapping (plan_id, name, components, …)")
    plan_id = str(plan.get("plan_id") or "").strip()
    if not plan_id:
        raise RowError("plan_id", "required")
    split = plan.get("split", [100])
    if (
        not isinstance(split, list)
        or not split
        or not all(_number(p, "split") >= 0 for p in split)
        or sum(_number(p, "split") for p in split) > 100
    ):
        raise RowError("split", f"{split}: a list of percentages summing to at most 100")
    excluded = plan.get("exclude_symbol_groups", []) or []
    for group in excluded:
        if group not in SYMBOL_GROUPS:
            raise RowError("exclude_symbol_groups", f"'{group}' is not a symbol group")
    components = plan.get("components")
    if not isinstance(components, list) or not components:
        raise RowError("components", "a plan needs at least one component")
    types = [c.get("type") if isinstance(c, dict) else None for c in components]
    for kind in types:
        if kind not in COMPONENTS:
            raise RowError("components", f"type '{kind}' is not one of {', '.join(COMPONENTS)}")
        if types.count(kind) > 1:
            raise RowError("components", f"{kind} appears more than once")
    for component in components:
        _check_component(component)
    fields = {
        "name": str(plan.get("name") or plan_id),
        "split": [_number(p, "split") for p in split],
        "min_hold_seconds": int(_number(plan.get("min_hold_seconds", 0), "min_hold_seconds")),
        "exclude_symbol_groups": list(excluded),
        "components": json.loads(json.dumps(components, default=str)),
    }
    return plan_id, fields


def _check_component(component: dict) -> None:
    kind = component["type"]
    column = f"components.{kind}"
    if kind == "per_lot":
        tiers = component.get("tiers") or []
        if "rates" not in component and not tiers:
            raise RowError(column, "per_lot needs rates or tiers")
        tables = [component.get("rates") or {}] + [t.get("rates") or {} for t in tiers]
        for table in tables:
            for group, rate in table.items():
                if group != "default" and group not in SYMBOL_GROUPS:
                    raise RowError(column, f"rate for '{group}', which is not a symbol group")
                if _number(rate, column) < 0:
                    raise RowError(column, f"rate {rate} for {group} is negative")
        if any(_number(t.get("from_lots"), column) < 0 for t in tiers):
            raise RowError(column, "a tier's from_lots is zero or more")
    elif kind == "cpa":
        missing = [k for k in CPA_KEYS if k not in component]
        if missing:
            raise RowError(column, f"cpa needs {', '.join(missing)}")
        if any(_number(component[k], column) < 0 for k in CPA_KEYS):
            raise RowError(column, "cpa amounts are zero or more")
    else:
        pct = _number(component.get("pct"), column)
        if not 0 <= pct <= 100:
            raise RowError(column, f"pct {component.get('pct')} is not from 0 to 100")
        if "cap_usd_per_lot" in component and _number(component["cap_usd_per_lot"], column) < 0:
            raise RowError(column, "cap_usd_per_lot is zero or more")


def _number(value: object, column: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RowError(column, f"'{value}' is not a number") from None
    if not number.is_finite():
        raise RowError(column, f"'{value}' is not a number")
    return number


# -- plans and their assignment (the partner manager), spread markups (an admin) ----------------


def save_plan(store: Store, actor: Actor, plan: dict[str, Any], expected_version: int) -> str:
    """Create a plan (`expected_version` 0) or make a new version of it; the history keeps
    every earlier version. `plan` is one entry of commission_plans.yaml."""
    authorize(store, actor, "plan.save", "commission_plan", str(plan.get("plan_id") or "new"))
    plan_id, fields = plan_fields(plan)
    event = "commission_plan.created" if expected_version == 0 else "commission_plan.edited"
    store.append(actor, [Change("commission_plan", plan_id, event, fields, expected_version)])
    return plan_id


def plan_from_form(
    plan_id: str,
    name: str,
    split: str,
    min_hold_seconds: int,
    exclude_symbol_groups: list[str],
    components: str,
) -> dict[str, Any]:
    """The plan form's fields as a commission_plans.yaml entry: `split` as "70, 20, 10" and
    the components as the YAML list the file has."""
    try:
        listed = yaml.safe_load(components or "[]")
    except yaml.YAMLError as err:
        raise InvalidInput(f"components: not YAML ({err.problem or err})") from None
    return {
        "plan_id": plan_id.strip(),
        "name": name.strip(),
        "split": [p.strip() for p in split.split(",")] if split.strip() else [100],
        "min_hold_seconds": min_hold_seconds,
        "exclude_symbol_groups": exclude_symbol_groups,
        "components": listed,
    }


def assign_plan(
    store: Store,
    actor: Actor,
    partner_id: str,
    plan_id: str | None,
    effective_from: datetime | str,
) -> str:
    """Put a partner on a plan (None: end its plan) from a month's start, 00:00 UTC on the
    1st, given with any offset (none: UTC, as every form's time). Assigning the same month
    again replaces that month's plan."""
    authorize(store, actor, "partner.assign_plan", "partner", partner_id)
    partner = store.get("partner", partner_id)
    if plan_id is not None:
        store.get("commission_plan", plan_id)
    start = v.moment("effective from", effective_from)
    if reason := _not_a_month_start(start):
        raise InvalidInput(f"effective from: {reason}")
    assignment_id, fields = _plan_assignment(partner.record_id, plan_id, start)
    current = store.find("partner_plan", assignment_id)
    store.append(
        actor,
        [
            Change(
                "partner_plan",
                assignment_id,
                "partner_plan.assigned",
                fields,
                current.version if current else 0,
            )
        ],
    )
    return assignment_id


def set_spread_markup(store: Store, actor: Actor, symbol_group: str, usd_per_lot: str) -> str:
    """The broker's markup per lot on a symbol group, which spread_share pays a share of."""
    authorize(store, actor, "spread_markup.set", "spread_markup", symbol_group)
    v.one_of("symbol group", symbol_group, SYMBOL_GROUPS)
    if str(usd_per_lot).strip().startswith("-"):
        raise InvalidInput("USD per lot: must not be negative")
    markup = v.amount("USD per lot", usd_per_lot, "USD", positive=False)
    current = store.find("spread_markup", symbol_group)
    store.append(
        actor,
        [
            Change(
                "spread_markup",
                symbol_group,
                "spread_markup.set",
                {"symbol_group": symbol_group, "usd_per_lot": markup},
                current.version if current else 0,
            )
        ],
    )
    return symbol_group
