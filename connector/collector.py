"""The garbage collector's settings while a process does its long work (serving requests,
syncing accounts, running jobs): one rule for every command that has such work.

Start-up (imports, the app and its schemas, engines, adapters: some 180,000 objects that live
as long as the process) is frozen out of the collector's walks, and a collection starts only
after many more container allocations than the default 700, since nearly everything a request
or a synced page makes dies by reference counting when it is done.

Measured in-process with the API benchmark's first page at 50 concurrent requests on SQLite:
the collector took 0.52 ms per request as it was, 0.19-0.24 ms with start-up's objects frozen,
and none in 2,000 requests with the threshold above what is in flight. In a full sync of
10,000 cases (`bench/sync_bench.py`'s embedded run) it took 0.37 s of the sync's 8.4 s of CPU
with the default threshold, and 0.06 s with 20,000 or more. What does not die with its request
or page (cycles) still starts a collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Container allocations (net of those freed) that start a collection during the long work.
#: An API page of cases holds some 300 containers until it is written out (50 clients: up to
#: 15,000 alive at once); a synced listing page a few thousand per account.
COLLECT_AFTER = 20_000


@contextmanager
def collector_set_for_work() -> Iterator[None]:
    """Freeze what exists now (call it once start-up is done) and raise the first generation's
    threshold until the block ends; both are undone on the way out."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(COLLECT_AFTER, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
