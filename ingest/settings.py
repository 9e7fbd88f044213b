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
        data_dir = Path(env.get("FXCRM_DATA_DIR", PROJECT_ROOT / "data")).resolve()

        def path(name: str, default: Path) -> Path:
            return Path(env[name]).resolve() if env.get(name) else default

        return cls(
            data_dir=data_dir,
            landing_dir=path("FXCRM_LANDING_DIR", data_dir / "landing"),
            documents_dir=path("FXCRM_DOCUMENTS_DIR", data_dir / "documents"),
            crm_store=path("FXCRM_CRM_STORE", data_dir / "crm.sqlite"),
            crm_url=env.get("FXCRM_CRM_URL", ""),
            warehouse_path=path("FXCRM_WAREHOUSE_PATH", data_dir / "warehouse.duckdb"),
            serving_path=path("FXCRM_SERVING_PATH", data_dir / "serving.duckdb"),
            dagster_home=path("DAGSTER_HOME", data_dir / ".dagster"),
            audit_key_file=path("FXCRM_AUDIT_KEY_FILE", data_dir / "audit.key"),
            audit_checkpoints=path("FXCRM_AUDIT_CHECKPOINTS", data_dir / "audit_checkpoints.jsonl"),
            payment_limit=_payment_limit(env.get("FXCRM_PAYMENT_LIMIT", "")),
            bind_address=env.get("FXCRM_BIND_ADDRESS") or "127.0.0.1",
            broker_name=env.get("FXCRM_BROKER_NAME") or DEFAULT_BROKER_NAME,
            spark_thrift_url=env.get("FXCRM_SPARK_THRIFT_URL", ""),
            spark_raw_dir=path("FXCRM_SPARK_RAW_DIR", data_dir / "spark" / "raw"),
        )

    def as_env(self) -> dict[str, str]:
        return {
            "FXCRM_DATA_DIR": str(self.data_dir),
            "FXCRM_LANDING_DIR": str(self.landing_dir),
            "FXCRM_DOCUMENTS_DIR": str(self.documents_dir),
            "FXCRM_CRM_STORE": str(self.crm_store),
            "FXCRM_CRM_URL": self.crm_url,
            "FXCRM_WAREHOUSE_PATH": str(self.warehouse_path),
            "FXCRM_SERVING_PATH": str(self.serving_path),
            "DAGSTER_HOME": str(self.dagster_home),
            "FXCRM_AUDIT_KEY_FILE": str(self.audit_key_file),
            "FXCRM_AUDIT_CHECKPOINTS": str(self.audit_checkpoints),
            "FXCRM_PAYMENT_LIMIT": str(self.payment_limit),
            "FXCRM_BIND_ADDRESS": self.bind_address,
            "FXCRM_BROKER_NAME": self.broker_name,
            "FXCRM_SPARK_THRIFT_URL": self.spark_thrift_url,
            "FXCRM_SPARK_RAW_DIR": str(self.spark_raw_dir or self.data_dir / "spark" / "raw"),
        }

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
