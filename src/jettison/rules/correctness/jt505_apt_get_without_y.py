"""JT505 apt-get-without-y: `apt-get install` without `-y`."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT505",
    "apt-get-without-y",
    Category.CORRECTNESS,
    Severity.WARNING,
    "`apt-get install` without `-y`",
    what="Flags `apt-get install` (also yum/dnf/zypper install) without `-y`/`--yes`/"
    "`--assume-yes`/`-qq`.",
    why="Without it the build waits for a confirmation that never comes and fails.",
    example="RUN apt-get update && apt-get install curl",
    use_instead="RUN apt-get update && apt-get install -y curl",
    fix="Safe: inserts `-y` after `install`.",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3014"},
)
def apt_without_y(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        cmds = sh.commands(ins)
        for i, cmd in enumerate(cmds):
            if cmd.name not in ("apt-get", "yum", "dnf", "zypper") or cmd.subcommand() != "install":
                continue
            if i and cmds[i - 1].name == "yes" and cmds[i - 1].next_operator == "|":
                continue  # `yes | apt-get install` answers the prompts
            if cmd.has_flag(
                "-y", "--yes", "--assume-yes", "-q", "--quiet", "--non-interactive", "-n"
            ) or any(v.startswith("-qq") for v in cmd.arg_values):
                continue
            if cmd.name == "apt-get" and "APT::Get::Assume-Yes" in " ".join(cmd.arg_values):
                continue
            edit = sh.insert_after_word(cmd, "install", "-y")
            yield ctx.report(
                f"`{cmd.name} install` without `-y` waits for confirmation",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
            )
