"""``jettison inspect``: layers, reclaimable bytes, bloat and dive's numbers; a CI gate."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jettison.atomic import write_text_atomic
from jettison.cli._common import check_output, check_platforms, console
from jettison.config import load_config
from jettison.errors import JettisonError
from jettison.findings import Finding, Severity
from jettison.image import thresholds
from jettison.image.sources import SOURCE_KINDS, request_export
from jettison.report.findings import render_findings, to_markdown, to_sarif

if TYPE_CHECKING:  # rich is imported only for the terminal view (text, github)
    from rich.console import Console

    from jettison.image.analysis import ImageReport

FORMATS = ("text", "json", "sarif", "github", "markdown")
# what names a file or directory on this machine (see jettison.image.sources)
_LOCAL_PREFIXES = ("docker-archive:", "oci-archive:", "archive:", "oci:")


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
    gate = _thresholds(fail_on, config_path, dive_ci)
    try:
        # the engine prepares a whole export before its first byte: ask first, import the
        # analysis code while it works
        requested = request_export(image, source)
        from jettison.image.analysis import inspect_image

        report = inspect_image(image, source, platform, dockerfile, requested)
    except JettisonError as exc:
        if exc.path is None and local is not None:
            exc.path = local  # "truncated tar" says which file
        raise
    failed = thresholds.evaluate(gate, report.numbers())
    for t, _value, message in failed:
        origin = "" if t.origin == "--fail-on" else f" ({t.origin})"
        report.findings.append(
            Finding(
                "JI001",
                f"CI threshold failed{origin}: {message}",
                f"image:{report.image}",
                1,
                1,
                Severity.ERROR,
                rule_name=f"fail-on-{t.key}",
            )
        )
    text = _render_document(report, fmt, top, dive_compatible, gate)
    if output is not None:
        if text is None:
            text = _render_to_text(report, fmt, top, dive_compatible)
        write_text_atomic(Path(output), text)
    elif text is not None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        _render(report, fmt, console(), top, dive_compatible)
    raise SystemExit(1 if failed else 0)


def _check_image(image: str, source: str) -> str | None:
    """The local file or directory IMAGE names, if any; usage errors before any reading."""
    if not image.strip():
        raise JettisonError("IMAGE is empty: give an image name, archive or OCI layout")
    path, kind = image, source
    if source == "auto":
        prefix = next((p for p in _LOCAL_PREFIXES if image.startswith(p)), "")
        path = image[len(prefix) :]
        if prefix:
            kind = "oci" if prefix == "oci:" else "archive"
        elif os.path.exists(path):
            kind = "oci" if os.path.isdir(path) else "archive"
    if kind == "archive" and os.path.isdir(path):
        raise JettisonError("is a directory, not an archive (an OCI layout: --source oci)", path)
    if kind in ("archive", "oci"):
        return path if os.path.exists(path) else None
    if any(c.isspace() or not c.isprintable() for c in image):
        raise JettisonError(f"not an image reference: {image!r} (no spaces or control characters)")
    return None


def _thresholds(
    fail_on: tuple[str, ...], config_path: str | None, dive_ci: str | None
) -> dict[str, thresholds.Threshold]:
    cli = thresholds.from_cli(fail_on)
    config = load_config(explicit=Path(config_path) if config_path else None)
    from_config = thresholds.from_config(config.raw, config.source or "<config>")
    dive_path = Path(dive_ci) if dive_ci else Path(".dive-ci")
    if dive_ci and not dive_path.is_file():
        raise JettisonError("no such file", dive_ci)
    from_dive = thresholds.from_dive_ci(dive_path) if dive_path.is_file() else {}
    return thresholds.merge(cli, from_config, from_dive)


def _render_document(
    report: ImageReport,
    fmt: str,
    top: int,
    dive_compatible: bool,
    gate: dict[str, thresholds.Threshold],
) -> str | None:
    """JSON, SARIF and Markdown as a string; None for the formats rich renders."""
    if fmt == "json":
        data = report.to_json()
        if dive_compatible:
            data["dive"]["inefficient_files"] = [
                {"path": f.path, "count": f.copies, "size_bytes": f.size_bytes}
                for f in report.dive.inefficient_files
            ]
        data["gate"] = {t.key: {"value": t.text, "origin": t.origin} for t in gate.values()}
        return json.dumps(data, indent=2)
    if fmt == "sarif":
        return json.dumps(to_sarif(report.findings, []), indent=2)
    if fmt == "markdown":
        return _markdown(report, top)
    return None


def _render_to_text(report: ImageReport, fmt: str, top: int, dive_compatible: bool) -> str:
    from rich.console import Console

    buf = io.StringIO()
    out = Console(
        file=buf, no_color=True, width=140, force_terminal=False, soft_wrap=True, highlight=False
    )
    _render(report, fmt, out, top, dive_compatible)
    return buf.getvalue()


def _render(report: ImageReport, fmt: str, out: Console, top: int, dive_compatible: bool) -> None:
    if fmt == "github":
        render_findings(report.findings, [], "github", out)
    else:
        _text(report, out, top, dive_compatible)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def _text(report: ImageReport, out: Console, top: int, dive_compatible: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from jettison.image.analysis import human

    short_id = report.image_id.split(":")[-1][:12]
    out.print(
        f"[bold]{escape(report.image)}[/]  [dim]({report.kind}"
        + (f", {short_id}" if short_id else "")
        + (f", {report.platform}" if report.platform else "")
        + ")[/]"
    )
    out.print(
        f"size {human(report.size_bytes)} in {len(report.layers)} layers; final "
        f"filesystem {human(report.final_bytes)}; [bold]reclaimable "
        f"{human(report.reclaimable_bytes)} ({report.reclaimable_percent:.1f} %)[/]; "
        f"duplicate content {human(report.duplicate_bytes)}"
    )
    d = report.dive
    out.print(
        f"[dim]dive-compatible: efficiency {_pct(d.efficiency)}, wasted "
        f"{human(d.wasted_bytes)} ({d.wasted_bytes:,} bytes), user-wasted "
        f"{_pct(d.user_wasted_percent)}[/]"
    )
    if report.dockerfile:
        out.print(f"[dim]layers tied to {escape(report.dockerfile)}[/]")
    for note in report.notes:
        out.print(f"[dim]note: {escape(note)}[/]")
    table = Table(title="layers by size", show_edge=False, title_justify="left")
    for col, just in (
        ("#", "right"),
        ("size", "right"),
        ("wasted later", "right"),
        ("hides", "right"),
        ("made by", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for layer in sorted(report.layers, key=lambda x: (-x.size_bytes, x.index))[:top]:
        table.add_row(
            str(layer.index),
            human(layer.size_bytes),
            human(layer.reclaimable_added) if layer.reclaimable_added else "",
            human(layer.reclaimable_hidden) if layer.reclaimable_hidden else "",
            escape(layer.label()),
        )
    out.print()
    out.print(table)
    if report.waste:
        table = Table(title="top reclaimable paths", show_edge=False, title_justify="left")
        for col in ("bytes", "files", "path", "why", "added → hidden by"):
            table.add_column(col, justify="right" if col in ("bytes", "files") else "left")
        for w in report.waste[:top]:
            table.add_row(
                human(w.bytes),
                f"{w.files:,}",
                escape("/" + w.path),
                w.kind,
                f"{w.adder} → {w.hider}",
            )
        out.print()
        out.print(table)
    if report.categories:
        table = Table(title="bloat in the final image", show_edge=False, title_justify="left")
        for col in ("bytes", "files", "rule", "category", "top path"):
            table.add_column(col, justify="right" if col in ("bytes", "files") else "left")
        for c in report.categories[:top]:
            first = c.top(1)[0][0] if c.groups else ""
            table.add_row(
                human(c.bytes), f"{c.files:,}", c.category.code, c.category.title, escape(first)
            )
        out.print()
        out.print(table)
    if dive_compatible and d.inefficient_files:
        table = Table(title="dive's inefficient files", show_edge=False, title_justify="left")
        for col in ("count", "wasted space", "path"):
            table.add_column(col, justify="left" if col == "path" else "right")
        for f in d.inefficient_files[:top]:
            table.add_row(str(f.copies), human(f.size_bytes), escape(f.path))
        out.print()
        out.print(table)
    out.print()
    findings = sorted(report.findings, key=lambda f: f.sort_key())
    render_findings(findings, [], "text", out, files=len({f.path for f in findings}))


def _markdown(report: ImageReport, top: int) -> str:
    from jettison.image.analysis import human

    d = report.dive
    lines = [
        f"## jettison inspect `{report.image}`",
        "",
        "| size | final | reclaimable | duplicates | dive efficiency | dive wasted | "
        "dive user-wasted |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {human(report.size_bytes)} | {human(report.final_bytes)} | "
        f"{human(report.reclaimable_bytes)} ({report.reclaimable_percent:.1f} %) | "
        f"{human(report.duplicate_bytes)} | {_pct(d.efficiency)} | "
        f"{human(d.wasted_bytes)} | {_pct(d.user_wasted_percent)} |",
        "",
        "### Layers by size",
        "",
        "| # | size | wasted later | made by |",
        "|---:|---:|---:|---|",
    ]
    for layer in sorted(report.layers, key=lambda x: (-x.size_bytes, x.index))[:top]:
        label = layer.label().replace("|", "\\|")
        lines.append(
            f"| {layer.index} | {human(layer.size_bytes)} | "
            f"{human(layer.reclaimable_added) if layer.reclaimable_added else ''} | "
            f"{label} |"
        )
    if report.categories:
        lines += [
            "",
            "### Bloat",
            "",
            "| bytes | rule | category | top path |",
            "|---:|---|---|---|",
        ]
        for c in report.categories[:top]:
            first = c.top(1)[0][0] if c.groups else ""
            lines.append(
                f"| {human(c.bytes)} | {c.category.code} | {c.category.title} | `{first}` |"
            )
    findings = to_markdown(report.findings, []).splitlines()
    lines += ["", "### Findings", *findings[1:]]
    return "\n".join(lines)
