"""``jettison bench``: real before/after builds on BuildKit, measured per scenario.

:func:`build_variants` makes the two sides (the Dockerfile as it is, and its fixed or given
optimized version), :func:`run_bench` builds them interleaved in temp copies of the context,
and :mod:`jettison.bench.report` renders the before/after tables.
"""

from __future__ import annotations

from jettison.bench.model import SCENARIOS, BenchReport, ScenarioResult, VariantResult
from jettison.bench.runner import BenchEvents, BenchOptions, VariantSpec, run_bench
from jettison.bench.variants import build_variants

__all__ = [
    "SCENARIOS",
    "BenchEvents",
    "BenchOptions",
    "BenchReport",
    "ScenarioResult",
    "VariantResult",
    "VariantSpec",
    "build_variants",
    "run_bench",
]
