"""JT403 base-image-untagged: FROM without a tag."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.security._common import split_image


@rule(
    "JT403",
    "base-image-untagged",
    Category.SECURITY,
    Severity.WARNING,
    "FROM without a tag",
    what="Flags `FROM image` without a tag or digest (not a stage name, not scratch).",
    why="An untagged image means `latest`, which moves: builds stop being reproducible and "
    "can break or grow without any change of yours.",
    example="FROM python",
    use_instead="FROM python:3.11-slim",
    notes="""
        Like hadolint DL3006, but `FROM ${BASE}` is checked against the ARG's default (hadolint
        issues #219, #339, #858) and an ARG without a default is not flagged.
    """,
    equivalents={"hadolint": "DL3006", "checkov": "CKV_DOCKER_7"},
)
def untagged(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if stage.parent is not None or stage.base_unresolved:
            continue
        name, tag, digest = split_image(stage.base_resolved)
        if name == "scratch" or tag or digest:
            continue
        if any(s.name == name.lower() for s in ctx.stages[: stage.index]):
            continue
        yield ctx.report(
            f"`FROM {stage.base_resolved}` has no tag: it means `latest`", stage.from_instruction
        )
