"""A published serving snapshot holding reconciliation marts with hand-made rows, in the columns
`../shared/reconciliation.md` gives: what the reconciliation page and the command line read,
without building the platform."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.defs.serving.assets import publish

BREAK_COLUMNS = {
    "break_id": "varchar",
    "check": "varchar",
    "break_type": "varchar",
    "severity": "varchar",
    "server": "varchar",
    "login": "bigint",
    "client_id": "varchar",
    "payment_id": "varchar",
    "partner_id": "varchar",
    "ticket": "bigint",
    "day": "date",
    "expected": "varchar",
    "actual": "varchar",
    "difference": "decimal(18, 2)",
    "crm_ref": "varchar",
    "platform_ref": "varchar",
    "first_seen_at": "timestamp",
    "age_days": "integer",
    "status": "varchar",
    "note": "varchar",
    "decided_by": "varchar",
}
SERVER = "FXCRM-MT5-Live1"
FIRST_SEEN = datetime(2026, 3, 25, 6, 0)


def a_break(break_id: str, check: str, break_type: str, severity: str, **fields) -> dict:
    """A row of rpt_reconciliation_breaks: the named fields, the others null."""
    return (
        dict.fromkeys(BREAK_COLUMNS)
        | {
            "break_id": break_id,
            "check": check,
            "break_type": break_type,
            "severity": severity,
            "server": SERVER,
            "first_seen_at": FIRST_SEEN,
            "age_days": 6,
            "status": "open",
        }
        | fields
    )


def sample_breaks(payment_event: str, account_event: str) -> list[dict]:
    """One break of each side's shape (CRM only, platform only, both), and 120 low-severity
    balance breaks, more than a page of the list."""
    deals = f"mt5/{SERVER}/deals/deals_20260325_p000.json"
    rows = [
        a_break(
            "a1" * 16,
            "money",
            "payment_not_posted",
            "high",
            login=500123,
            client_id="C-0001",
            payment_id="P-0001",
            day=date(2026, 3, 25),
            expected="2500.00",
            actual="0.00",
            difference=Decimal("-2500.00"),
            crm_ref=payment_event,
        ),
        a_break(
            "b2" * 16,
            "money",
            "unauthorised_adjustment",
            "high",
            login=500124,
            ticket=9_100_017,
            day=date(2026, 3, 26),
            expected="0.00",
            actual="1200.00",
            difference=Decimal("1200.00"),
            platform_ref=f"{deals} row 17",
            age_days=5,
        ),
        a_break(
            "c3" * 16,
            "accounts",
            "leverage_mismatch",
            "medium",
            login=500125,
            client_id="C-0002",
            expected="30",
            actual="100",
            difference=Decimal("70"),
            crm_ref=account_event,
            platform_ref=f"mt5/{SERVER}/users/users_20260325_p000.json row 3",
        ),
    ]
    rows += [
        a_break(
            f"{n:032x}",
            "balance",
            "balance_discontinuity",
            "low",
            login=600000 + n,
            day=date(2026, 3, 27),
            expected="100.00",
            actual="100.50",
            difference=Decimal("0.50"),
            platform_ref=f"mt5/{SERVER}/daily/daily_20260327_p000.json row {n}",
            age_days=1,
        )
        for n in range(120)
    ]
    return rows


def publish_breaks(settings, breaks: list[dict]) -> Path:
    """Write the three reconciliation marts (the summary and the days computed here from the
    rows, as the models would) and the freshness the page's header reads, then publish them."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists reporting")
        columns = ", ".join(f'"{name}" {kind}' for name, kind in BREAK_COLUMNS.items())
        con.execute(f"create or replace table reporting.rpt_reconciliation_breaks ({columns})")
        con.executemany(
            "insert into reporting.rpt_reconciliation_breaks values "
            f"({', '.join('?' for _ in BREAK_COLUMNS)})",
            [[row[name] for name in BREAK_COLUMNS] for row in breaks],
        )
        con.execute(
            "create or replace table reporting.rpt_reconciliation_summary as "
            "select \"check\", break_type, count(*) filter (status = 'open') as open_breaks, "
            "count(*) filter (status = 'acknowledged') as acknowledged_breaks, "
            "count(*) filter (status = 'resolved') as resolved_breaks, "
            "count(*) filter (status = 'cleared') as cleared_breaks, "
            "sum(abs(difference)) filter (status in ('open', 'acknowledged')) "
            "as money_at_stake_usd, max(age_days) as oldest_age_days "
            "from reporting.rpt_reconciliation_breaks group by all"
        )
        con.execute(
            "create or replace table reporting.rpt_reconciliation_open_by_day as "
            'select day, "check", severity, count(*) as open_breaks, '
            "sum(abs(difference)) as money_at_stake_usd "
            "from reporting.rpt_reconciliation_breaks where status = 'open' and day is not null "
            "group by all"
        )
        con.execute(
            "create or replace table reporting.rpt_data_freshness as select 'deals' as feed, "
            "?::timestamptz as latest_record_at_utc",
            [datetime.now(UTC) - timedelta(hours=1)],
        )
        publish(con, settings.serving_path, "reconciliation-test")
    return settings.serving_path
