"""Fuzzing every platform format: real-shaped files, mutated (cut short, bytes flipped, huge and
non-finite numbers, empty fields, other encodings, duplicated headers, a million-column line).

Whatever a file becomes, loading it and inspecting it either refuse it whole, saying why, or
read it record by record: records read = loaded + quarantined, `feeds inspect` counts what the
loader counts, and every loaded value is exactly what the file said. Bounded and derandomized,
so that CI runs the same examples every time and quickly.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_batches import CTRADER_DEAL, GOOD, XLSX_DEAL, mt5_report_xlsx
from test_formats import MT4_HEADER, MT5_CSV, MT5_REPORT_HTML

from ingest.batches import Refused, batches_that_do_not_add_up, inspect_file, load_file
from ingest.platforms.canonical import FileContext

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MILLION_COLUMNS = ("million_columns",)

# -- Real-shaped files --------------------------------------------------------------------------

MT5_DEALS = [
    GOOD,
    {**GOOD, "Deal": "102", "Entry": "1", "Time": "1790816461", "Price": "1.08964"}
    | {"TimeMsc": "1790816461500"}
    | {"Profit": "1434.86", "Storage": "-1.20", "PositionID": "101"},
    {**GOOD, "Deal": "103", "Action": "2", "Symbol": "", "VolumeExt": "0", "Price": "0"}
    | {"Profit": "5000.00", "Commission": "0.00", "Comment": "deposit 9F2"},
]
MT4_TRADES = [
    "501,77,eurusd.,0,150,1790812861,1.08864,1790816461,1.08964,-7.50,-1.20,0.00,150.00,[tp]",
    "502,77,xauusd.,1,10,1790812900,2400.5,0,0,0.00,0.00,0.00,0.00,",
    "503,77,,6,0,1790812000,0,1790812000,0,0.00,0.00,0.00,5000.00,deposit 9F2",
]
MT5_CSV_DEALS = [
    "7;8;1790812861;0;0;7;0.10;1.08864;-0.07;0.00;0.00;0.00;EURUSD;open;5001",
    "9;10;1790816461;1;1;7;0.10;1.08964;-0.07;-0.12;10.00;0.00;EURUSD;close;5001",
]
CTRADER_DEALS = [
    CTRADER_DEAL,
    {**CTRADER_DEAL, "dealId": 9002, "tradeSide": "SELL", "executionTimestamp": 1790816461000}
    | {
        "executionPrice": 1.08964,
        "closePositionDetail": {"grossProfit": 10000, "swap": -125, "moneyDigits": 2},
    },
]
MT4_STATEMENT = """<html><head><title>Statement: 2100104808 - Jane</title></head><body>
<table>
<tr align=left><td colspan=2><b>Account: 2100104808</b></td><td colspan=5><b>Name: Jane</b></td>
<td colspan=2><b>Currency: USD</b></td></tr>
<tr align=left><td colspan=14><b>Closed Transactions:</b></td></tr>
<tr><td>Ticket</td><td>Open Time</td><td>Type</td><td>Size</td><td>Item</td><td>Price</td>
<td>S / L</td><td>T / P</td><td>Close Time</td><td>Price</td><td>Commission</td><td>Taxes</td>
<td>Swap</td><td>Profit</td></tr>
<tr><td title="[sl]">77953025</td><td>2026.03.02 07:32:27</td><td>buy</td><td>3.56</td>
<td>gbpjpy</td><td>180.190</td><td>179.979</td><td>180.800</td><td>2026.03.02 09:10:00</td>
<td>179.979</td><td>-24.92</td><td>0.00</td><td>0.00</td><td>-5 122.49</td></tr>
<tr><td title="Deposited">75408826</td><td>2026.03.01 05:41:08</td><td>balance</td>
<td colspan=10>Deposited using API</td><td>100 000.00</td></tr>
<tr><td colspan=12><b>Closed P/L:</b></td><td>0.00</td><td>-5 147.41</td></tr>
<tr align=left><td colspan=14><b>Summary:</b></td></tr>
<tr><td colspan=2><b>Deposit/Withdrawal:</b></td><td>100 000.00</td>
<td colspan=2><b>Closed Trade P/L:</b></td><td>-5 147.41</td></tr>
</table></body></html>
"""


def mt5_json() -> bytes:
    return json.dumps({"retcode": "0 Done", "answer": MT5_DEALS}, indent=1).encode()


def mt4_json() -> bytes:
    names = MT4_HEADER.strip().split(",")
    return json.dumps([dict(zip(names, t.split(","), strict=True)) for t in MT4_TRADES]).encode()


def ctrader_json() -> bytes:
    payload = {"ctidTraderAccountId": 4455, "deal": CTRADER_DEALS}
    return json.dumps({"payloadType": 2134, "payload": payload}, indent=1).encode()


# -- Mutations -----------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "1e400",
    "-1e400",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "1e308",
    "99999999999999999999",
    "9223372036854775808",
    "1000000000000000000",
    "1790812861259",
    "99999999999999999",
    "0",
    "-1",
    "1.123456789123",
    "0.005",
    "1 000.00",
    "1,5",
    "\u0661\u0662\u0663",
    '"',
    "\\",
    "\n",
    "\x00",
]
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))
# Changed values keep the file readable, so every example changes some: records are where a
# reader goes wrong. One in three also damages the file as a whole, which mostly tests refusal.
value_change = st.tuples(st.just("value"), st.floats(0, 1, exclude_max=True), values)
damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("encoding"), st.sampled_from(["utf-16", "utf-16-le", "cp1252", "gb18030"])),
    st.tuples(st.just("duplicate_header"), st.integers(0, 50), st.integers(0, 50)),
)
mutations = st.tuples(
    st.lists(value_change, min_size=1, max_size=4),
    st.one_of(st.just([]), st.just([]), st.lists(damage, min_size=1, max_size=1)),
).map(lambda both: both[0] + both[1])


def _value_slots(text: str) -> list[re.Match]:
    """Where a file keeps its values: JSON strings and numbers after a key, report cells, or
    CSV fields."""
    if text.lstrip()[:1] in ("{", "["):
        pattern = r'(?<=:)\s*("[^"\\\n]*"|-?[\d.eE+-]+)'
    elif "<td" in text:
        pattern = r"(?<=>)([^<]*)(?=</td>)"
    else:
        pattern = r"(?<=[;,\n])([^;,\n]*)(?=[;,\n])"
    return list(re.finditer(pattern, text))


def _duplicate_header(text: str, target: int, source: int) -> str:
    """A header naming a field twice: a CSV header's name, a JSON key or a report's column."""
    lines = text.split("\n")
    names = re.findall(r'"([A-Za-z_]\w*)"\s*:', text) or re.findall(r"<td>(\w[\w /]*)</td>", text)
    if names:
        old, new = names[target % len(names)], names[source % len(names)]
        return text.replace(f'"{old}"', f'"{new}"', 1).replace(f">{old}<", f">{new}<", 1)
    header = re.split(r"([;,\t])", lines[0])
    fields = header[::2]
    fields[target % len(fields)] = fields[source % len(fields)]
    lines[0] = "".join(
        f + (header[2 * i + 1] if 2 * i + 1 < len(header) else "") for i, f in enumerate(fields)
    )
    return "\n".join(lines)


def mutate(original: bytes, changes: list[tuple] | tuple) -> bytes:
    if changes == MILLION_COLUMNS:
        separator = b";" if original.count(b";") > original.count(b",") else b","
        return original.rstrip(b"\n") + b"\n" + separator * 1_000_000 + b"\n"
    data = original
    for change in changes:
        kind = change[0]
        if kind == "truncate":
            data = data[: int(len(data) * change[1])]
        elif kind == "flip" and data:
            at = min(int(len(data) * change[1]), len(data) - 1)
            data = data[:at] + bytes([change[2]]) + data[at + 1 :]
        elif kind in ("value", "encoding", "duplicate_header"):
            text = data.decode("utf-8", "replace")
            if kind == "value" and (slots := _value_slots(text)):
                slot = slots[int(change[1] * len(slots))]
                group = 1
                said = slot.group(group).strip()
                bare = said and not said.startswith('"') and re.fullmatch(r"[-\d.eE+]+", change[2])
                new = change[2] if bare else json.dumps(change[2])
                text = text[: slot.start(group)] + new + text[slot.end(group) :]
                data = text.encode()
            elif kind == "encoding":
                data = text.encode(change[1], "replace")
            elif kind == "duplicate_header":
                data = _duplicate_header(text, change[1], change[2]).encode()
    return data


# -- The properties ------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1)


def _number(text: str | None) -> Decimal:
    return Decimal((text or "").strip())


def _seconds(text: str | None) -> datetime:
    return EPOCH + timedelta(seconds=int(_number(text)))


def _milliseconds(text: str | None) -> datetime:
    return EPOCH + timedelta(milliseconds=int(_number(text)))


# What each loaded deal's columns must equal, from its record's text: (column, field, reading).
Oracle = dict[str, tuple[str, Callable]]
MT5_API_ORACLE: Oracle = {
    "ticket": ("Deal", _number),
    "login": ("Login", _number),
    "price": ("Price", _number),
    "profit": ("Profit", _number),
    "commission": ("Commission", _number),
    "swap": ("Storage", _number),
    "time_server": ("TimeMsc", _milliseconds),
    "lots": ("VolumeExt", lambda t: _number(t) / 100_000_000),
}
MT5_CSV_ORACLE: Oracle = {
    "ticket": ("ticket", _number),
    "price": ("price", _number),
    "profit": ("profit", _number),
    "lots": ("volume", _number),
    "time_server": ("time", _seconds),
}
MT4_ORACLE: Oracle = {
    "ticket": ("order", _number),
    "login": ("login", _number),
    "lots": ("volume", lambda t: _number(t) / 100),
    "commission": ("commission", _number),
}
CTRADER_ORACLE: Oracle = {
    "ticket": ("dealId", _number),
    "price": ("executionPrice", _number),
    "units": ("filledVolume", lambda t: _number(t) / 100),
    "time_server": ("executionTimestamp", _milliseconds),
}


def _loaded_deals(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = con.execute("select * from raw.deals order by _row_number, entry").pl()
    return rows.to_dicts()


def _records_of(path: Path) -> dict[int, dict]:
    from ingest.batches import read_checked

    records = pl.concat([r for r, _g, _f in read_checked(path, FileContext(server="S"))])
    return {r["_row_number"]: r for r in records.to_dicts()}


def _round_trips(path: Path, con: duckdb.DuckDBPyConnection, oracle: Oracle) -> None:
    """Each loaded deal holds exactly what its record's text said, field by field."""
    deals = _loaded_deals(con)
    if not deals:
        return
    records = _records_of(path)
    records = {n: {k.strip().lower(): v for k, v in r.items()} for n, r in records.items()}
    for deal in deals:
        record = records[deal["_row_number"]]
        for column, (field, reading) in oracle.items():
            if column in ("commission",) and deal["entry"] == "in" and "cmd" in record:
                continue  # MT4 keeps a trade's money on its closing deal
            said = record.get(field.lower())
            if said is None and column == "lots" and "volume" in record:
                said, reading = record["volume"], (lambda t: _number(t) / 10_000)
            expected = reading(said)
            assert deal[column] == expected, (column, said, deal[column], expected)


def _numbers_in(page: str) -> set[Decimal]:
    found = set()
    for token in re.findall(r"-?\d[\d ]*(?:\.\d+)?", page.replace("\xa0", " ")):
        with contextlib.suppress(InvalidOperation):
            found.add(Decimal(token.replace(" ", "")))
    return found


def _values_from_the_page(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """A report page's loaded numbers are each a number the page shows (none rounded, none
    made up); the money of an opening or balance deal may be the 0 the model gives it."""
    from ingest.platforms.text import decode_export

    shown = _numbers_in(decode_export(path.read_bytes()))
    for deal in _loaded_deals(con):
        assert deal["ticket"] in shown
        for column in ("price", "lots", "profit", "commission", "swap"):
            assert deal[column] in shown or deal[column] == 0, (column, deal[column])


def _values_from_the_cells(cells: list[list]) -> Callable:
    def check(_path: Path, con: duckdb.DuckDBPyConnection) -> None:
        for deal in _loaded_deals(con):
            rows = [r for r in cells if r[1] == deal["ticket"]]
            assert any(
                Decimal(str(r[11])) == deal["profit"] and Decimal(str(r[8])) == deal["commission"]
                for r in rows
            ), (deal, rows)

    return check


def assert_loads_soundly(tmp_path: Path, name: str, data: bytes, round_trip: Callable) -> None:
    """Refused whole with a reason, or read record by record with every count and value right;
    never another exception. `feeds inspect` and the loader agree."""
    path = tmp_path / "mt5" / "S" / "deals" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        summary = inspect_file(path)
    except Refused as err:
        assert str(err), "a refusal says why"
        summary = None
    con = duckdb.connect()
    try:
        result = load_file(con, path, run_id="fuzz")
    except Refused as err:
        assert summary is None, f"inspect read what the loader refused: {err}"
        assert con.execute("select count(*) from quarantine.files").fetchone() == (1,)
        return
    assert summary is not None, "the loader read what inspect refused"
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert (summary["rows_read"], summary["rows_valid"]) == (result.rows_read, result.rows_loaded)
    assert batches_that_do_not_add_up(con) == []
    round_trip(path, con)


def _oracle(oracle: Oracle) -> Callable:
    return lambda path, con: _round_trips(path, con, oracle)


TEXT_FORMATS = {
    "mt5_web_api_json": ("deals.json", mt5_json, _oracle(MT5_API_ORACLE)),
    "mt5_deal_csv": (
        "deals.csv",
        lambda: (MT5_CSV + "\n".join(MT5_CSV_DEALS) + "\n").encode(),
        _oracle(MT5_CSV_ORACLE),
    ),
    "mt4_trades_csv": (
        "trades.csv",
        lambda: (MT4_HEADER + "\n".join(MT4_TRADES) + "\n").encode(),
        _oracle(MT4_ORACLE),
    ),
    "mt4_trades_json": ("trades.json", mt4_json, _oracle(MT4_ORACLE)),
    "ctrader_json": ("deals.json", ctrader_json, _oracle(CTRADER_ORACLE)),
    "mt5_report_html": (
        "report.html",
        lambda: MT5_REPORT_HTML.encode("utf-16"),
        _values_from_the_page,
    ),
    "mt4_statement_html": ("statement.htm", MT4_STATEMENT.encode, _values_from_the_page),
}


@pytest.mark.parametrize("feed", sorted(TEXT_FORMATS))
def test_the_real_shaped_file_loads_whole(tmp_path, feed):
    name, original, round_trip = TEXT_FORMATS[feed]
    path = tmp_path / name
    path.write_bytes(original())
    summary = inspect_file(path)
    assert summary["rows_read"] == summary["rows_valid"] > 0, summary
    assert_loads_soundly(tmp_path, name, original(), round_trip)


@pytest.mark.parametrize("feed", sorted(TEXT_FORMATS))
@FUZZ
@given(changes=mutations)
@example(changes=MILLION_COLUMNS)
def test_a_mutated_file_is_refused_whole_or_read_record_by_record(tmp_path_factory, feed, changes):
    name, original, round_trip = TEXT_FORMATS[feed]
    tmp_path = tmp_path_factory.mktemp(feed)
    assert_loads_soundly(tmp_path, name, mutate(original(), changes), round_trip)


cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.sampled_from(NASTY),
    st.datetimes(),
    st.booleans(),
)


@FUZZ
@given(
    changes=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 13), cells), max_size=6),
    damage=st.one_of(st.none(), st.tuples(st.just("truncate"), st.floats(0, 1))),
)
def test_a_mutated_report_spreadsheet_is_refused_whole_or_read_record_by_record(
    tmp_path_factory, changes, damage
):
    rows = [[*XLSX_DEAL], [*XLSX_DEAL], [*XLSX_DEAL]]
    rows[1][1], rows[2][1] = 770102, 770103
    for row, column, value in changes:
        rows[row][column] = value
    data = mt5_report_xlsx(*rows)
    if damage:
        data = mutate(data, [damage])
    tmp_path = tmp_path_factory.mktemp("xlsx")
    assert_loads_soundly(tmp_path, "report.xlsx", data, _values_from_the_cells(rows))
