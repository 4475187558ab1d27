"""JT407 chmod-777: `chmod 777` (world-writable)."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT407",
    "chmod-777",
    Category.SECURITY,
    Severity.WARNING,
    "`chmod 777` (world-writable)",
    what="Flags `chmod 777`, `a+rwx`, `o+w` and `--chmod=777`.",
    why="World-writable files let any user in the container (or a compromised process) "
    "rewrite code and configuration.",
    example="RUN chmod -R 777 /app",
    use_instead="RUN chown -R app:app /app",
)
def chmod_777(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        flag = ins.flag("chmod")
        if flag is not None and (flag.value or "").endswith("777"):
            yield ctx.report("`--chmod=777` makes files world-writable", ins)
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            if cmd.name == "chmod" and any(
                v in ("777", "0777", "a+rwx", "o+w", "a+w", "ugo+rwx") for v in cmd.arg_values
            ):
                yield ctx.report(
                    "`chmod 777` makes files world-writable", ins, start=cmd.start, end=cmd.end
                )
