"""JT101 apt-lists-not-removed: apt lists are not removed in the RUN that downloads them."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule
from jettison.rules.size._common import cache_mounted


@rule(
    "JT101",
    "apt-lists-not-removed",
    Category.SIZE,
    Severity.WARNING,
    "apt lists are not removed in the RUN that downloads them",
    what="""
        Flags a RUN that runs `apt-get update` (or installs with apt) in a stage that ends up
        in the final image without deleting `/var/lib/apt/lists/*` in the same RUN, and
        without a cache mount on `/var/lib/apt/lists`.
    """,
    why="""
        `apt-get update` downloads package indexes (about 20-50 MB on Debian bookworm) into
        `/var/lib/apt/lists`. Deleting them in a later RUN does not shrink the image: the
        bytes stay in the earlier layer. Only deleting them in the same RUN does.
    """,
    example="RUN apt-get update && apt-get install -y --no-install-recommends curl",
    use_instead="""
        RUN apt-get update && apt-get install -y --no-install-recommends curl \\
            && rm -rf /var/lib/apt/lists/*
    """,
    fix="""
        Safe: appends `rm -rf /var/lib/apt/lists/*` to the same RUN (in a heredoc RUN,
        chained to its last command with `&&`, or on a line of its own under `set -e`), but
        only when no later RUN reads those lists: a later RUN of the same stage, or of a stage
        built FROM it, that installs with apt before an `apt-get update` of its own would
        fail with "Unable to locate package". The finding then names that RUN and offers no
        fix.
    """,
    notes="""
        Differences from hadolint DL3009: jettison checks every stage whose layers reach the
        final image (the final stage and the stages it is built FROM) and ignores builder
        stages whose files are only copied from; it accepts any `rm` of the lists directory
        (`rm -rf /var/lib/apt/lists`, `.../lists/*`) and `apt-get dist-clean`, not only the
        exact `-rf .../*` form, but only after the last `apt-get update` of the RUN; it does
        not, like hadolint, take any `rm -rf` (of another directory) as cleanup; and it reads
        exec-form RUNs that run a shell (`RUN ["/bin/sh", "-c", "..."]`) and `ONBUILD RUN`.
    """,
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(
        removed=("/var/lib/apt/lists/*",), why="the apt package lists are deleted"
    ),
    equivalents={"hadolint": "DL3009"},
)
def apt_lists(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        if not any(sh.apt_updates(ins)):
            continue
        last_update = max(c.start for c in sh.apt_updates(ins))
        if any(
            c.start > last_update and sh.cleans_apt_lists(c) for c in sh.commands(ins)
        ) or cache_mounted(ins, "/var/lib/apt"):
            continue
        message = (
            "apt lists downloaded by `apt-get update` stay in this layer; "
            "remove /var/lib/apt/lists/* in the same RUN"
        )
        reader = _lists_reader(ctx, ins)
        edit = None
        if reader is not None:
            message += (
                f" (not removed here: the RUN at line {reader.line} installs from these "
                "lists without an `apt-get update` of its own; update there first)"
            )
        elif any(sh.apt_installs(ins)):
            # only when this RUN also installs: JT202 merges a lone update into its install
            edit = sh.append_to_run(ins, ctx.dockerfile, "rm -rf /var/lib/apt/lists/*")
        yield ctx.report(message, ins, edits=[edit] if edit else None)


def _lists_reader(ctx: RuleContext, ins: Instruction) -> Instruction | None:
    """The first later RUN that installs from the apt lists ``ins`` leaves behind: in the
    same stage after it, or in a stage built FROM that stage (data flow along the build);
    None when every later RUN updates or removes them first, or none touches them."""
    stage = ins.stage
    if stage is None or ins not in stage.instructions:
        return None  # an ONBUILD trigger: its later RUNs are in other files

    def scan(current: Stage, instructions: list[Instruction]) -> Instruction | None:
        for later in instructions:
            if later.keyword != "RUN":
                continue
            if cache_mounted(later, "/var/lib/apt"):
                continue  # it reads and writes its cache mount, not the image's lists
            use = sh.apt_lists_first_use(later)
            if use == "reads":
                return later
            if use == "replaces":
                return None  # later RUNs read these lists, not ours
        for child in ctx.stages:
            if child.parent is current:
                found = scan(child, child.instructions[1:])
                if found is not None:
                    return found
        return None

    return scan(stage, stage.instructions[stage.instructions.index(ins) + 1 :])
