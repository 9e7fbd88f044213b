"""Many callers sending one command with the same idempotency key at once, from several
processes (test_crm_hardening): what each caller was answered."""

from __future__ import annotations

import multiprocessing
import pkgutil
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path
from typing import Any
from unittest import mock

from ingest.crm import auth, commands
from ingest.crm.errors import CommandError
from ingest.crm.store import Actor, Store

COMMAND_MODULES = [f"ingest.crm.commands.{m.name}" for m in pkgutil.iter_modules(commands.__path__)]


def _call(url: str, documents: str, command: str, actor: Actor, kwargs: dict[str, Any]) -> str:
    module, name = command.rsplit(".", 1)
    run = getattr(import_module(f"ingest.crm.commands.{module}"), name)
    try:
        return str(run(Store(url, Path(documents)), actor, **kwargs))
    except CommandError as err:
        return f"{type(err).__name__}: {err}"


def _process(
    start, answers, hasher, url, documents, command, actor, kwargs, callers, threads
) -> None:
    auth._hasher = hasher  # the parent's (a test's strength): a new process starts afresh
    start.wait()
    with ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(_call, url, documents, command, actor, kwargs) for _ in range(callers)
        ]
        answers.put([f.result() for f in futures])


def same_key_at_once(
    store: Store,
    command: str,
    actor: Actor,
    kwargs: dict[str, Any],
    processes: int = 4,
    callers: int = 20,
    threads: int = 10,
) -> list[str]:
    """Every answer of `processes` times `callers` calls of `command` (module.function under
    ingest/crm/commands), released together; at most `threads` at a time per process, so
    PostgreSQL's connection limit is not what is tested."""
    ctx = multiprocessing.get_context("forkserver")
    # Fresh processes, forked from one server that imported the commands once per session: a
    # spawned process paid those imports (pandera's among them, 3 CPU-seconds) for every caller.
    ctx.set_forkserver_preload(["crm_callers", *COMMAND_MODULES])
    start, answers = ctx.Barrier(processes), ctx.Queue()
    args = (
        start,
        answers,
        auth._hasher,
        store.url,
        str(store.documents_dir),
        command,
        actor,
        kwargs,
    )
    workers = [
        ctx.Process(target=_process, args=(*args, callers, threads)) for _ in range(processes)
    ]
    # A new process re-runs the parent's `__main__` file; after a Streamlit AppTest that is
    # the last page script run (it fails outside a session), so the workers start from none.
    with mock.patch.dict(sys.modules, {"__main__": types.ModuleType("__main__")}):
        for worker in workers:
            worker.start()
    found = [answer for _ in workers for answer in answers.get(timeout=600)]
    for worker in workers:
        worker.join(timeout=60)
    return found
