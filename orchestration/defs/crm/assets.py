"""The CRM event log, copied into the warehouse incrementally by sequence number."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.crm.store import Store
from ingest.crm.warehouse import copy_events
from orchestration.resources import WAREHOUSE_POOL, FxcrmSettings

CRM_EVENTS_KEY = dg.AssetKey(["raw", "crm_events"])


@dg.asset(
    key=CRM_EVENTS_KEY,
    group_name="raw",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "python"},
    metadata={"table": "raw.crm_events"},
    description=(
        "Every CRM event (leads, clients, KYC, accounts, payments, partners, users) from the CRM "
        "entry store, copied after the last sequence number already here, with the chain head "
        "each copy saw (raw.crm_chain_heads). Each row keeps its sequence number, event id, "
        "actor and hash chain: the lineage of every CRM figure. The copy stops, naming the first "
        "difference, if the store no longer holds every event already copied as it was copied "
        "(a truncated, re-hashed or renumbered log)."
    ),
)
def crm_events(context: dg.AssetExecutionContext, warehouse: DuckDBResource, fxcrm: FxcrmSettings):
    store = Store.from_settings(fxcrm.get())
    with warehouse.get_connection() as con:
        result = copy_events(store, con, context.run.run_id)
        total = con.execute("SELECT count(*), max(seq) FROM raw.crm_events").fetchone()
    return dg.MaterializeResult(
        metadata={
            "events_copied": result.copied,
            "first_seq": result.first_seq,
            "last_seq": result.last_seq,
            "events_in_warehouse": total[0],
            "warehouse_through_seq": total[1],
            "chain_head_hash": result.head_hash,
        }
    )
