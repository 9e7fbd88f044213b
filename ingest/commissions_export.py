"""Commission statements as files finance keeps or sends: CSV, XLSX and a PDF a partner can be
sent. The statements page's download buttons and `fxcrm commissions export` both come here.

Every figure is read as dbt computed it from the reporting relations (`rpt_commission_*`) of the
published serving snapshot (`serving_reader`); nothing is added up here, so a file shows to the
cent what the page shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from fpdf import FPDF
from openpyxl import Workbook

FORMATS = ("csv", "xlsx", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
COMPONENTS = ("per_lot", "spread_share", "commission_share", "cpa", "revshare", "adjustment")
PAYOUT = ("earned", "carried_in", "payable", "carried_out")
USD = '"$"#,##0.00;[Red]-"$"#,##0.00'  # the cells stay numbers; the format only shows them
LINE_COLUMNS = (
    "partner_id",
    "level",
    "plan_id",
    "rule",
    "rate",
    "base",
    "amount",
    "client_id",
    "server",
    "ticket",
    "_source_file",
    "_row_number",
)
ADJUSTMENT_COLUMNS = ("partner_id", "corrects_period", "component", "frozen_amount",
                      "recomputed_amount", "amount")  # fmt: skip
MONEY = {"amount", "frozen_amount", "recomputed_amount", *PAYOUT, *COMPONENTS}


@dataclass(frozen=True)
class Statements:
    """One month's statements as the warehouse has them, for every partner or one."""

    period: str
    payouts: list[dict[str, Any]]  # one per partner: the summary
    components: list[dict[str, Any]]  # a row per partner and component
    levels: list[dict[str, Any]]  # a row per partner, component and level
    lines: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]  # the entries booked into this month

    def summary(self) -> list[dict[str, Any]]:
        """Per partner: its payout and, beside it, the amount of each component it has."""
        amounts = {(c["partner_id"], c["component"]): c["amount"] for c in self.components}
        return [
            {
                "partner_id": p["partner_id"],
                "partner_name": p["partner_name"],
                "period": self.period,
                **{c: amounts.get((p["partner_id"], c)) for c in COMPONENTS},
                **{f: p[f] for f in PAYOUT},
                "status": p["status"],
                "paid_reference": p["paid_reference"],
            }
            for p in self.payouts
        ]


@contextmanager
def serving_reader(serving_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The serving snapshot, read-only (a publish replaces the file, never writes into it)."""
    if not serving_path.exists():
        raise FileNotFoundError(
            f"no serving snapshot at {serving_path}: run `fxcrm materialize` first"
        )
    with duckdb.connect(str(serving_path), read_only=True) as con:
        yield con


def periods(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The months with payout rows, latest first."""
    return [
        period
        for (period,) in con.execute(
            "select distinct period from rpt_commission_payouts order by period desc"
        ).fetchall()
    ]


def read_statements(
    con: duckdb.DuckDBPyConnection, period: str, partner_id: str | None = None
) -> Statements:
    def rows(relation: str, order: str) -> list[dict[str, Any]]:
        return _rows(
            con,
            f"select * from {relation} where period = ? "
            f"and (?::varchar is null or partner_id = ?) order by {order}",
            [period, partner_id, partner_id],
        )

    return Statements(
        period=period,
        payouts=rows("rpt_commission_payouts", "partner_id"),
        components=rows("rpt_commission_statements", "partner_id, component"),
        levels=rows("rpt_commission_statement_levels", "partner_id, component, level"),
        lines=rows("rpt_commission_lines", "partner_id, component, level, line_time, line_id"),
        adjustments=rows("rpt_commission_adjustments", "partner_id, corrects_period, component"),
    )


def month_payouts(con: duckdb.DuckDBPyConnection, period: str) -> list[dict[str, Any]]:
    """Every partner's payout row of the month (the statements page's overview)."""
    return _rows(
        con,
        "select * from rpt_commission_payouts where period = ? order by partner_id",
        [period],
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = con.execute(sql, params)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def export(statements: Statements, file_format: str, broker_name: str) -> bytes:
    if file_format not in FORMATS:
        raise ValueError(f"format: '{file_format}' is not one of {', '.join(FORMATS)}")
    if not statements.payouts:
        raise LookupError(f"no commission statement for {statements.period}")
    return {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[file_format](statements, broker_name)


def file_name(period: str, partner_id: str | None, file_format: str) -> str:
    return f"commissions-{period}{f'-{partner_id}' if partner_id else ''}.{file_format}"


def to_csv(statements: Statements, broker_name: str) -> bytes:
    """The summary, a row per partner: what a payment run imports."""
    out = io.StringIO()
    rows = statements.summary()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue().encode()


def to_xlsx(statements: Statements, broker_name: str) -> bytes:
    """A Summary sheet, then one sheet per component with its lines (adjustment: its entries);
    money cells are numbers in a currency format, so the workbook adds up."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _sheet(summary, statements.summary())
    for component in COMPONENTS:
        if component == "adjustment":
            rows = [{c: a[c] for c in ADJUSTMENT_COLUMNS} for a in statements.adjustments]
        else:
            rows = [
                {c: line.get(c) for c in LINE_COLUMNS}
                for line in statements.lines
                if line["component"] == component
            ]
        if rows:
            _sheet(book.create_sheet(component), rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(sheet: Any, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:
        sheet.append([row[c] for c in columns])
    for index, column in enumerate(columns, start=1):
        if column in MONEY:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = USD
    sheet.freeze_panes = "A2"


def to_pdf(statements: Statements, broker_name: str) -> bytes:
    """One page per partner: the statement as the partner receives it."""
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    for payout in statements.payouts:
        partner = payout["partner_id"]
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, _latin(broker_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 12)
        pdf.cell(0, 8, f"Commission statement {statements.period}", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(
            0, 8, _latin(f"Partner: {payout['partner_name'] or ''} ({partner})"),
            new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
        pdf.cell(0, 8, f"Status: {payout['status']}", new_x="LMARGIN", new_y="NEXT")
        _table(
            pdf,
            "Components",
            ["component", "lines", "amount (USD)"],
            [
                [c["component"], str(c["line_count"]), _usd(c["amount"])]
                for c in statements.components
                if c["partner_id"] == partner
            ],
        )
        _table(
            pdf,
            "By level",
            ["component", "level", "lines", "amount (USD)"],
            [
                [lv["component"], str(lv["level"]), str(lv["line_count"]), _usd(lv["amount"])]
                for lv in statements.levels
                if lv["partner_id"] == partner
            ],
        )
        _table(
            pdf,
            "Adjustments",
            ["corrects", "component", "amount (USD)"],
            [
                [a["corrects_period"], a["component"], _usd(a["amount"])]
                for a in statements.adjustments
                if a["partner_id"] == partner
            ],
        )
        _table(
            pdf,
            "Payout",
            ["", "USD"],
            [
                ["Earned", _usd(payout["earned"])],
                ["Carried in", _usd(payout["carried_in"])],
                ["Payable", _usd(payout["payable"])],
                ["Carried to next month", _usd(payout["carried_out"])],
            ],
        )
        if payout["paid_reference"]:
            pdf.cell(0, 8, _latin(f"Paid, reference {payout['paid_reference']}"))
    return bytes(pdf.output())


def _table(pdf: FPDF, title: str, header: list[str], rows: list[list[str]]) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    if not rows:
        pdf.cell(0, 6, "none", new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(text_align="RIGHT", first_row_as_headings=True) as table:
        for cells in [header, *rows]:
            row = table.row()
            for cell in cells:
                row.cell(_latin(cell))


def _usd(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}"


def _latin(text: str) -> str:
    """The PDF's built-in font has Latin-1 only; another character shows as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")
