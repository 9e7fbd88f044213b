"""The simulated brokerage is consistent, deterministic, and its faults are where it says."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import SMALL, manifest_faults, read_web_api

from ingest.simulator.payouts import PAYOUT_FAULTS
from ingest.simulator.run import FAULT_SERVER, FAULTS, SimulationConfig, simulate

MT5_SERVERS = ("FXCRM-MT5-Live1", "FXCRM-MT5-Live2")


def _deals(landing: Path, server: str, malformed: set[str]) -> list[dict]:
    rows = []
    for path in sorted((landing / "mt5" / server / "deals").glob("*.json")):
        rows += [dict(r, _file=path.name) for r in read_web_api(path) if r["Deal"] not in malformed]
    return rows


def _malformed_tickets(manifest: dict) -> set[str]:
    return {
        str(r["ticket"]) for f in manifest_faults(manifest, "malformed_rows") for r in f["rows"]
    }


@pytest.mark.parametrize("server", MT5_SERVERS)
def test_daily_balances_agree_with_deals_to_the_cent(small_world, server):
    landing, manifest = small_world
    deals = _deals(landing, server, _malformed_tickets(manifest))
    assert deals, "the simulation produced no deals"
    reports = [
        r
        for p in sorted((landing / "mt5" / server / "daily").glob("*.json"))
        for r in read_web_api(p)
    ]
    # the injected balance discontinuity is the one login whose reports must not add up
    jumped = {str(f["login"]) for f in manifest_faults(manifest, "balance_discontinuity")}
    reports = [r for r in reports if server != FAULT_SERVER or r["Login"] not in jumped]
    assert reports
    by_login: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for d in deals:
        money = sum(Decimal(d[k]) for k in ("Profit", "Storage", "Commission", "Fee"))
        by_login[d["Login"]].append((int(d["Time"]), money))
    for report in reports:
        day_end = int(report["Datetime"])
        expected = sum((m for t, m in by_login[report["Login"]] if t <= day_end), Decimal("0"))
        assert Decimal(report["Balance"]) == expected, report
        change = sum(
            Decimal(report[k])
            for k in ("DailyProfit", "DailyStorage", "DailyCommInstant", "DailyFee", "DailyBalance")
        )
        assert Decimal(report["BalancePrevDay"]) + change == Decimal(report["Balance"]), report
        equity = (
            Decimal(report["Balance"])
            + Decimal(report["Credit"])
            + Decimal(report["Profit"])
            + Decimal(report["ProfitStorage"])
        )
        assert Decimal(report["ProfitEquity"]) == equity


def test_every_position_opens_before_it_closes_with_matching_volume(small_world):
    landing, manifest = small_world
    deals = _deals(landing, "FXCRM-MT5-Live1", _malformed_tickets(manifest))
    positions: dict[str, dict[str, dict]] = defaultdict(dict)
    for d in deals:
        if d["Action"] in ("0", "1"):
            positions[d["PositionID"]][d["Entry"]] = d
    closed = [p for p in positions.values() if "1" in p]
    assert closed
    for p in closed:
        assert "0" in p, "a closing deal has no opening deal"
        assert int(p["0"]["Time"]) <= int(p["1"]["Time"])
        assert p["0"]["VolumeExt"] == p["1"]["VolumeExt"]
        assert p["0"]["Action"] != p["1"]["Action"], "a close must trade the opposite side"
        assert Decimal(p["0"]["Profit"]) == 0


def test_executed_payments_are_posted_once_except_the_injected_ones(small_world):
    landing, manifest = small_world
    payments = pl.read_csv(landing / "crm" / "payments.csv")
    executed = set(payments.filter(pl.col("status") == "executed")["payment_id"])
    comments: list[str] = []
    for server in MT5_SERVERS:
        comments += [
            d["Comment"]
            for d in _deals(landing, server, _malformed_tickets(manifest))
            if d["Action"] == "2"
        ]
    for path in (landing / "mt4").glob("*/trades/*.csv"):
        comments += pl.read_csv(path).filter(pl.col("cmd") == 6)["comment"].to_list()
    posted = [c.split()[-1] for c in comments if c.startswith(("Deposit", "Withdrawal"))]
    twice = {f["payment_id"] for f in manifest_faults(manifest, "duplicate_posting")}
    assert {p for p in posted if posted.count(p) > 1} == twice, "a payment was posted twice"
    unposted = {f["payment_id"] for f in manifest_faults(manifest, "payment_not_posted")}
    assert len(unposted) == 1
    assert set(posted) == executed - unposted
    # Four eyes: an executed payment's approver is never its requester.
    done = payments.filter(pl.col("status") == "executed")
    assert done["requested_by"].str.ends_with(".finance").any(), "no payment entered by staff"
    assert (done["approved_by"] != done["requested_by"]).all()


def test_injected_faults_are_in_the_files_the_manifest_names(small_world):
    landing, manifest = small_world
    # the payout faults are finance's, injected at the month end after a build
    platform_faults = set(SMALL.faults) - set(PAYOUT_FAULTS)
    assert sorted(f["fault"] for f in manifest["faults"]) == sorted(platform_faults)

    adj = manifest_faults(manifest, "unauthorised_adjustment")[0]
    rows = read_web_api(landing / adj["file"])
    match = [r for r in rows if r["Deal"] == str(adj["ticket"])]
    assert match and match[0]["Action"] == "2" and match[0]["Login"] == str(adj["login"])
    payment_ids = set(pl.read_csv(landing / "crm" / "payments.csv")["payment_id"])
    assert not any(pid in match[0]["Comment"] for pid in payment_ids)

    lev = manifest_faults(manifest, "leverage_mismatch")[0]
    users = {u["Login"]: u for u in read_web_api(landing / lev["file"])}
    crm = pl.read_csv(landing / "crm" / "trading_accounts.csv").filter(
        pl.col("login") == lev["login"]
    )
    assert int(users[str(lev["login"])]["Leverage"]) == lev["platform_leverage"]
    assert crm["leverage"][0] == lev["crm_leverage"] != lev["platform_leverage"]

    late = manifest_faults(manifest, "late_deal")[0]
    row = next(r for r in read_web_api(landing / late["file"]) if r["Deal"] == str(late["ticket"]))
    server_day = datetime.fromtimestamp(int(row["Time"]), UTC).date().isoformat()
    assert server_day == late["deal_server_day"]
    assert late["deal_server_day"].replace("-", "") not in late["file"]

    bad = manifest_faults(manifest, "malformed_rows")[0]
    rows = read_web_api(landing / bad["file"])
    for expected in bad["rows"]:
        row = rows[expected["row_number"] - 1]
        assert row["Deal"] == str(expected["ticket"])
        assert row[expected["field"]] == expected["value"]


def test_crm_side_is_consistent(small_world):
    landing, _ = small_world
    crm = {p.stem: pl.read_csv(p) for p in (landing / "crm").glob("*.csv")}
    clients, accounts = crm["clients"], crm["trading_accounts"]
    assert clients.height == SMALL.clients
    assert set(accounts["client_id"]) <= set(clients["client_id"])
    approved = set(clients.filter(pl.col("kyc_status") == "approved")["client_id"])
    assert set(accounts["client_id"]) <= approved, "only KYC-approved clients get accounts"
    assert set(crm["leads"].filter(pl.col("status") == "converted")["lead_id"]) == set(
        clients["lead_id"]
    )
    partners = crm["partners"]
    assert partners["level"].max() >= 3
    parents = dict(zip(partners["partner_id"], partners["parent_partner_id"], strict=True))
    assert all(p is None or p in parents for p in parents.values())
    assert set(accounts["currency"]) == {"USD", "EUR"}
    assert {"MT5", "MT4"} <= set(accounts["platform"])
    assert accounts.filter(pl.col("platform") == "MT5")["server"].n_unique() >= 2
    retail = accounts.join(clients.select("client_id", "category"), on="client_id").filter(
        pl.col("category") == "retail"
    )
    assert retail["leverage"].max() <= 30


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    config = SimulationConfig(seed=11, days=5, clients=60)
    first = simulate(config, tmp_path / "a")
    second = simulate(config, tmp_path / "b")
    assert first["files"] == second["files"]
    other = simulate(SimulationConfig(seed=12, days=5, clients=60), tmp_path / "c")
    assert other["files"] != first["files"]


def test_rerun_with_same_config_rewrites_nothing_and_other_config_replaces(tmp_path):
    config = SimulationConfig(seed=3, days=4, clients=60)
    first = simulate(config, tmp_path)
    stamp = (tmp_path / "manifest.json").stat().st_mtime_ns
    assert simulate(config, tmp_path) == first
    assert (tmp_path / "manifest.json").stat().st_mtime_ns == stamp
    other = simulate(SimulationConfig(seed=4, days=4, clients=60), tmp_path)
    on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == set(other["files"]), "stale files were left behind"


def test_parts_bound_the_work_and_keep_every_invariant(tmp_path):
    config = SimulationConfig(seed=5, days=30, clients=300, deals=6000, chunk_deals=1500)
    manifest = simulate(config, tmp_path)
    assert manifest["generated"]["parts"] >= 3
    assert 0.7 * 6000 < manifest["generated"]["deals"] < 1.3 * 6000
    for server in MT5_SERVERS:
        tickets = [d["Deal"] for d in _deals(tmp_path, server, set())]
        assert len(tickets) == len(set(tickets)), f"deal tickets repeat across parts on {server}"


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        SimulationConfig(faults=("meteor_strike",))


# The digest of every file a small world with every fault writes, before the simulator's steps
# were split out of three long functions. A change meant to alter the world updates it, saying
# so in its commit; a refactoring must leave it as it is.
WORLD_FINGERPRINT = "ef5a2206839016ac36d846884655a2ccdd72fa2c770320314b0e197a823b9889"


def test_a_seed_writes_the_same_bytes_as_before(tmp_path):
    config = SimulationConfig(
        seed=21, start=SMALL.start, days=12, clients=90, deals=900, chunk_deals=400, faults=FAULTS
    )
    simulate(config, tmp_path)
    digest = hashlib.sha256()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(tmp_path)).encode() + b"\0" + path.read_bytes())
    assert digest.hexdigest() == WORLD_FINGERPRINT


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--clients", "20"], "at least 2 days and 50 clients"),
        (["--days", "1"], "at least 2 days and 50 clients"),
        (["--start", "2026-13-01"], "month must be in 1..12"),
        (["--faults", "no_such_fault"], "unknown fault(s) ['no_such_fault']"),
    ],
)
def test_the_cli_refuses_a_world_it_cannot_simulate_in_one_line(
    arguments: list[str], reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad argument reads as one line naming it, not a traceback, and writes nothing."""
    from orchestration.cli import main

    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as refused:
        main(["simulate", *arguments])
    assert str(refused.value).startswith("fxcrm simulate: ")
    assert reason in str(refused.value)
    assert not (tmp_path / "landing").exists() or not any((tmp_path / "landing").iterdir())
