"""Memory the process has freed, given back to the system: a wall board runs for weeks.

glibc's ``malloc`` keeps freed memory in its heaps for reuse and returns it to the system only
from the top of a heap, so a long-running process that allocates and frees all day (a board
at 100 events/s parses, renders and drops thousands of objects a second) keeps pages it no
longer uses. On the wallboard at 100 events/s most of the resident growth was such pages:
25 minutes grew it 4.7 MB as it was and 2.6 MB with ``malloc_trim`` once a minute, nearly all
of that in the first five minutes (BENCHMARKS.md). ``malloc_trim(0)`` hands the unused pages
inside the heaps back; it took about 5 ms on a 60 MB heap freed in holes, once a minute.

Where the C library has no ``malloc_trim`` (macOS, musl) this does nothing. ``ctypes`` is
imported on the first call, not at start.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

RELEASE_EVERY_S = 60.0
"""How often a long-running mode gives freed memory back."""


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes

    try:
        process = ctypes.CDLL(None)  # the symbols already loaded: the C library's among them
    except OSError:
        return None
    trim: Callable[[int], int] | None = getattr(process, "malloc_trim", None)
    return trim


def release_free_memory() -> bool:
    """Give the pages ``malloc`` holds but nothing uses back to the system; False where the C
    library cannot (or had none to give)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


async def release_periodically(interval_s: float = RELEASE_EVERY_S) -> None:
    """:func:`release_free_memory` every ``interval_s`` until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        release_free_memory()
