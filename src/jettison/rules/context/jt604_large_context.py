"""JT604 large-context: the build context is large, and what a .dockerignore would save."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.context.input import ContextInput
from jettison.rules.registry import Category, rule
from jettison.units import human_bytes


@rule(
    "JT604",
    "large-context",
    Category.CONTEXT,
    Severity.INFO,
    "the build context is large, and what a .dockerignore would save",
    what="Reports the context size, its biggest entries and the bytes the standard ignore "
    "entries would save, when the context is over 10 MB or over 1 MB would be saved.",
    why="The context is uploaded to the builder before every build; with remote builders or "
    "CI runners that is network time on every build.",
    example="(a 400 MB context with a dataset directory)",
    use_instead="Exclude data, artifacts and caches in .dockerignore; copy only what the "
    "image needs.",
    scope="context",
)
def large_context(ctx: ContextInput) -> Iterator[Finding]:
    scan = ctx.scan
    saved = sum(scan.present_defaults.values())
    if scan.included_bytes < 10_000_000 and saved < 1_000_000:
        return
    top = ", ".join(f"{e.path} {human_bytes(e.size, largest='GB')}" for e in scan.top_entries[:3])
    yield ctx.report(
        f"build context is {human_bytes(scan.included_bytes, largest='GB')} in "
        f"{scan.included_files} files (biggest: {top}); standard ignores would save "
        f"{human_bytes(saved, largest='GB')}",
        path=ctx.ignore_display,
    )
