"""JT503 relative-workdir: WORKDIR with a relative path."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT503",
    "relative-workdir",
    Category.CORRECTNESS,
    Severity.WARNING,
    "WORKDIR with a relative path",
    what="Flags `WORKDIR` with a relative path (not starting with `/` or a variable).",
    why="A relative WORKDIR depends on every earlier WORKDIR, including the base image's; "
    "moving instructions (as a fixer does) changes where it points.",
    example="WORKDIR app",
    use_instead="WORKDIR /app",
    equivalents={
        "hadolint": "DL3000",
        "buildkit": "WorkdirRelativePath",
        "checkov": "CKV_DOCKER_10",
    },
)
def relative_workdir(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "WORKDIR" or not ins.args:
            continue
        path = ins.args[0].strip("\"'")
        if path.startswith(("/", "$")) or re.match(r"^[A-Za-z]:[\\/]", path):
            continue
        yield ctx.report(f"`WORKDIR {path}` is relative; use an absolute path", ins)
