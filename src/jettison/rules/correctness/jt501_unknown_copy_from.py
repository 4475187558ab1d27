"""JT501 unknown-copy-from: `COPY --from` names neither an earlier stage nor an image."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT501",
    "unknown-copy-from",
    Category.CORRECTNESS,
    Severity.WARNING,
    "`COPY --from` names neither an earlier stage nor an image",
    what="Flags `COPY --from=x` where `x` is not the name or index of an earlier stage and "
    "does not look like an image reference (no `/`, `:` or `.`).",
    why="BuildKit then tries to pull an image called `x`, which fails, or silently uses an "
    "unrelated image.",
    example="FROM python:3.11 AS build\nFROM python:3.11-slim\nCOPY --from=buidl /venv /venv",
    use_instead="COPY --from=build /venv /venv",
    notes="Like hadolint DL3022, but `--from=$ARG` is resolved through the ARG's value "
    "(hadolint #933).",
    equivalents={"hadolint": "DL3022"},
)
def unknown_from(ctx: RuleContext) -> Iterator[Finding]:
    from jettison.dockerfile.expand import expand

    for stage in ctx.stages:
        for ins in stage.instructions:
            flag = ins.flag("from")
            if ins.keyword != "COPY" or flag is None or not flag.value:
                continue
            value = expand(flag.value, ins.variables, ctx.dockerfile.directives.escape)
            if not value or ("$" in flag.value and not value):
                continue
            earlier = ctx.stages[: stage.index]
            if value.isdigit() and int(value) < stage.index:
                continue
            if any(s.name == value.lower() for s in earlier):
                continue
            if any(ch in value for ch in "/:.@"):
                continue
            yield ctx.report(
                f"`--from={flag.value}` is not an earlier stage",
                ins,
                start=flag.start,
                end=flag.end,
            )
