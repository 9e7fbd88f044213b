"""Finance's month end in the simulated brokerage: the first simulated month's commission
statements approved, each with something payable paid and its payout recorded, through the
same CRM commands finance uses. It runs once the warehouse has computed the month (approval
freezes the figures the warehouse shows), so it comes after the first build, not in `simulate`.

The payout faults are injected here, each recorded in the manifest with the keys its
reconciliation break must carry: a paid statement whose payout is never recorded, a payout
recorded short by the bank's fee, and a payout sent for the next month before any statement.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np

from ingest.crm.commands.commissions import approve, pay, record_payout
from ingest.crm.errors import InvalidInput
from ingest.crm.store import Actor, Store

PAYOUT_FAULTS = ("payout_not_recorded", "payout_amount_mismatch", "payout_without_statement")
BANK_FEE = Decimal("10.00")  # what the short payout lacks
EARLY_PAYOUT = Decimal("100.00")  # what is sent for a month with no statement yet


def month_end(
    store: Store, finance: Actor, warehouse: duckdb.DuckDBPyConnection, landing: Path
) -> list[dict]:
    """Approve the first simulated month for every partner, pay and record the payout of each
    statement with something payable, inject the payout faults the manifest's configuration
    asks for, and add them to the manifest. Returns the faults injected."""
    manifest_path = landing / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    config = manifest["config"]
    start = date.fromisoformat(config["start"])
    period = f"{start:%Y-%m}"
    wanted = [f for f in PAYOUT_FAULTS if f in config["faults"]]

    try:
        approve(store, finance, warehouse, period)
    except InvalidInput:  # the warehouse computed nothing for the month: nobody to pay
        return []
    payable = sorted(
        (s["partner_id"], Decimal(str(s["payable"])))
        for s in store.records("commission_statement")
        if s["period"] == period and Decimal(str(s["payable"])) > 0
    )
    victims = _victims(config["seed"], wanted, payable)
    faults = []
    for partner_id, amount in payable:
        pay(store, finance, period, partner_id, f"SIM-{partner_id}-{period}")
        fault = victims.get(partner_id)
        keys = {"partner_id": partner_id, "day": f"{period}-01", "payable": f"{amount}"}
        if fault == "payout_not_recorded":
            faults.append({"fault": fault, **keys})
            continue
        sent = amount - BANK_FEE if fault == "payout_amount_mismatch" else amount
        payment = record_payout(
            store, finance, period, partner_id, str(sent), f"WIRE-{partner_id}-{period}"
        )
        if fault == "payout_amount_mismatch":
            faults.append({"fault": fault, **keys, "payment_id": payment, "paid": f"{sent}"})
    if "payout_without_statement" in wanted and payable:
        partner_id = payable[0][0]
        following = f"{date(start.year + start.month // 12, start.month % 12 + 1, 1):%Y-%m}"
        payment = record_payout(
            store, finance, following, partner_id, str(EARLY_PAYOUT), f"EARLY-{partner_id}"
        )
        faults.append(
            {
                "fault": "payout_without_statement",
                "partner_id": partner_id,
                "day": f"{following}-01",
                "payment_id": payment,
                "amount": f"{EARLY_PAYOUT}",
            }
        )
    manifest["faults"] += faults
    manifest_path.write_text(json.dumps(manifest, indent=2, default=str))
    return faults


def _victims(seed: int, wanted: list[str], payable: list[tuple[str, Decimal]]) -> dict[str, str]:
    """A statement of its own for each statement fault, deterministic by seed: the short payout
    among those payable above the bank's fee. A month with too few statements injects those it
    has victims for (the manifest lists only what was injected)."""
    rng = np.random.default_rng([seed, 998])
    free = [partner for partner, _ in payable]
    chosen: dict[str, str] = {}
    if "payout_amount_mismatch" in wanted:
        above_fee = [partner for partner, amount in payable if amount > BANK_FEE]
        if above_fee:
            partner = above_fee[int(rng.integers(len(above_fee)))]
            chosen[partner] = "payout_amount_mismatch"
            free.remove(partner)
    if "payout_not_recorded" in wanted and free:
        chosen[free[int(rng.integers(len(free)))]] = "payout_not_recorded"
    return chosen
