"""An incremental build of the commission models after late changes of every kind the
fingerprints must find gives what the models give from scratch and what the hand-written floor
gives. The benchmark's world (20,000 deals, the worked example's four plans), built once; then
changed where only a fingerprint can tell: a client's first deposit gone, another's moved past
the deposit threshold, a deal corrected weeks back, a client moved to another partner
back-dated, and a position given an earlier opening deal on another day (its closing deal's day
changes only through its hold); then that opening deal removed again, which only the deal table
as last built still knows, and every deal of one date removed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))  # scripts, not a package
import commissions as bench


@pytest.mark.slow  # six dbt runs of the commission models and the floor twice
def test_late_changes_rebuild_to_what_a_full_build_and_the_floor_give(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "FXCRM_DATA_DIR": str(tmp_path), "FXCRM_WAREHOUSE_PATH": str(warehouse)}
    with duckdb.connect(str(warehouse)) as con:
        bench.generate(con, 20_000)
    monkeypatch.chdir(bench.ROOT / "dbt_project")
    bench.dbt_build(env, tmp_path)

    with duckdb.connect(str(warehouse)) as con:
        cpa_clients = [
            client
            for (client,) in con.execute(
                "select distinct client_id from marts.fct_commission_lines "
                "where component = 'cpa' order by client_id limit 2"
            ).fetchall()
        ]
        assert len(cpa_clients) == 2, "the world earns cpa"
        gone, moved = cpa_clients
        logins = "select login from intermediate.int_crm__trading_accounts where client_id = ?"
        # the first deposit gone: the client's cpa line must go
        con.execute(
            f"delete from intermediate.int_platform__balance_operations where login in ({logins})",
            [gone],
        )
        # a deposit now below every plan's minimum: no cpa either
        con.execute(
            "update intermediate.int_platform__balance_operations set amount = 1 "
            f"where login in ({logins})",
            [moved],
        )
        # a correction to a deal weeks before the last day: more lots
        con.execute(
            "update intermediate.int_deals__symbol_mapped set lots = lots + 5 where deal_ticket = "
            "(select min(deal_ticket) from intermediate.int_deals__symbol_mapped "
            "where cast(deal_time_utc as date) = date '2026-08-20')"
        )
        # an opening deal three days before a position's own: its closing deal holds longer
        # (a position held under its plan's minimum, so the longer hold makes it earn per_lot)
        position = con.execute(
            "select server, login, position_id from intermediate.int_commission_eligible_deals "
            "where is_closing and not earns_per_lot and symbol_group = 'fx_major' "
            "and trade_date >= date '2026-09-10' order by position_id limit 1"
        ).fetchone()
        assert position, "the world has a position held too short to earn per_lot"
        con.execute(
            "insert into intermediate.int_deals__symbol_mapped "
            "select server, 999999999, login, position_id, 'in', "
            "deal_time_utc - interval 3 day, symbol_group, lots, profit, swap, commission, fee, "
            "_source_file, _batch_id, 999999999 "
            "from intermediate.int_deals__symbol_mapped "
            "where server = ? and login = ? and position_id = ? and entry_name = 'in'",
            list(position),
        )
        # a back-dated move to another partner: the client's lines and days change partner
        con.execute(
            "insert into intermediate.int_crm__partner_mappings values "
            "('C7@3', 'C7', 'P5', timestamp '2026-08-10', null, true)"
        )
        con.execute(f"create or replace table marts.fct_deals as {bench.FCT_DEALS}")
        moved_days = partner_days(con, "C7", "P5")
        before = con.execute(
            "select count(*) from marts.fct_commission_lines where client_id in (?, ?) "
            "and component = 'cpa'",
            cpa_clients,
        ).fetchone()[0]
    assert before >= 2, "both clients had a cpa line before the change"

    bench.dbt_build(env, tmp_path)
    bench.floor(warehouse, env)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.execute(
            "select count(*) from marts.fct_commission_lines where client_id in (?, ?) "
            "and component = 'cpa'",
            cpa_clients,
        ).fetchone()[0]
        same_as_floor = lines_match_floor(con)
        moved_days_after = partner_days(con, "C7", "P5")
    assert moved_days == 0 < moved_days_after, "the moved client's days are its new partner's"
    assert after == 0, "a deposit gone, a deposit too small: no cpa"
    assert same_as_floor, "the incremental lines are the floor's from scratch"
    assert bench.same_as_full_refresh(env, tmp_path, warehouse), "and a full refresh's, row for row"

    # that earlier opening deal gone again: now only the deal table as last built knows which
    # position it opened, so only through it does the closing deal's date change; and every
    # deal of one date gone (the date has no fingerprint now, only its recorded one)
    gone_date = "date '2026-08-12'"
    with duckdb.connect(str(warehouse)) as con:
        assert per_lot_lines(con, position) > 0, "the longer hold earned per_lot"
        assert lines_on(con, gone_date) > 0, "the date had lines"
        con.execute(
            "delete from intermediate.int_deals__symbol_mapped where deal_ticket = ? "
            f"or cast(deal_time_utc as date) = {gone_date}",
            [999999999],
        )
        con.execute(f"create or replace table marts.fct_deals as {bench.FCT_DEALS}")
    bench.dbt_build(env, tmp_path)
    bench.floor(warehouse, env)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert per_lot_lines(con, position) == 0, "held too short again: no per_lot"
        assert lines_on(con, gone_date) == 0, "the date's lines are gone with its deals"
        assert lines_match_floor(con), "the incremental lines are the floor's from scratch"
    assert bench.same_as_full_refresh(env, tmp_path, warehouse), "and a full refresh's, row for row"


def lines_match_floor(con: duckdb.DuckDBPyConnection) -> bool:
    return bench.totals(con, "marts.fct_commission_lines") == bench.totals(con, "main.floor_lines")


def per_lot_lines(con: duckdb.DuckDBPyConnection, position: tuple) -> int:
    return con.execute(
        "select count(*) from marts.fct_commission_lines where component = 'per_lot' "
        "and server = ? and login = ? and position_id = ?",
        list(position),
    ).fetchone()[0]


def lines_on(con: duckdb.DuckDBPyConnection, date: str) -> int:
    return con.execute(
        f"select count(*) from marts.fct_commission_lines where cast(line_time as date) = {date}"
    ).fetchone()[0]


def partner_days(con: duckdb.DuckDBPyConnection, client: str, partner: str) -> int:
    return con.execute(
        "select count(*) from intermediate.int_commission_client_days "
        "where client_id = ? and partner_id = ?",
        [client, partner],
    ).fetchone()[0]
