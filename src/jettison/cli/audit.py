"""``jettison audit``: findings on Dockerfiles, compose files and build contexts."""

from __future__ import annotations

import click

from jettison.audit import audit_paths
from jettison.cli._common import build_config, check_rule_codes, console, rule_options
from jettison.report import FORMATS, render_findings, render_statistics


@click.command("audit")
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@rule_options
@click.option(
    "--fail-level",
    type=click.Choice(["error", "warning", "info", "style"]),
    default=None,
    help="Exit 1 when a finding is at or above this level [default: warning].",
)
@click.option("--statistics", is_flag=True, help="Show counts per rule instead of findings.")
@click.option("--no-context", is_flag=True, help="Do not scan build contexts.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: cores).",
)
def command(
    paths: tuple[str, ...],
    fmt: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: str | None,
    fail_level: str | None,
    statistics: bool,
    no_context: bool,
    jobs: int | None,
) -> None:
    """Audit Dockerfiles, compose files and build contexts (default: the current directory).

    Exit code: 0 when nothing is at or above --fail-level, 1 when something is, 2 on usage
    or input errors (files that cannot be parsed are reported and the others still audited).
    """
    config = build_config(config_path, select, ignore, fail_level)
    check_rule_codes(config)
    result = audit_paths(list(paths) or ["."], config, jobs=jobs, context=not no_context)
    out = console()
    if statistics:
        render_statistics(result.findings, out, "json" if fmt == "json" else "text")
    else:
        render_findings(result.findings, result.errors, fmt, out, files=result.files)
    # the statistics table and the JSON/SARIF documents have no place for errors: stderr
    if (statistics or fmt in ("json", "sarif")) and result.errors:
        err = console(stderr=True)
        for e in result.errors:
            err.print(f"jettison: error: {e}", markup=False)
    if result.errors:
        raise SystemExit(2)
    failing = [f for f in result.findings if f.severity.rank >= config.fail_level.rank]
    raise SystemExit(1 if failing else 0)
