"""`fxcrm crm import DIR`: a broker's CRM history, from the files of import-formats.md, as records.

Each row goes through its command module's `*_from_row` function (the forms' field checks) and
becomes one `<record>.imported` event by the importing admin, dated by the time the row states
and carrying the file and row it came from (`imported_from`). A row that fails is reported with
its file, row, column and reason and writes nothing; the others import. The row's fields are
fingerprinted: a row imported before with the same content appends nothing, a changed one
appends a version with the fields that changed. Files are read in dependency order, and the
appends share one transaction per `CHECKPOINT_ROWS` rows (`Store.batch`), where each row's events
are checked and hashed as it comes and written in bulk with the others; the records and keys the
next `READ_AHEAD_ROWS` rows name are read in one query per kind.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice, pairwise
from pathlib import Path

import yaml

from ingest.crm.access import authorize
from ingest.crm.commands import accounts, clients, leads, partners, payments, users
from ingest.crm.errors import CommandError
from ingest.crm.rows import RowError, SourceRow
from ingest.crm.store import Actor, Change, Store, to_json

CHECKPOINT_ROWS = 5_000
READ_AHEAD_ROWS = 500


@dataclass(frozen=True)
class ImportFile:
    """One file of the formats: its columns, the column whose time the row states, and the
    function that makes its records."""

    name: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    build: Callable[[Store, SourceRow], list[Change]]
    time_column: str | None = None
    reads: tuple[tuple[str, str], ...] = ()  # (record type, column): the records a row reads
    keys: tuple[tuple[str, str], ...] = ()  # (record type, column): the unique keys it claims


FILES = (  # in dependency order
    ImportFile("platform_servers.csv", ("server", "platform", "time_zone"), (),
               accounts.trading_server_from_row),
    ImportFile("teams.csv", ("team_id", "team_name"), (), users.team_from_row),
    ImportFile("agents.csv", ("agent_id", "team_id", "name", "languages"), (),
               users.agent_from_row),
    ImportFile("users.csv", ("username", "full_name", "role"), ("team_id", "agent_id"),
               users.user_from_row),
    ImportFile("campaigns.csv", ("campaign_id", "utm_source", "utm_medium", "utm_campaign",
               "source"), (), leads.campaign_from_row),
    ImportFile("partners.csv", ("partner_id", "kind", "name", "registered_at"),
               ("parent_partner_id", "level", "referral_code", "min_payout_usd"),
               partners.partner_from_row, "registered_at"),
    ImportFile("commission_plans.yaml", (), (), partners.commission_plan_from_row),
    ImportFile("partner_plans.csv", ("partner_id", "plan_id", "effective_from"), (),
               partners.partner_plan_from_row, "effective_from"),
    ImportFile("spread_markups.csv", ("symbol_group", "usd_per_lot"), (),
               partners.spread_markup_from_row),
    ImportFile("leads.csv", ("lead_id", "created_at", "source", "country", "language",
               "first_name", "last_name", "email", "phone", "status"),
               ("campaign_id", "partner_id", "owner_agent_id", "assignment_rule",
                "converted_at"), leads.lead_from_row, "created_at", (("lead", "lead_id"),),
               (("lead", "email"), ("lead", "phone"))),
    ImportFile("lead_activities.csv", ("activity_id", "lead_id", "agent_id", "kind",
               "occurred_at", "outcome"), ("follow_up_due_at", "follow_up_done_at"),
               leads.activity_from_row, "occurred_at",
               (("activity", "activity_id"), ("lead", "lead_id"))),
    ImportFile("clients.csv", ("client_id", "registered_at", "first_name", "last_name", "email",
               "country", "category", "kyc_status", "account_status"),
               ("lead_id", "risk_level", "appropriateness_score", "kyc_approved_at"),
               clients.client_from_row, "registered_at",
               (("client", "client_id"), ("lead", "lead_id")), (("client", "email"),)),
    ImportFile("kyc_documents.csv", ("document_id", "client_id", "document_type", "uploaded_at",
               "status"), ("reviewed_at", "rejection_reason", "expires_on"),
               clients.kyc_document_from_row, "uploaded_at",
               (("kyc_document", "document_id"), ("client", "client_id"))),
    ImportFile("partner_links.csv", ("client_id", "partner_id", "effective_from"),
               ("attached_by",), partners.partner_link_from_row, "effective_from"),
    ImportFile("trading_accounts.csv", ("account_id", "client_id", "platform", "server", "login",
               "group", "currency", "leverage", "account_type", "opened_at", "status"),
               ("commission_excluded",), accounts.trading_account_from_row, "opened_at",
               (("trading_account", "account_id"), ("client", "client_id"))),
    ImportFile("payments.csv", ("payment_id", "client_id", "account_id", "login", "server",
               "kind", "method", "amount_cents", "currency", "fee_cents", "requested_at",
               "status", "requested_by"), ("approved_at", "executed_at", "approved_by",
               "provider_reference"), payments.payment_from_row, "requested_at",
               (("payment", "payment_id"), ("client", "client_id"),
                ("trading_account", "account_id"))),
)  # fmt: skip


@dataclass(frozen=True)
class RowFailure:
    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f", column {self.column}" if self.column else ""
        return f"{self.file} row {self.row}{where}: {self.reason}"


@dataclass
class FileCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclass
class ImportReport:
    files: dict[str, FileCounts] = field(default_factory=dict)
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [
            f"{name:<24} {c.rows:>8,} rows  {c.created:>8,} created  {c.updated:>6,} updated  "
            f"{c.unchanged:>8,} unchanged  {c.failed:>6,} failed"
            for name, c in self.files.items()
        ]
        return "\n".join(lines or ["no import files found"])


def import_directory(store: Store, actor: Actor, directory: Path) -> ImportReport:
    """Import every file of the formats that `directory` holds, as `actor` (an admin)."""
    authorize(store, actor, "crm.import", "import", str(directory)[:40])
    report = ImportReport()
    lookups: dict = {}  # reference data looked up once (rows.py)
    with store.batch() as held:
        done = 0
        for spec in FILES:
            path = directory / spec.name
            if not path.exists():
                continue
            counts = report.files[spec.name] = FileCounts()
            rows = _rows(spec, path, actor, report, lookups)
            while chunk := list(islice(rows, READ_AHEAD_ROWS)):
                _read_ahead(held, spec, chunk)
                for row in chunk:
                    counts.rows += 1
                    try:
                        outcome = _import_row(held, actor, spec, row)
                    except CommandError as err:
                        counts.failed += 1
                        report.failures.append(_failure(spec, row, err))
                        continue
                    setattr(counts, outcome, getattr(counts, outcome) + 1)
                    done += 1
                    if done % CHECKPOINT_ROWS == 0:
                        held.checkpoint()
    return report


def _read_ahead(store: Store, spec: ImportFile, rows: list[SourceRow]) -> None:
    """Read the records and unique keys these rows will ask for, a query per kind for them all
    rather than one per row (what a row finds is still checked as it is appended)."""
    for record_type, column in spec.reads:
        store.prefetch(record_type, [v for r in rows if (v := r.values.get(column))])
    for record_type, column in spec.keys:
        store.prefetch_keys(record_type, column, [v for r in rows if (v := r.values.get(column))])


def _import_row(store: Store, actor: Actor, spec: ImportFile, row: SourceRow) -> str:
    if spec.time_column:
        row.stated_at = row.moment(spec.time_column)
    planned = [c for c in (_plan(store, row, c) for c in spec.build(store, row)) if c]
    if not planned:
        return "unchanged"
    store.append(actor, planned)
    return "created" if planned[0].expected_version == 0 else "updated"


def _plan(store: Store, row: SourceRow, change: Change) -> Change | None:
    """The change as an event to append: the whole record if new; else only the fields that
    differ, unless this file's row was imported before with the same content (then nothing,
    whatever was edited since)."""
    text = to_json(change.payload)
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    current = store.find(change.record_type, change.record_id)
    sources = dict(current.get("imported_from") or {}) if current else {}
    if sources.get(row.file, {}).get("digest") == digest:
        return None
    fields = change.payload  # a new record's, as stored: the append writes it as JSON
    if current is not None:  # the fields that differ from the stored state, read as stored
        fields = {k: val for k, val in json.loads(text).items() if current.get(k) != val}
        if not fields:
            return None
    for name, value in change.claims.items():
        holder = store.holder(change.record_type, name, value)
        if holder and holder != change.record_id:
            column = "provider_reference" if name == "reference" else name
            raise RowError(column, f"{change.record_type} {holder} already has {name} {value}")
    stated = row.stated_at.isoformat() if row.stated_at else None
    sources[row.file] = {"row": row.number, "stated_at": stated, "digest": digest}
    change.payload = fields | {"imported_from": sources}
    if current is None:
        change.occurred_at = stated
        return change
    change.expected_version = current.version
    change.releases = _released(store, change)
    return change


def _released(store: Store, change: Change) -> dict[str, str]:
    """The unique keys the record holds that the change gives up for new values."""
    if not change.claims:
        return {}
    held = store.query(
        "SELECT key_name, key_value FROM unique_keys WHERE record_type = ? AND record_id = ?",
        [change.record_type, change.record_id],
    )
    return {k: val for k, val in held if k in change.claims and change.claims[k] != val}


def _failure(spec: ImportFile, row: SourceRow, err: CommandError) -> RowFailure:
    if isinstance(err, RowError):
        return RowFailure(spec.name, row.number, err.column, err.reason)
    column, _, reason = str(err).partition(": ")
    if column in row.values:
        return RowFailure(spec.name, row.number, column, reason)
    return RowFailure(spec.name, row.number, "", str(err))


def _rows(
    spec: ImportFile, path: Path, actor: Actor, report: ImportReport, lookups: dict
) -> Iterator[SourceRow]:
    """The file's rows in the order they import; a file that cannot be read at all is one
    failure (row 1, the header)."""
    context = {"actor": actor.username, "lookups": lookups}
    stream = None
    try:
        if spec.name.endswith(".yaml"):
            plans = (yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}).get("plans")
            if not isinstance(plans, list):
                raise ValueError("the file needs a list under 'plans'")
            yield from (
                SourceRow(spec.name, n, {}, context=context | {"plan": plan})
                for n, plan in enumerate(plans, start=1)
            )
            return
        _check_utf8(path)
        stream = path.open(encoding="utf-8-sig", newline="")
        reader = csv.DictReader(stream)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in spec.columns if c not in header]
        if missing:
            raise ValueError(f"the header lacks {', '.join(missing)}")
    except (UnicodeDecodeError, ValueError, yaml.YAMLError, AttributeError) as err:
        if stream is not None:
            stream.close()
        report.files[spec.name].failed += 1
        report.failures.append(RowFailure(spec.name, 1, "", str(err).splitlines()[0]))
        return
    with stream:
        rows = (  # read from the file as they import, so a file of millions is never in memory
            SourceRow(
                spec.name,
                n,
                {(k or "").strip(): (val or "").strip() for k, val in raw.items()},
                context=dict(context),  # its own, sharing the lookups
            )
            for n, raw in enumerate(reader, start=2)  # line 1 is the header
        )
        if spec.name == "partners.csv":
            rows = iter(_parents_first(list(rows)))
        if spec.name == "partner_links.csv":
            rows = iter(_link_ends(list(rows)))
        yield from rows


def _check_utf8(path: Path) -> None:
    """Raise UnicodeDecodeError unless the whole file is UTF-8, read a megabyte at a time: a
    file that is not is refused whole, before any of its rows imports. (It was read whole into
    memory for that, then copied into a StringIO at four bytes a character: 590 MiB of peak for
    a 115 MiB file.)"""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            decoder.decode(chunk)
    decoder.decode(b"", final=True)


def _parents_first(rows: list[SourceRow]) -> list[SourceRow]:
    """Partners ordered so that a parent the file names imports before its children."""
    by_id = {r.values.get("partner_id"): r for r in rows}
    ordered: list[SourceRow] = []
    placed: set[int] = set()

    def place(row: SourceRow, seen: frozenset[int]) -> None:
        if row.number in placed or row.number in seen:
            return
        parent = by_id.get(row.values.get("parent_partner_id"))
        if parent is not None:
            place(parent, seen | {row.number})
        placed.add(row.number)
        ordered.append(row)

    for row in rows:
        place(row, frozenset())
    return ordered


def _link_ends(rows: list[SourceRow]) -> list[SourceRow]:
    """Each link ends when the client's next link in the file starts."""
    starts: dict[str, list[tuple[datetime, SourceRow]]] = {}
    for row in rows:
        try:
            start = datetime.fromisoformat(row.values.get("effective_from", ""))
        except ValueError:
            continue
        if start.tzinfo is not None:
            starts.setdefault(row.values.get("client_id", ""), []).append((start, row))
    for links in starts.values():
        links.sort(key=lambda pair: pair[0])
        for (_, row), (following, _) in pairwise(links):
            row.context["effective_to"] = following.astimezone(UTC)
    return rows
