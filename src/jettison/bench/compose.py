"""Benchmark a compose project's whole graph before and after shared-base extraction.

Both variants are temporary copies of the compose directory (the user's files are never
touched): ``before`` as it is, ``after`` rewritten by :func:`jettison.services.render_plan`.
Each is a :class:`GraphUnit` of the bench loop (:mod:`jettison.bench.loop`, the same loop as
a single Dockerfile's bench: interleaved, the cache primed, edits, cleanup), built as a graph
(:func:`jettison.services.graph_builder.build_graph`) in the scenarios of :data:`SCENARIOS`:

* ``cold``: every target with ``--no-cache``;
* ``code_change``: one source file of every service changed, then a cached build;

then the services' images are smoke-checked and the unique bytes of all service images
(shared layers counted once) are measured. Every image built is removed at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.bench.edits import change_file, choose_code_file
from jettison.bench.loop import BenchLoop, BuildFailure, UnitRecord
from jettison.bench.model import Run
from jettison.bench.scenarios import CODE_CHANGE, COLD, Scenario
from jettison.engine import docker_client, find_build_client, verify
from jettison.engine.images import remove_images
from jettison.errors import JettisonError
from jettison.services.graph import Graph, find_compose, load_graph
from jettison.services.graph_builder import BuildEvents, GraphBuild, build_graph
from jettison.services.measure import unique_bytes
from jettison.services.plan import make_plan
from jettison.services.render import render_plan

LABEL = "jettison.bench"
SCENARIOS: tuple[Scenario, ...] = (COLD, CODE_CHANGE)  # in this order


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


@dataclass
class GraphUnit:
    """One variant: the compose graph of one copy of the project."""

    name: str  # before | after
    graph: Graph
    result: VariantResult  # the final images' figures go here
    jobs: int
    check: bool
    on_build: Callable[[str, str, GraphBuild], None] | None
    events: BuildEvents | None
    client: Any
    sdk: Any
    built: list[str] = field(default_factory=list)  # image ids and tags, to remove
    last: GraphBuild | None = None  # the last build that succeeded: its images are measured

    def build(self, scenario: Scenario, repetition: int, measured: bool) -> Run | BuildFailure:
        done = build_graph(
            self.graph,
            jobs=self.jobs,
            no_cache=scenario.no_cache,
            labels={LABEL: "services"},
            events=self.events if measured else None,  # priming builds are not shown
            client=self.client,
            sdk=self.sdk,
        )
        self.built += _images(self.graph, done)
        if measured and self.on_build:
            self.on_build(self.name, scenario.name, done)
        if not done.ok:
            bad = next(r for r in done.results.values() if r.status != "built")
            return BuildFailure(f"{bad.name}: {bad.error}")
        self.last = done
        return Run(scenario.name, repetition, done.seconds, done.steps_total, done.steps_cached, "")

    def edit(self, kind: str, marker: str) -> None:
        assert kind == "code", "the compose bench's scenarios change code only"
        _change_code(self.graph, marker)

    def final_images(self, failed: bool) -> None:
        if failed or self.last is None:
            return
        results = self.last.results
        services = [t for t in self.graph.targets.values() if t.kind == "service"]
        measured = unique_bytes([results[t.name].image_id for t in services])
        self.result.unique_bytes = measured.total
        self.result.naive_bytes = measured.naive_total
        self.result.per_service_bytes = {
            t.name: measured.per_image[results[t.name].image_id] for t in services
        }
        if self.check:
            for t in services:
                checked = verify(results[t.name].image_id, sdk=self.sdk)
                self.result.verified[t.name] = "" if checked.ok else checked.summary()

    def cleanup(self) -> None:
        remove_images(list(dict.fromkeys(self.built)), self.sdk)


def _timings(result: VariantResult, record: UnitRecord) -> None:
    """The figures of the runs (one per scenario), and why a build failed."""
    for run in record.runs[COLD.name]:
        result.cold_seconds = run.seconds
    for run in record.runs[CODE_CHANGE.name]:
        result.code_change_seconds = run.seconds
        result.code_change_cached = (run.steps_cached, run.steps_total)
    if record.failure is not None:
        result.error = record.failure.message


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
    stem = f"jb{os.getpid()}"  # the copies' folder names are their compose project names
    with tempfile.TemporaryDirectory(prefix="jettison-services-bench-") as tmp:
        before_dir = Path(tmp) / f"{stem}-before"
        after_dir = Path(tmp) / f"{stem}-after"
        _copy(root, before_dir)
        _copy(root, after_dir)
        after_plan = make_plan(after_dir / path.name, slim=slim)
        rewrite = render_plan(after_plan)
        rewrite.write()
        before, after = VariantResult("before"), VariantResult("after")
        with BenchLoop() as loop:
            for result, copy in ((before, before_dir), (after, after_dir)):
                graph = load_graph(copy / path.name)
                loop.add(
                    GraphUnit(
                        result.name, graph, result, jobs, check, on_build, events, client, sdk
                    )
                )
            records = loop.run(SCENARIOS, 1, secrets.token_hex(3))
    _timings(before, records["before"])
    _timings(after, records["after"])
    return ComposeBench(str(path), before, after, rewrite.applied)
