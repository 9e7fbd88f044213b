"""`fxcrm serve` listens on this machine only by default and stops cleanly, children and all."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from conftest import settings_for
from serve_process import descendants, serving, still_running

# Each case starts `fxcrm serve`: Dagster's webserver and daemon and Streamlit, a minute or two
# of CPU on a shared machine (200 s of the fast lane's 540 s wall on 2026-12-01).
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_with_every_process_it_started(signum, tmp_path):
    settings = settings_for(tmp_path / "data")
    with serving(settings, tmp_path / "serve.log") as (process, dagster, streamlit):
        started = descendants(process.pid)
        assert any("dagster" in Path(f"/proc/{p}/cmdline").read_text() for p in started)
        assert len(started) >= 3  # dagster dev, its webserver and daemon, streamlit
        ports = {int(url.rsplit(":", 1)[1]) for url in (dagster, streamlit)}
        listening = _listening_addresses(ports)
        process.send_signal(signum)
        assert process.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while still_running(started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert still_running(started) == []
    assert listening and listening <= {"127.0.0.1", "::1"}


def _listening_addresses(ports: set[int]) -> set[str]:
    """The addresses listening on `ports`, read from /proc (IPv4 as little-endian hex; any IPv6
    listener counts as listening beyond this machine unless it is ::1)."""
    addresses = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            hex_ip, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) not in ports:  # 0A: LISTEN
                continue
            if table == "tcp":
                addresses.add(".".join(str(int(hex_ip[i : i + 2], 16)) for i in (6, 4, 2, 0)))
            else:
                addresses.add("::1" if hex_ip == "0" * 24 + "01000000" else hex_ip)
    return addresses
