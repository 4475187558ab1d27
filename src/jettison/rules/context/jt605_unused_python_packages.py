"""JT605 unused-python-packages: Python packages installed in the image that the code never uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from jettison.findings import Finding, Severity
from jettison.rules.codes import UNUSED_DISTRIBUTION
from jettison.rules.context.input import ContextInput
from jettison.rules.registry import Category, rule


@rule(
    "JT605",
    "unused-python-packages",
    Category.CONTEXT,
    Severity.WARNING,
    "Python packages installed in the image that the code never uses",
    what="""
        Runs the `jettison deps` analysis on the build context of a Python project (one with
        a requirements file, pyproject.toml, setup.cfg or Pipfile): every distribution the
        image installs for run time that no code imports and no command, URL, setting or
        plugin uses, with the bytes it costs where they are known.
    """,
    why="""
        Unused packages are pure weight: one data service cut its dependencies from 59.3 MB to
        10.2 MB (matplotlib, seaborn, jupyter, redis, sqlalchemy ...) by reading the imports
        by hand.
    """,
    example="requirements.txt lists pandas and matplotlib; only pandas is imported",
    use_instead="Drop the unused requirement (`jettison deps --write` writes a pruned file).",
    fix="`jettison deps --write` (a separate command: it needs the project's metadata).",
    notes="""
        The audit uses the metadata it can find without building (the project's `.venv`, else
        the interpreter running jettison); findings whose import-name mapping had to be
        guessed are reported as info and say so. `jettison deps --image IMG` reads the
        built image's own metadata and is exact. A requirement it cannot read (malformed, an
        include that is missing) is a finding of its own at its file and line, and the rest
        of the project is still analysed.
    """,
    scope="context",
)
def unused_python_packages(ctx: ContextInput) -> Iterator[Finding]:
    report = ctx.deps_report
    if report is None:
        return
    seen: set[str] = set()
    for error in report.errors:
        # a requirement the analysis could not read: one finding where it is; the rest
        # of the project is still analysed
        # the same file can be read under two names (relative and absolute)
        key = f"{Path(error.path).resolve() if error.path else ''}:{error.line}:{error.message}"
        if key in seen:
            continue
        seen.add(key)
        yield Finding(
            code=ctx.rule.code,
            rule_name=ctx.rule.name,
            severity=Severity.WARNING,
            path=error.path or ctx.display,
            line=error.line or 1,
            end_line=error.line or 1,
            message=f"not analysed: {error.message}",
            show_source=error.line is not None,
        )
    for item in report.of(UNUSED_DISTRIBUTION):
        finding = next(
            f
            for f in report.findings()
            if f.code == UNUSED_DISTRIBUTION and f.line == item.line and f.path == item.path
        )
        yield Finding(
            code=ctx.rule.code,
            rule_name=ctx.rule.name,
            severity=Severity.INFO if item.guessed else ctx.rule.severity,
            path=item.path,
            line=item.line,
            end_line=item.line,
            message=finding.message,
            equivalents={"jettison deps": UNUSED_DISTRIBUTION},
        )
