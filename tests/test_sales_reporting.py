"""Sales, money and compliance reports on the small world with its CRM history imported:
the funnel checked against the simulator's own files, the pages per role, lineage."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

STAGES = ["created", "contacted", "qualified", "registered", "kyc_approved", "funded", "traded"]


def traded_logins(landing: Path) -> pl.DataFrame:
    """(server, login) of every account with a buy or sell deal in the platform files."""
    mt5 = [
        pl.read_json(path)
        .select(pl.col("answer").explode().struct.unnest())
        .filter(pl.col("Action").is_in(["0", "1"]))
        .select(server=pl.lit(path.parts[-3]), login=pl.col("Login").cast(pl.Int64, strict=False))
        for path in landing.glob("mt5/*/deals/*.json")
    ]
    mt4 = [
        pl.read_csv(path, infer_schema=False)
        .filter(pl.col("cmd").is_in(["0", "1"]))
        .select(server=pl.lit(path.parts[-3]), login=pl.col("login").cast(pl.Int64, strict=False))
        for path in landing.glob("mt4/*/trades/*.csv")
    ]
    return pl.concat(mt5 + mt4).unique()


def funnel_from_files(landing: Path) -> pl.DataFrame:
    """The funnel per source from the simulator's files alone: each stage is the one before it
    and that stage's own evidence."""
    crm = landing / "crm"
    leads = pl.read_csv(crm / "leads.csv", infer_schema=False)
    activities = pl.read_csv(crm / "lead_activities.csv", infer_schema=False)
    clients = pl.read_csv(crm / "clients.csv", infer_schema=False)
    payments = pl.read_csv(crm / "payments.csv", infer_schema=False)
    accounts = pl.read_csv(crm / "trading_accounts.csv", infer_schema=False).with_columns(
        pl.col("login").cast(pl.Int64)
    )
    funded = payments.filter(kind="deposit", status="executed")["client_id"]
    traded = accounts.join(traded_logins(landing), on=["server", "login"])["client_id"]
    client = leads.join(clients.select("lead_id", "client_id", "kyc_status"), "lead_id", "left")
    stages = client.with_columns(
        created=pl.lit(True),
        contacted=pl.col("lead_id").is_in(activities["lead_id"].implode()),
        qualified=pl.col("status").is_in(["qualified", "converted"]),
        registered=pl.col("client_id").is_not_null(),
        kyc_approved=pl.col("kyc_status") == "approved",
        funded=pl.col("client_id").is_in(funded.implode()),
        traded=pl.col("client_id").is_in(traded.implode()),
    ).with_columns(pl.cum_fold(pl.lit(True), lambda a, b: a & b, STAGES).struct.unnest())
    return stages.group_by("source").agg(pl.col(STAGES).sum()).sort("source")


def test_the_funnel_per_source_agrees_with_the_simulators_files(crm_build, small_world):
    with duckdb.connect(str(crm_build.serving_path), read_only=True) as con:
        mart = con.execute(
            f"select source, {', '.join(f'sum({s})::bigint as {s}' for s in STAGES)} "
            "from rpt_lead_funnel group by source order by source"
        ).pl()
    expected = funnel_from_files(small_world[0]).cast({s: pl.Int64 for s in STAGES})
    assert mart.to_dicts() == expected.to_dicts()
    assert expected["traded"].sum() > 0 and (expected["funded"] > expected["traded"]).any(), (
        "the small world has leads at every stage, some funded that never traded"
    )
