"""``jettison audit``: findings on Dockerfiles, compose files and build contexts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from jettison.audit.checks import audit_dockerfile_bytes
from jettison.audit.codes import check_rule_codes
from jettison.audit.run import AuditResult, audit_paths
from jettison.cli._common import build_config, rule_options
from jettison.errors import JettisonError
from jettison.report import FORMATS, render_findings, render_statistics
from jettison.report.output import shown_path


@click.command("audit")
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="junit, gitlab (code quality) and checkstyle are the reports CI systems read.",
)
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
    "--context",
    "context_dir",
    metavar="DIR",
    default=None,
    help="The build context of the Dockerfiles given (default: each one's folder, or what "
    "a compose file says), as `docker build -f docker/Dockerfile DIR`.",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    default=None,
    help="The name of the Dockerfile read from standard input (`-`), for the report and "
    "per-file-ignores.",
)
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
    context_dir: str | None,
    stdin_filename: str | None,
    jobs: int | None,
) -> None:
    """Audit Dockerfiles, compose files and build contexts (default: the current directory;
    `-` reads a Dockerfile from standard input).

    Exit code: 0 when nothing is at or above --fail-level, 1 when something is, 2 on usage
    or input errors (files that cannot be parsed are reported and the others still audited).
    """
    if statistics and fmt not in ("text", "json"):
        raise click.UsageError("--statistics writes text or json, not --format " + fmt)
    if stdin_filename is not None and paths and "-" not in paths:
        raise click.UsageError("--stdin-filename names standard input: give `-` as a path")
    if context_dir is not None and not os.path.isdir(context_dir):
        raise JettisonError("build context does not exist or is not a directory", context_dir)
    use_stdin = "-" in paths or (stdin_filename is not None and not paths)
    config = build_config(config_path, select, ignore, fail_level)
    check_rule_codes(config)
    files = [p for p in paths if p != "-"]
    if files or not use_stdin:
        result = audit_paths(
            files or ["."],
            config,
            jobs=jobs,
            context=not no_context,
            context_dir=Path(context_dir) if context_dir is not None else None,
        )
    else:
        result = AuditResult()
    sources: dict[str, str] = {}
    if use_stdin:
        name = stdin_filename or "-"
        data = sys.stdin.buffer.read()
        findings, errors = audit_dockerfile_bytes(
            data, name, config, Path(context_dir) if context_dir is not None else None
        )
        result.findings[:0] = findings
        result.errors[:0] = errors
        result.files += 1
        result.paths.insert(0, name)
        sources[name] = data.decode("utf-8", "replace")
    out = sys.stdout
    if statistics:
        render_statistics(result.findings, out, fmt)
    else:
        render_findings(
            result.findings,
            result.errors,
            fmt,
            out,
            files=result.files,
            paths=result.paths,
            sources=sources,
        )
    # errors go to stderr, one line each; GitHub's annotations are already that line
    if result.errors and not (fmt == "github" and not statistics):
        for e in result.errors:
            where = shown_path(e.path) if e.path else None
            click.echo(f"jettison: error: {JettisonError(e.message, where, e.line)}", err=True)
    if result.errors:
        raise SystemExit(2)
    raise SystemExit(1 if any(config.fails(f.severity) for f in result.findings) else 0)
