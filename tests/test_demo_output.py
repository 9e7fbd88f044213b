"""What `make run` shows a newcomer: one line per stage and the figures that matter, before the
addresses; everything else (Dagster's event log, dbt's) in a log file whose path it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.settings import PROJECT_ROOT

SCREEN_LINES = 24


@pytest.mark.slow
def test_the_demo_prints_a_line_per_stage_and_keeps_the_full_log(tmp_path):
    env = {**os.environ, "FXCRM_DATA_DIR": str(tmp_path)}
    for variable in [v for v in env if v.startswith("FXCRM_") and v != "FXCRM_DATA_DIR"]:
        del env[variable]
    env.pop("DAGSTER_HOME", None)
    demo = ["demo", "--no-serve", "--days", "5", "--clients", "60"]
    shown = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *demo],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stderr == "", "warnings belong in the log"
    lines = shown.stdout.splitlines()
    assert len(lines) <= SCREEN_LINES, shown.stdout
    stages = [line.split()[0] for line in lines if line.startswith("  ") and line.endswith(" s)")]
    built = ["load", "dbt", "publish"]
    # finance closes the first month once it is built, and the build after shows its breaks
    assert stages == ["simulate", "users", "import", *built, "payouts", *built], shown.stdout
    assert "fail" not in shown.stdout and "error" not in shown.stdout
    assert "ann-demo-1" in shown.stdout, "the demo users, to sign in with"

    log = Path(lines[0].rsplit("full log ", 1)[1])
    assert log.parent == tmp_path / "logs" and log.is_file(), lines[0]
    kept = log.read_text()
    assert "RUN_SUCCESS" in kept and "build_and_publish" in kept, "Dagster's event log"
    assert "Completed successfully" in kept, "dbt's own output"
