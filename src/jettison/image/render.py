"""``jettison inspect``'s report as text (rich), GitHub annotations, JSON, SARIF, Markdown."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from jettison.image import thresholds
from jettison.report.findings import render_findings
from jettison.report.markdown import to_markdown
from jettison.report.sarif import to_sarif
from jettison.units import human_bytes

if TYPE_CHECKING:  # rich is imported only for the terminal view (text, github)
    from rich.console import Console

    from jettison.image.analysis import ImageReport

FORMATS = ("text", "json", "sarif", "github", "markdown")


def render_document(
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
        return render_markdown(report, top)
    return None


def prepare_terminal_view() -> None:
    """Import rich and render a small table once (its cell widths, markup and styles load on
    first use): called while the engine prepares an export, so that none of it is paid
    after the analysis."""
    from rich.console import Console
    from rich.table import Table

    table = Table("layer", "size")
    table.add_row("[dim]RUN[/] x", human_bytes(1))
    Console(file=io.StringIO(), width=80, force_terminal=True).print("[bold]x[/]", table)


def render_to_text(report: ImageReport, fmt: str, top: int, dive_compatible: bool) -> str:
    from rich.console import Console

    buf = io.StringIO()
    out = Console(
        file=buf, no_color=True, width=140, force_terminal=False, soft_wrap=True, highlight=False
    )
    render_terminal(report, fmt, out, top, dive_compatible)
    return buf.getvalue()


def render_terminal(
    report: ImageReport, fmt: str, out: Console, top: int, dive_compatible: bool
) -> None:
    if fmt == "github":
        render_findings(report.findings, [], "github", out)
    else:
        render_text(report, out, top, dive_compatible)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def render_text(report: ImageReport, out: Console, top: int, dive_compatible: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    short_id = report.image_id.split(":")[-1][:12]
    out.print(
        f"[bold]{escape(report.image)}[/]  [dim]({report.kind}"
        + (f", {short_id}" if short_id else "")
        + (f", {report.platform}" if report.platform else "")
        + ")[/]"
    )
    out.print(
        f"size {human_bytes(report.size_bytes)} in {len(report.layers)} layers; final "
        f"filesystem {human_bytes(report.final_bytes)}; [bold]reclaimable "
        f"{human_bytes(report.reclaimable_bytes)} ({report.reclaimable_percent:.1f} %)[/]; "
        f"duplicate content {human_bytes(report.duplicate_bytes)}"
    )
    d = report.dive
    out.print(
        f"[dim]dive-compatible: efficiency {_pct(d.efficiency)}, wasted "
        f"{human_bytes(d.wasted_bytes)} ({d.wasted_bytes:,} bytes), user-wasted "
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
            human_bytes(layer.size_bytes),
            human_bytes(layer.reclaimable_added) if layer.reclaimable_added else "",
            human_bytes(layer.reclaimable_hidden) if layer.reclaimable_hidden else "",
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
                human_bytes(w.bytes),
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
                human_bytes(c.bytes),
                f"{c.files:,}",
                c.category.code,
                c.category.title,
                escape(first),
            )
        out.print()
        out.print(table)
    if dive_compatible and d.inefficient_files:
        table = Table(title="dive's inefficient files", show_edge=False, title_justify="left")
        for col in ("count", "wasted space", "path"):
            table.add_column(col, justify="left" if col == "path" else "right")
        for f in d.inefficient_files[:top]:
            table.add_row(str(f.copies), human_bytes(f.size_bytes), escape(f.path))
        out.print()
        out.print(table)
    out.print()
    findings = sorted(report.findings, key=lambda f: f.sort_key())
    render_findings(findings, [], "text", out, files=len({f.path for f in findings}))


def render_markdown(report: ImageReport, top: int) -> str:
    d = report.dive
    lines = [
        f"## jettison inspect `{report.image}`",
        "",
        "| size | final | reclaimable | duplicates | dive efficiency | dive wasted | "
        "dive user-wasted |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {human_bytes(report.size_bytes)} | {human_bytes(report.final_bytes)} | "
        f"{human_bytes(report.reclaimable_bytes)} ({report.reclaimable_percent:.1f} %) | "
        f"{human_bytes(report.duplicate_bytes)} | {_pct(d.efficiency)} | "
        f"{human_bytes(d.wasted_bytes)} | {_pct(d.user_wasted_percent)} |",
        "",
        "### Layers by size",
        "",
        "| # | size | wasted later | made by |",
        "|---:|---:|---:|---|",
    ]
    for layer in sorted(report.layers, key=lambda x: (-x.size_bytes, x.index))[:top]:
        label = layer.label().replace("|", "\\|")
        lines.append(
            f"| {layer.index} | {human_bytes(layer.size_bytes)} | "
            f"{human_bytes(layer.reclaimable_added) if layer.reclaimable_added else ''} | "
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
                f"| {human_bytes(c.bytes)} | {c.category.code} | {c.category.title} | `{first}` |"
            )
    findings = to_markdown(report.findings, []).splitlines()
    lines += ["", "### Findings", *findings[1:]]
    return "\n".join(lines)
