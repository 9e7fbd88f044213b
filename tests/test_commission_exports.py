"""The statement exports (CSV, XLSX, PDF) on a hand-filled serving snapshot: every figure is the
snapshot's, cells are numbers in a currency format, the PDF is the statement a partner is sent."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from commission_snapshot import write_snapshot
from openpyxl import load_workbook
from pypdf import PdfReader

from ingest import commissions_export as exports


@pytest.fixture
def snapshot(tmp_path):
    return write_snapshot(tmp_path / "serving.duckdb")


def statements(snapshot, period="2026-08", partner_id=None) -> exports.Statements:
    with exports.serving_reader(snapshot) as reader:
        return exports.read_statements(reader, period, partner_id)


def test_the_csv_has_a_row_per_partner_with_its_components_and_payout(snapshot):
    rows = list(
        csv.DictReader(io.StringIO(exports.export(statements(snapshot), "csv", "B").decode()))
    )
    assert [(r["partner_id"], r["per_lot"], r["payable"], r["carried_out"]) for r in rows] == [
        ("P1", "1200.00", "1234.57", "0.00"),
        ("P2", "30.43", "0.00", "42.53"),
    ]
    assert rows[0]["commission_share"] == "34.57" and rows[1]["commission_share"] == ""


def test_the_xlsx_has_a_summary_and_a_sheet_per_component_of_numeric_usd_cells(snapshot):
    book = load_workbook(io.BytesIO(exports.export(statements(snapshot), "xlsx", "B")))
    assert book.sheetnames == ["Summary", "per_lot", "commission_share"]
    summary = book["Summary"]
    header = [c.value for c in summary[1]]
    payable = summary.cell(row=2, column=header.index("payable") + 1)
    assert payable.value == pytest.approx(1234.57) and isinstance(payable.value, float | int)
    assert "$" in payable.number_format and "0.00" in payable.number_format
    lines = book["per_lot"]
    line_header = [c.value for c in lines[1]]
    assert line_header[-2:] == ["_source_file", "_row_number"]
    assert [row[line_header.index("amount")] for row in lines.iter_rows(2, values_only=True)] == [
        1000,
        200,
        pytest.approx(30.43),
    ]

    september = load_workbook(
        io.BytesIO(exports.export(statements(snapshot, "2026-09"), "xlsx", "B"))
    )
    assert september.sheetnames == ["Summary", "adjustment"]
    adjustment = list(september["adjustment"].iter_rows(values_only=True))
    assert adjustment[1][:3] == ("P1", "2026-08", "per_lot") and adjustment[1][-1] == -5


def test_the_pdf_is_the_partners_statement(snapshot):
    pdf = exports.export(statements(snapshot, partner_id="P1"), "pdf", "Adriatic Markets Ltd")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "Adriatic Markets Ltd",
        "Commission statement 2026-08",
        "Partner: Alpha IB (P1)",
        "Status: draft",
        "per_lot",
        "1,200.00",
        "34.57",
        "By level",
        "200.00",
        "Payable",
        "1,234.57",
        "Carried to next month",
    ):
        assert expected in text, expected
    assert "Beta" not in text


def test_a_partner_name_outside_latin1_does_not_break_the_pdf(snapshot):
    statement = statements(snapshot, partner_id="P1")
    statement.payouts[0]["partner_name"] = "Ōsaka Trading 大阪"
    text = PdfReader(io.BytesIO(exports.export(statement, "pdf", "B"))).pages[0].extract_text()
    assert "saka Trading" in text


def test_an_empty_month_or_an_unknown_format_is_refused(snapshot):
    with pytest.raises(LookupError, match="no commission statement for 2026-07"):
        exports.export(statements(snapshot, "2026-07"), "pdf", "B")
    with pytest.raises(ValueError, match="format: 'docx' is not one of csv, xlsx, pdf"):
        exports.export(statements(snapshot), "docx", "B")
    with pytest.raises(FileNotFoundError, match="run `fxcrm materialize` first"):
        statements(snapshot.with_name("none.duckdb"))


def test_figures_are_the_snapshots_decimals(snapshot):
    statement = statements(snapshot)
    assert statement.summary()[0]["payable"] == Decimal("1234.57")
    assert exports.file_name("2026-08", "P1", "pdf") == "commissions-2026-08-P1.pdf"


def test_the_cli_writes_the_same_files_from_the_serving_snapshot(snapshot, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("FXCRM_DATA_DIR", str(snapshot.parent))
    monkeypatch.delenv("FXCRM_SERVING_PATH", raising=False)
    monkeypatch.setenv("FXCRM_BROKER_NAME", "Adriatic Markets Ltd")
    out = snapshot.parent / "p1.pdf"
    args = ["commissions", "export", "--period", "2026-08", "--partner", "P1"]
    assert main([*args, "--format", "pdf", "--out", str(out)]) == 0
    assert "1 statement(s) for 2026-08 written to" in capsys.readouterr().out
    assert out.read_bytes()[:5] == b"%PDF-"
    assert "Adriatic Markets Ltd" in PdfReader(out).pages[0].extract_text()
    out = snapshot.parent / "all.xlsx"
    assert main([*args[:4], "--format", "xlsx", "--out", str(out)]) == 0
    assert load_workbook(out)["Summary"].max_row == 3  # the header and two partners
    assert main([*args[:3], "2026-07", "--format", "csv", "--out", str(out)]) == 2
    assert "no commission statement for 2026-07" in capsys.readouterr().err
