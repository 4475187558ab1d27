"""``jettison fix``: apply fixes (safe by default), ``--diff`` to preview, ``--verify``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from jettison.audit.codes import check_rule_codes
from jettison.cli._common import (
    build_config,
    builder_option,
    console,
    parse_build_args,
    progress_shown,
    quiet_option,
    rule_options,
)
from jettison.errors import JettisonError
from jettison.fixes.fix_paths import FixRequest, fix_paths
from jettison.fixes.per_file import VerifyOutcome
from jettison.fixes.verify import CheckPlan, Progress
from jettison.fixes.verify import quiet as quiet_progress
from jettison.report import write_plain


def _progress(quiet: bool) -> Progress:
    """Progress lines on stderr while building; off when stderr is not a terminal or -q."""
    if not progress_shown(quiet):
        return quiet_progress
    err = console(stderr=True)

    def show(message: str) -> None:
        err.print(message, markup=False, style="dim")

    return show


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
@click.option(
    "--each-fix",
    is_flag=True,
    help="With --verify: also build the fixes one after another and show what each changed "
    "(image size, and the time the checks took: start-up included). One build per fix.",
)
@quiet_option
@builder_option
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
    each_fix: bool,
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
    if each_fix and not verify:
        raise JettisonError("--each-fix needs --verify")
    if verify and show_diff:
        raise JettisonError("--verify writes what passes; --diff writes nothing: pick one")
    if dockerfile is not None and paths:
        raise JettisonError("-f names the Dockerfile: give either PATHS or -f, not both")
    if context is not None and not os.path.isdir(context):
        raise JettisonError("build context does not exist or is not a directory", context)
    if dockerfile is not None and not os.path.isfile(dockerfile):
        raise JettisonError("Dockerfile not found", dockerfile)
    extra_args = parse_build_args(build_args)
    out = console()
    err = console(stderr=True)
    request = FixRequest(
        [dockerfile] if dockerfile is not None else list(paths),
        config,
        unsafe_fixes=unsafe_fixes,
        preview=show_diff,
        use_engine=use_engine,
        verify=verify,
        context=Path(context) if context is not None else None,
        target=target,
        build_args=extra_args,
        checks=CheckPlan(tuple(smoke), tuple(smoke_cmds), smoke_timeout, frozenset(http_statuses)),
        max_builds=max_builds,
        each_fix=each_fix,
    )

    def notice(line: str) -> None:
        err.print(line, markup=False)

    def verified(checked: VerifyOutcome) -> None:
        for line in checked.lines():
            out.print(line, markup=False)

    run = fix_paths(request, progress=_progress(quiet), notice=notice, verified=verified)
    outcomes = run.outcomes
    changed = run.changed
    for o in outcomes:
        for skipped_code, skipped_line, reason in o.skipped:
            err.print(
                f"{o.path}:{skipped_line}: {skipped_code} fix skipped: {reason}", markup=False
            )
    if show_diff:
        for o in changed:
            write_plain(out, o.diff(), end="")
    else:
        for o in outcomes:
            if o.path in run.unwritten:
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
    for e in run.errors:
        err.print(f"jettison: error: {e}", markup=False)
    if run.errors:
        raise SystemExit(2)
    raise SystemExit(1 if (show_diff and changed) or run.failed_verify else 0)
