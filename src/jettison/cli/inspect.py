"""``jettison inspect``: layers, reclaimable bytes, bloat and dive's numbers; a CI gate."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from jettison.atomic import write_text_atomic
from jettison.cli import answer_first
from jettison.cli._common import check_output, check_platforms, console, quiet_option
from jettison.errors import JettisonError
from jettison.image import thresholds
from jettison.image.render import (
    FORMATS,
    prepare_terminal_view,
    render_document,
    render_terminal,
    render_to_text,
)
from jettison.image.sources import LOCAL_KINDS, SOURCE_KINDS, local_target, request_export


@click.command("inspect")
@click.argument("image")
@click.option(
    "--source",
    type=click.Choice(SOURCE_KINDS),
    default="auto",
    show_default=True,
    help="Where IMAGE is: the engine, a `docker save` archive, an OCI layout "
    "directory, or a registry reference (auto: a path if it exists, else the "
    "engine; prefixes docker-archive:, oci:, registry: also work).",
)
@click.option(
    "--platform",
    default=None,
    metavar="OS/ARCH[/VARIANT]",
    help="Platform to pick from a multi-platform index [default: this host's].",
)
@click.option(
    "--dockerfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="Tie layers to this Dockerfile's instructions [default: ./Dockerfile "
    "when the image's history matches it].",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report to this file (atomically) instead of stdout.",
)
@click.option(
    "--fail-on",
    multiple=True,
    metavar="KEY=VALUE",
    help="CI gate, repeatable: size, reclaimable-bytes, reclaimable-percent, "
    "efficiency, wasted-bytes, user-wasted-percent (e.g. "
    "reclaimable-bytes=20MB). Exit 1 when one fails.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file with [tool.jettison.inspect.fail-on] (default: searched upward).",
)
@click.option(
    "--dive-ci",
    "dive_ci",
    type=click.Path(dir_okay=False),
    default=None,
    help="dive's CI rules file [default: .dive-ci when present].",
)
@click.option(
    "--dive-compatible",
    is_flag=True,
    help="Also show dive's inefficient-file list (all of it in JSON).",
)
@click.option(
    "--top",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Rows per table in the terminal view.",
)
@quiet_option
def command(
    image: str,
    source: str,
    platform: str | None,
    dockerfile: str | None,
    fmt: str,
    output: str | None,
    fail_on: tuple[str, ...],
    config_path: str | None,
    dive_ci: str | None,
    dive_compatible: bool,
    top: int,
    quiet: bool,
) -> None:
    """Inspect IMAGE: per-layer size, reclaimable bytes (who added, who hid them), duplicate
    content, bloat categories with the audit rule that prevents each, and dive 0.13.1's
    efficiency numbers computed exactly as dive does.

    Exit code: 0, or 1 when a --fail-on / config / .dive-ci threshold fails, 2 when the
    image cannot be read.
    """
    local = _check_image(image, source)
    if platform is not None:
        check_platforms((platform,))
    check_output(output, "--output", (local, dockerfile, dive_ci, config_path))
    gate = thresholds.load_gate(fail_on, config_path, dive_ci)
    try:
        # the engine prepares a whole export before its first byte: ask first, import the
        # analysis code while it works
        requested = request_export(image, source)
        from jettison.image.analysis import import_late_modules, inspect_image

        if requested is not None:
            import_late_modules()
            if fmt in ("text", "github"):
                prepare_terminal_view()

        answer_first()  # (the clean-up and the exit then come after the caller has the code)
        report = inspect_image(
            image, source, platform, dockerfile, requested, background_cleanup=True
        )
    except JettisonError as exc:
        if exc.path is None and local is not None:
            exc.path = local  # "truncated tar" says which file
        raise
    failed = thresholds.apply_gate(report, gate)
    text = render_document(report, fmt, top, dive_compatible, gate)
    if output is not None:
        if text is None:
            text = render_to_text(report, fmt, top, dive_compatible)
        write_text_atomic(Path(output), text)
    elif text is not None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        render_terminal(report, fmt, console(), top, dive_compatible)
    raise SystemExit(1 if failed else 0)


def _check_image(image: str, source: str) -> str | None:
    """The local file or directory IMAGE names, if any; usage errors before any reading."""
    if not image.strip():
        raise JettisonError("IMAGE is empty: give an image name, archive or OCI layout")
    kind, path = local_target(image, source)
    if kind == "archive" and os.path.isdir(path):
        raise JettisonError("is a directory, not an archive (an OCI layout: --source oci)", path)
    if kind in LOCAL_KINDS:
        return path if os.path.exists(path) else None
    if any(c.isspace() or not c.isprintable() for c in image):
        raise JettisonError(f"not an image reference: {image!r} (no spaces or control characters)")
    return None
