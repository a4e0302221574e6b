"""Python's cycle collector, paused around stretches of synchronous work that allocate many
objects forming no cycles: an import's cells, rows, entries and records.

Reference counting frees those objects; the collector would only walk them again and again
as they pile up (about a quarter of the CPU of checking and building 100,000 rows). Paused
only inside blocks that do not await, so nothing else the process runs meanwhile (another
job of the worker, a request) ever runs with the collector off. The parsed sheet, which lives
through the whole import, is frozen out of the collector's view instead (freeze_parsed).
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


def freeze_parsed() -> None:
    """Take every object alive now out of the collector's view (gc.freeze), once an import's
    sheet is parsed: its million cells then live through the import without each collector
    pass walking them again (about 0.4 s of a 100,000-row import). The collector keeps
    running for everything made after; thaw() gives the frozen objects back to it."""
    gc.freeze()


def thaw() -> None:
    gc.unfreeze()
