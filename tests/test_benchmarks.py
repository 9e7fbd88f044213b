"""The benchmark scripts run end to end on a small N, so the figures in the README come from
scripts that work. Their times are printed, never asserted: a timed test would flake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def run(script: str, *args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a minute on a busy machine: writes and loads both files twice
def test_feed_load_benchmark_loads_every_deal_of_both_files():
    summary = run("feed_load.py", "--deals", "5000")
    assert [s["format"] for s in summary] == ["json", "csv"]
    for figures in summary:
        assert figures["floor"]["rows"] == figures["fxcrm"]["rows"] == 5000
        assert figures["fxcrm"]["peak_mib"] > 0 and figures["ratio"] > 0
    assert summary[1]["floor_decimal"]["rows"] == 5000, "CSV also against DECIMAL money"


@pytest.mark.slow
def test_pipeline_benchmark_runs_every_stage():
    summary = run("pipeline.py", "--deals", "3000")
    assert [s["stage"] for s in summary] == ["simulate", "per_file", "ingest", "dbt", "publish"]
    rows = {s["stage"]: s["rows"] for s in summary}
    assert rows["simulate"] > 0 and rows["ingest"] >= rows["simulate"]
    per_file = next(s for s in summary if s["stage"] == "per_file")
    assert 0 < per_file["rows"] <= rows["ingest"], "the smallest files are a part of the landing"
    assert per_file["files"] > 0 and per_file["ms_per_file_median"] > 0
    assert rows["dbt"] > 0 and rows["publish"] == rows["dbt"]


@pytest.mark.slow  # three dbt runs of the commission models and the floor twice
def test_commissions_benchmark_gives_the_floors_lines_before_and_after_a_day_lands():
    summary = run("commissions.py", "--deals", "20000")
    assert summary["components"] == [
        "commission_share",
        "cpa",
        "per_lot",
        "revshare",
        "spread_share",
    ], "the generated world earns every component"
    assert summary["lines"] > summary["deals"] > 0
    assert summary["same_lines"], "the models and the hand-written floor give the same lines"
    assert summary["increment_same_lines_as_floor"], "after the day, still the floor's lines"
    assert summary["increment_identical_to_full_refresh"]
    assert summary["full_build_peak_mib"] > 0 and summary["floor_seconds"] > 0


@pytest.mark.slow
def test_crm_store_benchmark_fills_and_times_every_list():
    sizes = ["--clients", "60", "--leads", "150", "--activities", "300", "--sample", "200"]
    summary = run("crm_store.py", *sizes)
    assert summary[0]["store"] == "sqlite"
    # clients, leads, activities, KYC documents (clients / 2) and agents
    assert summary[0]["fill"]["rows"] == 60 + 150 + 300 + 30 + 50
    for figures in summary:  # PostgreSQL too where installed: 200 appended, the rest copied
        assert figures["fill"]["rows_per_s"] > 0 and figures["peak_mib"] > 0
        assert set(figures["queries"]) >= {
            "leads inbox (manager)",
            "client search, a surname",
            "KYC queue",
        }
        assert all(q["warm_max_ms"] > 0 for q in figures["queries"].values())
        assert figures["copy"]["new_events"] == 1000
        assert figures["copy"]["all_events"] >= 590


@pytest.mark.slow
def test_crm_reliability_benchmark_loses_and_duplicates_nothing():
    summary = run(
        "crm_reliability.py",
        *("--writers", "2", "--commands", "4", "--kill-rounds", "1", "--kill-commands", "6"),
    )
    assert {r["round"] for r in summary} == {"throughput", "kill 1"}
    for result in summary:
        assert (result["lost"], result["duplicated"]) == (0, 0), result
        assert result["commands"] == result["expected"] and result["chain_intact"]
        assert result["p99_ms"] >= result["p50_ms"] > 0
