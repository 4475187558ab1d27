"""JT202 apt-update-alone: `apt-get update` in a RUN of its own."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.cache._common import merge_runs
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT202",
    "apt-update-alone",
    Category.CACHE,
    Severity.WARNING,
    "`apt-get update` in a RUN of its own",
    what="Flags a RUN that runs `apt-get update` (or `apk update`, `yum makecache`) without "
    "installing anything in the same RUN.",
    why="""
        The update layer is cached: later RUNs that change their package list reuse an old
        index and fail or install stale versions (Docker's best-practices "cache busting"
        bug); the index also stays in the image.
    """,
    example="RUN apt-get update\nRUN apt-get install -y curl",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*",
    fix="Unsafe: merges the update into the next RUN that installs packages (when nothing "
    "but comments lies between them and their flags match).",
    fix_safety=FixSafety.UNSAFE,
    equivalents={"checkov": "CKV_DOCKER_5"},
)
def apt_update_alone(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        instrs = stage.instructions
        for idx, ins in enumerate(instrs):
            if ins.keyword != "RUN":
                continue
            cmds = sh.commands(ins)
            updates = [
                c
                for c in cmds
                if (c.name in sh.APT and c.subcommand() == "update")
                or (c.name == "apk" and c.subcommand() == "update")
            ]
            if not updates:
                continue
            installs = [
                c for c in cmds if c.subcommand() in ("install", "add", "upgrade", "dist-upgrade")
            ]
            if installs:
                continue
            edits: list[Edit] = []
            nxt = instrs[idx + 1] if idx + 1 < len(instrs) else None
            if (
                nxt is not None
                and nxt.keyword == "RUN"
                and nxt.script is not None
                and ins.script is not None
                and [f.name + str(f.value) for f in ins.flags]
                == [f.name + str(f.value) for f in nxt.flags]
                and not ins.heredocs
                and not nxt.heredocs
                and any(c.subcommand() in ("install", "add") for c in sh.commands(nxt))
            ):
                edits = merge_runs(ctx.dockerfile, ins, nxt)
            yield ctx.report(
                f"`{updates[0].name} update` alone: a later install may use a "
                "stale cached index; update and install in the same RUN",
                ins,
                edits=edits,
            )
