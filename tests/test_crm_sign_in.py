"""Sign-in under attack: guessing is throttled per name and per address and locked until an admin
lifts it; unknown names answer like known ones and cannot flood the log; weak passwords are
refused; a password changes only with its event; concurrent first admins make one. On SQLite
and on PostgreSQL."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from ingest.crm import auth
from ingest.crm.commands import users
from ingest.crm.errors import CommandError, InvalidInput, NotPermitted
from ingest.crm.staff import demo_password
from ingest.crm.store import Store


def fail(store: Store, username: str, address: str = "203.0.113.7") -> str:
    """Sign in with a wrong password; the refusal's message."""
    with pytest.raises(auth.SignInFailed) as refused:
        auth.sign_in(store, username, "wrong-password-1", address)
    return str(refused.value)


def time_passes(store: Store) -> None:
    """As if the current wait were over (no test sleeps through it)."""
    store.execute("UPDATE sign_in_throttle SET wait_until = NULL")


def waited(store: Store, subject: str) -> float:
    [(last, until)] = store.query(
        "SELECT last_failure, wait_until FROM sign_in_throttle WHERE subject = ?", [subject]
    )
    return (datetime.fromisoformat(until) - datetime.fromisoformat(last)).total_seconds()


def test_guesses_wait_longer_and_longer_then_lock_until_an_admin_unlocks(
    cheap_hashing, crm_store, staff
):
    for _ in range(auth.FREE["user"]):
        assert fail(crm_store, "bob.agent") == "Wrong user name or password."
    with pytest.raises(auth.SignInThrottled, match=r"try again in 1 s"):
        auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"), "203.0.113.7")
    waits = [waited(crm_store, "user:bob.agent")]
    for _ in range(auth.LOCK_AFTER["user"] - auth.FREE["user"] - 1):
        time_passes(crm_store)
        fail(crm_store, "bob.agent")
        waits.append(waited(crm_store, "user:bob.agent"))
    assert [round(w) for w in waits] == [1, 2, 4, 8, 16, 32, 64]

    time_passes(crm_store)
    fail(crm_store, "bob.agent")  # the tenth: locked, from any address, right password or not
    for address in ("203.0.113.7", "198.51.100.1"):
        with pytest.raises(auth.SignInThrottled, match=r"locked.*ask an admin"):
            auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"), address)
    [locked] = crm_store.events(event_type="user.sign_in_locked")
    assert locked["record_id"] == staff["bob.agent"].user_id
    assert [(t.kind, t.value) for t in auth.throttles(crm_store) if t.locked_until] == [
        ("user", "bob.agent")
    ]

    with pytest.raises(NotPermitted, match=r"may not user\.unlock_sign_in"):
        users.unlock_sign_in(crm_store, staff["sam.manager"], "user", "bob.agent")
    users.unlock_sign_in(crm_store, staff["admin"], "user", "Bob.Agent")
    [unlocked] = crm_store.events(event_type="user.sign_in_unlocked")
    assert (unlocked["actor"], unlocked["record_id"]) == ("admin", staff["bob.agent"].user_id)
    _, actor = auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"), "198.51.100.1")
    assert actor == staff["bob.agent"]
    with pytest.raises(InvalidInput, match="no failed sign-ins to lift"):
        users.unlock_sign_in(crm_store, staff["admin"], "user", "bob.agent")


def test_an_address_guessing_many_names_is_throttled_and_locked(cheap_hashing, crm_store, staff):
    address = "192.0.2.50"
    for i in range(auth.FREE["address"]):
        fail(crm_store, f"guess{i}", address)
    with pytest.raises(auth.SignInThrottled, match="try again"):
        auth.sign_in(crm_store, "ann.analyst", demo_password("ann.analyst"), address)
    auth.sign_in(crm_store, "ann.analyst", demo_password("ann.analyst"), "192.0.2.51")
    crm_store.execute(
        "UPDATE sign_in_throttle SET failures = ? WHERE subject = ?",
        [auth.LOCK_AFTER["address"] - 1, f"address:{address}"],
    )
    time_passes(crm_store)
    fail(crm_store, "another.guess", address)
    with pytest.raises(auth.SignInThrottled, match="locked"):
        auth.sign_in(crm_store, "ann.analyst", demo_password("ann.analyst"), address)
    users.unlock_sign_in(crm_store, staff["admin"], "address", address)
    auth.sign_in(crm_store, "ann.analyst", demo_password("ann.analyst"), address)


def test_an_unknown_name_takes_as_long_as_a_wrong_password(crm_store, staff, monkeypatch):
    """The time a refusal takes is the password check's (argon2 costs ~100 ms, a lookup ~1 ms):
    an unknown name must run the same single check, against a hash of the same cost, as a
    wrong password for a real user. Counted, not timed, so a loaded machine cannot flake it."""
    checked: list[str] = []
    real = auth._hasher

    class Counting(type(real)):
        def verify(self, hashed, password):  # type: ignore[override]
            checked.append(hashed.split("$")[3])  # the cost parameters, m=…,t=…,p=…
            return super().verify(hashed, password)

    monkeypatch.setattr(
        auth, "_hasher", Counting(real.time_cost, real.memory_cost, real.parallelism)
    )
    auth._dummy_hash.cache_clear()
    fail(crm_store, "ann.analyst", "10.0.0.1")
    fail(crm_store, "nobody.at.all", "10.0.1.1")
    assert len(checked) == 2, "each refusal verifies exactly one hash"
    assert checked[0] == checked[1], "the unknown name's hash costs what a real user's does"


def test_invented_names_add_few_events_but_are_throttled_and_shown(
    cheap_hashing, crm_store, staff, monkeypatch
):
    monkeypatch.setattr(auth, "UNKNOWN_NAMES_EVENT_EVERY", timedelta(hours=1))  # a slow machine
    before = len(crm_store.events())
    names = 200
    for i in range(names):
        fail(crm_store, f"invented{i}", f"10.9.{i // 200}.{i % 200}")
    refused = crm_store.events(after_seq=before, event_type="user.sign_in_refused")
    assert len(crm_store.events(after_seq=before)) == len(refused) == 1
    assert json.loads(refused[0]["payload"])["refused"] == 1
    assert auth.unknown_names_not_yet_recorded(crm_store) == names - 1
    assert sum(t.kind == "user" for t in auth.throttles(crm_store)) == names
    for _ in range(auth.FREE["user"] - 1):
        fail(crm_store, "invented0")
    assert "try again" in fail(crm_store, "invented0")  # throttled like a real name

    crm_store.execute(  # a minute later, the next refusal sums up the ones before it
        "UPDATE sign_in_throttle SET wait_until = NULL WHERE subject = ?", [auth.UNKNOWN_NAMES]
    )
    fail(crm_store, "invented-late", "10.9.9.9")
    summed = crm_store.events(after_seq=before, event_type="user.sign_in_refused")[-1]
    assert json.loads(summed["payload"])["refused"] == names - 1 + auth.FREE["user"]
    assert auth.unknown_names_not_yet_recorded(crm_store) == 0


def test_an_unknown_name_is_not_written_to_the_log(cheap_hashing, crm_store, staff):
    """A name no user has is often a password typed into the wrong field: the log (kept for
    ever, copied to the warehouse, read on the Audit page) gets the count and the address."""
    typed = demo_password("alice.agent")
    fail(crm_store, typed, "10.9.9.9")
    [refused] = crm_store.events(event_type="user.sign_in_refused")
    assert typed not in json.dumps(refused)
    assert json.loads(refused["payload"]) == {
        "why": "unknown user name",
        "refused": 1,
        "address": "10.9.9.9",
    }
    assert "10.9.9.9" in refused["reason"]


def test_a_deactivated_user_is_not_told_the_password_was_right(cheap_hashing, crm_store, staff):
    admin, alice = staff["admin"], staff["alice.agent"]
    users.deactivate_user(crm_store, admin, alice.user_id, "left", 1)
    right = fail_with(crm_store, "alice.agent", demo_password("alice.agent"))
    assert right == fail(crm_store, "alice.agent") == "Wrong user name or password."
    assert crm_store.events(event_type="user.sign_in_refused")[-2]["reason"] == "inactive user"


def fail_with(store: Store, username: str, password: str) -> str:
    with pytest.raises(auth.SignInFailed) as refused:
        auth.sign_in(store, username, password, "203.0.113.8")
    return str(refused.value)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        (" " * 10, "not only spaces"),
        ("", "not only spaces"),
        ("password12", "too common"),
        ("Qwerty123456!", "too common"),
        ("iloveyou2026", "too common"),
        ("zoe.agent-2026", "user name"),
        ("my-Zoe_Agent-99", "user name"),
        ("s1", "at least 10"),
    ],
)
def test_weak_passwords_are_refused(cheap_hashing, crm_store, staff, password, why):
    admin = staff["admin"]
    with pytest.raises(InvalidInput, match=why):
        users.create_user(crm_store, admin, "zoe.agent", "Zoe", "analyst", password)
    assert crm_store.holder("user", "username", "zoe.agent") is None
    with pytest.raises(InvalidInput, match=why.replace("zoe.agent", "bob.agent")):
        users.reset_password(
            crm_store,
            admin,
            staff["bob.agent"].user_id,
            password.replace("zoe", "bob").replace("Zoe", "Bob"),
        )
    auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"))


def test_a_reset_whose_event_fails_keeps_the_old_password(
    cheap_hashing, crm_store, staff, monkeypatch
):
    bob = staff["bob.agent"]
    token, _ = auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "_event_for", broken)
    with pytest.raises(RuntimeError):
        users.reset_password(crm_store, staff["admin"], bob.user_id, "brand-new-pass-9")
    monkeypatch.undo()
    assert auth.actor_for(crm_store, token) == bob  # the session was not ended either
    fail_with(crm_store, "bob.agent", "brand-new-pass-9")
    auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"))


def _first_admin(url: str, name: str, ready, results) -> None:
    store = Store(url)
    ready.wait()
    try:
        users.create_first_admin(store, name, name.title(), "first-admin-pass-7")
        results.put("made")
    except CommandError as err:
        results.put(str(err))


def test_concurrent_first_admins_make_exactly_one(crm_store):
    context = multiprocessing.get_context("fork")
    ready, results, callers = context.Barrier(4), context.Queue(), 4
    processes = [
        context.Process(target=_first_admin, args=(crm_store.url, f"admin{i}", ready, results))
        for i in range(callers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    answers = sorted(results.get(timeout=5) for _ in range(callers))
    assert answers == ["An admin already exists: sign in as that admin to add users."] * 3 + [
        "made"
    ]
    [admin] = crm_store.records("user")
    assert crm_store.query("SELECT user_id FROM credentials") == [(admin.record_id,)]


def test_an_admin_unlocks_from_the_command_line(cheap_hashing, tmp_path):
    import os
    import subprocess
    import sys

    from ingest.crm.staff import create_demo_staff
    from ingest.settings import PROJECT_ROOT

    store = Store(tmp_path / "crm.sqlite", tmp_path / "documents")
    create_demo_staff(store)
    store.execute(
        "INSERT INTO sign_in_throttle VALUES ('user:admin', 10, ?, NULL, '2999-01-01')",
        [datetime.now(UTC).isoformat()],
    )
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FXCRM_")}

    def unlock(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "users", "unlock", *args],
            env={**inherited, "FXCRM_DATA_DIR": str(tmp_path)},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )

    refused = unlock("--as", "ann.analyst", "--username", "admin")
    assert refused.returncode == 2 and "Analyst" in refused.stderr
    done = unlock("--as", "admin", "--username", "admin")
    assert (done.returncode, done.stdout) == (0, "sign-in unlocked for user admin\n")
    auth.sign_in(store, "admin", demo_password("admin"))
