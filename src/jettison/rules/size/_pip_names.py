"""The Python distributions a RUN's pip installs bring in, read from the command line, its
requirements files and the local projects' metadata in the build context: what the size
rules that depend on the installed packages (JT136, JT139) look up in their lists."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from jettison.dockerfile import Command, Instruction
from jettison.dockerfile import commands as sh
from jettison.dockerfile.expand import expand
from jettison.rules._manifests import (
    DEPS_FILE,
    EXTRACT,
    EXTRACT_CFG,
    EXTRACT_SEVERAL,
    canonical,
    read_toml,
)
from jettison.rules._project import PIP_VALUE_OPTIONS, pip_subcommand, resolve_path
from jettison.rules.registry import RuleContext
from jettison.rules.size._common import stages_in_image, workdirs

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")
_LOCAL = re.compile(r"^(\.|/|\.\./)")


def _requirement_names(path: Path, depth: int = 0) -> set[str] | None:
    """Distribution names a requirements file installs (its -r includes too); None when it
    cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    names: set[str] = set()
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ", "-r\t")) and depth < 5:
            included = _requirement_names(path.parent / line.split(None, 1)[1].strip(), depth + 1)
            names |= included or set()
        elif line and not line.startswith(("-", "#")):
            match = _NAME.match(line)
            if match and "://" not in line.split(";")[0]:
                names.add(canonical(match.group(1)))
    return names


def _project_names(project: Path, extras: tuple[str, ...]) -> set[str] | None:
    """What installing a local project (with ``extras``) brings in, from its pyproject.toml
    or setup.cfg; None when neither says."""
    import configparser  # here: only an install of a local project reads its metadata

    meta = (read_toml(project / "pyproject.toml") or {}).get("project") or {}
    requirements = list(meta.get("dependencies") or [])
    optional = meta.get("optional-dependencies") or {}
    if not meta.get("dependencies") and not optional:
        setup = configparser.ConfigParser(interpolation=None)
        try:
            setup.read(project / "setup.cfg", encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return None
        if not setup.has_section("options"):
            return None
        requirements = setup.get("options", "install_requires", fallback="").splitlines()
        if setup.has_section("options.extras_require"):
            optional = {k: v.splitlines() for k, v in setup.items("options.extras_require")}
    wanted = list(optional) if "all" in extras and "all" not in optional else list(extras)
    for extra in wanted:
        for requirement in optional.get(extra, []):
            requirements.append(requirement)
            # `all = ["pkg[pdf,xlsx]"]`: the project's own extras, named through itself
            match = _NAME.match(str(requirement))
            if (
                match
                and match.group(2)
                and canonical(match.group(1)) == canonical(meta.get("name", ""))
            ):
                for inner in match.group(2)[1:-1].split(","):
                    requirements += optional.get(inner.strip(), [])
    return {canonical(m.group(1)) for r in requirements if (m := _NAME.match(str(r)))}


def _context_path(ctx: RuleContext, ins: Instruction, path: str) -> Path | None:
    """Where a path the RUN names (``requirements.txt``, ``/app/pkg``) is in the build
    context: through the COPY of the stage that put it there."""
    stage = ins.stage
    if stage is None:
        return None
    context = ctx.dockerfile.context_dir
    cwd = workdirs(stage).get(ins.index)
    target = resolve_path(cwd, path)
    if target is None:
        return None
    for copy in reversed([i for i in stage.instructions if i.index < ins.index]):
        if copy.keyword not in ("COPY", "ADD") or copy.flag("from") or len(copy.args) < 2:
            continue
        dest = resolve_path(workdirs(stage).get(copy.index), copy.args[-1])
        if dest is None:
            continue
        sources = copy.args[:-1]
        if target == dest or target.startswith(dest.rstrip("/") + "/"):
            rest = target[len(dest.rstrip("/")) :].lstrip("/")
            for src in sources:
                if "$" in src:
                    continue
                if any(c in src for c in "*?["):
                    # `COPY requirements*.txt /app/`: a file the glob matches, copied by name
                    # into the destination folder
                    name = PurePosixPath(rest).name
                    folder = PurePosixPath(src.lstrip("/")).parent
                    if "/" in rest or not fnmatch.fnmatchcase(name, PurePosixPath(src).name):
                        continue
                    candidate = context / folder / name
                    if candidate.is_file():
                        return candidate
                    continue
                base = context / src.lstrip("/")
                if base.is_file() and rest and rest != PurePosixPath(src).name:
                    continue  # a file copied into the folder lands under its own name
                candidate = base / rest if base.is_dir() else base
                if candidate.exists():
                    return candidate
    return None


def project_dir(ctx: RuleContext, ins: Instruction, path: str) -> Path | None:
    """The folder in the build context a local project the RUN installs (``.``, ``/src``)
    comes from, found through its manifest: the project's folder in the image may be made
    of several COPYs (`COPY pyproject.toml .`, `COPY README.md .`, `COPY src ./src`), and
    the manifest's is the one that says what it installs."""
    for manifest in ("pyproject.toml", "setup.cfg"):
        found = _context_path(ctx, ins, path.rstrip("/") + "/" + manifest)
        if found is not None and found.is_file():
            return found.parent
    found = _context_path(ctx, ins, path)
    return found if found is not None and found.is_dir() else None


def _extracted_names(ctx: RuleContext, ins: Instruction) -> set[str]:
    """What a dependency step of JT201's rewrite installs: the dependencies the manifests
    its extraction command reads (pyproject.toml, setup.cfg, several projects') list."""
    found: set[str] = set()
    for cmd in sh.commands(ins):
        values = cmd.arg_values
        if not sh.is_python(cmd) or len(values) < 3 or values[0] != "-c":
            continue
        if values[1] == EXTRACT_SEVERAL:
            items = [
                (a.partition("[")[0], tuple(e for e in a.partition("[")[2][:-1].split(",") if e))
                for a in values[2:]
            ]
        elif values[1] in (EXTRACT, EXTRACT_CFG):
            items = [(values[2], tuple(values[3:]))]
        else:
            continue
        for manifest, extras in items:
            path = _context_path(ctx, ins, manifest)
            if path is not None:
                found |= _project_names(path.parent, extras) or set()
    return found


def installed_names(ctx: RuleContext, ins: Instruction) -> set[str]:
    """The distributions (PEP 503 names) this RUN's pip installs bring in, as far as the
    command line, its requirements files, the local projects' metadata in the build context
    and the wheels a builder stage made tell; direct ones only (their own dependencies are
    not known before the build)."""
    found: set[str] = set()
    for cmd in sh.pip_installs(ins):
        # a local project installed --no-deps brings in nothing but itself (JT201's rewrite
        # installs its dependencies in an earlier step)
        no_deps = cmd.has_flag("--no-deps", "--no-dependencies")
        # ARG and ENV values as the build gives them by default (`-r ${ENV}.txt`)
        args = [expand(a, ins.variables) for a in sh.pip_install_args(cmd) or []]
        i = 1
        while i < len(args):
            arg = args[i]
            if arg in ("-r", "--requirement") and i + 1 < len(args):
                if args[i + 1] == DEPS_FILE:  # JT201's dependency step
                    found |= _extracted_names(ctx, ins)
                    i += 2
                    continue
                path = _context_path(ctx, ins, args[i + 1])
                if path is not None:
                    found |= _requirement_names(path) or set()
                else:
                    found |= _compiled_names(ctx, ins, args[i + 1])
                i += 2
                continue
            if (arg == "--group" and i + 1 < len(args)) or arg.startswith("--group="):
                value = args[i + 1] if arg == "--group" else arg.split("=", 1)[1]
                found |= _group_names(ctx, ins, value)
                i += 2 if arg == "--group" else 1
                continue
            if arg in ("-e", "--editable"):
                i += 1
                continue
            if arg.startswith("-"):
                i += 2 if arg in PIP_VALUE_OPTIONS else 1
                continue
            path_part, _, extras = arg.partition("[")
            extra_names = tuple(e.strip() for e in extras.rstrip("]").split(",") if e.strip())
            if path_part.endswith(".whl") or "*" in path_part:
                found |= _wheels_built(ctx)  # wheels a builder stage made: what it read
            elif _LOCAL.match(path_part):
                project = None if no_deps else project_dir(ctx, ins, path_part)
                if project is not None:
                    found |= _project_names(project, extra_names) or set()
            else:
                match = _NAME.match(arg)
                if match:
                    found.add(canonical(match.group(1)))
            i += 1
    return found


def _group_names(ctx: RuleContext, ins: Instruction, value: str) -> set[str]:
    """What `pip install --group [PATH:]NAME` (pip 25.1, PEP 735) installs: the dependency
    group NAME of PATH (pyproject.toml in the working directory by default), its
    `include-group`s followed."""
    path, _, group = value.rpartition(":")
    manifest = _context_path(ctx, ins, path or "pyproject.toml")
    data = read_toml(manifest) if manifest is not None and manifest.is_file() else None
    groups = (data or {}).get("dependency-groups")
    if not isinstance(groups, dict):
        return set()
    names: set[str] = set()
    seen: set[str] = set()
    todo = [group]
    while todo:
        current = canonical(todo.pop())
        if current in seen:
            continue
        seen.add(current)
        items = next((v for k, v in groups.items() if canonical(k) == current), None)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("include-group"), str):
                todo.append(item["include-group"])
            elif isinstance(item, str) and (match := _NAME.match(item)):
                names.add(canonical(match.group(1)))
    return names


# `pip-compile` (pip-tools) and `uv pip compile`: their output when no -o names one
_COMPILE_OUTPUT = ("-o", "--output-file")


def _compile_files(cmd: Command) -> tuple[list[str], str] | None:
    """(inputs, output) of a `pip-compile` or `uv pip compile` command; None for others.
    Without `-o` the output is the .in file's .txt, or requirements.txt."""
    if cmd.name == "pip-compile":
        words = cmd.arg_values
    elif cmd.name == "uv" and cmd.arg_values[:2] == ["pip", "compile"]:
        words = cmd.arg_values[2:]
    else:
        return None
    inputs: list[str] = []
    output = None
    for j, word in enumerate(words):
        previous = words[j - 1] if j else ""
        if previous in _COMPILE_OUTPUT:
            output = word
        elif word.startswith("--output-file="):
            output = word.split("=", 1)[1]
        elif not word.startswith("-") and previous not in PIP_VALUE_OPTIONS:
            inputs.append(word)
    inputs = inputs or ["requirements.in"]
    if output is None:
        output = inputs[0][: -len(".in")] + ".txt" if inputs[0].endswith(".in") else None
    return inputs, output or "requirements.txt"


def _compiled_names(ctx: RuleContext, ins: Instruction, requirements: str) -> set[str]:
    """What a requirements file an earlier RUN of the stage compiled installs: the direct
    dependencies its input names (`pip-compile -o requirements.txt pyproject.toml`: the
    project's; `pip-compile requirements.in`: the .in file's)."""
    stage = ins.stage
    if stage is None:
        return set()
    cwd = workdirs(stage)
    wanted = resolve_path(cwd.get(ins.index), requirements)
    found: set[str] = set()
    for run in stage.instructions:
        if run.keyword != "RUN" or run.index >= ins.index:
            continue
        for cmd in sh.commands(run):
            compiled = _compile_files(cmd)
            if compiled is None:
                continue
            inputs, output = compiled
            if resolve_path(cwd.get(run.index), output) != wanted:
                continue
            for name in inputs:
                path = _context_path(ctx, run, name)
                if path is None or not path.is_file():
                    continue
                if path.name in ("pyproject.toml", "setup.cfg"):
                    found |= _project_names(path.parent, ()) or set()
                else:
                    found |= _requirement_names(path) or set()
    return found


def _wheels_built(ctx: RuleContext) -> set[str]:
    """What the file's `pip wheel` commands build wheels of (their requirements files and
    names): the wheels a later `pip install /wheels/*` installs."""
    names: set[str] = set()
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            if pip_subcommand(cmd) != "wheel":
                continue
            args = [expand(a, ins.variables) for a in cmd.arg_values]
            for i, arg in enumerate(args):
                if arg in ("-r", "--requirement") and i + 1 < len(args):
                    path = _context_path(ctx, ins, args[i + 1])
                    names |= (_requirement_names(path) or set()) if path else set()
                elif (
                    not arg.startswith("-")
                    and arg != "wheel"
                    and (m := _NAME.match(arg))
                    and (i == 0 or args[i - 1] not in PIP_VALUE_OPTIONS)
                ):
                    names.add(canonical(m.group(1)))
    return names


def installing_runs(
    ctx: RuleContext, trimmed: Callable[[Instruction], bool]
) -> Iterator[tuple[Instruction, set[str]]]:
    """The RUNs whose files reach the final image that install packages with pip and do not
    already trim them (``trimmed``), each with the distributions it installs: where the
    trimming rules (JT140-JT142) append their cleanup."""
    for stage in stages_in_image(ctx.dockerfile):
        for ins in stage.instructions:
            if ins.keyword == "RUN" and not trimmed(ins) and any(sh.pip_installs(ins)):
                yield ins, installed_names(ctx, ins)


def listed(names: list[str], shown: int = 3) -> str:
    """``a, b, c and 2 more``: the first names of a finding's list."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
