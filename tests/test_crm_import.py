"""`fxcrm crm import`: every file of import-formats.md, per-row failures, idempotent re-import,
versions for changed rows, the admin-only rule and unregistered servers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ingest.crm.auth import sign_in
from ingest.crm.commands.users import create_first_admin, create_user
from ingest.crm.errors import NotPermitted
from ingest.crm.imports import import_directory
from ingest.crm.store import Actor, Store
from orchestration.cli import main

EXAMPLE = Path(__file__).parents[1] / ".." / "shared" / "examples" / "commissions" / "example-1"

# One valid row (or two) of every file; each test adds what it checks.
FILES = {
    "platform_servers.csv": "server,platform,time_zone\nS-Live,MT5,Europe/Athens\n",
    "teams.csv": "team_id,team_name\nT1,London\n",
    "agents.csv": 'agent_id,team_id,name,languages\nAG1,T1,Alice Agent,"en,de"\n',
    "users.csv": (
        "username,full_name,role,team_id,agent_id\n"
        "alice.agent,Alice Agent,sales_agent,T1,AG1\n"
        "fred.finance,Fred Finance,finance,,\n"
        "fay.finance,Fay Finance,finance,,\n"
    ),
    "campaigns.csv": (
        "campaign_id,utm_source,utm_medium,utm_campaign,source\nCMP1,google,cpc,gold,campaign\n"
    ),
    "partners.csv": (
        "partner_id,parent_partner_id,level,kind,name,referral_code,registered_at,min_payout_usd\n"
        "P2,P1,2,ib,Sub IB,REFP2,2026-01-02T00:00:00+00:00,50.00\n"
        "P1,,1,ib,Master IB,REFP1,2026-01-01T00:00:00+00:00,0.00\n"
    ),
    "commission_plans.yaml": (
        "plans:\n  - plan_id: STD\n    name: Standard\n    split: [70, 30]\n"
        "    components:\n      - type: per_lot\n        rates: {fx_major: 8, default: 3}\n"
    ),
    "partner_plans.csv": "partner_id,plan_id,effective_from\nP1,STD,2026-01-01T02:00:00+02:00\n",
    "spread_markups.csv": "symbol_group,usd_per_lot\nfx_major,10\n",
    "leads.csv": (
        "lead_id,created_at,source,campaign_id,partner_id,country,language,first_name,last_name,"
        "email,phone,owner_agent_id,assignment_rule,status,converted_at\n"
        "L1,2026-02-01T10:00:00+02:00,campaign,CMP1,,DE,de,Anna,Muller,anna@example.com,"
        "+4915112345678,AG1,language,converted,2026-02-03T09:00:00+00:00\n"
        "L2,2026-02-02T10:00:00+00:00,web_form,,,GB,en,Tom,Smith,tom@example.com,,AG1,,new,\n"
    ),
    "lead_activities.csv": (
        "activity_id,lead_id,agent_id,kind,occurred_at,outcome,follow_up_due_at,follow_up_done_at\n"
        "A1,L1,AG1,call,2026-02-01T11:00:00+00:00,reached,2026-02-03T11:00:00+00:00,\n"
    ),
    "clients.csv": (
        "client_id,lead_id,registered_at,first_name,last_name,email,country,category,risk_level,"
        "appropriateness_score,kyc_status,kyc_approved_at,account_status\n"
        "C1,L1,2026-02-03T09:00:00+00:00,Anna,Muller,anna@example.com,DE,retail,low,80,approved,"
        "2026-02-04T09:00:00+00:00,active\n"
    ),
    "kyc_documents.csv": (
        "document_id,client_id,document_type,uploaded_at,status,reviewed_at,rejection_reason,"
        "expires_on\n"
        "D1,C1,passport,2026-02-03T10:00:00+00:00,accepted,2026-02-04T09:00:00+00:00,,2030-01-01\n"
    ),
    "partner_links.csv": (
        "client_id,partner_id,effective_from,attached_by\n"
        "C1,P2,2026-02-03T09:00:00+00:00,referral_code\n"
        "C1,P1,2026-03-01T00:00:00+00:00,move\n"
    ),
    "trading_accounts.csv": (
        "account_id,client_id,platform,server,login,group,currency,leverage,account_type,"
        "opened_at,status,commission_excluded\n"
        "TA1,C1,MT5,S-Live,5001,real\\retail\\usd-std,USD,30,standard,"
        "2026-02-04T10:00:00+00:00,active,false\n"
    ),
    "payments.csv": (
        "payment_id,client_id,account_id,login,server,kind,method,amount_cents,currency,fee_cents,"
        "requested_at,status,approved_at,executed_at,requested_by,approved_by,provider_reference\n"
        "PAY1,C1,TA1,5001,S-Live,deposit,card,100000,USD,0,2026-02-04T11:00:00+00:00,executed,"
        "2026-02-04T11:20:00+00:00,2026-02-04T11:35:00+00:00,client,fred.finance,PSP-1\n"
    ),
}
TYPES = {  # file → the record type its rows become, and how many
    "platform_servers.csv": ("trading_server", 1),
    "teams.csv": ("team", 1),
    "agents.csv": ("agent", 1),
    "users.csv": ("user", 4),  # with the admin
    "campaigns.csv": ("campaign", 1),
    "partners.csv": ("partner", 2),
    "commission_plans.yaml": ("commission_plan", 1),
    "partner_plans.csv": ("partner_plan", 1),
    "spread_markups.csv": ("spread_markup", 1),
    "leads.csv": ("lead", 2),
    "lead_activities.csv": ("activity", 1),
    "clients.csv": ("client", 1),
    "kyc_documents.csv": ("kyc_document", 1),
    "partner_links.csv": ("partner_mapping", 2),
    "trading_accounts.csv": ("trading_account", 1),
    "payments.csv": ("payment", 1),
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def admin_store(crm_store: Store) -> tuple[Store, Actor]:
    user_id = create_first_admin(crm_store, "admin", "Ada Admin", "quiet-harbour-lantern-7")
    return crm_store, Actor(user_id, "admin", "admin")


def test_every_file_imports_as_records_dated_by_their_rows(admin_store, tmp_path):
    store, admin = admin_store
    report = import_directory(store, admin, write(tmp_path / "crm", FILES))

    assert report.ok, [str(f) for f in report.failures]
    for name, (record_type, count) in TYPES.items():
        assert len(store.records(record_type)) == count, name
    lead = store.get("lead", "L1")
    assert lead.created_at == "2026-02-01T08:00:00+00:00", "created when the row says, in UTC"
    alice = store.get("user", store.holder("user", "username", "alice.agent"))
    assert (lead["owner_id"], lead["owner"]) == (alice.record_id, "alice.agent")
    assert lead["client_id"] == "C1" and lead["status"] == "converted"
    created = store.events(record_type="lead", record_id="L1")[0]
    assert created["event_type"] == "lead.imported" and created["actor"] == "admin"
    assert created["occurred_at"] == "2026-02-01T08:00:00+00:00"
    source = json.loads(created["payload"])["imported_from"]["leads.csv"]
    assert source["row"] == 2 and source["stated_at"] == "2026-02-01T08:00:00+00:00"
    assert store.get("follow_up", "F-A1")["status"] == "open"
    first, second = sorted(store.records("partner_mapping"), key=lambda m: m["effective_from"])
    assert first["effective_to"] == second["effective_from"] == "2026-03-01T00:00:00+00:00"
    assert second["effective_to"] is None and store.get("client", "C1")["partner_id"] == "P1"
    assert store.get("partner", "P2")["level"] == 2, "parent imported first though listed after"
    assert store.get("partner_plan", "P1@2026-01")["plan_id"] == "STD"
    account = store.get("trading_account", "TA1")
    assert (account["status"], account["platform"], account["login"]) == ("open", "MT5", 5001)
    payment = store.get("payment", "PAY1")
    assert (payment["amount"], payment["status"], payment["approved_by"]) == (
        "1000.00",
        "executed",
        "fred.finance",
    )
    assert store.get("trading_server", "S-Live")["time_zone"] == "Europe/Athens"
    assert store.verify().intact


def test_reimport_appends_nothing_and_a_changed_row_appends_one_version(admin_store, tmp_path):
    store, admin = admin_store
    folder = write(tmp_path / "crm", FILES)
    import_directory(store, admin, folder)
    last = store.last_seq()

    again = import_directory(store, admin, folder)
    assert again.ok and store.last_seq() == last
    assert sum(c.unchanged for c in again.files.values()) == sum(
        c.rows for c in again.files.values()
    )

    write(folder, {"leads.csv": FILES["leads.csv"].replace(",new,", ",contacted,")})
    changed = import_directory(store, admin, folder)
    assert changed.files["leads.csv"].updated == 1 and store.last_seq() == last + 1
    event = store.events(after_seq=last)[0]
    assert (event["event_type"], event["record_id"], event["record_version"]) == (
        "lead.imported",
        "L2",
        2,
    )
    payload = json.loads(event["payload"])
    assert set(payload) == {"status", "imported_from"} and payload["status"] == "contacted"
    assert store.get("lead", "L2")["status"] == "contacted"


def test_a_blank_partner_detaches_the_client_and_a_blank_plan_ends_the_plan(admin_store, tmp_path):
    """commissions.md rule 8, recorded as the forms record them (detach_client, assign_plan
    with no plan): a mapping with no partner, a plan assignment with no plan."""
    store, admin = admin_store
    files = dict(FILES)
    files["partner_links.csv"] += "C1,,2026-04-01T12:00:00+02:00,\n"
    files["partner_plans.csv"] += "P1,,2026-05-01T00:00:00+00:00\n"
    report = import_directory(store, admin, write(tmp_path / "crm", files))

    assert report.ok, [str(f) for f in report.failures]
    links = sorted(store.records("partner_mapping"), key=lambda m: m["effective_from"])
    assert [(m["partner_id"], m["effective_from"], m["effective_to"]) for m in links] == [
        ("P2", "2026-02-03T09:00:00+00:00", "2026-03-01T00:00:00+00:00"),
        ("P1", "2026-03-01T00:00:00+00:00", "2026-04-01T10:00:00+00:00"),
        (None, "2026-04-01T10:00:00+00:00", None),
    ]
    assert links[2]["how"] == "detached"
    assert store.get("client", "C1")["partner_id"] is None, "no partner from then on"
    ended = store.get("partner_plan", "P1@2026-05")
    assert (ended["partner_id"], ended["plan_id"]) == ("P1", None)
    assert ended["effective_from"] == "2026-05-01T00:00:00+00:00"
    assert store.get("partner_plan", "P1@2026-01")["plan_id"] == "STD"

    later = {"partner_links.csv": "client_id,partner_id,effective_from\nC1,P2,2026-06-01T00:00Z\n"}
    again = import_directory(store, admin, write(tmp_path / "later", later))
    assert again.ok, [str(f) for f in again.failures]
    assert store.get("client", "C1")["partner_id"] == "P2", "attached again by a later file"


def test_the_example_brokerages_crm_folder_imports_without_errors(admin_store):
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is not beside the clone (../shared/examples)")
    store, admin = admin_store
    report = import_directory(store, admin, EXAMPLE / "crm")
    assert report.ok, [str(f) for f in report.failures]
    assert len(store.records("trading_account")) == 187
    assert len(store.records("commission_plan")) == 4
    assert store.get("partner_plan", "P1008@2026-09")["plan_id"] == "PRO-2026"


BAD_ROWS = [  # file, bad row, column named, words of the reason
    ("platform_servers.csv", "S-X,MT5,Mars/Olympus", "time_zone", "IANA"),
    ("platform_servers.csv", "S-X,MT9,UTC", "platform", "not one of"),
    ("agents.csv", "AG9,T9,Bob,en", "team_id", "no team 'T9'"),
    ("users.csv", "Bad Name,Bob,sales_agent,,", "username", "lower-case"),
    ("users.csv", "bob.agent,Bob,boss,,", "role", "not one of"),
    ("campaigns.csv", "CMP9,x,y,z,tv", "source", "not one of"),
    ("partners.csv", "P9,P1,3,ib,Bad,,2026-01-01T00:00:00+00:00,", "level", "level 2"),
    ("partners.csv", "P9,,,ib,Dup,REFP1,2026-01-01T00:00:00+00:00,", "referral_code", "REFP1"),
    ("partner_plans.csv", "P2,STD,2026-01-15T00:00:00+00:00", "effective_from", "month's 1st"),
    ("partner_plans.csv", "P2,GOLD,2026-01-01T00:00:00+00:00", "plan_id", "GOLD"),
    ("partner_plans.csv", ",STD,2026-02-01T00:00:00+00:00", "partner_id", "required"),
    ("partner_plans.csv", "P2,,2026-02-15T00:00:00+00:00", "effective_from", "month's 1st"),
    ("spread_markups.csv", "forex,3", "symbol_group", "not one of"),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00,web_form,,,GB,en,A,B,a9@example.com,,,,new,",
        "created_at",
        "offset",
    ),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00+00:00,web_form,,,GB,en,A,B,not-an-email,,,,new,",
        "email",
        "not an e-mail",
    ),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00+00:00,web_form,,,GB,en,A,B,tom@example.com,,,,new,",
        "email",
        "L2",
    ),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00+00:00,web_form,,,GB,en,A,B,a9@example.com,12,,,new,",
        "phone",
        "country code",
    ),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00+00:00,web_form,,,GBR,en,A,B,a9@example.com,,,,new,",
        "country",
        "two-letter",
    ),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00+00:00,web_form,,,GB,en,A,B,a9@example.com,,AG7,,new,",
        "owner_agent_id",
        "no agent 'AG7'",
    ),
    (
        "leads.csv",
        "L9,2026-02-02T10:00:00+00:00,web_form,,,GB,en,A,B,a9@example.com,,,,won,",
        "status",
        "not one of",
    ),
    (
        "lead_activities.csv",
        "A9,L1,AG1,fax,2026-02-01T11:00:00+00:00,reached,,",
        "kind",
        "not one of",
    ),
    (
        "lead_activities.csv",
        "A9,L7,AG1,call,2026-02-01T11:00:00+00:00,reached,,",
        "lead_id",
        "no lead 'L7'",
    ),
    (
        "clients.csv",
        "C9,,2026-02-03T09:00:00+00:00,A,B,anna@example.com,DE,retail,,,approved,"
        "2026-02-04T09:00:00+00:00,active",
        "email",
        "C1",
    ),
    (
        "clients.csv",
        "C9,,2026-02-03T09:00:00+00:00,A,B,c9@example.com,DE,retail,,,under_review,,active",
        "account_status",
        "approved KYC",
    ),
    (
        "clients.csv",
        "C9,,2026-02-03T09:00:00+00:00,A,B,c9@example.com,DE,retail,,140,approved,"
        "2026-02-04T09:00:00+00:00,active",
        "appropriateness_score",
        "0 to 100",
    ),
    (
        "kyc_documents.csv",
        "D9,C1,passport,2026-02-03T10:00:00+00:00,accepted,,,",
        "expires_on",
        "required",
    ),
    (
        "kyc_documents.csv",
        "D9,C1,proof_of_address,2026-02-03T10:00:00+00:00,rejected,,,",
        "rejection_reason",
        "required",
    ),
    ("partner_links.csv", "C1,P7,2026-04-01T00:00:00+00:00,", "partner_id", "no partner"),
    ("partner_links.csv", ",P1,2026-04-01T00:00:00+00:00,", "client_id", "required"),
    ("partner_links.csv", "C7,,2026-04-01T00:00:00+00:00,", "client_id", "no client 'C7'"),
    ("partner_links.csv", "C1,,2026-04-01T00:00:00,", "effective_from", "offset"),
    ("partner_links.csv", "C1,,,", "effective_from", "required"),
    (
        "trading_accounts.csv",
        "TA9,C1,MT5,S-Live,5002,real,USD,100,standard,2026-02-04T10:00:00+00:00,active,false",
        "leverage",
        "cap",
    ),
    (
        "trading_accounts.csv",
        "TA9,C1,MT5,S-Live,5001,real,USD,30,standard,2026-02-04T10:00:00+00:00,active,false",
        "login",
        "TA1",
    ),
    (
        "trading_accounts.csv",
        "TA9,C1,MT5,S-Live,5002,real,XXX,30,standard,2026-02-04T10:00:00+00:00,active,false",
        "currency",
        "not one of",
    ),
    (
        "trading_accounts.csv",
        "TA9,C1,MT5,S-Live,5002,real,USD,30,standard,2026-02-04T10:00:00+00:00,active,maybe",
        "commission_excluded",
        "true or false",
    ),
    (
        "payments.csv",
        "PAY9,C1,TA1,5001,S-Live,deposit,card,10.50,USD,0,2026-02-04T11:00:00+00:00,requested,"
        ",,client,,",
        "amount_cents",
        "whole number",
    ),
    (
        "payments.csv",
        "PAY9,C1,TA1,5001,S-Live,deposit,card,1000,EUR,0,2026-02-04T11:00:00+00:00,requested,"
        ",,client,,",
        "currency",
        "USD",
    ),
    (
        "payments.csv",
        "PAY9,C1,TA1,5009,S-Live,deposit,card,1000,USD,0,2026-02-04T11:00:00+00:00,requested,"
        ",,client,,",
        "login",
        "5001",
    ),
    (
        "payments.csv",
        "PAY9,C1,TA1,5001,S-Live,deposit,card,1000,USD,0,2026-02-04T11:00:00+00:00,executed,"
        "2026-02-04T11:20:00+00:00,2026-02-04T11:35:00+00:00,fred.finance,fred.finance,PSP-9",
        "approved_by",
        "own payment",
    ),
    (
        "payments.csv",
        "PAY9,C1,TA1,5001,S-Live,deposit,card,1000,USD,0,2026-02-04T11:00:00+00:00,executed,"
        "2026-02-04T11:20:00+00:00,2026-02-04T11:35:00+00:00,client,fay.finance,PSP-1",
        "provider_reference",
        "PAY1",
    ),
]


@pytest.mark.parametrize(("file", "row", "column", "words"), BAD_ROWS)
def test_a_bad_row_is_reported_and_not_written_and_the_others_import(
    file, row, column, words, tmp_path
):
    store = Store(tmp_path / "crm.sqlite")
    admin = Actor(
        create_first_admin(store, "admin", "Ada Admin", "quiet-harbour-lantern-7"), "admin", "admin"
    )
    files = dict(FILES)
    files[file] += row + "\n"
    bad_row = len(files[file].splitlines())  # the header is row 1
    report = import_directory(store, admin, write(tmp_path / "crm", files))

    assert len(report.failures) == 1, [str(f) for f in report.failures]
    failure = report.failures[0]
    assert (failure.file, failure.row, failure.column) == (file, bad_row, column)
    assert words in failure.reason, failure.reason
    assert report.files[file].failed == 1
    record_type, count = TYPES[file]
    assert len(store.records(record_type)) == count, "the other rows imported, the bad one not"
    assert not [e for e in store.events() if e["record_id"] in ("S-X", "L9", "C9", "TA9", "PAY9")]


def test_a_bad_plan_is_reported_with_its_position(admin_store, tmp_path):
    store, admin = admin_store
    plans = FILES["commission_plans.yaml"] + (
        "  - plan_id: BAD\n    split: [80, 30]\n    components:\n      - type: per_lot\n"
        "        rates: {fx_major: 8}\n"
        "  - plan_id: TWICE\n    components:\n      - {type: cpa, amount_usd: 1}\n"
    )
    report = import_directory(
        store, admin, write(tmp_path / "crm", {"commission_plans.yaml": plans})
    )
    assert [(f.row, f.column) for f in report.failures] == [(2, "split"), (3, "components.cpa")]
    assert [p.record_id for p in store.records("commission_plan")] == ["STD"]


def test_an_account_on_an_unregistered_server_is_refused_naming_it(admin_store, tmp_path):
    store, admin = admin_store
    files = dict(FILES)
    files["trading_accounts.csv"] = files["trading_accounts.csv"].replace("S-Live", "Broker-Real7")
    files["payments.csv"] = files["payments.csv"].splitlines()[0] + "\n"
    report = import_directory(store, admin, write(tmp_path / "crm", files))
    [failure] = report.failures
    assert (failure.file, failure.column) == ("trading_accounts.csv", "server")
    assert "Broker-Real7" in failure.reason and "platform_servers.csv" in failure.reason
    assert store.records("trading_account") == []


def test_only_an_admin_imports(admin_store, tmp_path):
    store, admin = admin_store
    create_user(store, admin, "sam.manager", "Sam", "sales_manager", "amber-quartz-meadow-4")
    sam = store.get("user", store.holder("user", "username", "sam.manager"))
    last = store.last_seq()
    with pytest.raises(NotPermitted):
        import_directory(store, Actor(sam.record_id, "sam.manager", "sales_manager"), tmp_path)
    [refusal] = store.events(after_seq=last)
    assert refusal["event_type"] == "command.refused" and refusal["actor"] == "sam.manager"


def test_the_cli_imports_as_the_named_user_and_sets_a_password(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path / "data"))
    for name in ("FXCRM_CRM_URL", "FXCRM_CRM_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("quiet-harbour-lantern-7\n"))
    create_admin = ["users", "create-admin", "--username", "admin", "--full-name", "A"]
    assert main([*create_admin, "--password-stdin"]) == 0
    folder = write(tmp_path / "crm", FILES)

    assert main(["crm", "import", str(folder), "--as", "admin"]) == 0
    out = capsys.readouterr().out
    assert "leads.csv" in out and "0 failed" in out
    assert main(["crm", "import", str(folder), "--as", "alice.agent"]) == 2
    assert "Not permitted" in capsys.readouterr().err

    (folder / "clients.csv").write_text(FILES["clients.csv"].replace(",80,", ",180,"))
    assert main(["crm", "import", str(folder), "--as", "admin"]) == 1
    assert "clients.csv row 2, column appropriateness_score: from 0 to 100" in (
        capsys.readouterr().err
    )

    monkeypatch.setattr("sys.stdin", io.StringIO("quiet-harbour-lantern-7\n"))
    set_password = ["users", "set-password", "--username", "alice.agent", "--password-stdin"]
    assert main([*set_password, "--as", "admin"]) == 0
    store = Store(tmp_path / "data" / "crm.sqlite")
    assert sign_in(store, "alice.agent", "quiet-harbour-lantern-7")[1].username == "alice.agent"
    assert store.events(event_type="user.password_reset")[-1]["actor"] == "admin"


@pytest.fixture
def demo_crm(small_world, tmp_path, monkeypatch):
    """The demo's staff and the small simulated brokerage's CRM history, imported as fxcrm demo
    does."""
    from ingest.crm.staff import create_demo_staff

    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_DOCUMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    store = Store(tmp_path / "crm.sqlite", tmp_path / "documents")
    staff = create_demo_staff(store)
    report = import_directory(store, staff["admin"].actor, small_world[0] / "crm")
    assert report.ok, [str(f) for f in report.failures[:5]]
    return store


def test_the_simulated_history_imports_whole_and_every_role_sees_its_data(demo_crm):
    from streamlit.testing.v1 import AppTest

    from ingest.crm.staff import demo_password
    from ingest.settings import PROJECT_ROOT

    store = demo_crm
    leads = store.records("lead")
    assert {lead["status"] for lead in leads} == {
        "new",
        "contacted",
        "qualified",
        "converted",
        "lost",
        "unqualified",
    }
    assert {p["status"] for p in store.records("payment")} >= {"executed", "rejected", "cancelled"}
    alice = store.holder("user", "username", "alice.agent")
    own = [lead for lead in leads if lead["owner_id"] == alice]
    assert 0 < len(own) < len(leads), "alice.agent owns some simulated leads, not all"

    for name, username in (
        ("leads", "sam.manager"),
        ("leads", "alice.agent"),
        ("clients", "sam.manager"),
        ("kyc_queue", "carol.compliance"),
        ("payments_queue", "frank.finance"),
        ("partners", "paul.partners"),
        ("users", "admin"),
    ):
        token, _ = sign_in(store, username, demo_password(username))
        at = AppTest.from_file(
            str(PROJECT_ROOT / "dashboards" / "pages" / f"{name}.py"), default_timeout=60
        )
        at.session_state["token"] = token
        at.run()
        assert not at.exception, (name, username, at.exception)
        assert at.dataframe and len(at.dataframe[0].value) > 0, (name, username)
        if username == "alice.agent":
            assert len(at.dataframe[0].value) <= len(own)


LEADS_HEADER = FILES["leads.csv"].splitlines()[0]


def lead_row(lead_id: str, email: str, status: str = "new") -> str:
    return f"{lead_id},2026-02-02T10:00:00+00:00,web_form,,,GB,en,Tom,Smith,{email},,,,{status},"


def test_rows_of_one_import_see_each_others_unique_keys(admin_store, tmp_path):
    """An import writes its rows in bulk: a row still sees the keys the rows before it took
    or gave up, so a duplicate is refused with its row and a key may move between records."""
    store, admin = admin_store
    rows = [lead_row("L1", "a@example.com"), lead_row("L2", "a@example.com")]
    folder = write(tmp_path / "crm", {"leads.csv": "\n".join([LEADS_HEADER, *rows]) + "\n"})
    report = import_directory(store, admin, folder)
    assert [(f.row, f.column) for f in report.failures] == [(3, "email")]
    assert "lead L1 already has email a@example.com" in report.failures[0].reason
    assert store.find("lead", "L2") is None

    rows = [lead_row("L1", "b@example.com"), lead_row("L3", "a@example.com")]
    write(folder, {"leads.csv": "\n".join([LEADS_HEADER, *rows]) + "\n"})
    moved = import_directory(store, admin, folder)
    assert moved.ok, [str(f) for f in moved.failures]
    assert store.holder("lead", "email", "a@example.com") == "L3"
    assert store.holder("lead", "email", "b@example.com") == "L1"
    assert store.verify().intact
    last = store.last_seq()
    assert import_directory(store, admin, folder).ok and store.last_seq() == last


def test_a_record_edited_behind_its_events_is_refused_by_its_row(admin_store, tmp_path):
    store, admin = admin_store
    rows = [lead_row("L1", "a@example.com"), lead_row("L2", "b@example.com")]
    folder = write(tmp_path / "crm", {"leads.csv": "\n".join([LEADS_HEADER, *rows]) + "\n"})
    assert import_directory(store, admin, folder).ok
    store.execute(
        "UPDATE records SET state = ? WHERE record_type = 'lead' AND record_id = 'L2'",
        [json.dumps(store.get("lead", "L2").state | {"status": "lost"})],
    )
    rows = [lead_row("L1", "a@example.com", "contacted"), lead_row("L2", "b@example.com", "lost")]
    write(folder, {"leads.csv": "\n".join([LEADS_HEADER, *rows]) + "\n"})
    report = import_directory(store, admin, folder)
    assert [(f.row, f.column) for f in report.failures] == [(3, "")]
    assert "changed behind its events" in report.failures[0].reason
    assert report.files["leads.csv"].updated == 1


def test_a_bulk_import_that_writes_and_forgets_often_keeps_every_guarantee(
    admin_store, tmp_path, monkeypatch
):
    """Small read-ahead, checkpoint and memory sizes, so every row crosses the batch's writes,
    commits and forgotten reads: the result is the same as one row at a time would leave."""
    import ingest.crm.imports as imports
    import ingest.crm.store as store_module

    monkeypatch.setattr(imports, "READ_AHEAD_ROWS", 2)
    monkeypatch.setattr(imports, "CHECKPOINT_ROWS", 3)
    monkeypatch.setattr(store_module, "KNOWN_RECORDS", 4)
    store, admin = admin_store
    folder = write(tmp_path / "crm", FILES)
    report = import_directory(store, admin, folder)
    assert report.ok, [str(f) for f in report.failures]
    for file, (record_type, count) in TYPES.items():
        assert len(store.records(record_type)) == count, file
    assert store.verify().intact
    last = store.last_seq()
    assert import_directory(store, admin, folder).ok and store.last_seq() == last
