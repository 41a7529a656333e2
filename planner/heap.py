"""Keep Python's cyclic garbage collector off the objects a run holds from start to end.

Building a million objects (reading a file, sizing its VMs) triggers full collections
that scan what was built so far again and again: ``paused`` stops the collector while a
stage builds such a batch.

A plan of 1,000,000 VMs holds millions of objects for the whole run (the inventory, the
sized VMs, the hosts); none of them is garbage, yet each full collection scans them all,
about a tenth of the run's CPU. Within ``settled`` the objects alive on entry, and at each
``settle()``, are frozen (``gc.freeze``): the collector skips them until the outermost
``settled`` ends and unfreezes them. Reference counting still frees everything at once;
only cycles made unreachable meanwhile wait for the end. Results do not depend on it.

    with settled():
        problem = build_problem(...)
        settle()  # the problem too
        ...
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["paused", "settle", "settled"]

_lock = threading.Lock()
_open = [0]  # settled blocks open, in every thread (the app plans in threads)


@contextlib.contextmanager
def settled() -> Iterator[None]:
    """Freeze the objects alive now until the outermost ``settled`` block ends."""
    with _lock:
        _open[0] += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _open[0] -= 1
            if _open[0] == 0:
                gc.unfreeze()


def settle() -> None:
    """Inside ``settled``: freeze what is alive now as well (a large object just built)."""
    with _lock:
        if _open[0]:
            gc.freeze()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector while a stage builds many objects, none of them garbage.

    Reference counting still frees everything; the collector resumes (if it ran before) at
    the end. Of threads pausing at once, the first to pause finds it running and resumes it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
