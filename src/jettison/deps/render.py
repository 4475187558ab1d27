"""``jettison deps``'s report: text (rich), Markdown, JSON, SARIF and GitHub annotations."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from jettison.deps.report import CODES, DepsReport, human_bytes
from jettison.report import render_findings, write_plain

FORMATS = ("text", "json", "markdown", "sarif", "github")


def render(report: DepsReport, fmt: str, out: Console) -> None:
    if fmt == "json":
        write_plain(out, json.dumps(report.to_json(), indent=2))
    elif fmt in ("sarif", "github"):
        render_findings(report.findings(), report.errors, fmt, out)
    elif fmt == "markdown":
        write_plain(out, to_markdown(report))
    else:
        render_text(report, out)


def render_text(report: DepsReport, out: Console) -> None:
    out.print(
        f"[bold]{escape(report.root)}[/]: {report.files_scanned} Python file(s), "
        f"{report.declared} declaration(s); metadata from {escape(report.environment)}"
    )
    current = ""
    for item in report.items:
        title = CODES[item.code][3]
        if item.code != current:
            out.print(f"\n[bold]{item.code}[/] {escape(title)}")
            current = item.code
        cost = []
        if item.size_bytes is not None:
            cost.append(human_bytes(item.size_bytes))
        if item.freed_bytes and item.freed_bytes != item.size_bytes:
            cost.append(f"{human_bytes(item.freed_bytes)} with its own dependencies")
        shown_cost = f" [cyan]({', '.join(cost)})[/]" if cost else ""
        guess = " [dim](guessed mapping)[/]" if item.guessed else ""
        out.print(
            f"  [bold]{escape(item.name)}[/]{shown_cost} [dim]{escape(item.path)}:{item.line}[/]"
        )
        out.print(f"      {escape(item.reason)}{guess}")
    if not report.items:
        out.print("no unused, missing or misplaced packages found")
    out.print()
    if report.errors:
        out.print(f"[red]{len(report.errors)} file(s) could not be read[/] (see stderr)")
    for note in report.notes:
        out.print(f"[yellow]note[/] {escape(note)}")
    if report.guesses:
        out.print("[dim]mappings guessed (no metadata for them):[/]")
        for g in report.guesses[:20]:
            out.print(f"[dim]  {escape(g)}[/]")
    counts = ", ".join(
        f"{len(report.of(c))} {CODES[c][2].replace('_', ' ')}" for c in CODES if report.of(c)
    )
    total = (
        f"; removing the unused frees {human_bytes(report.removable_bytes)}"
        if report.removable_bytes
        else ""
    )
    out.print(
        f"[bold]{len(report.items)} finding(s)[/]" + (f": {counts}" if counts else "") + total
    )


def to_markdown(report: DepsReport) -> str:
    lines = [
        f"### jettison deps: `{report.root}`",
        "",
        f"Metadata from {report.environment}; {report.files_scanned} Python file(s).",
        "",
    ]
    if report.items:
        lines += ["| code | package | size | freed | why | where |", "|---|---|--:|--:|---|---|"]
        for i in report.items:
            lines.append(
                f"| {i.code} | `{i.name}` | "
                f"{human_bytes(i.size_bytes) if i.size_bytes is not None else ''} | "
                f"{human_bytes(i.freed_bytes) if i.freed_bytes else ''} | "
                f"{i.reason.replace('|', '/')}{' (guessed)' if i.guessed else ''} | "
                f"`{i.path}:{i.line}` |"
            )
    else:
        lines.append("No unused, missing or misplaced packages found.")
    if report.removable_bytes:
        lines += [
            "",
            f"Removing the unused packages frees **{human_bytes(report.removable_bytes)}**.",
        ]
    for e in report.errors:
        lines.append(f"- error: {e}")
    return "\n".join(lines) + "\n"
