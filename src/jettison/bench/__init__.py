"""``jettison bench``: real before/after builds on BuildKit, measured per scenario.

:func:`bench_dockerfile` takes the command's inputs: :func:`build_variants` makes the two
sides (the Dockerfile as it is, and its fixed or given optimized version), :func:`run_bench`
builds them in temp copies of the context on the bench loop (:mod:`jettison.bench.loop`,
which a compose graph's bench, :mod:`jettison.bench.compose`, shares), and
:mod:`jettison.bench.report` renders the before/after tables.
"""

from __future__ import annotations

from jettison.bench.dockerfile_bench import bench_dockerfile
from jettison.bench.loop import BenchEvents
from jettison.bench.model import SCENARIOS, BenchReport, ScenarioResult, VariantResult
from jettison.bench.runner import BenchOptions, VariantSpec, run_bench
from jettison.bench.variants import build_variants

__all__ = [
    "SCENARIOS",
    "BenchEvents",
    "BenchOptions",
    "BenchReport",
    "ScenarioResult",
    "VariantResult",
    "VariantSpec",
    "bench_dockerfile",
    "build_variants",
    "run_bench",
]
