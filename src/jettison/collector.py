"""Pausing Python's cyclic garbage collector around passes that build many objects and free
none of them through cycles (an image's tar entries, the syntax trees of a project's files).

Every collection during such a pass walks all the objects made so far to free nothing: on a
base image about a tenth of the analysis time, on a 1,150-file project a fifth of the scan.
Reference counting still frees what the pass drops (a file's syntax tree once it is read).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's state is restored after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
