"""`fxcrm serve`, or the Streamlit app alone, started by a test, and stopped with every process
it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from conftest import env_for

from ingest.settings import PROJECT_ROOT, Settings
from orchestration.cli import streamlit_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: int = 300) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{url} never answered:\n{log.read_text()[-4000:]}") from None
            time.sleep(0.5)


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (None if fields[0] == "Z" else (int(fields[1]), fields[19])) if fields else None


def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid`, with its start time (so a reused pid is not it)."""
    parents: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            parents.setdefault(stat[0], []).append(int(entry.name))
            started[int(entry.name)] = stat[1]
    found, todo = {}, list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        found[child] = started[child]
        todo.extend(parents.get(child, []))
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    return [pid for pid, start in processes.items() if (s := _stat(pid)) and s[1] == start]


@contextmanager
def serving(settings: Settings, log: Path, extra_env: dict[str, str] | None = None) -> Iterator:
    """`fxcrm serve` on free ports (dbt's docs too: a fixed port another test or session holds
    stops the whole serve): yields (process, Dagster URL, Streamlit URL); afterwards every
    process it started is gone, by SIGTERM or, failing that, SIGKILL."""
    dagster_port, streamlit_port, docs_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "serve",
            "--dagster-port",
            str(dagster_port),
            "--streamlit-port",
            str(streamlit_port),
            "--docs-port",
            str(docs_port),
        ],
        cwd=PROJECT_ROOT,
        env=env_for(settings) | (extra_env or {}),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    dagster, streamlit = f"http://127.0.0.1:{dagster_port}", f"http://127.0.0.1:{streamlit_port}"
    started: dict[int, str] = {}
    try:
        assert wait_for(f"{streamlit}/_stcore/health", process, log) == b"ok"
        wait_for(f"{dagster}/server_info", process, log)
        started = descendants(process.pid)
        yield process, dagster, streamlit
    finally:
        started |= descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        finally:
            for pid in still_running(started):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def serve_streamlit(settings: Settings, log: Path) -> Iterator[str]:
    """The Streamlit app alone on a free port (for pages that need no Dagster), stopped
    afterwards with every process it started."""
    port = free_port()
    process = subprocess.Popen(
        streamlit_command(port),
        cwd=PROJECT_ROOT,
        env=env_for(settings),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/_stcore/health", process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
