"""Benchmark a compose project's whole graph before and after shared-base extraction.

Both variants are temporary copies of the compose directory (the user's files are never
touched): ``before`` as it is, ``after`` rewritten by :func:`jettison.services.render_plan`.
Each is built as a graph (:func:`jettison.services.build.build_graph`):

* ``cold``: every target with ``--no-cache``;
* ``code_change``: one source file of every service changed, then a cached build;

then the services' images are smoke-checked and the unique bytes of all service images
(shared layers counted once) are measured. Every image built is removed at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.bench.runner import change_file, choose_code_file
from jettison.engine import docker_client, find_build_client, verify
from jettison.errors import JettisonError
from jettison.services.build import BuildEvents, GraphBuild, build_graph, remove_images
from jettison.services.graph import Graph, find_compose, load_graph
from jettison.services.measure import unique_bytes
from jettison.services.plan import make_plan
from jettison.services.render import render_plan
from jettison.units import megabytes

LABEL = "jettison.bench"


@dataclass
class VariantResult:
    name: str
    cold_seconds: float = 0.0
    code_change_seconds: float = 0.0
    code_change_cached: tuple[int, int] = (0, 0)  # (steps cached, steps)
    unique_bytes: int = 0
    naive_bytes: int = 0
    per_service_bytes: dict[str, int] = field(default_factory=dict)
    verified: dict[str, str] = field(default_factory=dict)  # service -> "" ok / failure
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ComposeBench:
    compose: str
    before: VariantResult
    after: VariantResult
    applied: list[str]

    @staticmethod
    def _pct(before: float, after: float) -> float | None:
        return None if not before else round(100.0 * (before - after) / before, 1)

    def comparison(self) -> dict[str, float | None]:
        b, a = self.before, self.after
        return {
            "cold_faster_pct": self._pct(b.cold_seconds, a.cold_seconds),
            "code_change_faster_pct": self._pct(b.code_change_seconds, a.code_change_seconds),
            "unique_bytes_smaller_pct": self._pct(b.unique_bytes, a.unique_bytes),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "compose": self.compose,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "applied": self.applied,
            "comparison": self.comparison(),
        }


def _copy(root: Path, dest: Path) -> None:
    shutil.copytree(
        root,
        dest,
        ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv", "node_modules"),
        symlinks=True,
    )


def _change_code(graph: Graph, marker: str) -> None:
    for target in graph.targets.values():
        if target.kind != "service":
            continue
        text = target.dockerfile.read_text(encoding="utf-8")
        rel = choose_code_file(target.context, text, [])
        if rel is None:
            raise JettisonError(
                f"service {target.name}: no source file to change", str(target.context)
            )
        change_file(target.context / rel, marker)


def _images(graph: Graph, build: GraphBuild) -> list[str]:
    return [r.image_id for r in build.results.values() if r.image_id] + [
        t.tag for t in graph.targets.values()
    ]


def run_variant(
    name: str,
    graph: Graph,
    *,
    jobs: int,
    check: bool,
    on_build: Callable[[str, str, GraphBuild], None] | None,
    events: BuildEvents | None,
    client: Any,
    sdk: Any,
) -> VariantResult:
    result = VariantResult(name)
    built: list[str] = []
    labels = {LABEL: "services"}
    try:
        cold = build_graph(
            graph, jobs=jobs, no_cache=True, labels=labels, events=events, client=client, sdk=sdk
        )
        built += _images(graph, cold)
        if on_build:
            on_build(name, "cold", cold)
        if not cold.ok:
            bad = next(r for r in cold.results.values() if r.status != "built")
            result.error = f"{bad.name}: {bad.error}"
            return result
        result.cold_seconds = cold.seconds
        _change_code(graph, f"jettison-bench {time.time_ns()}")
        warm = build_graph(graph, jobs=jobs, labels=labels, events=events, client=client, sdk=sdk)
        built += _images(graph, warm)
        if on_build:
            on_build(name, "code_change", warm)
        if not warm.ok:
            bad = next(r for r in warm.results.values() if r.status != "built")
            result.error = f"{bad.name}: {bad.error}"
            return result
        result.code_change_seconds = warm.seconds
        result.code_change_cached = (warm.steps_cached, warm.steps_total)
        services = [t for t in graph.targets.values() if t.kind == "service"]
        measured = unique_bytes([warm.results[t.name].image_id for t in services])
        result.unique_bytes = measured.total
        result.naive_bytes = measured.naive_total
        result.per_service_bytes = {
            t.name: measured.per_image[warm.results[t.name].image_id] for t in services
        }
        if check:
            for t in services:
                checked = verify(warm.results[t.name].image_id, sdk=sdk)
                result.verified[t.name] = "" if checked.ok else checked.summary()
        return result
    finally:
        remove_images(list(dict.fromkeys(built)), sdk)


def bench_compose(
    compose: str | Path,
    *,
    jobs: int = 2,
    slim: bool = True,
    check: bool = True,
    on_build: Callable[[str, str, GraphBuild], None] | None = None,
    events: BuildEvents | None = None,
) -> ComposeBench:
    """Measure the graph before and after; the user's files are never modified."""
    path = find_compose(compose)
    sdk = docker_client()
    client = find_build_client()
    root = path.parent
    stem = f"jb{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="jettison-services-bench-") as tmp:
        before_dir = Path(tmp) / f"{stem}-before"
        after_dir = Path(tmp) / f"{stem}-after"
        _copy(root, before_dir)
        _copy(root, after_dir)
        after_plan = make_plan(after_dir / path.name, slim=slim)
        rewrite = render_plan(after_plan)
        rewrite.write()
        before = run_variant(
            "before",
            load_graph(before_dir / path.name),
            jobs=jobs,
            check=check,
            on_build=on_build,
            events=events,
            client=client,
            sdk=sdk,
        )
        after = run_variant(
            "after",
            load_graph(after_dir / path.name),
            jobs=jobs,
            check=check,
            on_build=on_build,
            events=events,
            client=client,
            sdk=sdk,
        )
    return ComposeBench(str(path), before, after, rewrite.applied)


def render_bench_text(report: ComposeBench) -> str:
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:+.1f} %"

    b, a, c = report.before, report.after, report.comparison()
    lines = [f"compose graph benchmark: {report.compose}", ""]
    lines.append(f"{'':28}{'before':>14}{'after':>14}{'better by':>12}")
    lines.append(
        f"{'cold build (all targets)':28}{b.cold_seconds:>13.1f}s{a.cold_seconds:>13.1f}s"
        f"{pct(c['cold_faster_pct']):>12}"
    )
    lines.append(
        f"{'code-change rebuild':28}{b.code_change_seconds:>13.1f}s"
        f"{a.code_change_seconds:>13.1f}s{pct(c['code_change_faster_pct']):>12}"
    )
    lines.append(
        f"{'unique bytes (services)':28}{megabytes(b.unique_bytes):>14}"
        f"{megabytes(a.unique_bytes):>14}"
        f"{pct(c['unique_bytes_smaller_pct']):>12}"
    )
    lines.append(
        f"{'sum of image sizes':28}{megabytes(b.naive_bytes):>14}{megabytes(a.naive_bytes):>14}"
    )
    for v in (b, a):
        if v.error:
            lines.append(f"{v.name}: build failed: {v.error}")
        for service, failure in sorted(v.verified.items()):
            lines.append(f"{v.name} {service}: smoke check {failure if failure else 'ok'}")
    lines += ["", "changes (after):", *(f"  {line}" for line in report.applied)]
    return "\n".join(lines) + "\n"
