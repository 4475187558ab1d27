"""``jettison fix`` as one library call: :func:`fix_paths` discovers the Dockerfiles (and the
compose files that build them), fixes each one, verifies it on the engine when asked, and
writes what is kept. The command only parses arguments and prints."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jettison.atomic import write_files_atomic
from jettison.audit.discovery import discover
from jettison.compose import ComposeService, read_compose
from jettison.config import Config
from jettison.dockerfile.parse import decode_dockerfile
from jettison.engine.smoke import RunSpec
from jettison.errors import EngineUnavailableError, JettisonError
from jettison.fixes import unused_dists
from jettison.fixes.apply import FixOutcome
from jettison.fixes.multistage import Plan
from jettison.fixes.per_file import VerifyOutcome, engine_resolver, fix_file, verify_file
from jettison.fixes.pipeline import Resolver, restrict
from jettison.fixes.runtime_libs import LibraryScan
from jettison.fixes.unused_libs import Checker, engine_checker
from jettison.fixes.verify import BuildInputs, CheckPlan, Progress, quiet

_NO_ENGINE_NOTE = "needs a Docker engine"


@dataclass(frozen=True)
class FixRequest:
    """What ``jettison fix`` was asked to do (its options, parsed)."""

    paths: Sequence[str]  # Dockerfiles, directories, compose files (default: ".")
    config: Config
    unsafe_fixes: bool = False
    preview: bool = False  # --diff: write nothing; build only with use_engine
    use_engine: bool = False  # decide the fixes that need the engine, also when previewing
    verify: bool = False  # build before and after, write only what passes
    context: Path | None = None  # the build context of every Dockerfile (default: its own)
    target: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    checks: CheckPlan = field(default_factory=CheckPlan)
    max_builds: int = 12
    each_fix: bool = False  # with verify: measure each fix, built one after another


@dataclass
class FixRun:
    """What :func:`fix_paths` did: one outcome per Dockerfile that could be read."""

    outcomes: list[FixOutcome] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    failed_verify: bool = False  # a fix failed verification (the rest may be written)
    unwritten: set[str] = field(default_factory=set)  # changed, but writing failed

    @property
    def changed(self) -> list[FixOutcome]:
        return [o for o in self.outcomes if o.changed]


@dataclass
class _Build:
    """How one Dockerfile is built: its context, target, args, and the services running it."""

    context: Path | None = None
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    runs: list[RunSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _ignore(_message: str) -> None:
    pass


def _ignore_verified(_outcome: VerifyOutcome) -> None:
    pass


def fix_paths(
    request: FixRequest,
    *,
    progress: Progress = quiet,
    notice: Callable[[str], None] = _ignore,
    verified: Callable[[VerifyOutcome], None] = _ignore_verified,
) -> FixRun:
    """Fix every Dockerfile ``request.paths`` names, in order.

    ``progress`` gets lines while building; ``notice`` gets a line per thing the user should
    know about a file as it is fixed (a conversion not decided, a compose build verified
    with its first service's inputs); ``verified`` gets each --verify result as it is
    known. Raises :class:`EngineUnavailableError` (before anything is written) when
    verify or use_engine needs an engine that does not answer."""
    inputs = discover(list(request.paths) or ["."])
    run = FixRun(errors=list(inputs.errors))
    builds, compose_errors = _compose_builds(inputs.compose_files)
    run.errors += compose_errors
    # one spelling per file in every line printed (`./api/Dockerfile` and `api/Dockerfile`)
    dockerfiles = [os.path.normpath(p) for p in inputs.dockerfiles]
    known = {str(Path(p).resolve()) for p in dockerfiles}
    for key in builds:  # a compose file names Dockerfiles outside the paths given
        if key not in known:
            dockerfiles.append(os.path.relpath(key))
            known.add(key)

    def build_of(path: str) -> _Build:
        b = builds.get(str(Path(path).resolve()), _Build())
        return _Build(
            request.context if request.context is not None else b.context,
            request.target or b.target,
            {**b.args, **request.build_args},
            b.runs,
            b.notes,
        )

    sdk = None
    resolvers: dict[str, Resolver] = {}
    checkers: dict[str, Checker] = {}  # the unused library packages, on the engine
    dist_checkers: dict[str, unused_dists.DistChecker] = {}  # the unused Python packages
    # the engine decides the conversion under --verify/--engine (required), and for a plain
    # `fix --unsafe-fixes` that writes when one answers; --diff alone never builds
    wants_engine = (
        request.verify or request.use_engine or (request.unsafe_fixes and not request.preview)
    )
    if wants_engine:
        try:
            for path in dockerfiles:
                spec = build_of(path)
                resolve, sdk = engine_resolver(path, spec.context)
                resolvers[path] = _announced(resolve, path, progress)
                # a library loaded by path at run time: only checks tell; the scan reads the
                # final stage, so not with --target
                if request.verify and spec.target is None:
                    checkers[path] = engine_checker(
                        path, spec.context or Path(path).parent, sdk, spec.args, progress
                    )
                    dist_checkers[path] = unused_dists.engine_checker(
                        path, spec.context or Path(path).parent, sdk, spec.args, progress
                    )
        except EngineUnavailableError:
            if request.verify or request.use_engine:
                raise  # exit 2 before anything is written
    config = request.config
    unsafe = request.unsafe_fixes
    scans: dict[str, LibraryScan] = {}
    for path in dockerfiles:
        resolver = resolvers.get(path)
        spec = build_of(path)
        try:
            # as audit reads it: NUL bytes are binary data, bad UTF-8 is named by its line
            source = decode_dockerfile(Path(path).read_bytes(), path)
            result = fix_file(
                source,
                path,
                config,
                unsafe,
                resolver,
                scans,
                context=spec.context,
                libraries=checkers.get(path),
                distributions=dist_checkers.get(path),
            )
            outcome = result.outcome
            if result.note:
                note = result.note
                if request.preview and resolver is None and _NO_ENGINE_NOTE in note:
                    note = (
                        "multi-stage conversion not decided: it builds the builder stage to "
                        "find the runtime libraries; --diff never builds unless --engine"
                    )
                notice(f"{path}: {note}")
            if request.verify and outcome.changed:
                assert sdk is not None
                for note in spec.notes:
                    notice(f"{path}: {note}")

                def variant(
                    units: frozenset[str],
                    source: str = source,
                    path: str = path,
                    ctx: Path | None = spec.context,
                ) -> FixOutcome:
                    return fix_file(
                        source,
                        path,
                        restrict(config, units),
                        unsafe,
                        resolvers.get(path),
                        scans,
                        context=ctx,
                        libraries=checkers.get(path),
                        distributions=dist_checkers.get(path),
                    ).outcome

                build_inputs = BuildInputs.of(
                    path, spec.context, spec.target, spec.args, tuple(spec.runs)
                )
                checked = verify_file(
                    source,
                    build_inputs,
                    outcome,
                    variant,
                    request.checks,
                    sdk,
                    progress=progress,
                    max_builds=request.max_builds,
                    each_fix=request.each_fix,
                )
                verified(checked)
                run.failed_verify = run.failed_verify or not checked.ok
                outcome = checked.written or FixOutcome(path, source, source)
        except EngineUnavailableError:
            raise
        except JettisonError as exc:
            run.errors.append(exc)
            continue
        except IsADirectoryError:
            run.errors.append(JettisonError("is a directory, not a Dockerfile", path))
            continue
        except OSError as exc:
            run.errors.append(JettisonError(f"cannot read: {exc.strerror}", path))
            continue
        run.outcomes.append(outcome)
    if not request.preview:
        _write(run)
    return run


def _write(run: FixRun) -> None:
    for o in run.changed:
        base = Path(o.path).parent
        files: dict[Path, str] = {
            Path(os.path.normpath(base / rel)): c for rel, c in o.extra_files.items()
        }
        if o.text != o.original:
            files[Path(o.path)] = o.text
        try:  # a Dockerfile and its .dockerignore change together or not at all
            write_files_atomic(files)
        except JettisonError as exc:
            run.errors.append(exc)
            run.unwritten.add(o.path)


def _compose_builds(compose_files: list[str]) -> tuple[dict[str, _Build], list[JettisonError]]:
    """Each Dockerfile a compose file builds, with the build section's inputs and every
    service that runs the image (built from it, or naming the image it is tagged with)."""
    builds: dict[str, _Build] = {}
    errors: list[JettisonError] = []
    for compose in compose_files:
        try:
            services = read_compose(compose)
        except JettisonError as exc:
            errors.append(exc)
            continue
        by_image: dict[str, str] = {}
        for svc in services:
            if svc.dockerfile is None or svc.context is None:
                continue
            key = str(svc.dockerfile.resolve())
            spec = (svc.context, svc.target, svc.args)
            build = builds.get(key)
            if build is None:
                build = builds[key] = _Build(svc.context, svc.target, dict(svc.args))
            elif (build.context, build.target, build.args) != spec:
                build.notes.append(
                    f"service {svc.name} builds it differently (target or args); "
                    "verified with the first service's build"
                )
            build.runs.append(_run_spec(svc))
            if svc.image:
                by_image[svc.image] = key
        for svc in services:  # services reusing the image another one builds
            if svc.dockerfile is None and svc.image in by_image:
                builds[by_image[svc.image]].runs.append(_run_spec(svc))
    return builds, errors


def _run_spec(svc: ComposeService) -> RunSpec:
    return RunSpec(
        svc.name, svc.command, svc.entrypoint, svc.user, svc.environment, svc.working_dir
    )


def _announced(resolve: Resolver, path: str, progress: Progress) -> Resolver:
    """The conversion's engine scan, with a progress line (it builds the builder stage)."""

    def announced(plan: Plan) -> LibraryScan:
        progress(f"{path}: building the builder stage to find the runtime libraries")
        return resolve(plan)

    return announced
