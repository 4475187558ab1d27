"""JT507 maintainer-deprecated: MAINTAINER is deprecated."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule


@rule(
    "JT507",
    "maintainer-deprecated",
    Category.CORRECTNESS,
    Severity.STYLE,
    "MAINTAINER is deprecated",
    what="Flags the MAINTAINER instruction.",
    why="Deprecated since Docker 1.13; a label is machine-readable.",
    example="MAINTAINER jane@example.com",
    use_instead='LABEL org.opencontainers.image.authors="jane@example.com"',
    fix="Safe: rewrites to the OCI authors label (same metadata, standard key): the label "
    "value is exactly what MAINTAINER set as the image's author (quoted for the file's escape "
    "character, so `$`, quotes and the escape character stay literal; non-ASCII text is kept "
    "as is).",
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(config=("Labels",), why="MAINTAINER becomes a label"),
    equivalents={
        "hadolint": "DL4000",
        "buildkit": "MaintainerDeprecated",
        "checkov": "CKV_DOCKER_6",
    },
)
def maintainer(ctx: RuleContext) -> Iterator[Finding]:
    escape = ctx.dockerfile.directives.escape
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "MAINTAINER":
            continue
        edits: list[Edit] = []
        # BuildKit sets the author to the rest of the instruction as written (continuation
        # lines joined), never expanded
        if len(ins.args) == 1:
            value = label_value(ins.args[0], escape)
            text = f"LABEL org.opencontainers.image.authors={value}"
            edits.append(Edit(ins.start, ins.end, text))
        yield ctx.report("MAINTAINER is deprecated; use a LABEL", ins, edits=edits)


def label_value(value: str, escape: str) -> str:
    """``value`` as a double-quoted LABEL/ENV value that BuildKit reads back as exactly
    ``value``: inside double quotes it expands ``$`` and takes the escape character before
    ``"``, ``$`` or itself as an escape, and nothing else."""
    out = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in value)
    return f'"{out}"'
