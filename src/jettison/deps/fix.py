"""``--write``: remove unused runtime packages from requirements files and from the Dockerfile's
``pip install`` commands.

By default the pruned text goes to a new file next to the original (``requirements.pruned.txt``,
``Dockerfile.pruned``); ``--in-place`` replaces the original. Writes are atomic. Declarations in
pyproject.toml, setup.cfg and Pipfile are listed for a manual edit rather than rewritten.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jettison.atomic import write_text_atomic
from jettison.deps.declared import Declared, pip_install_packages
from jettison.deps.report import DepItem
from jettison.dockerfile import parse_dockerfile
from jettison.errors import JettisonError


@dataclass
class FileEdit:
    source: Path
    target: Path
    old: str
    new: str
    removed: list[str] = field(default_factory=list)

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old.splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                fromfile=str(self.source),
                tofile=str(self.target),
            )
        )


@dataclass
class WritePlan:
    edits: list[FileEdit] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  # "pyproject.toml:12: remove 'x'"


def _is_dockerfile(path: str) -> bool:
    name = Path(path).name.lower()
    return name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile")


def _is_requirements(path: str) -> bool:
    return Path(path).suffix in (".txt", ".in")


def _target(path: Path, in_place: bool) -> Path:
    if in_place:
        return path
    if _is_dockerfile(str(path)):
        return path.with_name(path.name + ".pruned")
    return path.with_name(f"{path.stem}.pruned{path.suffix}")


def _prune_requirements(text: str, decls: list[Declared]) -> tuple[str, list[str]]:
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    removed: list[str] = []
    for d in decls:
        index = d.line - 1
        if not (0 <= index < len(lines)):
            continue
        # only if the line still names the package (the file may have changed since)
        head = lines[index].lower().replace("_", "-")
        if d.name.split("-")[0] not in head:
            continue
        end = index
        while lines[end].rstrip("\r\n").endswith("\\") and end + 1 < len(lines):
            end += 1
        drop.update(range(index, end + 1))
        removed.append(d.raw)
    return "".join(line for i, line in enumerate(lines) if i not in drop), removed


def _prune_dockerfile(
    text: str,
    path: str,
    decls: list[Declared],
) -> tuple[str, list[str], list[str]]:
    df = parse_dockerfile(text, path)
    spans = {(d.start, d.end): d for d in decls if d.start is not None and d.end is not None}
    cut: list[tuple[int, int, Declared]] = []
    skipped: list[str] = []
    for ins in df.instructions:
        if ins.keyword != "RUN" or ins.script is None:
            continue
        for cmd in ins.script.commands:
            found = pip_install_packages(cmd.argv)
            if found is None:
                continue
            indexes, options = found
            words = [cmd.name_word, *cmd.args]
            mine = [
                (words[i].start, words[i].end)
                for i in indexes
                if (words[i].start, words[i].end) in spans
            ]
            if not mine:
                continue
            has_files = any(k in ("-r", "--requirement", "-e", "--editable") for k, _ in options)
            if len(mine) == len(indexes) and not has_files:
                for span in mine:
                    d = spans[span]
                    skipped.append(
                        f"{path}:{d.line}: {d.raw} is the only package of its pip "
                        "install command; remove the command by hand"
                    )
                continue
            cut.extend((s, e, spans[(s, e)]) for s, e in mine)
    removed: list[str] = []
    for start, end, d in sorted(cut, reverse=True):
        # take the separator before the word with it: blanks and line continuations, so no
        # dangling "\" is left to join the next instruction
        s = start
        while True:
            if s > 0 and text[s - 1] in " \t":
                s -= 1
            elif s > 1 and text[s - 1] == "\n" and text[s - 2] == "\\":
                s -= 2
            elif s > 2 and text[s - 2 : s] == "\r\n" and text[s - 3] == "\\":
                s -= 3
            else:
                break
        text = text[:s] + text[end:]
        removed.append(d.raw)
    return text, removed, skipped


def plan_writes(items: Iterable[DepItem], in_place: bool = False) -> WritePlan:
    plan = WritePlan()
    by_file: dict[str, list[Declared]] = {}
    for item in items:
        if not item.removable:
            continue
        for d in item.declarations:
            if _is_dockerfile(d.path) or _is_requirements(d.path):
                by_file.setdefault(d.path, []).append(d)
            else:
                plan.manual.append(f"{d.path}:{d.line}: remove {d.raw!r} by hand")
    for path_text, decls in sorted(by_file.items()):
        path = Path(path_text)
        try:
            old = path.read_bytes().decode("utf-8")  # a UTF-8 BOM stays, as "\ufeff"
        except OSError as exc:
            raise JettisonError(f"cannot read: {exc.strerror}", path_text) from None
        except UnicodeDecodeError:
            # UTF-16 from PowerShell, a Latin-1 comment: rewriting would change the encoding
            plan.manual.extend(
                f"{d.path}:{d.line}: remove {d.raw!r} by hand (the file is not UTF-8)"
                for d in decls
            )
            continue
        if _is_dockerfile(path_text):
            new, removed, skipped = _prune_dockerfile(old, path_text, decls)
            plan.manual.extend(skipped)
        else:
            new, removed = _prune_requirements(old, decls)
        if new != old:
            plan.edits.append(FileEdit(path, _target(path, in_place), old, new, removed))
    return plan


def apply(plan: WritePlan) -> None:
    for edit in plan.edits:
        write_text_atomic(edit.target, edit.new)
