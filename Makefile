# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
# uv comes from PyPI and runs as `python3 -m uv`, so nothing has to be on PATH but Python.

PYTHON ?= python3
UV := $(PYTHON) -m uv
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: install install-spark java run test test-fast lint browser postgres bench bench-feeds bench-crm bench-spark clean

# Bytecode compiled at install, as pip does (uv does not by default): where
# PYTHONDONTWRITEBYTECODE is set, as on this machine, every process otherwise compiles every
# module it imports, every time (dbt's start alone: some 2 s more). Once per new package; a
# sync with nothing new checks and skips (about 1 s).
install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --compile-bytecode

# The Spark target's extra (dbt-spark, pyspark: a ~460 MB download) only where it is needed.
install-spark: install
	$(UV) sync --frozen --extra spark --compile-bytecode

## Simulate the demo brokerage, build every asset, start Dagster (3000) and Streamlit (8501).
run: install
	$(UV) run fxcrm demo

## Lint and run the whole test suite (headless Chromium included).
test: install-spark java browser postgres lint
	$(UV) run --extra spark pytest

## The fast lane (see README): every test but those marked slow (building the platform, running dbt
## or the servers), postgres and browser, on every core (pytest-xdist). No lint, no system installs.
## Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set, every process (each xdist
## worker, each `fxcrm` a test starts) otherwise compiles every module it imports, every time.
## Its temporary folders in memory where there is /dev/shm: the CRM tests commit to SQLite hundreds
## of times, and each commit's fsync waits on a shared disk (a sign-in test: 9 s there, 4 s here).
## Only a failed test's folders are kept, so passing runs leave nothing in memory (370 MB a run).
FAST_TMPDIR := $(if $(wildcard /dev/shm),/dev/shm,$(or $(TMPDIR),/tmp))
test-fast: install
	TMPDIR=$(FAST_TMPDIR) $(UV) run --frozen --compile-bytecode \
		pytest -n auto -o tmp_path_retention_policy=failed -m "not slow and not postgres and not browser"

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	cd dbt_project && $(UV) run sqlfluff lint models tests

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
browser:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Spark (the second dbt target, issue 17) runs on Java 17 from Debian.
java:
	@ls /usr/lib/jvm/java-17-openjdk-*/bin/java >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# The CRM store's tests run against a real PostgreSQL server, which the tests start themselves.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

bench: install
	$(UV) run python benchmarks/pipeline.py --deals 100000 1000000

bench-feeds: install
	$(UV) run python benchmarks/feed_load.py --deals 10000000

bench-crm: install
	$(UV) run python benchmarks/crm_store.py --clients 100000 --leads 300000 --activities 1000000
	$(UV) run python benchmarks/crm_reliability.py --writers 4 16 --commands 100 --kill-rounds 10

# The same dbt build on DuckDB and on Spark, on the warehouse `make run` built (the demo world).
bench-spark: install-spark java
	nice -n 10 $(UV) run --extra spark python benchmarks/spark_build.py --warehouse data/warehouse.duckdb

clean:
	rm -rf data dbt_project/target dbt_project/logs
