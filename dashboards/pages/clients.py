"""Client page: the list and registration, then one client's tabs: KYC documents, status and
permissions, trading accounts, payments, notes. Each tab is a function of the store, the actor
and the client, offering the forms of the commands the actor may run."""

from datetime import date

import streamlit as st

from dashboards.crm import (
    PAGE_SIZE,
    PAYMENT_COLUMNS,
    attempt,
    choose,
    contact_fields,
    crm_store,
    form_key,
    page_caption,
    page_offset,
    pick,
    show_flash,
    signed_in,
    table,
)
from dashboards.document_view import show_document
from ingest.crm import validate
from ingest.crm.access import can, visibility
from ingest.crm.commands import accounts, clients, payments
from ingest.crm.store import Actor, Record, Store


def main() -> None:
    actor = signed_in()
    store = crm_store()
    st.title("Clients")
    show_flash()
    shown = client_list(store, actor)
    if can(actor, "client.register"):
        register_form(store, actor)
    client = pick("Open client", shown, "name", "status", key="client_id")
    if client is None:
        st.info("No client to show.")
        st.stop()
    client_header(store, client)
    kyc_tab, status_tab, accounts_tab, payments_tab, notes_tab = st.tabs(
        ["KYC documents", "Status and permissions", "Trading accounts", "Payments", "Notes"]
    )
    with kyc_tab:
        kyc_documents(store, actor, client)
    with status_tab:
        status_and_permissions(store, actor, client)
    with accounts_tab:
        owned = trading_accounts(store, actor, client)
    with payments_tab:
        client_payments(store, actor, client, owned)
    with notes_tab:
        notes(store, actor, client)


def client_list(store: Store, actor: Actor) -> list[Record]:
    """The page of clients the actor sees that the search finds."""
    search = st.text_input("Search name, e-mail or phone")
    listed = store.page(
        "client",
        where=visibility(store, actor),
        search=search,
        limit=PAGE_SIZE,
        offset=page_offset("clients_page"),
    )
    st.dataframe(
        table(
            listed.records,
            ["name", "email", "country", "kyc_status", "status", "owner", "partner_id"],
        ),
        hide_index=True,
        width="stretch",
    )
    everyone = store.page("client", where=visibility(store, actor), limit=0).total
    st.caption(page_caption(listed, everyone, "clients"))
    return listed.records


def register_form(store: Store, actor: Actor) -> None:
    with st.expander("Register a client", icon=":material/person_add:"), st.form("register"):
        a, b = st.columns(2)
        contact = contact_fields(a, b)
        born = a.date_input(
            "Birth date", value=None, min_value=date(1900, 1, 1), max_value=date.today()
        )
        referral = b.text_input("Referral code")
        if st.form_submit_button("Register", type="primary"):
            attempt(
                "register",
                lambda: clients.register_client(
                    store,
                    actor,
                    **contact,
                    birth_date=born,
                    referral_code=referral,
                    idempotency_key=form_key("register"),
                ),
                f"{contact['name']} registered.",
            )


def client_header(store: Store, client: Record) -> None:
    st.subheader(client["name"])
    a, b, c, d = st.columns([3, 2, 2, 2])
    a.metric("KYC", client["kyc_status"].replace("_", " "))
    b.metric("Status", client["status"])
    c.metric("Risk", client.get("risk_level") or "not set")
    d.metric("Category", client["category"].replace("_", " "))
    partner = store.find("partner", client["partner_id"]) if client.get("partner_id") else None
    partner_name = f"{partner['name']} ({partner.record_id})" if partner else "none"
    st.caption(
        f"{client.record_id} · owner {client.get('owner') or 'nobody'} · partner {partner_name} · "
        f"version {client.version}"
    )


def kyc_documents(store: Store, actor: Actor, client: Record) -> None:
    documents = store.records("kyc_document", client_id=client.record_id)
    st.dataframe(
        table(
            documents,
            ["doc_type", "file_name", "status", "expires_on", "review_reason", "reviewed_by"],
        ),
        hide_index=True,
        width="stretch",
    )
    document = pick("Document", documents, "doc_type", "status", key="client_document_id")
    if document is not None and not document.get("sha256"):
        st.caption("Imported with its metadata only: the file stays in the broker's archive.")
    elif document is not None:
        show_document(store, actor, document, width=360)
    if (
        document is not None
        and document["status"] == clients.UPLOADED
        and can(actor, "client.review_document")
    ):
        # One form per document: a decision or reason given for one never carries to the next.
        with st.form(f"client_review:{document.record_id}"):
            decision = st.radio("Decision", list(clients.REVIEW_DECISIONS), horizontal=True)
            reason = st.text_input("Reason")
            if st.form_submit_button("Record decision"):
                attempt(
                    "client_review",
                    lambda: clients.review_document(
                        store, actor, document.record_id, decision, document.version, reason
                    ),
                    f"Document {document.record_id}: {clients.REVIEW_DECISIONS[decision]}.",
                )
    if can(actor, "client.upload_document"):
        with st.form("upload", clear_on_submit=True):
            doc_type = st.selectbox("Document", clients.DOCUMENT_TYPES)
            expires = st.date_input("Expires on", value=None)
            upload = st.file_uploader(
                "File (PDF, JPEG or PNG, up to 10 MB)", type=["pdf", "jpg", "jpeg", "png"]
            )
            if st.form_submit_button("Upload", type="primary"):
                if upload is None:
                    st.error("Choose a file first.")
                else:
                    attempt(
                        "upload",
                        lambda: clients.upload_document(
                            store,
                            actor,
                            client.record_id,
                            doc_type,
                            upload.name,
                            upload.getvalue(),
                            upload.type,
                            expires,
                            idempotency_key=form_key("upload"),
                        ),
                        f"{upload.name} uploaded.",
                    )


def status_and_permissions(store: Store, actor: Actor, client: Record) -> None:
    st.write(
        ", ".join(
            f"{p.replace('_', ' ')}: {'yes' if client[p] else 'no'}" for p in clients.PERMISSIONS
        )
    )
    if can(actor, "client.change_status"):
        with st.form("client_status"):
            status = st.selectbox(
                "New status", clients.STATUS_TRANSITIONS.get(client["status"], ())
            )
            reason = st.text_input("Reason")
            if st.form_submit_button("Change status"):
                attempt(
                    "client_status",
                    lambda: clients.change_status(
                        store, actor, client.record_id, status, reason, client.version
                    ),
                    f"{client['name']} is {status}.",
                )
    if can(actor, "client.set_permissions"):
        with st.form("permissions"):
            chosen = {
                p: st.checkbox(p.replace("_", " ").capitalize(), value=client[p])
                for p in clients.PERMISSIONS
            }
            reason = st.text_input("Reason", key="permissions_reason")
            if st.form_submit_button("Set permissions"):
                attempt(
                    "permissions",
                    lambda: clients.set_permissions(
                        store, actor, client.record_id, client.version, reason, **chosen
                    ),
                    "Permissions set.",
                )
    if can(actor, "client.set_risk_profile"):
        with st.form("risk"):
            risk = st.selectbox("Risk level", clients.RISK_LEVELS)
            category = st.selectbox("Category", clients.CATEGORIES)
            score = st.number_input("Appropriateness score", 0, 100, 50)
            screening = st.selectbox("Screening", clients.SCREENING)
            if st.form_submit_button("Set risk profile"):
                attempt(
                    "risk",
                    lambda: clients.set_risk_profile(
                        store,
                        actor,
                        client.record_id,
                        client.version,
                        risk_level=risk,
                        category=category,
                        appropriateness_score=int(score),
                        screening=screening,
                    ),
                    "Risk profile set.",
                )


def trading_accounts(store: Store, actor: Actor, client: Record) -> list[Record]:
    """The client's accounts and the forms to request, change, close and open them; returns
    the accounts, which the payments tab pays into."""
    owned = store.records("trading_account", client_id=client.record_id)
    st.dataframe(
        table(
            owned,
            [
                "platform",
                "server",
                "group",
                "currency",
                "leverage",
                "account_type",
                "login",
                "status",
            ],
        ),
        hide_index=True,
        width="stretch",
    )
    if can(actor, "account.request"):
        request_account_form(store, actor, client)
    changeable = [t for t in owned if t["status"] != accounts.CLOSED]
    if changeable and can(actor, "account.change"):
        with st.form("change_account"):
            account = choose(
                "Account", changeable, lambda t: f"{t.record_id} · {t.get('login') or 'no login'}"
            )
            group = st.text_input("New group (blank: keep)")
            leverage = st.selectbox(
                "New leverage",
                [None, *accounts.LEVERAGES],
                format_func=lambda x: "keep" if x is None else f"1:{x}",
            )
            reason = st.text_input("Reason", key="account_reason")
            change, close = st.columns(2)
            if change.form_submit_button("Change account"):
                attempt(
                    "change_account",
                    lambda: accounts.change_account(
                        store,
                        actor,
                        account.record_id,
                        account.version,
                        reason,
                        group=group.strip() or None,
                        leverage=leverage,
                    ),
                    "Account changed.",
                )
            if close.form_submit_button("Close account"):
                attempt(
                    "change_account",
                    lambda: accounts.close_account(
                        store, actor, account.record_id, reason, account.version
                    ),
                    "Account closed.",
                )
    requested = [t for t in owned if t["status"] == accounts.REQUESTED]
    if requested and can(actor, "account.record_login"):
        with st.form("record_login"):
            account = choose("Account", requested, lambda t: t.record_id)
            login = st.number_input("Platform login", min_value=1, step=1)
            if st.form_submit_button("Record login"):
                attempt(
                    "record_login",
                    lambda: accounts.record_login(
                        store, actor, account.record_id, int(login), account.version
                    ),
                    f"Login {int(login)} recorded.",
                )
    return owned


def request_account_form(store: Store, actor: Actor, client: Record) -> None:
    """An account on a registered trading server (its platform is the server's), in a currency
    the CRM takes."""
    servers = store.records("trading_server")
    if not servers:
        st.info(
            "No trading server is registered yet: an admin registers one on the Users page "
            "before accounts can be requested."
        )
        return
    with st.form("request_account"):
        a, b = st.columns(2)
        server = choose("Server", servers, lambda s: f"{s['name']} ({s['platform']})", where=a)
        group = b.text_input("Group", "real\\retail\\usd-std")
        currency = a.selectbox("Currency", validate.CURRENCIES)
        leverage = b.selectbox(
            "Leverage",
            accounts.LEVERAGES,
            index=accounts.LEVERAGES.index(accounts.RETAIL_LEVERAGE_CAP),
        )
        account_type = a.selectbox("Type", accounts.ACCOUNT_TYPES)
        if st.form_submit_button("Request account"):
            attempt(
                "request_account",
                lambda: accounts.request_account(
                    store,
                    actor,
                    client.record_id,
                    platform=server["platform"],
                    server=server["name"],
                    group=group,
                    currency=currency,
                    leverage=leverage,
                    account_type=account_type,
                    idempotency_key=form_key("request_account"),
                ),
                "Account requested.",
            )


def client_payments(store: Store, actor: Actor, client: Record, owned: list[Record]) -> None:
    paid = store.records("payment", client_id=client.record_id)
    st.dataframe(table(paid, PAYMENT_COLUMNS), hide_index=True, width="stretch")
    fundable = [t for t in owned if t["status"] != accounts.CLOSED]
    if can(actor, "payment.request") and not fundable:
        st.info("A payment goes to a trading account: request one first.")
    elif can(actor, "payment.request"):
        with st.form("request_payment"):
            a, b = st.columns(2)
            account = choose(
                "Trading account",
                fundable,
                lambda t: f"{t.get('login') or 'no login yet'} · {t['server']} · {t['currency']}",
                where=a,
            )
            kind = b.selectbox("Kind", payments.KINDS)
            method = a.selectbox("Method", payments.METHODS)
            amount = b.text_input("Amount (in the account's currency)")
            if st.form_submit_button("Request payment"):
                attempt(
                    "request_payment",
                    lambda: payments.request_payment(
                        store,
                        actor,
                        client.record_id,
                        kind=kind,
                        method=method,
                        amount=amount,
                        currency=account["currency"],
                        account_id=account.record_id,
                        idempotency_key=form_key("request_payment"),
                    ),
                    f"{kind.capitalize()} of {amount} {account['currency']} requested.",
                )
    open_requests = [p for p in paid if p["status"] in payments.TRANSITIONS]
    if open_requests and can(actor, "payment.cancel"):
        with st.form("cancel_payment"):
            request = choose("Payment", open_requests, lambda p: f"{p.record_id} · {p['amount']}")
            reason = st.text_input("Reason", key="cancel_reason")
            if st.form_submit_button("Cancel payment"):
                attempt(
                    "cancel_payment",
                    lambda: payments.cancel_payment(
                        store, actor, request.record_id, reason, request.version
                    ),
                    "Payment cancelled.",
                )


def notes(store: Store, actor: Actor, client: Record) -> None:
    for note in store.records("note", record_type="client", record_id=client.record_id):
        st.markdown(f"**{note['by']}** · {note['at'][:16].replace('T', ' ')}  \n{note['text']}")
    if can(actor, "note.add"):
        with st.form("note", clear_on_submit=True):
            text = st.text_area("Internal note")
            if st.form_submit_button("Add note"):
                attempt(
                    "note",
                    lambda: clients.add_note(store, actor, "client", client.record_id, text),
                    "Note added.",
                )


main()
