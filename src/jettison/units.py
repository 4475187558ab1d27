"""Byte sizes as jettison prints them: decimal units (1 kB = 1000 B), as ``docker images`` does.

One home for every byte formatter, importable from any layer (it imports nothing). The
variants differ only where outputs already differed, and each keeps its output byte for byte:

* :func:`human_bytes`: ``512 B``, ``1.2 kB``, ``3.4 MB``... up to ``largest`` (TB by default;
  the build-context rules and ``deps`` stop at GB, so 1.2 TB prints as ``1200.0 GB`` there);
  ``missing`` is what ``None`` prints as (``-`` in bench tables, ``?`` in deps messages);
* :func:`megabytes`: always in MB, ``digits`` after the point (bench tables of compose graphs,
  ``build`` summaries);
* :func:`kilo_or_megabytes`: MB from 100 kB up, else whole kB (rule messages about packages).
"""

from __future__ import annotations

_UNITS = ("B", "kB", "MB", "GB", "TB")


def human_bytes(n: float | None, *, largest: str = "TB", missing: str = "-") -> str:
    """``n`` bytes in the largest decimal unit under 1000 (never past ``largest``)."""
    if n is None:
        return missing
    size = float(n)
    for unit in _UNITS:
        if abs(size) < 1000 or unit == largest:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise ValueError(f"unknown unit {largest!r}")  # pragma: no cover - a caller's typo


def megabytes(n: float, digits: int = 1) -> str:
    """``n`` bytes in MB: ``megabytes(1_234_567)`` is ``1.2 MB``."""
    return f"{n / 1e6:.{digits}f} MB"


def kilo_or_megabytes(n: float) -> str:
    """MB from 100 kB up (``0.1 MB``), whole kB below (``42 kB``)."""
    return megabytes(n) if n >= 100_000 else f"{n / 1e3:.0f} kB"
