"""Dagster checks on reconciliation: one per check, warning while high-severity breaks are open,
so a data engineer sees them in the Dagster UI without opening Streamlit. They warn and never
block: a break is a difference for people to work, not a reason to stop the build."""

from decimal import Decimal

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.resources import WAREHOUSE_POOL

RECONCILIATION_BREAKS_KEY = dg.AssetKey(["reporting", "rpt_reconciliation_breaks"])
CHECKS = ("accounts", "money", "balance", "status", "payouts")


def open_high_severity(con, check: str) -> tuple[int, Decimal, list[str]]:
    """(count, money at stake in USD, the first ten break ids) of the check's open high
    breaks."""
    count, money, some = con.execute(
        "select count(*), coalesce(sum(money_at_stake_usd), 0), "
        "list(break_id order by money_at_stake_usd desc nulls last)[1:10] "
        "from marts.fct_reconciliation_breaks "
        "where check_name = ? and severity = 'high' and status = 'open'",
        [check],
    ).fetchone()
    return count, Decimal(money).quantize(Decimal("0.01")), some


def reconciliation_check(check: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=RECONCILIATION_BREAKS_KEY,
        name=f"no_open_high_severity_{check}_breaks",
        blocking=False,
        pool=WAREHOUSE_POOL,
        description=f"Warns while {check} breaks of high severity are open (not yet "
        "acknowledged, resolved or cleared), with their count and money at stake.",
    )
    def _check(warehouse: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            count, money, some = open_high_severity(con, check)
        return dg.AssetCheckResult(
            passed=count == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{count} open high-severity {check} break(s), {money:,} USD at stake"
            if count
            else f"no open high-severity {check} break",
            metadata={
                "open_high_severity_breaks": count,
                "money_at_stake_usd": dg.MetadataValue.text(f"{money:,}"),
                "break_ids": some,
            },
        )

    return _check


reconciliation_checks = [reconciliation_check(check) for check in CHECKS]
