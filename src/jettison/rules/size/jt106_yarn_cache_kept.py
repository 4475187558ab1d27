"""JT106 yarn-cache-kept: `yarn install` without `yarn cache clean` in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule
from jettison.rules.size._node_cache import node_cache


@rule(
    "JT106",
    "yarn-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`yarn install` without `yarn cache clean` in the same RUN",
    what="Flags `yarn install|add` (or a bare `yarn`) without `yarn cache clean` (or a cache "
    "mount) in the same RUN, in a stage of the final image.",
    why="yarn keeps a copy of every downloaded tarball in its cache: often as large as "
    "`node_modules` itself.",
    example="RUN yarn install --frozen-lockfile",
    use_instead="RUN yarn install --frozen-lockfile && yarn cache clean",
    fix="Safe: appends `yarn cache clean` to the same RUN.",
    notes="Matches hadolint DL3060, except that builder stages are not flagged and a bare "
    "`yarn` (which is `yarn install`) counts as an install; `yarn --version`, `--help` and "
    "`--info` do not.",
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(
        removed=("*/.cache/yarn", "*/.cache/yarn/*", "*/.yarn-cache/*"),
        why="yarn's cache is not kept",
    ),
    equivalents={"hadolint": "DL3060"},
)
def yarn_cache(ctx: RuleContext) -> Iterator[Finding]:
    return node_cache(ctx, "yarn")
