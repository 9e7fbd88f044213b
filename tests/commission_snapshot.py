"""A serving snapshot holding the commission relations with their documented columns
(dbt_project/models/reporting/commissions/*.yml), filled by hand: the statements page and the
exports are tested on it without building the warehouse. Figures agree with each other as dbt's
would (components are their lines' rounded sum, earned their sum, payable by the payout rule)."""

from __future__ import annotations

from pathlib import Path

import duckdb

ROWS = {
    "_publication": (
        "published_at timestamptz",
        ["(now())"],
    ),
    "rpt_data_freshness": (
        "feed varchar, latest_record_at_utc timestamp",
        ["('deals', timestamp '2026-09-30 21:00:00')"],
    ),
    "rpt_commission_payouts": (
        "partner_id varchar, partner_name varchar, period varchar, min_payout_usd decimal(18,2), "
        "earned decimal(18,2), carried_in decimal(18,2), payable decimal(18,2), "
        "carried_out decimal(18,2), status varchar, paid_reference varchar",
        [
            "('P1', 'Alpha IB', '2026-08', 50, 1234.57, 0, 1234.57, 0, 'draft', null)",
            "('P2', 'Beta Sub-IB', '2026-08', 100, 30.43, 12.10, 0, 42.53, 'draft', null)",
            "('P1', 'Alpha IB', '2026-09', 50, -5.00, 0, 0, -5.00, 'draft', null)",
        ],
    ),
    "rpt_commission_statements": (
        "partner_id varchar, partner_name varchar, period varchar, component varchar, "
        "amount decimal(18,2), line_count bigint, status varchar",
        [
            "('P1', 'Alpha IB', '2026-08', 'per_lot', 1200.00, 2, 'draft')",
            "('P1', 'Alpha IB', '2026-08', 'commission_share', 34.57, 1, 'draft')",
            "('P2', 'Beta Sub-IB', '2026-08', 'per_lot', 30.43, 1, 'draft')",
            "('P1', 'Alpha IB', '2026-09', 'adjustment', -5.00, 1, 'draft')",
        ],
    ),
    "rpt_commission_statement_levels": (
        "partner_id varchar, period varchar, component varchar, level integer, "
        "amount decimal(18,2), line_count bigint",
        [
            "('P1', '2026-08', 'per_lot', 1, 1000.00, 1)",
            "('P1', '2026-08', 'per_lot', 2, 200.00, 1)",
            "('P1', '2026-08', 'commission_share', 1, 34.57, 1)",
            "('P2', '2026-08', 'per_lot', 1, 30.43, 1)",
        ],
    ),
    "rpt_commission_lines": (
        "line_id varchar, partner_id varchar, level integer, l1_partner_id varchar, "
        "plan_id varchar, component varchar, rule varchar, symbol_group varchar, "
        "rate decimal(18,6), base decimal(38,10), l1_amount decimal(38,10), "
        "split_pct decimal(9,4), amount decimal(38,10), period varchar, line_time timestamp, "
        "client_id varchar, source varchar, server varchar, ticket bigint, login bigint, "
        "position_id bigint, entry varchar, deposit_ticket bigint, deposit_time_utc timestamp, "
        "_source_file varchar, _batch_id varchar, _row_number bigint, statement_status varchar",
        [
            "('L1', 'P1', 1, 'P1', 'STD', 'per_lot', 'fx_major 8/lot', 'fx_major', 8, 125, 1000, "
            "100, 1000, '2026-08', '2026-08-03 10:00', 'C1', 'deal', 'MT5-LIVE', 5001, 9001, 77, "
            "'out', null, null, 'mt5/MT5-LIVE/2026-08-03/deals-1.csv', 'b1', 17, 'draft')",
            "('L2', 'P1', 2, 'P2', 'STD', 'per_lot', 'fx_major 8/lot', 'fx_major', 8, 25, 250, "
            "80, 200, '2026-08', '2026-08-04 11:00', 'C2', 'deal', 'MT5-LIVE', 5002, 9002, 78, "
            "'out', null, null, 'mt5/MT5-LIVE/2026-08-04/deals-1.csv', 'b2', 4, 'draft')",
            "('L3', 'P1', 1, 'P1', 'STD', 'commission_share', '20%', 'fx_major', 20, "
            "172.85, 34.57, 100, 34.57, '2026-08', '2026-08-03 10:00', 'C1', 'deal', "
            "'MT5-LIVE', 5001, 9001, 77, 'out', null, null, "
            "'mt5/MT5-LIVE/2026-08-03/deals-1.csv', 'b1', 17, 'draft')",
            "('L4', 'P2', 1, 'P2', 'STD', 'per_lot', 'fx_major 8/lot', 'fx_major', 8, "
            "3.80375, 30.43, 100, 30.43, '2026-08', '2026-08-04 11:00', 'C2', 'deal', "
            "'MT5-LIVE', 5002, 9002, 78, 'out', null, null, "
            "'mt5/MT5-LIVE/2026-08-04/deals-1.csv', 'b2', 4, 'draft')",
        ],
    ),
    "rpt_commission_adjustments": (
        "partner_id varchar, period varchar, corrects_period varchar, component varchar, "
        "frozen_amount decimal(18,2), recomputed_amount decimal(18,2), amount decimal(18,2)",
        ["('P1', '2026-09', '2026-08', 'per_lot', 1200.00, 1195.00, -5.00)"],
    ),
    "rpt_partner_performance": (
        "partner_id varchar, partner_name varchar, parent_partner_id varchar, level integer, "
        "period varchar, tree_clients bigint, tree_active_traders bigint, "
        "tree_lots decimal(18,2), tree_net_deposits_usd decimal(18,2), "
        "tree_commissions_usd decimal(18,2), clients bigint, active_traders bigint, "
        "lots decimal(18,2), net_deposits_usd decimal(18,2), commissions_usd decimal(18,2)",
        [
            "('P1', 'Alpha IB', null, 1, '2026-08', 3, 2, 153.80, 5100.00, 1265.00, "
            "2, 1, 150.00, 4000.00, 1234.57)",
            "('P2', 'Beta Sub-IB', 'P1', 2, '2026-08', 1, 1, 3.80, 1100.00, 30.43, "
            "1, 1, 3.80, 1100.00, 30.43)",
            "('P1', 'Alpha IB', null, 1, '2026-07', 1, 1, 12.00, 250.00, 0, "
            "1, 1, 12.00, 250.00, 0)",
        ],
    ),
}


def write_snapshot(path: Path) -> Path:
    """The serving file as a publish writes it: each table in `main`."""
    with duckdb.connect(str(path)) as con:
        for table, (columns, values) in ROWS.items():
            con.execute(f"create table {table} ({columns})")
            con.execute(f"insert into {table} values {', '.join(values)}")
    return path
