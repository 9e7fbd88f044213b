"""Streamlit pages, run by AppTest against a published snapshot."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from ingest.settings import PROJECT_ROOT

PAGE = str(PROJECT_ROOT / "dashboards" / "pages" / "trading_volume.py")


@pytest.fixture
def published(built_platform, monkeypatch):
    for key, value in built_platform.as_env().items():
        monkeypatch.setenv(key, value)
    return built_platform


def test_trading_volume_shows_the_published_figures(published):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Trading volume"
    assert at.caption[0].value.startswith("Data as of ")
    period = at.date_input[0].value
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        lots, deals, logins = con.execute(
            "select sum(lots), sum(deals), count(distinct login) from rpt_daily_trading_volume "
            "where trade_date between ? and ?",
            list(period),
        ).fetchone()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Lots"] == f"{lots:,.2f}"
    assert metrics["Deals"] == f"{deals:,}"
    assert metrics["Trading logins"] == f"{logins:,}"
    assert at.get("vega_lite_chart"), "no chart on the page"
    assert at.get("download_button")


def test_filtering_to_one_symbol_group_narrows_the_figures(published):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    all_lots = at.metric[0].value
    at.multiselect[1].set_value(["metals"]).run()
    assert not at.exception
    assert at.metric[0].value != all_lots
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        lots = con.execute(
            "select sum(lots) from rpt_daily_trading_volume where symbol_group = 'metals' "
            "and trade_date between ? and ?",
            list(at.date_input[0].value),
        ).fetchone()[0]
    assert at.metric[0].value == f"{lots:,.2f}"


def test_before_anything_is_published_the_page_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FXCRM_SERVING_PATH", raising=False)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert "fxcrm materialize" in at.warning[0].value


def test_app_navigation_opens_the_trading_page(published):
    from ingest.crm import auth
    from ingest.crm.staff import create_demo_staff, demo_password
    from ingest.crm.store import Store

    store = Store.from_settings(published)
    create_demo_staff(store)
    token, _ = auth.sign_in(store, "ann.analyst", demo_password("ann.analyst"))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "app.py"), default_timeout=60)
    at.session_state["token"] = token
    at.run()
    assert not at.exception
    assert at.title[0].value == "Leads"  # an analyst's first page
    at.switch_page("pages/trading_volume.py").run()
    assert not at.exception
    assert at.title[0].value == "Trading volume"


def test_a_new_publish_is_read_at_once_not_hidden_by_the_cache(tmp_path, monkeypatch):
    from dashboards.serving import query
    from orchestration.defs.serving.assets import publish

    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FXCRM_SERVING_PATH", raising=False)
    serving = tmp_path / "serving.duckdb"
    sql = "select sum(lots) as lots from rpt_daily_trading_volume"

    def publish_lots(lots: str, run_id: str) -> None:
        with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
            con.execute("create schema if not exists reporting")
            con.execute(
                "create or replace table reporting.rpt_daily_trading_volume as "
                f"select cast({lots} as decimal(18, 2)) as lots"
            )
            publish(con, serving, run_id)

    publish_lots("1.50", "first")
    assert query(sql)["lots"].to_list() == [Decimal("1.50")]
    publish_lots("2.25", "second")
    assert query(sql)["lots"].to_list() == [Decimal("2.25")], "the old snapshot's figures"
