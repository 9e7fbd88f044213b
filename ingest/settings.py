"""One place that names every path, so Dagster, dbt and Streamlit agree on where data lives.

Each path is an environment variable with a default inside `FXCRM_DATA_DIR`; `as_env()` hands
the resolved values to child processes (dbt, the Dagster webserver, Streamlit) so that a path
changed in one place changes everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# What one warehouse connection may hold in memory before DuckDB spills to disk: loads stay
# within a laptop's means whatever the size of the file.
WAREHOUSE_MEMORY_LIMIT = "1GB"
# The largest single deposit or withdrawal a form accepts, in the payment's own currency: a
# typo of three extra zeros is refused rather than sent to finance.
DEFAULT_PAYMENT_LIMIT = Decimal("10000000")
DEFAULT_BROKER_NAME = "fxcrm demo brokerage"


# Each setting and the environment variable that sets it: the one list, which `Settings`,
# child processes (`as_env`) and Dagster's settings resource (orchestration/resources.py) read.
VARIABLES = {
    "data_dir": "FXCRM_DATA_DIR",
    "landing_dir": "FXCRM_LANDING_DIR",
    "documents_dir": "FXCRM_DOCUMENTS_DIR",
    "crm_store": "FXCRM_CRM_STORE",
    "crm_url": "FXCRM_CRM_URL",
    "warehouse_path": "FXCRM_WAREHOUSE_PATH",
    "serving_path": "FXCRM_SERVING_PATH",
    "dagster_home": "DAGSTER_HOME",
    "bind_address": "FXCRM_BIND_ADDRESS",
    "audit_key_file": "FXCRM_AUDIT_KEY_FILE",
    "audit_checkpoints": "FXCRM_AUDIT_CHECKPOINTS",
    "payment_limit": "FXCRM_PAYMENT_LIMIT",
    "broker_name": "FXCRM_BROKER_NAME",
    "spark_thrift_url": "FXCRM_SPARK_THRIFT_URL",
    "spark_raw_dir": "FXCRM_SPARK_RAW_DIR",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    documents_dir: Path
    crm_store: Path
    crm_url: str  # a postgresql:// URL for PostgreSQL; else the SQLite file crm_store
    warehouse_path: Path
    serving_path: Path
    dagster_home: Path
    # The network address the Dagster UI and Streamlit listen on: this machine only, unless a
    # reverse proxy with sign-in is put in front of them (README, Settings).
    bind_address: str
    audit_key_file: Path  # signs the audit checkpoints; keep it away from the CRM store
    audit_checkpoints: Path
    payment_limit: Decimal = DEFAULT_PAYMENT_LIMIT
    broker_name: str = DEFAULT_BROKER_NAME  # heads the commission statements sent to partners
    # A Spark Thrift server (thrift://host:port) that `fxcrm materialize --target spark` builds
    # on; empty: a Spark session in the process (README, "Spark").
    spark_thrift_url: str = ""
    spark_raw_dir: Path | None = None  # the raw tables as parquet for Spark (None: data_dir's)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(setting: str) -> str:
            return env.get(VARIABLES[setting], "")

        data_dir = Path(text("data_dir") or PROJECT_ROOT / "data").resolve()

        def path(setting: str, default: Path) -> Path:
            return Path(text(setting)).resolve() if text(setting) else default

        return cls(
            data_dir=data_dir,
            landing_dir=path("landing_dir", data_dir / "landing"),
            documents_dir=path("documents_dir", data_dir / "documents"),
            crm_store=path("crm_store", data_dir / "crm.sqlite"),
            crm_url=text("crm_url"),
            warehouse_path=path("warehouse_path", data_dir / "warehouse.duckdb"),
            serving_path=path("serving_path", data_dir / "serving.duckdb"),
            dagster_home=path("dagster_home", data_dir / ".dagster"),
            audit_key_file=path("audit_key_file", data_dir / "audit.key"),
            audit_checkpoints=path("audit_checkpoints", data_dir / "audit_checkpoints.jsonl"),
            payment_limit=_payment_limit(text("payment_limit")),
            bind_address=text("bind_address") or "127.0.0.1",
            broker_name=text("broker_name") or DEFAULT_BROKER_NAME,
            spark_thrift_url=text("spark_thrift_url"),
            spark_raw_dir=path("spark_raw_dir", data_dir / "spark" / "raw"),
        )

    def as_env(self) -> dict[str, str]:
        values = {name: getattr(self, setting) for setting, name in VARIABLES.items()}
        return {name: "" if value is None else str(value) for name, value in values.items()}

    def ensure_dirs(self) -> None:
        for directory in (self.data_dir, self.landing_dir, self.documents_dir, self.dagster_home):
            directory.mkdir(parents=True, exist_ok=True)


def _payment_limit(text: str) -> Decimal:
    if not text.strip():
        return DEFAULT_PAYMENT_LIMIT
    try:
        limit = Decimal(text.strip())
    except InvalidOperation:
        limit = Decimal(0)
    if not limit.is_finite() or limit <= 0:
        raise ValueError(f"FXCRM_PAYMENT_LIMIT: '{text}' is not a positive amount, e.g. 10000000")
    return limit
