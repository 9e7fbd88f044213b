"""Raw feed assets: each landed file is one batch in warehouse.duckdb, with lineage columns."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.batches import Feed, batches_that_do_not_add_up, load_file
from ingest.feeds import FEEDS
from ingest.settings import Settings
from orchestration.resources import WAREHOUSE_POOL


def raw_feed_asset(feed: Feed) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", feed.name])

    @dg.asset(
        key=key,
        group_name="raw",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "python"},
        description=(
            f"Landed `{feed.landing_glob}` files, one batch per file, loaded once each; rows that "
            f"break the Pandera contract go to `{feed.quarantine_table}` with the reason."
        ),
        metadata={
            "landing_glob": feed.landing_glob,
            "table": feed.raw_table,
            "quarantine_table": feed.quarantine_table,
        },
        check_specs=[
            dg.AssetCheckSpec(
                "rows_add_up",
                asset=key,
                blocking=True,
                description="For every batch: rows read = rows loaded + rows quarantined.",
            )
        ],
    )
    def load_feed(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource
    ) -> dg.MaterializeResult:
        settings = Settings.from_env()
        files = sorted(settings.landing_dir.glob(feed.landing_glob))
        loaded, unreadable = [], []
        with warehouse.get_connection() as con:
            for path in files:
                try:
                    loaded.append(
                        load_file(
                            con,
                            feed,
                            path,
                            context.run.run_id,
                            str(path.relative_to(settings.landing_dir)),
                        )
                    )
                except ValueError as err:
                    unreadable.append(str(err))
            broken = batches_that_do_not_add_up(con, feed)
        if unreadable:
            raise dg.Failure(
                description=f"{len(unreadable)} file(s) could not be loaded; the others were.",
                metadata={"errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in unreadable))},
            )
        new = [r for r in loaded if not r.already_loaded]
        reasons: dict[str, int] = {}
        for r in new:
            for column, count in r.reasons.items():
                reasons[column] = reasons.get(column, 0) + count
        context.log.info(f"{feed.name}: {len(new)} new batch(es) of {len(files)} file(s)")
        return dg.MaterializeResult(
            metadata={
                "files_seen": len(files),
                "new_batches": len(new),
                "rows_read": sum(r.rows_read for r in new),
                "rows_loaded": sum(r.rows_loaded for r in new),
                "rows_quarantined": sum(r.rows_quarantined for r in new),
                "quarantined_by_column": reasons,
                "new_files": dg.MetadataValue.md(
                    "\n".join(f"- {r.source_file} ({r.batch_id})" for r in new[:50]) or "none"
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="rows_add_up",
                    passed=not broken,
                    metadata={
                        "batches_not_adding_up": len(broken),
                        "first": dg.MetadataValue.json(broken[:5]),
                    },
                )
            ],
        )

    return load_feed


raw_feed_assets = [raw_feed_asset(feed) for feed in FEEDS]
