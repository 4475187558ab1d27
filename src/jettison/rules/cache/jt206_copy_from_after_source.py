"""JT206 copy-from-after-source: a COPY --from comes after the copy of the source code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from jettison.dockerfile import Command, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.dockerfile.expand import expand
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _project
from jettison.rules.cache.jt201_copy_before_deps import _is_source_copy
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT206",
    "copy-from-after-source",
    Category.CACHE,
    Severity.WARNING,
    "a COPY --from comes after the copy of the source code",
    what="""
        Flags a `COPY --from=STAGE` (or `--from=IMAGE`) that comes after the copy of the
        source code (`COPY . /app`, `COPY src ./src`) in the same stage, when what it copies
        does not come from that source (a virtual environment or an installed prefix built
        from the dependency manifests, a tool copied from an image).
    """,
    why="""
        A code change invalidates the source COPY and every instruction after it: the
        dependencies built in another stage are copied again on every code change (often
        hundreds of megabytes, and the layer is pushed and pulled again), although they did
        not change. Copied before the source, the layer stays cached and shared between
        releases.
    """,
    example=(
        "FROM python:3.12-slim\nCOPY . /app\nRUN useradd -u 1001 app\n"
        "COPY --from=build /opt/venv /opt/venv"
    ),
    use_instead=(
        "FROM python:3.12-slim\nCOPY --from=build /opt/venv /opt/venv\nCOPY . /app\n"
        "RUN useradd -u 1001 app"
    ),
    fix="""
        Unsafe: moves the `COPY --from` (with its comments) above the source COPY. Only
        when the two destinations do not overlap, the copied path is not under a
        destination of the other stage's own source copy (an artifact built from the code
        changes with it anyway), the instruction has no variables, and the steps between
        only manage users, directories and system packages without naming the copied path
        or a folder above it, by a relative path or a variable too (a `python` or `pip`
        there could find the copied environment on PATH once it moves up); not past a
        WORKDIR making such a folder, nor past a new user when the path is under /home
        (`useradd -m` leaves a home it finds as it is). A `--chown` by name stays below a
        RUN that may create the user.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def copy_from_after_source(ctx: RuleContext) -> Iterator[Finding]:
    context = ctx.dockerfile.context_dir
    stages = {s.name: s for s in ctx.stages if s.name}
    stages.update({str(s.index): s for s in ctx.stages})
    source_text = ctx.dockerfile.source
    for stage in ctx.stages:
        anchor: Instruction | None = None
        movable: list[Instruction] = []
        for ins in stage.instructions:
            if anchor is None:
                if _is_source_copy(ins, context):
                    anchor = ins
                continue
            origin = ins.flag("from") if ins.keyword == "COPY" else None
            if origin is None or origin.value is None:
                continue
            built = stages.get(origin.value.lower())
            if built is not None and _built_from_source(built, ins, context):
                continue
            if _can_move(stage, anchor, ins):
                movable.append(ins)
        if anchor is None or not movable:
            continue
        at = _project._line_start(source_text, anchor)
        moved = ""
        edits: list[Edit] = []
        for ins in movable:
            start, end = _project._block(source_text, ins)
            block = source_text[start:end]
            moved += block if block.endswith("\n") else block + "\n"
            edits.append(Edit(start, end, ""))
        edits.insert(0, Edit(at, at, moved))
        first = movable[0]
        what = " ".join(first.args[:-1])
        origin_flag = first.flag("from")
        origin_name = origin_flag.value if origin_flag is not None else "?"
        yield ctx.report(
            f"`COPY --from={origin_name}` ({what}) comes after the source copy "
            f"(line {anchor.line}): every code change copies it again; copy it before the "
            "source",
            first,
            edits=edits,
        )


def _dest(stage: Stage, ins: Instruction) -> str | None:
    return _project.resolve_path(_project._workdir_at(stage, ins), ins.args[-1])


def _overlaps(a: str, b: str) -> bool:
    pa, pb = PurePosixPath(a), PurePosixPath(b)
    return pa == pb or pa in pb.parents or pb in pa.parents


def _built_from_source(built: Stage, copy: Instruction, context: Path) -> bool:
    """The copied path lies under (or over) where the other stage copied source code."""
    paths = copy.args[:-1]
    for other in built.lineage():
        for ins in other.instructions:
            if not _is_source_copy(ins, context):
                continue
            dest = _dest(other, ins)
            if dest is None:
                return True
            if any("$" in p or not p.startswith("/") or _overlaps(p, dest) for p in paths):
                return True
    return False


# commands a RUN between the two copies may use: they manage users, directories and system
# packages, and none of them runs a program the copied tree could put first on PATH
_HARMLESS = {
    "useradd", "adduser", "groupadd", "addgroup", "usermod", "mkdir", "chown", "chmod",
    "ln", "rm", "touch", "echo", "printf", "true", ":", "set", "apt-get", "apt", "apk",
    "dpkg", "apt-mark", "yum", "dnf", "microdnf", "update-ca-certificates", "locale-gen",
    "sed", "cp", "mv", "test", "[",
}  # fmt: skip
_PATHS = re.compile(r"(?<![\w.$-])(/[^\s\"';:,=|&)]*|\.{1,2}(?=[\s/\"']|$))")


def _can_move(stage: Stage, anchor: Instruction, copy: Instruction) -> bool:
    text = copy.text
    if "$" in text or copy.heredocs:
        return False
    dest = _dest(stage, copy)
    if dest is None or dest == "/":
        return False
    instructions = stage.instructions
    between = instructions[instructions.index(anchor) : instructions.index(copy)]
    chown = copy.flag("chown")
    by_name = chown is not None and not re.fullmatch(r"\d+(:\d+)?", chown.value or "")
    if not copy.args[-1].startswith("/") and any(i.keyword == "WORKDIR" for i in between):
        return False
    for ins in between:
        if ins.keyword in ("COPY", "ADD"):
            other = _dest(stage, ins)
            if other is None or _overlaps(other, dest):
                return False
        elif ins.keyword == "RUN":
            if by_name or ins.script is None or ins.script.has_error or ins.heredocs:
                return False
            commands = sh.commands(ins)
            if any(c.name not in _HARMLESS for c in commands):
                return False
            if _may_touch(stage, ins, commands, dest):
                return False
        elif ins.keyword == "WORKDIR":
            # it creates its folder: a folder above the copied path would then be made by
            # the COPY instead (owned by its --chown, a user's home created before it)
            where = _project.resolve_path(_project._workdir_at(stage, ins), ins.args[0])
            if where is None or _overlaps(where, dest):
                return False
        elif ins.keyword in ("ONBUILD", "SHELL"):
            return False
    return True


def _may_touch(stage: Stage, run: Instruction, commands: list[Command], dest: str) -> bool:
    """The RUN may name the copied path or a folder above it: an absolute path, a path
    relative to its WORKDIR, a variable holding one, or a new user's home (``useradd -m``
    would find the folder made by the COPY and leave it root's, without the skeleton)."""
    missing: set[str] = set()
    text = expand(run.text, run.variables, missing=missing)
    if missing or "$" in text:
        return True  # a variable of unknown value (or a command's output) may name it
    for found in _PATHS.findall(text):
        path = found.rstrip("/*") or "/"
        if found.startswith(".") or _overlaps(path, dest):
            return True
    cwd = _project._workdir_at(stage, run)
    for cmd in commands:
        if cmd.name in ("useradd", "adduser") and _overlaps("/home", dest):
            return True
        for word in cmd.args:
            value = expand(word.value, run.variables) if word.dynamic else word.value
            if value.startswith(("-", "/")) or not value:
                continue
            where = _project.resolve_path(cwd, value)
            if where is None or _overlaps(where, dest):
                return True
    return False
