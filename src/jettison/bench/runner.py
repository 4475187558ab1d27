"""Benchmarking one Dockerfile: its variants in temp copies of the context, on the bench loop.

Each variant (the Dockerfile as it is, and its jettison-fixed or ``--against`` version)
builds in a private copy of the build context, so the user's files are never modified: a
:class:`DockerfileUnit` of :mod:`jettison.bench.loop`, which runs the scenarios of
:mod:`jettison.bench.scenarios` interleaved, primes the cache and writes the edits
(:mod:`jettison.bench.edits`):

* ``cold``: ``--no-cache`` (base images are already present locally and not pulled);
* ``warm``: the same build again, nothing changed;
* ``code_change``: a comment line appended to one application source file;
* ``deps_change``: a comment line (or, for JSON, whitespace) appended to the dependency
  manifest, which invalidates every step from the one that copies it.

A change scenario is skipped when no file of its kind is found. Every image is tagged
``jettison-bench-<slug>:<variant>-<id>`` and removed at the end (``keep_images`` keeps the
last one per variant); images that existed before the bench are never removed.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jettison.bench.edits import change_file, choose_code_file, choose_deps_file
from jettison.bench.loop import BenchEvents, BenchLoop, BuildFailure
from jettison.bench.model import (
    SCENARIOS,
    BenchReport,
    Run,
    ScenarioResult,
    StepTime,
    VariantResult,
)
from jettison.bench.scenarios import BY_NAME, Scenario
from jettison.build_context.scan import find_dockerignore, read_dockerignore
from jettison.dockerfile.parse import parse_dockerfile
from jettison.engine import (
    BuildClient,
    BuildResult,
    build,
    docker_client,
    find_build_client,
    remove_image,
    verify,
)
from jettison.engine.images import image_attrs, image_ids, server_version
from jettison.errors import BuildFailedError, JettisonError

# on every image a bench builds, so leftovers can be found: docker images -f label=...
BENCH_LABEL = "org.jettison.bench"


@dataclass
class VariantSpec:
    name: str  # original | optimized
    label: str
    dockerfile_text: str
    extra_files: dict[str, str] = field(default_factory=dict)  # relative to the Dockerfile
    fixes: list[str] = field(default_factory=list)
    step_fix: str | None = None  # --each-fix: the fix this variant adds to the one before


@dataclass
class BenchOptions:
    repeat: int = 3
    scenarios: tuple[str, ...] = SCENARIOS
    keep_images: bool = False
    verify: bool = True
    touch: str | None = None  # context-relative file for code_change
    deps_file: str | None = None  # context-relative manifest for deps_change
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None


def slug(text: str) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:40] or "project"


@dataclass
class _Build:
    """What every build of a bench shares."""

    repo: str  # jettison-bench-<slug>
    run_id: str
    options: BenchOptions
    events: BenchEvents
    client: BuildClient
    sdk: Any
    preexisting: set[str]  # images the bench must never remove


class DockerfileUnit:
    """One variant: its Dockerfile written into a private copy of the build context."""

    def __init__(self, spec: VariantSpec, result: VariantResult, shared: _Build) -> None:
        self.spec = spec
        self.result = result  # the report's entry: the final image's figures go here
        self.shared = shared
        self.root: Path | None = None  # temp dir, once made
        self.context = Path()
        self.dockerfile = Path()
        self.patterns: list[str] = []  # its .dockerignore
        self.files: dict[str, str | None] = {}  # edit kind -> context-relative file
        self.image_ids: list[str] = []

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tag(self) -> str:
        return f"{self.shared.repo}:{self.spec.name}-{self.shared.run_id}"

    def make_workspace(self, context: Path, dockerfile: Path) -> None:
        """Copy the context into a temp dir and write this variant's files into the copy."""
        self.root = root = Path(tempfile.mkdtemp(prefix=f"jettison-bench-{self.name}-"))
        copy = root / "context"
        shutil.copytree(context, copy, symlinks=True)
        try:
            rel_df = dockerfile.resolve().relative_to(context.resolve())
            target_df = copy / rel_df
        except ValueError:  # a Dockerfile outside its context stays outside in the copy
            target_df = root / dockerfile.name
        target_df.parent.mkdir(parents=True, exist_ok=True)
        target_df.write_text(self.spec.dockerfile_text, encoding="utf-8")
        for rel, content in self.spec.extra_files.items():
            extra = (target_df.parent / rel).resolve()
            if not extra.is_relative_to(root.resolve()):
                raise JettisonError(f"fixer wrote outside the build context: {rel}")
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_text(content, encoding="utf-8")
        self.context, self.dockerfile = copy, target_df
        self.patterns = read_dockerignore(find_dockerignore(copy, target_df))

    def build(self, scenario: Scenario, repetition: int, measured: bool) -> Run | BuildFailure:
        shared, variant, name = self.shared, self.name, scenario.name
        try:
            result = build(
                self.context,
                self.dockerfile,
                self.tag,
                no_cache=scenario.no_cache,
                build_args=shared.options.build_args,
                labels={BENCH_LABEL: shared.run_id},
                target=shared.options.target,
                # priming builds are not shown: their scenario may not be in the report
                on_step=(lambda s: shared.events.step(variant, name, s)) if measured else None,
                client=shared.client,
                sdk=shared.sdk,
            )
        except BuildFailedError as exc:
            return BuildFailure(
                f"{name} build: {exc.message}", exc.line, list(getattr(exc, "log_tail", []))
            )
        if result.image_id not in self.image_ids:
            self.image_ids.append(result.image_id)
        return _run(result, name, repetition)

    def edit(self, kind: str, marker: str) -> None:
        rel = self.files[kind]
        assert rel is not None, "run_bench leaves out the scenarios whose file was not found"
        change_file(self.context / rel, marker)

    def final_images(self, failed: bool) -> None:
        if not self.image_ids:
            return
        final, sdk = self.image_ids[-1], self.shared.sdk
        info = image_attrs(final, sdk)
        self.result.image_id = final
        self.result.image_size_bytes = int(info.get("Size") or 0)
        self.result.layers = len((info.get("RootFS") or {}).get("Layers") or [])
        if self.shared.options.verify and not failed:
            self.shared.events.verifying(self.name)
            self.result.verification = verify(final, sdk=sdk).to_json()

    def cleanup(self) -> None:
        shared = self.shared
        keep_images = shared.options.keep_images
        keep = self.image_ids[-1:] if keep_images else []
        for image_id in self.image_ids:
            if image_id not in keep and image_id not in shared.preexisting:
                remove_image(image_id, shared.sdk)
        if not keep_images:
            with contextlib.suppress(Exception):
                remove_image(self.tag, shared.sdk)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def _run(result: BuildResult, scenario: str, repetition: int) -> Run:
    return Run(
        scenario=scenario,
        repetition=repetition,
        seconds=result.seconds,
        steps_total=result.steps_total,
        steps_cached=result.steps_cached,
        image_id=result.image_id,
        steps=[StepTime(s.stage, s.instruction, s.seconds, s.cached) for s in result.steps],
    )


def run_bench(
    dockerfile: Path,
    context: Path,
    variants: list[VariantSpec],
    options: BenchOptions,
    events: BenchEvents | None = None,
    client: BuildClient | None = None,
) -> BenchReport:
    """Benchmark every variant in every scenario; see the module documentation."""
    events = events or BenchEvents()
    events.starting([v.name for v in variants], options.scenarios, options.repeat)
    if not context.is_dir():
        raise JettisonError("build context does not exist or is not a directory", str(context))
    if not dockerfile.is_file():
        raise JettisonError("Dockerfile not found", str(dockerfile))
    if options.repeat < 1:
        raise JettisonError("--repeat must be at least 1")
    unknown = [s for s in options.scenarios if s not in SCENARIOS]
    if unknown:
        raise JettisonError(f"unknown scenario {unknown[0]!r} (one of {', '.join(SCENARIOS)})")
    scenarios = [BY_NAME[name] for name in options.scenarios]
    for spec in variants:
        parse_dockerfile(spec.dockerfile_text, f"{dockerfile} ({spec.name})")
    sdk = docker_client()
    client = client or find_build_client()
    started = time.monotonic()
    server = server_version(sdk)
    report = BenchReport(
        project=context.resolve().name,
        dockerfile=str(dockerfile),
        context=str(context),
        repeat=options.repeat,
        engine=client.describe(),
        server_version=server,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    shared = _Build(
        repo=f"jettison-bench-{slug(report.project)}",
        run_id=secrets.token_hex(3),
        options=options,
        events=events,
        client=client,
        sdk=sdk,
        preexisting=image_ids(sdk),
    )
    with BenchLoop(events) as loop:
        units: list[DockerfileUnit] = []
        for spec in variants:
            result = report.variants[spec.name] = VariantResult(
                name=spec.name,
                label=spec.label,
                dockerfile_text=spec.dockerfile_text,
                fixes=list(spec.fixes),
                step_fix=spec.step_fix,
            )
            unit = loop.add(DockerfileUnit(spec, result, shared))
            unit.make_workspace(context, dockerfile)  # removed on exit, also when this fails
            units.append(unit)
        pattern_sets = [u.patterns for u in units]
        base = units[0]
        code_file = options.touch or choose_code_file(
            base.context, base.spec.dockerfile_text, pattern_sets
        )
        deps_file = options.deps_file or choose_deps_file(
            base.context, base.spec.dockerfile_text, pattern_sets
        )
        for rel in (options.touch, options.deps_file):
            if rel is not None and not (base.context / rel).is_file():
                raise JettisonError("no such file in the build context", str(context / rel))
        report.changed_files = {"code_change": code_file, "deps_change": deps_file}
        files = {"code": code_file, "deps": deps_file}  # what each kind of edit changes
        skipped = {
            s.name: s.missing for s in scenarios if s.edits is not None and not files[s.edits]
        }
        for unit in units:
            unit.files = files
            for s in scenarios:
                unit.result.scenarios[s.name] = ScenarioResult(s.name, skipped=skipped.get(s.name))
        runnable = [s for s in scenarios if not skipped.get(s.name)]
        records = loop.run(runnable, options.repeat, shared.run_id)
        for unit in units:
            record, result = records[unit.name], unit.result
            for name, runs in record.runs.items():
                result.scenarios[name].runs = runs
            if record.failure is not None:
                result.build_error = record.failure.message
                result.build_error_line = record.failure.line
                result.build_log_tail = record.failure.log_tail
    if options.keep_images:
        report.notes.append(f"images kept as {shared.repo}:<variant>-{shared.run_id}")
    report.wall_seconds = time.monotonic() - started
    return report
