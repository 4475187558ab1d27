"""JT506 instruction-before-from: an instruction other than ARG before the first FROM."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT506",
    "instruction-before-from",
    Category.CORRECTNESS,
    Severity.ERROR,
    "an instruction other than ARG before the first FROM",
    what="Flags instructions other than ARG (and comments/directives) before the first FROM.",
    why="BuildKit rejects the file: there is no stage to run them in.",
    example="RUN echo hi\nFROM debian:bookworm",
    use_instead="FROM debian:bookworm\nRUN echo hi",
    equivalents={"hadolint": "DL3061"},
)
def before_from(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword == "FROM":
            return
        if ins.keyword != "ARG":
            yield ctx.report(f"{ins.keyword} before the first FROM", ins)
