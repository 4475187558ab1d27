"""JT118 wget-and-curl: both wget and curl are used in one stage."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size.build_tools import _temporary_installs


@rule(
    "JT118",
    "wget-and-curl",
    Category.SIZE,
    Severity.INFO,
    "both wget and curl are used in one stage",
    what="Flags a RUN that uses or installs curl or wget when the other one is already used "
    "or installed in the same stage.",
    why="Installing both downloaders doubles what is needed for one job (a few MB plus "
    "their libraries).",
    example="RUN wget -q https://a/x\nRUN curl -fsSL https://b/y",
    use_instead="Use one of them (curl -fsSL, or wget -q) everywhere.",
    notes="hadolint DL4001 looks at the commands run only; jettison also counts the two "
    "installed by a package manager (images often install both and use one), and "
    "leaves out one installed, used and removed again in the same RUN (`apt-mark auto` with "
    "`apt-get purge --auto-remove`, `apt-get purge wget`, `apk add --virtual` with `apk del`): "
    "it stays in no layer.",
    equivalents={"hadolint": "DL4001"},
)
def wget_curl(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        seen: set[str] = set()
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            # a downloader installed, used and purged in one RUN (docker-library's `apt-mark
            # auto` + `purge --auto-remove`, apk's `--virtual` + `del`) stays in no image
            temporary = {pkg for _, pkg in _temporary_installs(ins)} & {"curl", "wget"}
            used = ({c.name for c in sh.commands(ins)} & {"curl", "wget"}) - temporary
            installed = {pkg for _, pkg in sh.installed_packages(ins)} & {"curl", "wget"}
            installed -= temporary
            seen |= used | installed
            if (used or installed) and len(seen) == 2:
                yield ctx.report(
                    "both wget and curl are installed or used in this stage; use one", ins
                )
