"""The check shared by the yarn and npm cache rules (JT106, JT120)."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Command
from jettison.dockerfile import commands as sh
from jettison.findings import Finding
from jettison.rules.registry import RuleContext


def node_cache(ctx: RuleContext, tool: str) -> Iterator[Finding]:
    subs, clean, marker = {
        "npm": (("install", "i", "ci"), "npm cache clean --force", ".npm"),
        "yarn": (("install", "add", None), "yarn cache clean", "yarn"),
    }[tool]
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        uses = [c for c in cmds if c.name == tool and _node_install(c, subs)]
        if not uses or marker in " ".join(ins.cache_mount_targets()):
            continue
        last = uses[-1].start
        if any(
            c.name == tool
            and c.subcommand() == "cache"
            and "clean" in c.arg_values
            and c.start > last
            for c in cmds
        ):
            continue
        if tool == "npm" and sh.removes(ins, "/root/.npm", "~/.npm", after=last):
            continue
        edit = sh.append_to_run(ins, ctx.dockerfile, clean)
        yield ctx.report(
            f"`{tool}` keeps its download cache in the layer; add `{clean}` to the same RUN",
            ins,
            edits=[edit] if edit else None,
        )


_NODE_INFO_FLAGS = ("--version", "-v", "--help", "-h", "--info")


def _node_install(cmd: Command, subcommands: tuple[str | None, ...]) -> bool:
    """``npm ci``, ``yarn add x``, or a bare ``yarn`` (which installs), but not ``yarn
    --version`` or ``yarn --help``: they print and download nothing."""
    sub = cmd.subcommand()
    if sub not in subcommands:
        return False
    return sub is not None or not cmd.has_flag(*_NODE_INFO_FLAGS)
