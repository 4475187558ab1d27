"""JT404 base-image-latest: FROM with the `latest` tag."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.security._common import split_image


@rule(
    "JT404",
    "base-image-latest",
    Category.SECURITY,
    Severity.WARNING,
    "FROM with the `latest` tag",
    what="Flags `FROM image:latest` and moving `latest-*` tags such as "
    "`rayproject/ray:latest-py310`.",
    why="`latest` moves: builds stop being reproducible and can change size and behaviour "
    "without any change of yours.",
    example="FROM rayproject/ray:latest-py310\nFROM ubuntu:latest",
    use_instead="FROM ubuntu:24.04",
    notes="hadolint DL3007 matches only the exact tag `latest`; `latest-*` variants move "
    "just the same (e.g. `rayproject/ray:latest-py310`).",
    equivalents={"hadolint": "DL3007"},
)
def latest_tag(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if stage.parent is not None:
            continue
        _, tag, digest = split_image(stage.base_resolved)
        if tag is not None and (tag == "latest" or tag.startswith("latest-")) and not digest:
            yield ctx.report(
                f"`FROM {stage.base_resolved}` uses the moving `latest` tag", stage.from_instruction
            )
