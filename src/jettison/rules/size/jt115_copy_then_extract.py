"""JT115 copy-then-extract: an archive is COPY'd and then extracted by a RUN."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import ARCHIVE_NAME


@rule(
    "JT115",
    "copy-then-extract",
    Category.SIZE,
    Severity.INFO,
    "an archive is COPY'd and then extracted by a RUN",
    what="Flags `COPY x.tar.gz` followed by a RUN that extracts it.",
    why="The archive stays in the COPY layer; `ADD` of a local archive extracts it directly, "
    "or a bind mount avoids the layer altogether.",
    example="COPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt",
    use_instead="ADD app.tar.gz /opt/",
    equivalents={"hadolint": "DL3010"},
)
def copy_extract(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        archives: dict[str, Instruction] = {}
        for ins in stage.instructions:
            if ins.keyword == "COPY" and not ins.flag("from"):
                for s in ins.args[:-1]:
                    if ARCHIVE_NAME.search(s):
                        archives[s.rsplit("/", 1)[-1]] = ins
            elif ins.keyword == "RUN" and archives:
                for cmd in sh.commands(ins):
                    if cmd.name in ("tar", "unzip", "gunzip"):
                        for v in cmd.arg_values:
                            name = v.rsplit("/", 1)[-1]
                            if name in archives:
                                yield ctx.report(
                                    f"`{name}` is copied at line "
                                    f"{archives[name].line} and extracted here; "
                                    "the archive stays in the image",
                                    archives.pop(name),
                                )
                                break
