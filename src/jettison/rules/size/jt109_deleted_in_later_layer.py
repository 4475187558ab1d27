"""JT109 deleted-in-later-layer: a file added in one layer is deleted in a later one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule

_DOWNLOAD_OUT = re.compile(r"^(-O|--output-document|-o|--output)$")


@rule(
    "JT109",
    "deleted-in-later-layer",
    Category.SIZE,
    Severity.WARNING,
    "a file added in one layer is deleted in a later one",
    what="""
        Flags an `rm` in a RUN that deletes a path an earlier instruction of the same image
        added: a COPY/ADD destination, or a file an earlier RUN downloaded with curl/wget.
    """,
    why="""
        Layers are additive: deleting a file in a later layer only hides it (a whiteout); its
        bytes are still downloaded and stored. `docker history` shows the deleting layer as
        0 B, so this waste is easy to miss. `jettison inspect` measures it exactly.
    """,
    example="""
        COPY app.tar.gz /tmp/
        RUN tar -xzf /tmp/app.tar.gz -C /opt && rm /tmp/app.tar.gz
    """,
    use_instead="""
        RUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz \\
            tar -xzf /tmp/app.tar.gz -C /opt
        # or download, extract and delete in one RUN
    """,
)
def deleted_later(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if not stage.in_final_image:
            continue
        added: dict[str, Instruction] = {}
        workdir = "/"
        for ins in stage.all_instructions():
            if ins.keyword == "WORKDIR" and ins.args:
                workdir = _join(workdir, ins.args[0])
            elif ins.keyword in ("COPY", "ADD") and len(ins.args) >= 2:
                dest = _join(workdir, ins.args[-1])
                for src in ins.args[:-1]:
                    name = src.rstrip("/").rsplit("/", 1)[-1]
                    target = dest + name if dest.endswith("/") or len(ins.args) > 2 else dest
                    added[target.rstrip("/") or "/"] = ins
            elif ins.keyword == "RUN":
                for cmd in sh.commands(ins):
                    if cmd.name == "rm" and ins.stage is stage:
                        for word in cmd.args:
                            if word.value.startswith("-") or word.dynamic:
                                continue
                            path = _join(workdir, word.value).rstrip("/")
                            source = added.get(path)
                            if source is not None and source is not ins:
                                yield ctx.report(
                                    f"`rm {word.value}` deletes a file added at line "
                                    f"{source.line}; its bytes stay in that layer",
                                    ins,
                                    start=word.start,
                                    end=word.end,
                                )
                                added.pop(path, None)
                    if cmd.name in ("wget", "curl"):
                        vals = cmd.arg_values
                        for i, v in enumerate(vals[:-1]):
                            if _DOWNLOAD_OUT.match(v):
                                added[_join(workdir, vals[i + 1]).rstrip("/")] = ins


def _join(base: str, path: str) -> str:
    if path.startswith("/"):
        return path
    if path in (".", "./"):
        return base if base.endswith("/") else base + "/"
    return (
        (base.rstrip("/") + "/" + path.removeprefix("./"))
        if base != "/"
        else "/" + path.removeprefix("./")
    )
