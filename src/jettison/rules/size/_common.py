"""Helpers shared by several size rules."""

from __future__ import annotations

import re

from jettison.dockerfile import Command, Dockerfile, Instruction, Stage, Word
from jettison.dockerfile import commands as sh
from jettison.rules._project import resolve_path
from jettison.rules.registry import RuleContext
from jettison.rules.size.build_tools import _temporary_installs


def cache_mounted(ins: Instruction, path: str) -> bool:
    return any(t.rstrip("/") == path or t.startswith(path + "/") for t in ins.cache_mount_targets())


ARCHIVE_NAME = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz|tar\.zst|gz|bz2|xz|zip)$")


REMOTE_URL = re.compile(r"^(https?|ftp)://")


def workdirs(stage: Stage) -> dict[int, str | None]:
    """The working directory in effect at each instruction of ``stage`` (by index)."""
    cwd: str | None = "/"
    out: dict[int, str | None] = {}
    for ins in stage.all_instructions():
        out[ins.index] = cwd
        if ins.keyword == "WORKDIR" and ins.args:
            cwd = resolve_path(cwd, ins.args[0])
    return out


def final_installs(ctx: RuleContext) -> list[tuple[Instruction, Command, Word]]:
    """(RUN, install command, package word) of the apt installs of the final image that no
    later command of the same RUN removes again."""
    out: list[tuple[Instruction, Command, Word]] = []
    for ins in ctx.runs(final_only=True):
        temporary = {(c.start, p) for c, p in _temporary_installs(ins)}
        for cmd in sh.apt_installs(ins):
            for word in cmd.words_after("install"):
                if (cmd.start, word.value) not in temporary and not word.dynamic:
                    out.append((ins, cmd, word))
    return out


def copied_from_stages(df: Dockerfile, stage: Stage) -> list[Stage]:
    """The earlier stages ``stage`` copies files from (``COPY --from=NAME``), and theirs."""
    found: list[Stage] = []
    todo = [stage]
    while todo:
        current = todo.pop()
        for ins in current.instructions:
            flag = ins.flag("from") if ins.keyword in ("COPY", "ADD") else None
            source = df.stage_named(flag.value) if flag is not None and flag.value else None
            if source is not None and source is not stage and source not in found:
                found.append(source)
                todo.append(source)
    return found


def stages_in_image(df: Dockerfile) -> list[Stage]:
    """The stages whose files end up in the final image: the final stage's lineage and the
    stages it (or one of them) copies from or bind-mounts, with their lineages."""
    by_name = {s.name: s for s in df.stages if s.name}
    by_name.update({str(s.index): s for s in df.stages})
    todo = [s for s in df.stages if s.in_final_image]
    seen: list[Stage] = []
    while todo:
        stage = todo.pop()
        if stage in seen:
            continue
        seen.append(stage)
        todo += [s for s in stage.lineage() if s not in seen]
        for ins in stage.instructions:
            origin = ins.flag("from") if ins.keyword == "COPY" else None
            if origin is not None and origin.value and origin.value.lower() in by_name:
                todo.append(by_name[origin.value.lower()])
            for mount in ins.flags_named("mount") if ins.keyword == "RUN" else ():
                source = mount.options().get("from", "").lower()  # a bind mount of its files
                if source in by_name:
                    todo.append(by_name[source])
    return sorted(seen, key=lambda s: s.index)


_TARGET_FLAGS = ("--target", "-t")


def pip_target_dirs(ins: Instruction) -> list[str]:
    """The directories the pip installs of ``ins`` write to with ``--target``/``-t`` (the
    `pip install --target=/deps` builder shape), as written; dynamic ones are left out."""
    found: list[str] = []
    for cmd in sh.pip_installs(ins):
        values = cmd.arg_values
        for i, value in enumerate(values):
            if value in _TARGET_FLAGS and i + 1 < len(values):
                path = values[i + 1]
            elif value.startswith("--target="):
                path = value.split("=", 1)[1]
            else:
                continue
            if path.startswith("/") and "$" not in path and "'" not in path:
                found.append(path.rstrip("/") or "/")
    return list(dict.fromkeys(found))


def installed_tree_filter(ins: Instruction) -> str:
    """The `find` test that matches what the pip installs of ``ins`` wrote: anything under
    a `site-packages` folder (a venv, `--prefix`, `--user` or the system one), and the
    `--target` directories, which have none."""
    paths = ["'*/site-packages/*'", *(f"'{d}/*'" for d in pip_target_dirs(ins) if d != "/")]
    if len(paths) == 1:
        return f"-path {paths[0]}"
    return "\\( " + " -o ".join(f"-path {p}" for p in paths) + " \\)"
