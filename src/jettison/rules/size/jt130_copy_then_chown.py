"""JT130 copy-then-chown: a copied tree is stored twice: COPY, then `chown -R` of the same files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from jettison.dockerfile import Command, Flag, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules._project import resolve_path
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import workdirs
from jettison.units import kilo_or_megabytes


def _context_bytes(context: Path, sources: list[str]) -> int | None:
    """Bytes of the COPY sources in the build context (``.git`` left out: usually ignored);
    None when a source is not there."""
    total = 0
    for src in sources:
        if "$" in src or "*" in src:
            return None
        path = context / src.lstrip("/")
        if path.is_file():
            total += path.stat().st_size
            continue
        if not path.is_dir():
            return None
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d != ".git"]
            for name in files:
                try:
                    total += (Path(root) / name).lstat().st_size
                except OSError:
                    continue
    return total


def _same_owner(chown_flag: Flag | None, owner: str) -> bool:
    """``--chown=1001:1001`` and ``chown -R 1001:1001`` (or ``user.group``) name one owner."""
    value = chown_flag.value if chown_flag is not None else None
    return value is not None and value in (owner, owner.replace(".", ":", 1))


def _chown_recursive(cmd: Command) -> tuple[str, list[str], int] | None:
    """(owner, paths, index of the -R word) for ``chown -R OWNER PATH...``."""
    if cmd.name != "chown":
        return None
    flag = None
    rest: list[str] = []
    for i, w in enumerate(cmd.args):
        if w.value in ("-R", "--recursive"):
            flag = i
        elif w.value.startswith("-"):
            return None  # -h, --from=..., --reference: leave them alone
        else:
            rest.append(w.value)
    if flag is None or len(rest) < 2:
        return None
    return rest[0], rest[1:], flag


@rule(
    "JT130",
    "copy-then-chown",
    Category.SIZE,
    Severity.WARNING,
    "a copied tree is stored twice: COPY, then `chown -R` of the same files",
    what="""
        Flags `RUN chown -R USER DIR` when DIR is where an earlier COPY/ADD of the same
        stage put files without `--chown`, or with `--chown` of that same owner (the
        recursive chown then changes nothing, and still stores every file again).
    """,
    why="""
        A layer stores every file whose metadata changes: `chown -R` after the COPY writes
        the whole tree a second time, so the image carries it twice. `COPY --chown` gives the
        files their owner in the COPY layer itself. A `chown -R` to the owner the files
        already have is no cheaper: the layer stores every file it touched.
    """,
    example="COPY . /app\nRUN chown -R app:app /app",
    use_instead="COPY --chown=app:app . /app\nRUN chown app:app /app",
    fix="""
        Unsafe: adds `--chown=OWNER` to every COPY/ADD into the directory before the chown
        (where it has none), and drops `-R` (the directory itself still changes owner, so the
        user can create files in it); a chown of several directories keeps `-R` for the
        others and changes the copied one with a `chown OWNER DIR` of its own. Only when no
        other RUN between the first COPY and the chown may write into the tree (their files
        would no longer change owner) and the copies went into one of the chown's
        directories. The finding gives the tree's size in the build context: the bytes
        saved.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def copy_then_chown(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    context = df.context_dir
    for stage in ctx.stages:
        cwd = workdirs(stage)
        # (COPY/ADD, destination): without --chown, or with one a later chown -R repeats
        copies: list[tuple[Instruction, str]] = []
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and len(ins.args) > 1:
                dest = resolve_path(cwd.get(ins.index), ins.args[-1])
                if dest is not None:
                    copies.append((ins, dest))
                continue
            if ins.keyword != "RUN":
                continue
            for cmd in sh.commands(ins):
                found = _chown_recursive(cmd)
                if found is None or cmd.in_condition:
                    continue
                owner, paths, flag_at = found
                targets = {resolve_path(cwd.get(ins.index), p) for p in paths}
                into = [
                    (c, d)
                    for c, d in copies
                    if any(t is not None and (d == t or d.startswith(t.rstrip("/") + "/"))
                           for t in targets)
                    and (c.flag("chown") is None or _same_owner(c.flag("chown"), owner))
                ]  # fmt: skip
                if not into:
                    continue
                local = [c for c, _ in into if c.flag("from") is None]
                sizes = [_context_bytes(context, c.args[:-1]) for c in local]
                size = sum(s for s in sizes if s is not None)
                how = f" ({kilo_or_megabytes(size)} in the build context)" if local and size else ""
                edits = _fix(ctx, stage, ins, cmd, into, owner, paths, flag_at)
                advice = (
                    f"the COPY already gives it that owner (line {into[0][0].line}): chown "
                    "the directory alone"
                    if all(c.flag("chown") is not None for c, _ in into)
                    else f"give it its owner in the COPY (`COPY --chown={owner}`, "
                    f"line {into[0][0].line})"
                )
                yield ctx.report(
                    f"`chown -R {owner} {' '.join(paths)}` stores the copied tree a second "
                    f"time{how}; {advice}",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=edits,
                )
                break


def _fix(
    ctx: RuleContext,
    stage: Stage,
    run: Instruction,
    cmd: Command,
    into: list[tuple[Instruction, str]],
    owner: str,
    paths: list[str],
    flag_at: int,
) -> list[Edit]:
    if cmd.args[flag_at].value != "-R":
        return []
    first = into[0][0]
    cwd = workdirs(stage).get(run.index)
    # the one path the copies went into; the chown's other paths keep their -R
    covered = [
        i
        for i, p in enumerate(paths)
        if (t := resolve_path(cwd, p)) is not None
        and any(d == t or d.startswith(t.rstrip("/") + "/") for _, d in into)
    ]
    if len(covered) != 1 or any(w.dynamic for w in cmd.args):
        return []
    target = resolve_path(cwd, paths[covered[0]])
    if target is None or target.startswith(("/home/", "/root")):
        return []  # a home directory holds files useradd and others made
    if any(d.rstrip("/") != target.rstrip("/") for _, d in into):
        return []  # copies into a part of the tree: the rest came from elsewhere
    for ins in stage.all_instructions():
        if ins.index >= run.index:
            break
        if ins.keyword == "RUN" and (ins.index > first.index or target in ins.text):
            return []  # it may write into the tree: its files would keep their owner
        if (
            ins.keyword in ("COPY", "ADD")
            and ins.flag("chown") is None
            and ins not in [c for c, _ in into]
        ):
            dest = resolve_path(workdirs(stage).get(ins.index), ins.args[-1])
            if dest is not None and dest.startswith(target.rstrip("/") + "/"):
                return []
    for c in sh.commands(run):
        if c.start < cmd.start and c.name not in ("groupadd", "useradd", "addgroup", "adduser",
                                                  "mkdir", "set", "true"):  # fmt: skip
            return []
    chown_owner = owner
    if ":" not in owner and "." in owner:
        owner = owner.replace(".", ":", 1)  # chown's old user.group form; --chown wants ':'
    edits = [
        Edit(c.keyword_end, c.keyword_end, f" --chown={owner}")
        for c, _ in into
        if c.flag("chown") is None
    ]
    source = ctx.dockerfile.source
    if len(paths) == 1:
        word = cmd.args[flag_at]
        end = word.end
        while end < len(source) and source[end] in " \t":
            end += 1
        edits.append(Edit(word.start, end, ""))
        return edits
    # `chown -R u /var/log/app /srv/app`: -R stays for the others, the copied tree's
    # directory gets a chown of its own (the words are the chown's, after its owner)
    words = [w for w in cmd.args if not w.value.startswith("-")][1:]
    word = words[covered[0]]
    start = word.start
    while start > 0 and source[start - 1] in " \t":
        start -= 1
    edits.append(Edit(start, word.end, ""))
    edits.append(Edit(cmd.end, cmd.end, f" && chown {chown_owner} {word.raw}"))
    return edits
