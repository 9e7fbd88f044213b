"""One of several processes writing to the same CRM store at once (test_crm_store).

python tests/crm_writer.py STORE_URL WRITER_NUMBER EVENTS
"""

import sys

from ingest.crm.errors import Duplicate, StaleVersion
from ingest.crm.store import Actor, Change, Store


def write_many(url: str, writer: int, count: int) -> None:
    """`count` new leads, and as many bumps of one shared lead, retrying a bump whenever
    another writer got there first."""
    store = Store(url)
    actor = Actor(f"U-{writer}", f"writer{writer}", "sales_agent")
    for i in range(count):
        store.append(actor, [Change("lead", f"L-{writer}-{i}", "lead.updated", {"n": i}, 0)])
        while True:
            shared = store.find("lead", "SHARED")
            try:
                store.append(
                    actor,
                    [
                        Change(
                            "lead",
                            "SHARED",
                            "lead.updated",
                            {"last": f"{writer}-{i}"},
                            shared.version if shared else 0,
                        )
                    ],
                )
                break
            except (StaleVersion, Duplicate):
                continue


if __name__ == "__main__":
    write_many(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
