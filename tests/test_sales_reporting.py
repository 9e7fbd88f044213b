"""Sales, money and compliance reports on the small world with its CRM history imported:
the funnel checked against the simulator's own files, the pages per role, lineage."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from ingest.crm.access import PAGE_ROLES
from ingest.crm.auth import sign_in
from ingest.crm.staff import DEMO_STAFF, demo_password
from ingest.crm.store import Store
from ingest.settings import PROJECT_ROOT

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


PAGES = ["sales_overview", "agents", "money", "compliance_overview"]
USERS = [name for name, *_ in DEMO_STAFF]


@pytest.fixture
def published_crm(crm_build, monkeypatch):
    for key, value in crm_build.as_env().items():
        monkeypatch.setenv(key, value)
    return crm_build


def page_as(settings, page: str, username: str) -> AppTest:
    store = Store.from_settings(settings)
    token, _ = sign_in(store, username, demo_password(username))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "pages" / f"{page}.py"))
    at.default_timeout = 60
    at.session_state["token"] = token
    return at.run()


def serving(settings, sql: str, params: tuple = ()) -> list[tuple]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("username", USERS)
def test_each_report_page_opens_for_its_roles_only(published_crm, page, username):
    at = page_as(published_crm, page, username)
    assert not at.exception, at.exception
    role = next(role for name, _, role, _ in DEMO_STAFF if name == username)
    if role not in PAGE_ROLES[page]:
        assert at.error and "not open" in at.error[0].value
        assert not at.dataframe
        return
    assert at.caption[0].value.startswith("Data as of ")
    assert at.get("vega_lite_chart"), "the page opens on charts"
    assert at.dataframe and any(len(frame.value) for frame in at.dataframe)
    assert {b.proto.label for b in at.get("download_button")} >= {
        "Download CSV",
        "Download XLSX",
    }


def test_the_sales_overview_shows_the_marts_funnel_and_the_leads_behind_a_count(
    published_crm, small_world
):
    at = page_as(published_crm, "sales_overview", "sam.manager")
    stages = at.dataframe[0].value
    expected = serving(
        published_crm,
        f"select {', '.join(f'sum({s})::bigint' for s in STAGES)} from rpt_lead_funnel",
    )[0]
    assert stages["stage"].tolist() == STAGES
    assert tuple(stages["leads"].tolist()) == expected

    assert "Click a stage's bar" in " ".join(c.value for c in at.caption), "no list before"
    click_bar(at, "funded")
    leads = next(f.value for f in at.dataframe if "crm_event_id" in f.value.columns)
    assert len(leads) == expected[STAGES.index("funded")]
    # every lead behind the count leads to its CRM event and its row of leads.csv
    events = {e["event_id"] for e in Store.from_settings(published_crm).events()}
    assert set(leads["crm_event_id"]) <= events
    rows = pl.read_csv(small_world[0] / "crm" / "leads.csv", infer_schema=False)
    for lead_id, row in leads[["lead_id", "import_row"]].itertuples(index=False):
        assert rows["lead_id"][int(row) - 2] == lead_id  # row 1 is the header

    at.sidebar.multiselect(key="rpt_lead_funnel_source").set_value(["campaign"]).run()
    campaign = serving(
        published_crm, "select sum(created)::bigint from rpt_lead_funnel where source = 'campaign'"
    )[0][0]
    assert at.dataframe[0].value["leads"][0] == campaign < expected[0]


def test_an_agent_sees_only_their_own_leaderboard_rows(published_crm):
    at = page_as(published_crm, "agents", "alice.agent")
    board = at.dataframe[0].value
    assert len(board) > 0 and set(board["owner_username"]) == {"alice.agent"}
    assert not at.sidebar.multiselect, "an agent is not offered the other agents' names"
    manager = page_as(published_crm, "agents", "sam.manager").dataframe[0].value
    assert len(set(manager["owner_username"])) > 1


def click_bar(at: AppTest, stage: str) -> None:
    """What a click on a stage's bar of the funnel chart sends the page."""
    at.session_state["funnel"] = {"selection": {"stage": [{"stage": stage}]}}
    at.run()


def test_a_compliance_officer_goes_from_a_funnel_count_to_the_leads_audit_story(published_crm):
    at = page_as(published_crm, "sales_overview", "carol.compliance")
    click_bar(at, "registered")
    leads = next(f.value for f in at.dataframe if "crm_event_id" in f.value.columns)
    lead_id = leads["lead_id"][1]
    at.session_state["funnel_leads"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    # what the "Open …'s audit story" button hands the audit page
    [story_button] = [b for b in at.button if b.label == f"Open {lead_id}'s audit story"]
    story_button.click().run()
    story = page_as(published_crm, "audit", "carol.compliance")
    story.session_state["audit_record_id"] = at.session_state["audit_record_id"]
    story.session_state["audit_period"] = at.session_state["audit_period"]
    story.run()
    events = story.dataframe[0].value
    assert set(events["record_id"]) == {lead_id} and "lead.imported" in set(events["event_type"])
    assert f"What happened to {lead_id}" in [h.value for h in story.subheader]


def test_a_long_list_of_leads_shows_its_first_rows_and_counts_every_one(published_crm, monkeypatch):
    """A browser table of every lead (the funnel's first bar: 250,000 on a 1M-deal world) is
    capped at `LISTED` rows, the count and the downloads still every lead."""
    from dashboards import reports

    monkeypatch.setattr(reports, "LISTED", 5)
    at = page_as(published_crm, "sales_overview", "sam.manager")
    click_bar(at, "created")
    total = serving(published_crm, "select count(*) from rpt_funnel_leads")[0][0]
    first = serving(
        published_crm, "select lead_id from rpt_funnel_leads order by created_at, lead_id limit 5"
    )
    leads = next(f.value for f in at.dataframe if "crm_event_id" in f.value.columns)
    assert total > 5 and list(leads["lead_id"]) == [lead_id for (lead_id,) in first]
    [caption] = [c.value for c in at.caption if "leads reached created" in c.value]
    assert caption.startswith(f"{total:,} leads reached created")
    assert f"The first 5 by creation are listed; the downloads hold all {total:,}." in caption


def test_the_lineage_reads_the_chain_of_models_from_dbts_manifest(crm_build):
    from dashboards.reports import model_chain

    chain = model_chain("rpt_lead_funnel")
    edges = set(chain.iter_rows())
    assert ("rpt_lead_funnel", "fct_lead_funnel") in edges
    assert ("int_lead_stage_times", "fct_deals") in edges
    assert ("stg_crm__events", "source crm.crm_events") in edges


def test_fxcrm_sql_opens_the_serving_snapshot_read_only(published_crm):
    import subprocess
    import sys

    fxcrm = [sys.executable, "-m", "orchestration.cli", "sql"]
    answer = subprocess.run(
        [*fxcrm, "-csv", "-c", "select sum(created) as created from rpt_lead_funnel"],
        capture_output=True,
        text=True,
        check=True,
    )
    created = serving(published_crm, "select sum(created) from rpt_lead_funnel")[0][0]
    assert answer.stdout.split() == ["created", str(created)]
    write = subprocess.run(
        [*fxcrm, "-c", "create table mine (a int)"], capture_output=True, text=True
    )
    assert write.returncode != 0 and "read-only" in write.stderr


def test_the_xlsx_download_holds_the_rows_shown_with_utc_times():
    from datetime import UTC, datetime
    from decimal import Decimal

    from openpyxl import load_workbook

    from dashboards.reports import xlsx

    rows = pl.DataFrame(
        {
            "payment_id": ["PAY1", "PAY2"],
            "amount_usd": [Decimal("1250.50"), Decimal("9999999.99")],
            "executed_at": [datetime(2026, 3, 2, 9, 30, tzinfo=UTC), None],
        }
    )
    sheet = load_workbook(io.BytesIO(xlsx(rows, "payments")))["payments"]
    header, *values = sheet.values
    assert header == ("payment_id", "amount_usd", "executed_at")
    # the amounts to the cent; the time as the wall-clock time in UTC; an empty cell for null
    assert [(p, Decimal(str(a)), t) for p, a, t in values] == [
        ("PAY1", Decimal("1250.50"), datetime(2026, 3, 2, 9, 30)),
        ("PAY2", Decimal("9999999.99"), None),
    ]
