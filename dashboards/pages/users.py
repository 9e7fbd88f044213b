"""User administration: create users, set roles and teams, deactivate, reset passwords; and the
registry of trading servers (an admin's too)."""

import streamlit as st

from dashboards.crm import attempt, crm_store, form_key, pick, show_flash, signed_in, table
from ingest.crm import auth
from ingest.crm.access import ROLE_NAMES, ROLES
from ingest.crm.commands import accounts, users

actor = signed_in()
store = crm_store()
st.title("Users")
show_flash()
everyone = store.records("user")
st.dataframe(
    table(everyone, ["username", "full_name", "role", "team", "active"]),
    hide_index=True,
    width="stretch",
)

with st.expander("New user", icon=":material/person_add:"), st.form("new_user"):
    username = st.text_input("User name")
    full_name = st.text_input("Full name")
    role = st.selectbox("Role", ROLES, format_func=ROLE_NAMES.get)
    team = st.text_input("Team (sales)")
    password = st.text_input("First password", type="password")
    if st.form_submit_button("Create user", type="primary"):
        attempt(
            "new_user",
            lambda: users.create_user(
                store,
                actor,
                username,
                full_name,
                role,
                password,
                team,
                idempotency_key=form_key("new_user"),
            ),
            f"User {username} created.",
        )

throttled = auth.throttles(store)
with st.expander(
    f"Sign-in throttling ({sum(1 for t in throttled if t.locked_until)} locked)",
    icon=":material/lock:",
):
    st.caption(
        "User names and addresses with failed sign-ins in the last hour, or locked. Refusals "
        f"for unknown user names not yet summed into an event: "
        f"{auth.unknown_names_not_yet_recorded(store)}."
    )
    st.dataframe(
        [t.__dict__ for t in throttled],
        column_order=["kind", "value", "failures", "last_failure", "wait_until", "locked_until"],
        hide_index=True,
        width="stretch",
    )
    if throttled:
        with st.form("unlock"):
            chosen = st.selectbox(
                "Name or address", throttled, format_func=lambda t: f"{t.kind} {t.value}"
            )
            if st.form_submit_button("Unlock sign-in"):
                attempt(
                    "unlock",
                    lambda: users.unlock_sign_in(store, actor, chosen.kind, chosen.value),
                    f"Sign-in unlocked for {chosen.kind} {chosen.value}.",
                )

with st.expander("Trading servers", icon=":material/dns:"):
    st.caption(
        "The platform servers accounts live on, and the time zone each one's clock keeps: the "
        "warehouse converts a server's deal times to UTC with it from the next build on."
    )
    st.dataframe(
        table(store.records("trading_server"), ["name", "platform", "time_zone"]),
        hide_index=True,
        width="stretch",
    )
    with st.form("server"):
        name_col, platform_col, zone_col = st.columns(3)
        server_name = name_col.text_input("Server (as the platform names it)")
        platform = platform_col.selectbox("Platform", accounts.PLATFORMS)
        zone = zone_col.text_input("IANA time zone", placeholder="Europe/Athens")
        if st.form_submit_button("Register server"):
            attempt(
                "server",
                lambda: accounts.register_server(
                    store, actor, name=server_name.strip(), platform=platform, time_zone=zone
                ),
                f"Server {server_name} registered.",
            )

user = pick("User", everyone, "username", "role", key="user_id")
if user is None:
    st.stop()
role_col, off_col, password_col = st.columns(3)
with role_col, st.form("role"):
    role = st.selectbox("Role", ROLES, index=ROLES.index(user["role"]), format_func=ROLE_NAMES.get)
    team = st.text_input("Team", user.get("team") or "")
    if st.form_submit_button("Set role"):
        attempt(
            "role",
            lambda: users.set_role(store, actor, user.record_id, role, user.version, team),
            f"{user['username']} is {role}.",
        )
with off_col, st.form("deactivate"):
    reason = st.text_input("Reason")
    if st.form_submit_button("Deactivate", disabled=not user.get("active")):
        attempt(
            "deactivate",
            lambda: users.deactivate_user(store, actor, user.record_id, reason, user.version),
            f"{user['username']} deactivated.",
        )
with password_col, st.form("password"):
    password = st.text_input("New password", type="password")
    if st.form_submit_button("Reset password"):
        attempt(
            "password",
            lambda: users.reset_password(store, actor, user.record_id, password),
            "Password reset.",
        )
