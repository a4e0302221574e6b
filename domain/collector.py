"""Python's cycle collector, paused around stretches of synchronous work that allocate many
objects forming no cycles: an import's cells, rows, entries and records.

Reference counting frees those objects; the collector would only walk them again and again
as they pile up (about a quarter of the CPU of checking and building 100,000 rows). Paused
only inside blocks that do not await, so nothing else the process runs meanwhile (another
job of the worker, a request) ever runs with the collector off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for a block that does not await; a collector that was off stays
    off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
