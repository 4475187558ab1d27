"""JT107 conda-cache-kept: conda/mamba install without `conda clean -afy` in the same RUN."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule


@rule(
    "JT107",
    "conda-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "conda/mamba install without `conda clean -afy` in the same RUN",
    what="Flags `conda|mamba|micromamba install|create|env create|update` without "
    "`conda clean -a` (or `mamba clean -a`) in the same RUN.",
    why="conda keeps package tarballs and extracted packages in `pkgs/`: typically hundreds "
    "of MB for scientific stacks.",
    example="RUN conda install -y numpy librosa",
    use_instead="RUN conda install -y numpy librosa && conda clean -afy",
    fix="Safe: appends `conda clean -afy` (or the mamba equivalent) to the same RUN.",
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(
        removed=("*/pkgs/*",), changed=("*/pkgs/*",), why="conda's package cache is not kept"
    ),
)
def conda_cache(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        tools = [
            c
            for c in cmds
            if c.name in ("conda", "mamba", "micromamba")
            and c.subcommand() in ("install", "create", "env", "update")
        ]
        if not tools:
            continue
        if any(
            c.name in ("conda", "mamba", "micromamba")
            and c.subcommand() == "clean"
            and c.start > tools[-1].start
            for c in cmds
        ) or "pkgs" in " ".join(ins.cache_mount_targets()):
            continue
        tool = tools[0].name
        edit = sh.append_to_run(ins, ctx.dockerfile, f"{tool} clean -afy")
        yield ctx.report(
            f"`{tool} {tools[0].subcommand()}` without `{tool} clean -afy` keeps "
            "package tarballs in the layer",
            ins,
            edits=[edit] if edit else None,
        )
