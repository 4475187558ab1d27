"""JT104 apk-cache-kept: `apk add` without `--no-cache`."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule
from jettison.rules.size._common import cache_mounted


@rule(
    "JT104",
    "apk-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`apk add` without `--no-cache`",
    what="Flags `apk add` without `--no-cache` (and without removing `/var/cache/apk` or a "
    "cache mount on it) in a stage of the final image.",
    why="apk keeps the package index (a few MB) in `/var/cache/apk` unless told not to.",
    example="RUN apk update && apk add curl",
    use_instead="RUN apk add --no-cache curl",
    fix="Safe: inserts `--no-cache` after `add`.",
    notes="Matches hadolint DL3019, but builder stages are not flagged, and `apk add "
    "--no-network` (which installs from files at hand and downloads no index) is not.",
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(removed=("/var/cache/apk/*",), why="apk's cache is not kept"),
    equivalents={"hadolint": "DL3019"},
)
def apk_cache(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        adds = [
            c
            for c in sh.commands(ins)
            if c.name == "apk" and c.subcommand() == "add" and not c.has_flag("--no-network")
        ]
        if (
            not adds
            or cache_mounted(ins, "/var/cache/apk")
            or sh.removes(ins, "/var/cache/apk", after=adds[-1].start)
        ):
            continue
        for cmd in sh.commands(ins):
            if (
                cmd.name == "apk"
                and cmd.subcommand() == "add"
                and not cmd.has_flag("--no-cache", "--no-network")
            ):
                edit = sh.insert_after_word(cmd, "add", "--no-cache")
                yield ctx.report(
                    "`apk add` without `--no-cache` keeps the package index in the layer",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=[edit] if edit else None,
                )
