"""JT109 deleted-in-later-layer: a file added in one layer is deleted in a later one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Command, Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size.jt131_wheels_copied_into_final import installed_once

_DOWNLOAD_OUT = re.compile(r"^(-O|--output-document|-o|--output)$")


@rule(
    "JT109",
    "deleted-in-later-layer",
    Category.SIZE,
    Severity.WARNING,
    "a file added in one layer is deleted in a later one",
    what="""
        Flags an `rm` in a RUN that deletes a path an earlier instruction of the same image
        added (or a folder holding it): a COPY/ADD destination, or a file an earlier RUN
        downloaded with curl/wget.
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
    fix="""
        Unsafe, for the common shape where the very next RUN uses what a COPY of the build
        context brought and then deletes it (`COPY src ./src` then `RUN pip install . &&
        rm -rf /src`): the COPY goes and the RUN bind-mounts the same source at the same
        place (`--mount=type=bind,source=src,target=/src/src,rw`: writes, such as a build's
        own files, are discarded with the mount). The RUN's `rm` no longer names the mount:
        a trailing `rm -rf DIR` of the copied folder goes, one of the folder holding it
        becomes a removal of that folder's other contents. `RUN --mount` needs BuildKit,
        Docker's default builder since 23.0; `--verify` builds it that way. The image is
        smaller by the COPY layer, and a code change no longer writes one.
    """,
    fix_safety=FixSafety.UNSAFE,
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
                            path = _join(workdir, word.value).rstrip("/") or "/"
                            inside = [
                                p
                                for p in added
                                if added[p] is not ins
                                and (
                                    p == path
                                    or (
                                        _recursive(cmd) and path != "/" and p.startswith(path + "/")
                                    )
                                )
                                # wheels from a build stage installed and deleted: JT131's
                                and not _wheels_installed(added[p], ins)
                            ]
                            if not inside:
                                continue
                            sources = sorted({added[p].line for p in inside})
                            # the fix: the last of them, copied right before this RUN
                            last = max(inside, key=lambda p: added[p].line)
                            edits = _bind_mount(ctx, added[last], ins, cmd, last, path)
                            what = (
                                f"a file added at line {sources[0]}; its bytes stay in that layer"
                                if len(sources) == 1
                                else "files added at lines "
                                + ", ".join(map(str, sources))
                                + "; their bytes stay in those layers"
                            )
                            yield ctx.report(
                                f"`rm {word.value}` deletes {what}",
                                ins,
                                start=word.start,
                                end=word.end,
                                edits=edits or None,
                            )
                            for hit in inside:
                                added.pop(hit, None)
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


def _wheels_installed(copy: Instruction, run: Instruction) -> bool:
    """JT131's case, which it reports with its own fix: wheels copied from a build stage
    whose only user is this RUN, which pip-installs from them."""
    found = installed_once(copy)
    return found is not None and found[1] is run


def _recursive(cmd: Command) -> bool:
    """`rm -r`, `-R`, `-rf`, `--recursive`: a folder named goes with what it holds."""
    return any(
        v == "--recursive"
        or (
            v[:1] == "-"
            and v[1:2] != "-"
            and set(v[1:]) <= set("rRfiv")
            and bool(set(v) & set("rR"))
        )
        for v in cmd.arg_values
    )


def _bind_mount(
    ctx: RuleContext, copy: Instruction, run: Instruction, rm: Command, added: str, removed: str
) -> list[Edit]:
    """Edits that bind-mount what ``copy`` brought into ``run`` (the next RUN, which deletes
    it with ``rm``) instead of copying it; none when the shape is not that plain one."""
    stage = run.stage
    if (
        copy.keyword != "COPY"
        or copy.flags
        or len(copy.args) != 2
        or any(c in copy.args[0] for c in "*?[$")
        or stage is None
        or run.heredocs
        or run.json_form
        or len([w for w in rm.args if not w.value.startswith("-")]) != 1
    ):
        return []
    if any(
        sh.is_pip_install(c)
        and not c.has_flag("--no-deps", "--no-dependencies")
        and not c.has_flag("-r", "--requirement")
        for c in sh.commands(run)
    ):
        # the project with its dependencies: JT201 splits that install first (dependencies
        # before the source), and a mount of the source would rerun all of it on each change
        return []
    between = stage.instructions[stage.instructions.index(copy) + 1 : stage.instructions.index(run)]
    if any(i.keyword not in ("ENV", "ARG", "LABEL", "WORKDIR") for i in between):
        return []
    if any(i.keyword == "USER" for i in stage.instructions[: stage.instructions.index(run)]):
        return []  # the mount's files belong to root; another user could not write them
    source = ctx.dockerfile.source
    cmds = sorted({(c.start, c.end): c for c in sh.commands(run)}.values(), key=lambda c: c.start)
    edits: list[Edit] = []
    if removed == added:
        # only a trailing `&& rm -rf DIR` goes: the mount point cannot be removed
        i = next(n for n, c in enumerate(cmds) if c.start == rm.start)
        if i != len(cmds) - 1 or i == 0 or cmds[i - 1].next_operator != "&&":
            return []
        edits.append(Edit(cmds[i - 1].end, rm.end, ""))
    elif added.rsplit("/", 1)[0] == removed:
        # `rm -rf /src` over the mount at /src/src: the folder's other contents still go
        edits.append(
            Edit(
                rm.start,
                rm.end,
                f"find {removed} -mindepth 1 -maxdepth 1 ! -path {added} -exec rm -rf {{}} +",
            )
        )
    else:
        return []
    line_start = source.rfind("\n", 0, copy.start) + 1
    line_end = source.find("\n", copy.end)
    line_end = len(source) if line_end == -1 else line_end + 1
    src = copy.args[0].rstrip("/") or "."
    edits.append(Edit(line_start, line_end, ""))
    edits.append(
        Edit(run.keyword_end, run.keyword_end, f" --mount=type=bind,source={src},target={added},rw")
    )
    return sorted(edits, key=lambda e: e.start)
