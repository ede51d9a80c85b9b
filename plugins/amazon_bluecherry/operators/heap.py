"""The garbage collector during a bulk step of a task (thousands of POs in one call).

A task process holds Airflow, pandas and Great Expectations before our step allocates
anything, and the step builds millions of small objects (50 lines a PO, each a few dicts
and models), nearly all freed by reference counting. With the default thresholds the
collector ran a full pass, over the whole heap, dozens of times per step: a third of the
order path's CPU at 1,000 POs (``bench/bench_orders.py``, gc callbacks).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation threshold while a bulk step runs (CPython's default is 700): the
# collector still runs, and finds cycles, but every 50,000 allocations rather than 700.
BULK_GC_THRESHOLD = (50_000, 20, 10)


@contextmanager
def bulk_step() -> Iterator[None]:
    """What the process held before the step is left out of the collector's passes
    (``gc.freeze``) and the collector runs less often; both undone on exit, so nothing is
    kept alive longer than the step."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BULK_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
