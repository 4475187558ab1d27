"""``jettison fix``: apply fixes (safe by default), ``--diff`` to preview, ``--verify``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from jettison.atomic import write_files_atomic
from jettison.audit.codes import check_rule_codes
from jettison.audit.discovery import discover
from jettison.cli._common import (
    build_config,
    console,
    parse_build_args,
    rule_options,
)
from jettison.dockerfile.parse import decode_dockerfile
from jettison.engine.smoke import RunSpec
from jettison.errors import EngineUnavailableError, JettisonError
from jettison.fixes.apply import FixOutcome
from jettison.fixes.multistage import Plan
from jettison.fixes.pipeline import Resolver, restrict
from jettison.fixes.run import engine_resolver, fix_file, verify_file
from jettison.fixes.runtime_libs import LibraryScan
from jettison.fixes.verify import BuildInputs, CheckPlan, Progress
from jettison.fixes.verify import quiet as quiet_progress
from jettison.report import write_plain


@dataclass
class _Build:
    """How one Dockerfile is built: its context, target, args, and the services running it."""

    context: Path | None = None
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    runs: list[RunSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _compose_builds(compose_files: list[str]) -> tuple[dict[str, _Build], list[JettisonError]]:
    """Each Dockerfile a compose file builds, with the build section's inputs and every
    service that runs the image (built from it, or naming the image it is tagged with)."""
    from jettison.context.compose import read_compose

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


def _run_spec(svc: object) -> RunSpec:
    from jettison.context.compose import ComposeService

    assert isinstance(svc, ComposeService)
    return RunSpec(
        svc.name, svc.command, svc.entrypoint, svc.user, svc.environment, svc.working_dir
    )


def _progress(quiet: bool) -> Progress:
    """Progress lines on stderr while building; off when stderr is not a terminal or -q."""
    if quiet or not sys.stderr.isatty():
        return quiet_progress
    err = console(stderr=True)

    def show(message: str) -> None:
        err.print(message, markup=False, style="dim")

    return show


def _announced(resolve: Resolver, path: str, progress: Progress) -> Resolver:
    """The conversion's engine scan, with a progress line (it builds the builder stage)."""

    def announced(plan: Plan) -> LibraryScan:
        progress(f"{path}: building the builder stage to find the runtime libraries")
        return resolve(plan)

    return announced


@click.command("fix")
@click.argument("paths", nargs=-1)
@rule_options
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply fixes that may change what the image does (slim base, "
    "--no-install-recommends, reordering, merging RUNs, multi-stage conversion ...).",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print a unified diff of what would change and write nothing; never builds "
    "(fixes that need the engine are listed, not applied, unless --engine).",
)
@click.option(
    "--engine",
    "use_engine",
    is_flag=True,
    help="Decide the fixes that need the engine (the multi-stage conversion builds its "
    "builder stage to find the runtime libraries), also with --diff; an error without an "
    "engine. Implied by --verify.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Build the original and the fixed file on the engine, smoke-check and compare "
    "both; write only what passes (bisects to name a fix that breaks the image).",
)
@click.option(
    "-f",
    "--file",
    "dockerfile",
    type=click.Path(dir_okay=False),
    help="The Dockerfile, as `docker build -f` (then PATHS are not given).",
)
@click.option(
    "--context",
    type=click.Path(file_okay=False),
    help="Build context (default: the Dockerfile's directory, or the compose build's).",
)
@click.option("--target", help="With --verify: build this stage.")
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE")
@click.option(
    "--smoke",
    metavar="COMMAND",
    multiple=True,
    help="With --verify: also run COMMAND (/bin/sh -c) in a container of each image; "
    "it must exit 0. Repeatable.",
)
@click.option(
    "--smoke-cmd",
    "smoke_cmds",
    metavar="COMMAND",
    multiple=True,
    help="With --verify: a command run on the host with {image} replaced by the image id, "
    "e.g. 'docker run --rm --network none {image} mytool --version'; it must exit 0. "
    "Repeatable.",
)
@click.option(
    "--smoke-timeout",
    type=click.FloatRange(1, 86400),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="A smoke command still running after this long is killed and fails.",
)
@click.option(
    "--http-status",
    "http_statuses",
    type=click.IntRange(100, 599),
    multiple=True,
    metavar="CODE",
    help="With --verify: an HTTP status that also counts as an answer on an exposed port "
    "(default: 2xx and 3xx only). Repeatable.",
)
@click.option(
    "--max-builds",
    type=click.IntRange(2, 200),
    default=12,
    show_default=True,
    help="With --verify: at most this many builds per Dockerfile (bisection included).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def command(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: str | None,
    unsafe_fixes: bool,
    show_diff: bool,
    use_engine: bool,
    verify: bool,
    dockerfile: str | None,
    context: str | None,
    target: str | None,
    build_args: tuple[str, ...],
    smoke: tuple[str, ...],
    smoke_cmds: tuple[str, ...],
    smoke_timeout: float,
    http_statuses: tuple[int, ...],
    max_builds: int,
    quiet: bool,
) -> None:
    """Rewrite Dockerfiles (and .dockerignore) into their optimized form.

    PATHS are Dockerfiles, directories and compose files (a compose file's build sections
    give each Dockerfile its context, target and build args, and --verify starts each
    service with its own command and user).

    Exit code: 0 when done (or nothing to do), 1 with --diff when something would change
    or with --verify when a fix failed verification, 2 on input errors (a file that does
    not parse is left untouched).
    """
    config = build_config(config_path, select, ignore, None)
    check_rule_codes(config)
    if (smoke or smoke_cmds or http_statuses) and not verify:
        raise JettisonError("--smoke, --smoke-cmd and --http-status need --verify")
    if verify and show_diff:
        raise JettisonError("--verify writes what passes; --diff writes nothing: pick one")
    if dockerfile is not None and paths:
        raise JettisonError("-f names the Dockerfile: give either PATHS or -f, not both")
    if context is not None and not os.path.isdir(context):
        raise JettisonError("build context does not exist or is not a directory", context)
    if dockerfile is not None and not os.path.isfile(dockerfile):
        raise JettisonError("Dockerfile not found", dockerfile)
    extra_args = parse_build_args(build_args)
    inputs = discover([dockerfile] if dockerfile is not None else list(paths) or ["."])
    out = console()
    err = console(stderr=True)
    errors = list(inputs.errors)
    builds, compose_errors = _compose_builds(inputs.compose_files)
    errors += compose_errors
    # one spelling per file in every line printed (`./api/Dockerfile` and `api/Dockerfile`)
    dockerfiles = [os.path.normpath(p) for p in inputs.dockerfiles]
    known = {str(Path(p).resolve()) for p in dockerfiles}
    for key in builds:  # a compose file names Dockerfiles outside the paths given
        if key not in known:
            dockerfiles.append(os.path.relpath(key))
            known.add(key)
    plan = CheckPlan(tuple(smoke), tuple(smoke_cmds), smoke_timeout, frozenset(http_statuses))

    def build_of(path: str) -> _Build:
        b = builds.get(str(Path(path).resolve()), _Build())
        return _Build(
            Path(context) if context is not None else b.context,
            target or b.target,
            {**b.args, **extra_args},
            b.runs,
            b.notes,
        )

    progress = _progress(quiet)
    outcomes: list[FixOutcome] = []
    sdk = None
    resolvers: dict[str, Resolver] = {}
    # the engine decides the conversion under --verify/--engine (required), and for a plain
    # `fix --unsafe-fixes` that writes when one answers; --diff alone never builds
    wants_engine = verify or use_engine or (unsafe_fixes and not show_diff)
    if wants_engine:
        try:
            for path in dockerfiles:
                ctx = build_of(path).context
                resolve, sdk = engine_resolver(path, ctx)
                resolvers[path] = _announced(resolve, path, progress)
        except EngineUnavailableError:
            if verify or use_engine:
                raise  # exit 2 before anything is written
    scans: dict[str, LibraryScan] = {}
    failed_verify = False
    for path in dockerfiles:
        resolver = resolvers.get(path)
        spec = build_of(path)
        try:
            # as audit reads it: NUL bytes are binary data, bad UTF-8 is named by its line
            source = decode_dockerfile(Path(path).read_bytes(), path)
            result = fix_file(
                source, path, config, unsafe_fixes, resolver, scans, context=spec.context
            )
            outcome = result.outcome
            if result.note:
                note = result.note
                if show_diff and resolver is None and "needs a Docker engine" in note:
                    note = (
                        "multi-stage conversion not decided: it builds the builder stage to "
                        "find the runtime libraries; --diff never builds unless --engine"
                    )
                err.print(f"{path}: {note}", markup=False)
            if verify and outcome.changed:
                assert sdk is not None
                for note in spec.notes:
                    err.print(f"{path}: {note}", markup=False)

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
                        unsafe_fixes,
                        resolvers.get(path),
                        scans,
                        context=ctx,
                    ).outcome

                build_inputs = BuildInputs.of(
                    path, spec.context, spec.target, spec.args, tuple(spec.runs)
                )
                checked = verify_file(
                    source,
                    build_inputs,
                    outcome,
                    variant,
                    plan,
                    sdk,
                    progress=progress,
                    max_builds=max_builds,
                )
                for line in checked.lines():
                    out.print(line, markup=False)
                failed_verify = failed_verify or not checked.ok
                outcome = checked.written or FixOutcome(path, source, source)
        except EngineUnavailableError:
            raise
        except JettisonError as exc:
            errors.append(exc)
            continue
        except IsADirectoryError:
            errors.append(JettisonError("is a directory, not a Dockerfile", path))
            continue
        except OSError as exc:
            errors.append(JettisonError(f"cannot read: {exc.strerror}", path))
            continue
        outcomes.append(outcome)
    changed = [o for o in outcomes if o.changed]
    for o in outcomes:
        for skipped_code, skipped_line, reason in o.skipped:
            err.print(
                f"{o.path}:{skipped_line}: {skipped_code} fix skipped: {reason}", markup=False
            )
    if show_diff:
        for o in changed:
            write_plain(out, o.diff(), end="")
    else:
        unwritten: set[str] = set()
        for o in changed:
            base = Path(o.path).parent
            files: dict[Path, str] = {
                Path(os.path.normpath(base / rel)): c for rel, c in o.extra_files.items()
            }
            if o.text != o.original:
                files[Path(o.path)] = o.text
            try:  # a Dockerfile and its .dockerignore change together or not at all
                write_files_atomic(files)
            except JettisonError as exc:
                errors.append(exc)
                unwritten.add(o.path)
        for o in outcomes:
            if o.path in unwritten:
                continue
            codes = ", ".join(sorted({a.code for a in o.applied}))
            base = Path(o.path).parent
            names = sorted(os.path.normpath(base / rel) for rel in o.extra_files)
            extra = f" and wrote {', '.join(names)}" if names else ""
            if o.applied or o.extra_files:
                out.print(
                    f"{o.path}: applied {len(o.applied)} fix(es) ({codes}){extra}", markup=False
                )
        left = sum(1 for o in outcomes for f in o.remaining if f.fix is not None)
        if left and not unsafe_fixes:
            out.print(f"{left} more fix(es) available with --unsafe-fixes", markup=False)
    for e in errors:
        err.print(f"jettison: error: {e}", markup=False)
    if errors:
        raise SystemExit(2)
    raise SystemExit(1 if (show_diff and changed) or failed_verify else 0)
