"""JT502 duplicate-stage-name: two stages with the same name."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT502",
    "duplicate-stage-name",
    Category.CORRECTNESS,
    Severity.ERROR,
    "two stages with the same name",
    what="Flags a stage name used twice.",
    why="BuildKit rejects the file (`duplicate stage name`).",
    example="FROM python:3.11 AS app\nFROM python:3.11-slim AS app",
    use_instead="FROM python:3.11 AS build\nFROM python:3.11-slim AS app",
    equivalents={
        "hadolint": "DL3024",
        "buildkit": "DuplicateStageName",
        "checkov": "CKV_DOCKER_11",
    },
)
def duplicate_stage(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for stage in ctx.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            yield ctx.report(f"stage name `{stage.name}` is used twice", stage.from_instruction)
        seen.add(stage.name)
