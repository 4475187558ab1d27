"""JT602 dockerignore-incomplete: .dockerignore does not exclude .git, caches, virtualenvs or
.env.
"""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.context.input import ContextInput
from jettison.rules.registry import Category, rule
from jettison.units import human_bytes


@rule(
    "JT602",
    "dockerignore-incomplete",
    Category.CONTEXT,
    Severity.WARNING,
    ".dockerignore does not exclude .git, caches, virtualenvs or .env",
    what="Flags a `.dockerignore` that lets `.git`, `__pycache__`, `*.pyc`, `.venv`/`venv`, "
    "`node_modules` or `.env` through, when the context has them.",
    why="These are large, change often (invalidating COPY layers) or hold secrets.",
    example=".dockerignore:\n*.md",
    use_instead=".dockerignore:\n*.md\n.git\n.venv\n**/__pycache__\n**/*.pyc\n.env",
    fix="Safe: appends the missing entries (never one a COPY/ADD names, nor `.git` when the "
    "build reads it, as for JT601).",
    fix_safety=FixSafety.SAFE,
    scope="context",
)
def dockerignore_incomplete(ctx: ContextInput) -> Iterator[Finding]:
    # imported here: these load the context scanner, which only the audits that scan a context
    # need (every audit imports the rules)
    from jettison.build_context.dockerignore import (
        copied_sources,
        git_history_needed,
        safe_patterns,
    )
    from jettison.build_context.scan import REQUIRED_IGNORES

    scan = ctx.scan
    if scan.dockerignore is None:
        return
    missing = [p for p in REQUIRED_IGNORES if p in scan.present_defaults]
    if ".git" in missing and git_history_needed(scan.root, ctx.dockerfiles):
        missing.remove(".git")  # the build reads it: excluding it would break the build
    missing = safe_patterns(missing, copied_sources(ctx.dockerfiles))
    if not missing:
        return
    fix = ctx.ignore_fix("add missing .dockerignore entries", FixSafety.SAFE, missing)
    size = sum(scan.present_defaults[p] for p in missing)
    yield ctx.report(
        f".dockerignore lets {', '.join(missing)} through ({human_bytes(size, largest='GB')})",
        path=ctx.ignore_display,
        fix=fix,
    )
