"""JT117 useradd-without-l: `useradd` with a high UID and without `-l`."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule


@rule(
    "JT117",
    "useradd-without-l",
    Category.SIZE,
    Severity.WARNING,
    "`useradd` with a high UID and without `-l`",
    what="Flags `useradd -u <UID>` with a UID of more than 5 digits (100000 and up) and "
    "without `-l/--no-log-init`. A UID given as an ARG or ENV variable is read through its "
    "value; one whose value is unknown is not flagged.",
    why="useradd writes the user's entry into the sparse `/var/log/lastlog` and faillog; "
    "with a high UID the file becomes gigabytes in the layer.",
    example="RUN useradd -u 1000000 app",
    use_instead="RUN useradd -l -u 1000000 app",
    fix="Safe: inserts `-l`.",
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(
        changed=("/var/log/lastlog", "/var/log/faillog"),
        why="lastlog/faillog no longer grow to the user's UID",
    ),
    equivalents={"hadolint": "DL3046"},
)
def useradd_l(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            if cmd.name != "useradd" or cmd.has_flag("-l", "--no-log-init"):
                continue
            vals = cmd.arg_values
            uid = None
            for i, v in enumerate(vals):
                if v in ("-u", "--uid") and i + 1 < len(vals):
                    uid = vals[i + 1]
                elif v.startswith("--uid="):
                    uid = v.split("=", 1)[1]
                elif v.startswith("-u") and len(v) > 2 and not v.startswith("--"):
                    uid = v[2:]
            number = _resolved_number(uid, ins) if uid is not None else None
            if number is not None and number >= 100_000:
                edit = Edit(cmd.name_word.end, cmd.name_word.end, " -l")
                yield ctx.report(
                    "`useradd` with a high UID and without `-l` creates a huge lastlog file",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=[edit],
                )


def _resolved_number(word: str, ins: Instruction) -> int | None:
    """``word`` as a number, with ARG/ENV references replaced by their values; None when it
    is not a number or refers to a name without a known value (shell variables, ``--build-arg``
    only)."""
    from jettison.dockerfile.expand import expand, references

    if "$" in word:
        if any(not ins.variables.get(name) for name in references(word)):
            return None
        word = expand(word, ins.variables)
    return int(word) if word.isdigit() else None
