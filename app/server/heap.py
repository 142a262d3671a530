"""The cyclic collector and a serving process's heap: what start-up built, set aside.

A serving process imports and builds a large, long-lived heap before its first message:
the libraries, the rules and their compiled patterns, the Public Suffix List, the
confusables tables, SQLAlchemy's mappers (some 150,000 objects). CPython's collector
walks all of it at each collection of the oldest generation, which the allocations of
checking mail bring on every few seconds under load: a pause of 70-110 ms on the
development machine, during which no thread of the process runs, so every message in
flight waits for it. At 100 messages a second those pauses alone made the 99th
percentile of the SMTP door's acknowledgement latency.

``gc.freeze()`` moves every object alive at that moment into a permanent generation
that collections no longer walk (https://docs.python.org/3/library/gc.html#gc.freeze):
a full collection then takes about a millisecond. What is frozen is still freed by
reference counting when it is dropped; only a reference cycle among frozen objects
would stay. So it is done once, when start-up is over, after a collection that clears
start-up's own garbage.
"""

from __future__ import annotations

import gc
import logging
from time import perf_counter

log = logging.getLogger(__name__)


def set_start_up_heap_aside() -> None:
    """Collect start-up's garbage, then exempt what is left from later collections."""
    started = perf_counter()
    gc.collect()
    gc.freeze()
    log.debug(
        "start-up heap set aside from the collector: %d objects (%.0f ms)",
        gc.get_freeze_count(),
        (perf_counter() - started) * 1000,
    )
