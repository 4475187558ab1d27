"""JT114 add-instead-of-copy: `ADD` used for local files that are not archives."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import ARCHIVE_NAME, REMOTE_URL


@rule(
    "JT114",
    "add-instead-of-copy",
    Category.SIZE,
    Severity.WARNING,
    "`ADD` used for local files that are not archives",
    what="Flags `ADD` whose sources are local files or directories that are not archives.",
    why="ADD has surprising semantics (auto-extraction, remote URLs); for plain files COPY "
    "does the same thing, explicitly.",
    example="ADD requirements.txt /app/",
    use_instead="COPY requirements.txt /app/",
    fix="Safe: replaces `ADD` with `COPY` (identical result for non-archive local sources).",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3020", "checkov": "CKV_DOCKER_4"},
)
def add_local(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "ADD" or len(ins.args) < 2 or ins.heredocs:
            continue
        from jettison.dockerfile.expand import expand

        # ARG/ENV values resolve `ADD rel/$APP/bin ...`; an unresolved archive stays unknown
        sources = [
            expand(s, ins.variables, ctx.dockerfile.directives.escape) for s in ins.args[:-1]
        ]
        if any(
            REMOTE_URL.match(s) or ARCHIVE_NAME.search(s) or s.startswith("git@") or not s
            for s in sources
        ):
            continue
        if ins.flag("checksum") or ins.flag("keep-git-dir"):
            continue
        edit = Edit(
            ins.start,
            ins.start + 3,
            "COPY" if ctx.dockerfile.source[ins.start : ins.start + 3].isupper() else "copy",
        )
        yield ctx.report(
            "use COPY for local files; ADD also extracts archives and fetches URLs",
            ins,
            edits=[edit],
        )
