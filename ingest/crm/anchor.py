"""The CRM chain anchored outside the store, so a rewritten or truncated chain cannot pass.

The hash chain proves only that the events agree with each other: someone who can write the
store can delete its last events and move the chain head, or alter an event and re-hash
everything after it, and the chain still verifies. What they cannot change is what was recorded
elsewhere: the events the warehouse copied (ingest/crm/warehouse.py) and the checkpoints written
here, each an event's sequence number and hash signed with HMAC-SHA256 by a key kept outside the
store. A store that no longer holds those events with those hashes was rewritten, and the first
difference is named.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path

from ingest.crm.store import GENESIS, ChainReport, Store, now_utc, to_json


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    signature: str


def compare_with_store(
    store: Store, known: Iterable[list[tuple[int, str]]], where: Callable[[int], str]
) -> str | None:
    """The first of the `known` events (pages of sequence number and hash, ascending, as dense
    as a copy or as sparse as checkpoints; `where` says where each was recorded) that the store
    no longer holds as recorded, in words; None if it holds them all. One streamed query over
    the store's hashes; a page that matches the store's next one is passed at once."""
    hashes = store.hashes()
    stored: Iterator[tuple[int, str]] = hashes
    current = (0, GENESIS)
    try:
        for page in known:
            ahead = list(islice(stored, len(page)))
            if ahead == page:
                current = ahead[-1] if ahead else current
                continue
            stored = chain(ahead, stored)
            for seq, hash_ in page:
                while current[0] < seq and (following := next(stored, None)) is not None:
                    current = following
                if current[0] < seq:
                    return (
                        f"event {seq} ({where(seq)}) is no longer in the store, whose chain ends "
                        f"at event {current[0]}: the log was truncated"
                    )
                if current[0] > seq:
                    return (
                        f"event {seq} ({where(seq)}) is missing from the store: the log was cut "
                        "or renumbered there"
                    )
                if current[1] != hash_:
                    return (
                        f"event {seq} in the store is not the event {where(seq)}: the log was "
                        "rewritten from there"
                    )
        return None
    finally:
        hashes.close()


def signing_key(key_file: Path, create: bool = False) -> bytes:
    """The checkpoints' key: 32 random bytes in a file only its owner can read, made on first
    use. Kept outside the store, or whoever rewrites the store could re-sign the checkpoints."""
    if create and not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
    return bytes.fromhex(key_file.read_text().strip())


def _signature(key: bytes, seq: int, hash_: str, at: str) -> str:
    body = to_json({"seq": seq, "hash": hash_, "at": at}).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def write_checkpoint(store: Store, key_file: Path, checkpoints: Path) -> Checkpoint:
    """Sign the chain head and append it to `checkpoints` (one JSON object a line). Only an
    intact chain is anchored: signing a tampered one would vouch for it."""
    report = store.verify()
    if not report.intact:
        raise ValueError(f"not anchored: {report.message}")
    key = signing_key(key_file, create=True)
    seq, hash_ = store.head()
    at = now_utc()
    checkpoint = Checkpoint(seq, hash_, at, _signature(key, seq, hash_, at))
    checkpoints.parent.mkdir(parents=True, exist_ok=True)
    with checkpoints.open("a") as out:
        out.write(json.dumps(asdict(checkpoint)) + "\n")
    return checkpoint


def verify_checkpoints(store: Store, key_file: Path, checkpoints: Path) -> ChainReport:
    """Every checkpoint must carry its signature and name an event the store still holds with
    the hash it had when the checkpoint was signed."""
    if not checkpoints.exists():
        return ChainReport(True, 0, None, "no checkpoints yet (`fxcrm audit anchor` writes one)")
    if not key_file.exists():
        return ChainReport(False, 0, None, f"the checkpoints' key {key_file} is missing")
    key = signing_key(key_file)
    found = []
    for number, line in enumerate(checkpoints.read_text().splitlines(), start=1):
        try:
            checkpoint = Checkpoint(**json.loads(line))
            signed = hmac.compare_digest(
                checkpoint.signature,
                _signature(key, checkpoint.seq, checkpoint.hash, checkpoint.at),
            )
        except (ValueError, TypeError):
            signed = False
        if not signed:
            return ChainReport(
                False, 0, None, f"checkpoint {number} in {checkpoints} is not validly signed"
            )
        found.append(checkpoint)
    signed_at = {c.seq: c.at for c in found}
    known = sorted((c.seq, c.hash) for c in found if c.seq)
    if problem := compare_with_store(store, [known], lambda seq: f"as signed at {signed_at[seq]}"):
        return ChainReport(False, len(found), None, problem)
    return ChainReport(True, len(found), None, f"{len(found)} checkpoints match the store")
