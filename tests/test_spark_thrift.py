"""The `spark_thrift` target builds on a real Spark Thrift server (issue 17).

A broker's data team runs Spark as a Thrift server (HiveServer2's protocol), not as a session in
fxcrm's process. This test starts one from the pyspark wheel (`spark-submit --class
...HiveThriftServer2 spark-internal`: the wheel ships the server's jars but not
`sbin/start-thriftserver.sh`, only a wrapper around that command), on a free port with a Derby
metastore in the test's folder, then runs what `fxcrm materialize --target spark` runs with
FXCRM_SPARK_THRIFT_URL set: the raw tables of the small world's warehouse written to parquet,
registered through the server, and dbt build of `fct_deals` and everything it reads, with the
data tests. The deals are then read back through the server and checked against DuckDB's build
of the same raw tables. The full project's parity is tests/test_spark_parity.py's (a session).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed")
SPARK_HOME = Path(pyspark.__file__).parent
JAVA = Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not JAVA.exists() and not shutil.which("java"), reason="no Java (make java installs it)"
    ),
    pytest.mark.skipif(
        not list((SPARK_HOME / "jars").glob("spark-hive-thriftserver_*.jar")),
        reason="this pyspark wheel lacks the Thrift server's classes (spark-hive-thriftserver)",
    ),
]
# What the profile's `spark` target gives its session, for the server's one JVM.
SERVER_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Duser.timezone=UTC",
}
# The deals compared: how many, and their money and lots to the last decimal place.
FINGERPRINT = (
    "select count(*), count(notional_usd), "
    "count(distinct concat_ws('|', server, cast(deal_ticket as string), entry)), "
    "cast(sum(notional_usd) as decimal(38, 8)), cast(sum(lots) as decimal(38, 8)) "
    "from marts.fct_deals"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def thrift_server(tmp_path: Path) -> Iterator[str]:
    """A Spark Thrift server on a free local port (its metastore, warehouse and log in
    tmp_path), stopped after the test: its thrift:// URL."""
    from orchestration.spark import JAVA_HOMES

    port = free_port()
    folder = tmp_path / "thrift"
    folder.mkdir()
    conf = {**SERVER_CONF, "spark.sql.warehouse.dir": str(folder / "warehouse")}
    command = [str(SPARK_HOME / "bin" / "spark-submit"), "--class", SERVER_CLASS]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command += ["spark-internal", "--hiveconf", f"hive.server2.thrift.port={port}"]
    command += ["--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1"]
    java_home = next((h for h in JAVA_HOMES if Path(h, "bin", "java").exists()), None)
    env = {**os.environ, "TZ": "UTC", "SPARK_HOME": str(SPARK_HOME)}
    env |= {"JAVA_HOME": java_home} if java_home else {}
    log = folder / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            command, cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, (
                "no Thrift server after 300 s\n" + (log.read_text()[-3000:])
            )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(2)
        yield f"thrift://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_fct_deals_builds_on_a_spark_thrift_server_as_on_duckdb(
    built_platform, thrift_server, tmp_path, monkeypatch
):
    from pyhive import hive

    from orchestration.spark import THRIFT_TARGET, build_on_spark

    for key, value in built_platform.as_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FXCRM_SPARK_THRIFT_URL", thrift_server)
    results = build_on_spark(
        built_platform.warehouse_path,
        select=["+fct_deals"],
        target=THRIFT_TARGET,
        raw_dir=tmp_path / "raw",
        resource_types=["model", "seed", "test"],
    )
    kinds = Counter(str(r.node.resource_type) for r in results)
    assert kinds["model"] >= 3 and kinds["test"] >= 5, kinds
    assert all(str(r.status) in ("success", "pass") for r in results)

    with duckdb.connect(str(built_platform.warehouse_path), read_only=True) as con:
        on_duckdb = con.execute(FINGERPRINT).fetchone()
    host, port = thrift_server.removeprefix("thrift://").split(":")
    with hive.connect(host=host, port=int(port), username="fxcrm") as connection:
        cursor = connection.cursor()
        cursor.execute(FINGERPRINT)
        on_spark = cursor.fetchone()
    assert on_duckdb[0] > 100, on_duckdb
    assert [Decimal(str(v)) for v in on_spark] == [Decimal(str(v)) for v in on_duckdb]
