"""Options and helpers shared by several commands."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jettison.audit.codes import split_codes
from jettison.config import Config, load_config
from jettison.errors import JettisonError
from jettison.findings import Severity

if TYPE_CHECKING:
    from rich.console import Console

    from jettison.services.project import Project


def console(stderr: bool = False) -> Console:
    from rich.console import Console  # loaded only by the commands that print through it

    no_color = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(
        stderr=stderr,
        no_color=no_color,
        soft_wrap=True,
        highlight=False,
        force_terminal=None if tty else False,
        # piped or redirected: rich would lay tables out in 80 columns and cut their cells;
        # a reader (grep, a CI log) wants whole lines (COLUMNS still sets a width)
        width=None if tty or os.environ.get("COLUMNS") else 10_000,
    )


def build_config(
    config_path: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_level: str | None,
) -> Config:
    config = load_config(explicit=Path(config_path) if config_path else None)
    if select:
        config.select = split_codes(select)
    if ignore:
        config.ignore = [*config.ignore, *split_codes(ignore)]
    if fail_level:
        config.never_fail = False  # the command line wins over .hadolint.yaml's "none"
        try:
            config.fail_level = Severity.parse(fail_level)
        except ValueError as exc:
            raise JettisonError(str(exc)) from None
    return config


# os/arch[/variant], as docker and buildx spell platforms (linux/amd64, linux/arm/v7); a
# pattern, not a compiled one: re compiles it on first use (the commands that check platforms)
_PLATFORM = r"(?i)[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_.]+)?"


def check_platforms(values: tuple[str, ...] | list[str], option: str = "--platform") -> None:
    """A platform that is not ``os/arch[/variant]`` is a usage error, not a build that fails."""
    for value in values:
        for part in value.split(","):
            if not re.fullmatch(_PLATFORM, part.strip()):
                raise JettisonError(
                    f"{option} {value!r}: expected OS/ARCH[/VARIANT], e.g. linux/amd64"
                )


def check_output(output: str | None, option: str, inputs: tuple[str | None, ...] = ()) -> None:
    """Fail before the work, not after it: ``output`` must be a file name in an existing
    directory, and not one of the command's own input files (a report written over the
    Dockerfile or the image archive it describes would lose the user's file)."""
    if output is None:
        return
    if not output.strip():
        raise JettisonError(f"{option}: no file name given")
    path = Path(output)
    if path.is_dir():
        raise JettisonError(f"is a directory, not a file ({option})", output)
    parent = path.parent
    if not parent.is_dir():
        raise JettisonError(f"no such directory: {str(parent)!r} ({option})", output)
    if not path.exists():
        return
    for given in inputs:
        if given is None:
            continue
        try:
            same = os.path.samefile(output, given)
        except OSError:
            continue
        if same:
            raise JettisonError(
                f"refusing to overwrite an input file with the report ({option})", output
            )


def rule_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option(
                "--select",
                multiple=True,
                metavar="CODES",
                help="Only these rule codes or prefixes (comma-separated, repeatable).",
            ),
            click.option(
                "--ignore",
                multiple=True,
                metavar="CODES",
                help="Skip these rule codes or prefixes (comma-separated, repeatable).",
            ),
            click.option(
                "--config",
                "config_path",
                type=click.Path(dir_okay=False),
                help="Config file (default: .jettison.toml or [tool.jettison] in "
                "pyproject.toml, searched upward).",
            ),
        ]
    ):
        func = option(func)
    return func


def _use_builder(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        from jettison.engine import use_builder

        use_builder(value)


def quiet_option(func: click.decorators.FC) -> click.decorators.FC:
    """``-q``: no progress lines (shown on stderr, and only when it is a terminal)."""
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="No progress lines (they go to stderr, and only when it is a terminal).",
    )(func)


def progress_shown(quiet: bool) -> bool:
    """Whether the long phases say what they do: on a terminal's stderr, unless ``-q``."""
    return not quiet and sys.stderr.isatty()


def builder_option(func: click.decorators.FC) -> click.decorators.FC:
    """``--builder NAME``: every build of the command on that buildx builder."""
    return click.option(
        "--builder",
        metavar="NAME",
        expose_value=False,
        callback=_use_builder,
        help="Build on this buildx builder (remote buildkitd, Kubernetes, cloud, another "
        "context; `docker buildx ls` lists them). Needs the buildx plugin.",
    )(func)


def graph_inputs(func: click.decorators.FC) -> click.decorators.FC:
    """``[COMPOSE | DOCKERFILE...]`` and ``--context DOCKERFILE=DIR`` (services, build, ci)."""
    func = click.option(
        "--context",
        "contexts",
        multiple=True,
        metavar="DOCKERFILE=DIR",
        help="Build context of one Dockerfile of a set (repeatable; default: the "
        "Dockerfile's directory).",
    )(func)
    return click.argument("paths", nargs=-1, metavar="[COMPOSE | DOCKERFILE...]")(func)


def open_paths(paths: tuple[str, ...], contexts: tuple[str, ...]) -> Project:
    """The compose project (one compose file or directory, default ``.``) or the set of
    Dockerfiles named on the command line, with ``--context DOCKERFILE=DIR`` values."""
    from jettison.services.project import open_project

    mapping: dict[Path, Path] = {}
    for value in contexts:
        dockerfile, sep, context = value.partition("=")
        if not sep or not dockerfile or not context:
            raise JettisonError(f"--context {value}: expected DOCKERFILE=DIR")
        mapping[Path(dockerfile)] = Path(context)
    return open_project(list(paths) or ["."], mapping)


def parse_build_args(values: tuple[str, ...]) -> dict[str, str]:
    """``--build-arg KEY=VALUE`` options (bench, fix) as a mapping."""
    args: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not key or not sep:
            raise JettisonError(f"--build-arg must be KEY=VALUE, got {value!r}")
        args[key] = val
    return args
