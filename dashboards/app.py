"""The fxcrm Streamlit app: sign in, then the pages the user's role works with.

Navigation is built from the role, but hiding a page is only a convenience: every command
checks the actor's permission itself."""

import json
from pathlib import Path

import streamlit as st

from dashboards.crm import crm_store, forget_session
from ingest.crm import auth
from ingest.crm.access import PAGE_ROLES, ROLE_NAMES

st.set_page_config(page_title="fxcrm", page_icon=":material/candlestick_chart:", layout="wide")

PAGES = [  # section, file, title, icon; the roles each page is for are access.PAGE_ROLES
    ("Sales", "pages/leads.py", "Leads", "inbox"),
    ("Sales", "pages/lead_import.py", "Lead import", "upload_file"),
    ("Sales", "pages/lead_pipeline.py", "Lead pipeline", "filter_alt"),
    ("Clients", "pages/clients.py", "Clients", "person"),
    ("Clients", "pages/kyc_queue.py", "KYC review", "verified_user"),
    ("Clients", "pages/payments_queue.py", "Payments", "payments"),
    ("Partners", "pages/partners.py", "Partners", "handshake"),
    ("Partners", "pages/commissions.py", "Commission statements", "request_quote"),
    ("Partners", "pages/partner_performance.py", "Partner performance", "monitoring"),
    ("Reports", "pages/sales_overview.py", "Sales overview", "monitoring"),
    ("Reports", "pages/agents.py", "Agents", "leaderboard"),
    ("Reports", "pages/money.py", "Money", "account_balance"),
    ("Reports", "pages/compliance_overview.py", "Compliance overview", "gpp_maybe"),
    ("Trading", "pages/trading_volume.py", "Trading volume", "bar_chart"),
    ("Trading", "pages/reconciliation.py", "Reconciliation", "rule"),
    ("Admin", "pages/users.py", "Users", "group"),
    ("Admin", "pages/audit.py", "Audit trail", "policy"),
]


def client_address() -> str:
    """The browser's IP address, for throttling guesses per address. Streamlit gives none for a
    connection from this machine: behind a reverse proxy here, the address the proxy added to
    X-Forwarded-For (its last entry, the one a client cannot forge); else one shared `local`."""
    address = st.context.ip_address
    if isinstance(address, str) and address:  # a test's mocked runtime gives a stand-in object
        return address
    forwarded = st.context.headers.get("X-Forwarded-For")
    return (forwarded.rsplit(",", 1)[-1].strip() if isinstance(forwarded, str) else "") or "local"


def sign_in_page() -> None:
    st.title("fxcrm")
    with st.form("sign_in"):
        username = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                token, _ = auth.sign_in(crm_store(), username, password, client_address())
            except auth.SignInFailed as err:
                st.error(str(err))
            else:
                forget_session(token=token)  # nothing of a user before, the typed password too
                st.rerun()


def sign_out() -> None:
    """End the session and forget all this browser session held (a document preview, a form's
    input): the next user signing in here starts with none of it."""
    token = st.session_state.get("token")
    forget_session(signed_out=True)
    if token:
        auth.sign_out(crm_store(), token)


# A browser refresh or a link opened directly starts a new Streamlit session: the browser's
# session cookie carries the sign-in over, and the token never appears in the address.
SESSION_COOKIE = "fxcrm_session"


def remembered_token() -> str | None:
    """This session's token, else the one this browser's cookie holds (unless the user signed
    out here)."""
    if token := st.session_state.get("token"):
        return token
    if st.session_state.get("signed_out"):
        return None
    return st.context.cookies.to_dict().get(SESSION_COOKIE)


def keep_session_cookie(token: str | None) -> None:
    """Set the browser's session cookie to `token` (None clears it). Streamlit sets no cookies
    of its own, so a script does: first-party, SameSite=Strict, Secure over HTTPS, ending with
    the session. The token is stored only hashed on the server and ends at sign-out."""
    value = json.dumps(token or "")
    max_age = auth.SESSION_HOURS * 3600 if token else 0
    st.html(
        "<script>document.cookie = "
        f"'{SESSION_COOKIE}=' + encodeURIComponent({value}) + '; Path=/; Max-Age={max_age}; "
        "SameSite=Strict' + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


actor = None
if token := remembered_token():
    try:
        actor = auth.actor_for(crm_store(), token)
        st.session_state["token"] = token
    except auth.SessionExpired as err:
        forget_session(signed_out=True)
        st.warning(str(err))

HERE = Path(__file__).parent  # pages are named from here: Streamlit runs streamlit_app.py

if actor is None:
    # Every page's address leads to the sign-in form, so a link opened directly (or a refresh
    # of a page whose session ended) signs in there and then shows that page, not a "page not
    # found" over the form.
    sign_in_pages = [st.Page(sign_in_page, title="Sign in", icon=":material/login:")] + [
        st.Page(sign_in_page, title="Sign in", url_path=Path(path).stem, visibility="hidden")
        for _, path, *_ in PAGES
    ]
    if st.session_state.get("signed_out"):
        keep_session_cookie(None)
    st.navigation(sign_in_pages).run()
else:
    sections: dict[str, list] = {}
    for section, path, title, icon in PAGES:
        if actor.role in PAGE_ROLES[Path(path).stem]:
            sections.setdefault(section, []).append(
                st.Page(
                    HERE / path, title=title, icon=f":material/{icon}:", url_path=Path(path).stem
                )
            )
    with st.sidebar:
        st.caption(f"Signed in as **{actor.username}** ({ROLE_NAMES[actor.role]})")
        st.button("Sign out", on_click=sign_out, icon=":material/logout:")
        keep_session_cookie(token)
    st.navigation(sections).run()
