"""Running a bench: temp copies of the context, interleaved builds, verification, cleanup.

Each variant (the Dockerfile as it is, and its jettison-fixed or ``--against`` version)
builds in a private copy of the build context, so the user's files are never modified.
Repetition by repetition, each scenario runs for every variant in turn (the first variant
alternates), so that machine noise hits both alike (the scenarios are the objects of
:mod:`jettison.bench.scenarios`; the edits, :mod:`jettison.bench.edits`):

* ``cold``: ``--no-cache`` (base images are already present locally and not pulled);
* ``warm``: the same build again, nothing changed;
* ``code_change``: a comment line appended to one application source file;
* ``deps_change``: a comment line (or, for JSON, whitespace) appended to the dependency
  manifest, which invalidates every step from the one that copies it.

A scenario that needs the build cache gets one unmeasured priming build first when no
build with the cache has run yet (``--scenario warm`` alone, or ``warm`` right after
``cold``: BuildKit 0.8 does not reuse what a ``--no-cache`` build made). Every image is
tagged ``jettison-bench-<slug>:<variant>-<id>`` and removed at the end (``keep_images``
keeps the last one per variant); images that existed before the bench are never removed.
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

from jettison.bench.edits import change_file, choose_code_file, choose_deps_file
from jettison.bench.model import (
    SCENARIOS,
    BenchReport,
    Run,
    ScenarioResult,
    StepTime,
    VariantResult,
)
from jettison.bench.scenarios import BY_NAME, WARM, Scenario
from jettison.build_context.scan import find_dockerignore, read_dockerignore
from jettison.dockerfile.parse import parse_dockerfile
from jettison.engine import (
    BuildClient,
    BuildResult,
    Step,
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


class BenchEvents:
    """Callbacks for live progress; the default does nothing."""

    def build_started(self, variant: str, scenario: str, repetition: int) -> None:
        pass

    def step(self, variant: str, scenario: str, step: Step) -> None:
        pass

    def build_finished(self, variant: str, scenario: str, run: Run | None) -> None:
        pass

    def verifying(self, variant: str) -> None:
        pass


@dataclass
class _Workspace:
    spec: VariantSpec
    root: Path  # temp dir
    context: Path
    dockerfile: Path
    patterns: list[str]
    built: bool = False
    # a build without --no-cache has run: BuildKit 0.8 does not reuse what a --no-cache
    # build made, so `warm` right after `cold` would otherwise rebuild everything
    cached: bool = False
    failed: str | None = None
    image_ids: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:40] or "project"


def _ignore_patterns(context: Path, dockerfile: Path) -> list[str]:
    return read_dockerignore(find_dockerignore(context, dockerfile))


def _make_workspace(spec: VariantSpec, context: Path, dockerfile: Path) -> _Workspace:
    root = Path(tempfile.mkdtemp(prefix=f"jettison-bench-{spec.name}-"))
    try:
        copy = root / "context"
        shutil.copytree(context, copy, symlinks=True)
        try:
            rel_df = dockerfile.resolve().relative_to(context.resolve())
            target_df = copy / rel_df
        except ValueError:  # a Dockerfile outside its context stays outside in the copy
            target_df = root / dockerfile.name
        target_df.parent.mkdir(parents=True, exist_ok=True)
        target_df.write_text(spec.dockerfile_text, encoding="utf-8")
        for rel, content in spec.extra_files.items():
            extra = (target_df.parent / rel).resolve()
            if not extra.is_relative_to(root.resolve()):
                raise JettisonError(f"fixer wrote outside the build context: {rel}")
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_text(content, encoding="utf-8")
        return _Workspace(
            spec=spec,
            root=root,
            context=copy,
            dockerfile=target_df,
            patterns=_ignore_patterns(copy, target_df),
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


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
    preexisting = image_ids(sdk)
    run_id = secrets.token_hex(3)
    repo = f"jettison-bench-{slug(report.project)}"
    workspaces: list[_Workspace] = []
    try:
        for spec in variants:
            workspaces.append(_make_workspace(spec, context, dockerfile))
            report.variants[spec.name] = VariantResult(
                name=spec.name,
                label=spec.label,
                dockerfile_text=spec.dockerfile_text,
                fixes=list(spec.fixes),
            )
        pattern_sets = [w.patterns for w in workspaces]
        base = workspaces[0]
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
        for ws in workspaces:
            for s in scenarios:
                report.variants[ws.spec.name].scenarios[s.name] = ScenarioResult(
                    s.name, skipped=skipped.get(s.name)
                )

        def one_build(ws: _Workspace, scenario: Scenario, rep: int, measured: bool) -> None:
            tag = f"{repo}:{ws.spec.name}-{run_id}"
            variant, name = ws.spec.name, scenario.name
            if measured:
                events.build_started(variant, name, rep)
            try:
                result = build(
                    ws.context,
                    ws.dockerfile,
                    tag,
                    no_cache=scenario.no_cache,
                    build_args=options.build_args,
                    labels={BENCH_LABEL: run_id},
                    target=options.target,
                    # priming builds are not shown: their scenario may not be in the report
                    on_step=(lambda s: events.step(variant, name, s)) if measured else None,
                    client=client,
                    sdk=sdk,
                )
            except BuildFailedError as exc:
                ws.failed = f"{name} build: {exc.message}"
                result_ = report.variants[variant]
                result_.build_error = ws.failed
                result_.build_error_line = exc.line
                result_.build_log_tail = list(getattr(exc, "log_tail", []))
                if measured:
                    events.build_finished(variant, name, None)
                return
            ws.built = True
            ws.cached = ws.cached or not scenario.no_cache
            if result.image_id not in ws.image_ids:
                ws.image_ids.append(result.image_id)
            if measured:
                run = _run(result, name, rep)
                report.variants[variant].scenarios[name].runs.append(run)
                events.build_finished(variant, name, run)

        for rep in range(options.repeat):
            order = workspaces if rep % 2 == 0 else list(reversed(workspaces))
            for scenario in scenarios:
                if skipped.get(scenario.name):
                    continue
                for ws in order:
                    if ws.failed:
                        continue
                    if not scenario.no_cache and not ws.cached:
                        one_build(ws, WARM, rep, measured=False)  # prime the cache
                        if ws.failed:
                            continue
                    edited = files[scenario.edits] if scenario.edits is not None else None
                    if edited:
                        change_file(ws.context / edited, scenario.marker(run_id, rep))
                    one_build(ws, scenario, rep, measured=True)
        for ws in workspaces:
            result = report.variants[ws.spec.name]
            if not ws.image_ids:
                continue
            final = ws.image_ids[-1]
            info = image_attrs(final, sdk)
            result.image_id = final
            result.image_size_bytes = int(info.get("Size") or 0)
            result.layers = len((info.get("RootFS") or {}).get("Layers") or [])
            if options.verify and not ws.failed:
                events.verifying(ws.spec.name)
                result.verification = verify(final, sdk=sdk).to_json()
    finally:
        for ws in workspaces:
            keep = ws.image_ids[-1:] if options.keep_images else []
            for image_id in ws.image_ids:
                if image_id not in keep and image_id not in preexisting:
                    remove_image(image_id, sdk)
            if not options.keep_images:
                with contextlib.suppress(Exception):
                    remove_image(f"{repo}:{ws.spec.name}-{run_id}", sdk)
            shutil.rmtree(ws.root, ignore_errors=True)
    if options.keep_images:
        report.notes.append(f"images kept as {repo}:<variant>-{run_id}")
    report.wall_seconds = time.monotonic() - started
    return report
