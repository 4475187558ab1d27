"""JT120 npm-cache-kept: `npm install` without `npm cache clean --force` in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule
from jettison.rules.size._node_cache import node_cache


@rule(
    "JT120",
    "npm-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`npm install` without `npm cache clean --force` in the same RUN",
    what="Flags `npm install|ci` without `npm cache clean --force` (or removing `~/.npm`, or "
    "a cache mount) in the same RUN, in a stage of the final image.",
    why="npm keeps a copy of every downloaded tarball in `~/.npm`: often as large as "
    "`node_modules` itself.",
    example="RUN npm install -g cgpu@latest",
    use_instead="RUN npm install -g cgpu@latest && npm cache clean --force",
    fix="Safe: appends `npm cache clean --force` to the same RUN.",
    notes="hadolint has no npm cache rule.",
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(removed=("*/.npm", "*/.npm/*"), why="npm's cache is not kept"),
)
def npm_cache(ctx: RuleContext) -> Iterator[Finding]:
    return node_cache(ctx, "npm")
