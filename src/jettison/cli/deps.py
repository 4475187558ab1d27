"""``jettison deps``: Python packages declared but never used, used but never declared, and the
bytes each costs in the image."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from jettison.atomic import write_files_atomic
from jettison.cli._common import build_config, console, rule_options, split_codes
from jettison.deps import CODES, DepsReport, human_bytes, run
from jettison.deps.fix import plan_writes
from jettison.errors import JettisonError
from jettison.report import render_findings, write_plain

_FORMATS = ("text", "json", "markdown", "sarif", "github")


@click.command("deps")
@click.argument("path", default=".")
@click.option(
    "--image",
    metavar="IMAGE",
    help="Read package metadata and sizes from this built image (most exact; the "
    "image is never run).",
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
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
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
    if (resolve or image) and sys.stderr.isatty():  # the slow phases say what they do
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
    _render(report, fmt, out)
    if report.errors:
        err = console(stderr=True)  # in every format: stdout holds only the report
        for e in report.errors:
            err.print(f"jettison: error: {e}", markup=False)
        raise SystemExit(2)
    raise SystemExit(1 if any(config.fails(f.severity) for f in report.findings()) else 0)


def _render(report: DepsReport, fmt: str, out: Console) -> None:
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
