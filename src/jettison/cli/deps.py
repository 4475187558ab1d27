"""``jettison deps``: Python packages declared but never used, used but never declared, and the
bytes each costs in the image."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from jettison.atomic import write_files_atomic
from jettison.audit.codes import split_codes
from jettison.cli._common import build_config, console, progress_shown, quiet_option, rule_options
from jettison.deps import CODES, run
from jettison.deps.fix import plan_writes
from jettison.deps.render import FORMATS, render
from jettison.errors import JettisonError
from jettison.report import write_plain


@click.command("deps")
@click.argument("path", default=".")
@click.option(
    "--image",
    metavar="IMAGE",
    help="Read package metadata and sizes from this built image (most exact; the "
    "image is never run): a name in the engine, a `docker save` archive, an OCI layout "
    "directory, or a registry reference, as for `jettison inspect` (prefixes "
    "docker-archive:, oci:, registry: also work).",
)
@click.option(
    "--resolve",
    is_flag=True,
    help="Install the declared requirements into a throwaway virtualenv (uv or pip) "
    "and read their metadata.",
)
@click.option(
    "--python",
    "python",
    metavar="PYTHON",
    help="Read metadata from this interpreter's environment.",
)
@click.option(
    "--venv",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read metadata from this virtualenv (default: the project's .venv if any).",
)
@click.option(
    "--dockerfile",
    "-f",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The Dockerfile whose pip installs and commands count (default: PATH/Dockerfile).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@rule_options
@click.option(
    "--fail-level",
    type=click.Choice(["error", "warning", "info", "style"]),
    default=None,
    help="Exit 1 when a finding is at or above this level [default: warning].",
)
@click.option(
    "--write",
    is_flag=True,
    help="Write pruned requirements files / Dockerfile next to the originals "
    "(*.pruned.txt, Dockerfile.pruned).",
)
@click.option("--in-place", is_flag=True, help="With --write: replace the original files.")
@click.option("--diff", is_flag=True, help="Show what --write would change; write nothing.")
@quiet_option
def command(
    path: str,
    image: str | None,
    resolve: bool,
    python: str | None,
    venv: Path | None,
    dockerfile: Path | None,
    fmt: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: str | None,
    fail_level: str | None,
    write: bool,
    in_place: bool,
    diff: bool,
    quiet: bool,
) -> None:
    """Find Python packages that are installed but unused, or used but undeclared.

    Reads every import (all scopes, notebooks, importlib literals), the commands the
    Dockerfile runs, worker classes, database/broker URLs and Django settings; maps them to
    distributions with real metadata (from --image, --resolve, --venv, --python, the
    project's .venv, or jettison's own interpreter as a last resort, where mappings of
    packages not installed are guesses and say so).

    Exit code: 0 when nothing is at or above --fail-level, 1 when something is (with --diff:
    when there is something to change), 2 on input errors (unparsable files are reported on
    stderr and skipped).
    """
    if in_place and not write:
        raise JettisonError("--in-place needs --write")
    for given in split_codes(select + ignore):  # a typo must not silently check nothing
        if not any(code.startswith(given) for code in CODES):
            raise JettisonError(
                f"unknown deps rule code or prefix {given!r} in --select/--ignore "
                f"(choose from {', '.join(CODES)})"
            )
    config = build_config(config_path, select, ignore, fail_level)
    if (resolve or image) and progress_shown(quiet):  # the slow phases say what they do
        click.echo(
            "jettison deps: "
            + (
                f"reading the installed packages of {image}"
                if image
                else "installing the requirements into a throwaway virtualenv to read "
                "their metadata (a minute or so)"
            ),
            err=True,
        )
    report = run(
        Path(path),
        dockerfile=dockerfile,
        image=image,
        resolve=resolve,
        python=python,
        venv=venv,
        import_map=config.import_map,
        require_code=True,
    )
    report.items = [
        i
        for i in report.items
        if config.enabled(i.code) and not config.ignored_for_path(i.code, i.path)
    ]
    out = console()
    if diff or write:
        plan = plan_writes(report.items, in_place=in_place)
        if diff:
            for edit in plan.edits:
                write_plain(out, edit.diff(), end="")
        else:
            write_files_atomic({e.target: e.new for e in plan.edits})  # all or none
            err = console(stderr=True)
            for edit in plan.edits:
                err.print(
                    f"wrote {escape(str(edit.target))} (removed {escape(', '.join(edit.removed))})"
                )
        for line in plan.manual:
            console(stderr=True).print(f"by hand: {escape(line)}")
        if diff:  # as `jettison fix --diff` and ruff: 1 when there is something to change
            raise SystemExit(1 if plan.edits else 0)
    render(report, fmt, out)
    if report.errors:
        err = console(stderr=True)  # in every format: stdout holds only the report
        for e in report.errors:
            err.print(f"jettison: error: {e}", markup=False)
        raise SystemExit(2)
    raise SystemExit(1 if any(config.fails(f.severity) for f in report.findings()) else 0)
