"""JT134 packaging-tools-upgraded: pip, setuptools or wheel upgraded in a layer of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Command
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules._project import pip_subcommand
from jettison.rules.registry import Category, RuleContext, rule

_PACKAGING_TOOLS = {"pip", "setuptools", "wheel"}


def _tool_upgrade(cmd: Command) -> list[str] | None:
    """The packaging tools a ``pip install -U pip [setuptools wheel]`` upgrades, when that is
    all the command installs (None: not such a command)."""
    if pip_subcommand(cmd) != "install" or not cmd.has_flag("-U", "--upgrade"):
        return None
    names: list[str] = []
    for word in cmd.words_after("install"):  # an -r file or an index URL is a word too
        name = re.split(r"[<>=!~\[ ;]", word.value, maxsplit=1)[0].lower()
        if word.dynamic or name not in _PACKAGING_TOOLS:
            return None
        names.append(name)
    return names or None


@rule(
    "JT134",
    "packaging-tools-upgraded",
    Category.SIZE,
    Severity.INFO,
    "pip, setuptools or wheel upgraded in a layer of its own",
    what="""
        Flags `pip install --upgrade pip` (setuptools, wheel) in a stage of the final image,
        in a RUN that did not create the environment it upgrades (a virtualenv made in the
        same RUN is upgraded in its own layer and is not flagged).
    """,
    why="""
        The base image's copy stays in the layer below; the upgrade writes the new one on
        top, so the image carries both: pip alone is 8-12 MB installed. The image's pip is
        rarely what the app needs at run time, and a recent base already has a recent pip.
    """,
    example="RUN pip install --upgrade pip\nRUN pip install -r requirements.txt",
    use_instead="RUN pip install -r requirements.txt",
    fix="""
        Unsafe (the pip version at build and run time changes: a requirement that needs a
        newer pip fails to build, which `fix --verify` catches and rolls back): removes the
        upgrade, the whole RUN when it is the only command, else the command and its `&&`.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def packaging_tools_upgraded(ctx: RuleContext) -> Iterator[Finding]:
    src = ctx.dockerfile.source
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        for n, cmd in enumerate(cmds):
            tools = _tool_upgrade(cmd)
            if tools is None or cmd.in_condition:
                continue
            if any(c.name in ("virtualenv", "venv") or "venv" in c.arg_values for c in cmds[:n]):
                continue  # a fresh environment upgraded in the layer that made it
            edits: list[Edit] = []
            if len(cmds) == 1 and ins.sub_instruction is None and not ins.heredocs:
                end = ins.end + 1 if src[ins.end : ins.end + 1] == "\n" else ins.end
                edits.append(Edit(ins.start, end, ""))
            elif cmd.next_operator == "&&" and n + 1 < len(cmds):
                edits.append(Edit(cmd.start, cmds[n + 1].start, ""))
            yield ctx.report(
                f"`{' '.join(cmd.argv)}` upgrades {', '.join(tools)} in its own layer: the "
                "base image's copy stays below it (pip alone is 8-12 MB)",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=edits,
            )
