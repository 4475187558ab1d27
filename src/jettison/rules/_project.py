"""Installs of the project itself (``pip install .``, ``pip wheel .``, an sdist, poetry, uv,
pdm) and the rewrite that installs their dependencies before the source is copied.

Used by JT201: a project install after the source COPY reinstalls every dependency on each
code change. The rewrite installs the dependencies from the manifest or lock file first and
leaves the project install where it is, without dependencies:

* pip: ``COPY pyproject.toml`` + a RUN that reads ``[project].dependencies`` (and the extras
  asked for) from it at build time into a temporary requirements file and installs that with
  the same pip command and options; the project install gets ``--no-deps``. Only when the
  dependencies are static (not ``dynamic``), since ``setup.py`` would need the source.
* poetry: ``poetry install --no-root`` first; uv: ``uv sync --no-install-project`` (with a
  cache mount when the file already uses BuildKit syntax, as uv's Docker guide does); pdm:
  ``--no-self``. Their lock files are copied with the manifest.

The project's version is never needed by the dependency step, so versions derived from VCS
(setuptools-scm, hatch-vcs, versioneer) keep working as before: the project itself is still
built from the full source, after the COPY that brings ``.git``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit
from jettison.rules._manifests import (
    DEPS_FILE,
    EXTRACT,
    EXTRACT_CFG,
    EXTRACT_WORDS,
    defined_extras,
    extras_as_written,
    names_itself,
    read_toml,
    readme_of,
    setuptools_without_project,
    static_cfg_dependencies,
    static_dependencies,
)

# pip options that take the next word as their value (so it is not a package or a path)
PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-w", "--wheel-dir", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--platform", "--python-version", "--implementation", "--abi", "--trusted-host",
    "-C", "--config-settings", "--global-option", "--build-option", "--progress-bar",
    "--cache-dir", "--src", "--upgrade-strategy", "--only-binary", "--no-binary", "--log",
    "--timeout", "--retries", "--proxy", "--cert", "--client-cert", "--report",
    "--python", "--exists-action", "--use-feature", "--use-deprecated", "--hash",
}  # fmt: skip
_LOCKS = {"poetry": "poetry.lock", "uv": "uv.lock", "pdm": "pdm.lock"}
DEPS_ONLY_FLAG = {"poetry": "--no-root", "uv": "--no-install-project", "pdm": "--no-self"}
UV_CACHE = "/root/.cache/uv"


def pip_subcommand(cmd: Command) -> str | None:
    """``install``/``wheel``/... for pip, ``python -m pip`` and ``uv pip``; else None."""
    if cmd.name in sh.PIP or cmd.name.startswith(("pip3.", "pip2.")):
        return cmd.subcommand()
    vals = cmd.arg_values
    if cmd.name in sh.PYTHON or cmd.name.startswith("python3."):
        for i, v in enumerate(vals[:-2]):
            if v == "-m" and vals[i + 1] in ("pip", "pip3"):
                return vals[i + 2]
        return None
    if cmd.name == "uv" and vals[:1] == ["pip"] and len(vals) > 1:
        return vals[1]
    return None


@dataclass(frozen=True)
class Target:
    """A local project a pip command installs or builds: its word, path and extras."""

    words: tuple[int, ...]  # indexes into cmd.args (``-e`` and its value together)
    path: str
    extras: tuple[str, ...]
    archive: bool = False  # dist/*.tar.gz or *.whl built from the project
    # the extras come from a variable (`pip install .${INSTALL_EXTRAS}`, evidently): the
    # install is known, what it brings is not
    variable_extras: bool = False


# `.${EXTRAS}`, `./${EXTRAS}`, `.[${EXTRAS}]`: the project here, extras from an ARG or ENV
_VARIABLE_EXTRAS = re.compile(r"^(\.{1,2}/?)(\$\{?\w+\}?|\[\$\{?\w+\}?\])$")


def _split_extras(value: str) -> tuple[str, tuple[str, ...]]:
    if value.endswith("]") and "[" in value:
        path, extras = value[:-1].split("[", 1)
        return path, tuple(e.strip() for e in extras.split(",") if e.strip())
    return value, ()


def _is_local(path: str) -> bool:
    return path in (".", "./", "..") or path.startswith(("./", "../", "/"))


def pip_targets(cmd: Command) -> list[Target]:
    """Local projects (and archives built from one) a ``pip install``/``pip wheel`` names."""
    sub = pip_subcommand(cmd)
    if sub not in ("install", "wheel"):
        return []
    out: list[Target] = []
    args = cmd.args
    seen_sub = False
    i = 0
    while i < len(args):
        v = args[i].value
        if not seen_sub:
            seen_sub = v == sub
            i += 1
            continue
        if v in ("-e", "--editable") and i + 1 < len(args):
            path, extras = _split_extras(args[i + 1].value)
            if _is_local(path) or not any(c in path for c in ":@"):
                out.append(Target((i, i + 1), path, extras))
            i += 2
            continue
        if v in PIP_VALUE_OPTIONS:
            i += 2
            continue
        if not v.startswith("-"):
            path, extras = _split_extras(v)
            variable = _VARIABLE_EXTRAS.match(v)
            if path.endswith((".tar.gz", ".whl", ".zip")) and "://" not in path:
                out.append(Target((i,), path, extras, archive=True))
            elif _is_local(path):
                dynamic = any("$" in e for e in extras)  # `.[${EXTRAS}]`: "a,b" or "[a]"?
                out.append(Target((i,), path, () if dynamic else extras, variable_extras=dynamic))
            elif variable:
                out.append(Target((i,), variable.group(1), (), variable_extras=True))
        i += 1
    return out


def installs_project_dependencies(cmd: Command) -> bool:
    """A pip install/wheel of a local project that also installs its dependencies."""
    return bool(pip_targets(cmd)) and not cmd.has_flag("--no-deps", "--no-dependencies")


def manager(cmd: Command) -> str | None:
    """poetry/uv/pdm when ``cmd`` installs the project's locked dependencies."""
    sub = cmd.subcommand()
    if cmd.name == "poetry" and sub == "install" and not cmd.has_flag("--only-root"):
        return "poetry"
    if cmd.name == "uv" and sub == "sync" and not cmd.has_flag("--only-install-project"):
        return "uv"
    if cmd.name == "pdm" and sub in ("install", "sync"):
        return "pdm"
    return None


def _workdir_at(stage: Stage, ins: Instruction) -> str | None:
    cwd: str | None = "/"
    for other in stage.all_instructions():
        if other is ins:
            break
        if other.keyword == "WORKDIR" and other.args:
            target = other.args[0]
            if "$" in target:
                cwd = None
            elif target.startswith("/"):
                cwd = target
            elif cwd is not None:
                cwd = str(PurePosixPath(cwd) / target)
    return cwd


def resolve_path(cwd: str | None, path: str) -> str | None:
    """``path`` as an absolute, normalised container path seen from ``cwd`` (None: unknown)."""
    if "$" in path:
        return None
    if path.startswith("/"):
        return str(PurePosixPath(path))
    if cwd is None:
        return None
    parts: list[str] = []
    for part in (PurePosixPath(cwd) / path).parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


# pip options whose value is a file or folder pip reads (requirements, constraints, links)
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-f", "--find-links", "--cert")


def reads_copied_file(
    stage: Stage, source_copy: Instruction, cmd: Command, drop: set[int], cwd: str | None
) -> str | None:
    """A file the pip command reads through an option (``-c constraints.txt``, ``-r``,
    ``-f ./wheels``) that only the source COPY brings: the dependency step, which keeps the
    options and runs before that COPY, would not find it."""
    copy_dest = resolve_path(_workdir_at(stage, source_copy), source_copy.args[-1])
    words = [w.value for i, w in enumerate(cmd.args) if i not in drop]
    for i, v in enumerate(words):
        value: str | None = None
        for opt in _FILE_OPTIONS:
            if v == opt and i + 1 < len(words):
                value = words[i + 1]
            elif v.startswith(opt + "=") and opt.startswith("--"):
                value = v.split("=", 1)[1]
            elif len(opt) == 2 and v.startswith(opt) and len(v) > 2:
                value = v[2:]
        if value is None or "://" in value:
            continue
        where = resolve_path(cwd, value)
        if where is None or copy_dest is None:
            return value
        path, base = PurePosixPath(where), PurePosixPath(copy_dest)
        if (path == base or base in path.parents) and _copied_earlier(
            stage, source_copy, path.name, str(path.parent)
        ) is None:
            return value
    return None


def _python_of(cmd: Command) -> str:
    if cmd.name in sh.PYTHON or cmd.name.startswith("python3."):
        return cmd.name_word.raw
    if cmd.name.startswith(("pip3.", "pip2.")):
        return "python" + cmd.name[3:]
    return "python3"


def _variable_extras_text(
    source: str, cmd: Command, target: Target, pyproject: str = "pyproject.toml"
) -> str | None:
    """The word with variable extras as written, its project path replaced by
    ``pyproject`` (`.${EXTRAS}` -> `pyproject.toml${EXTRAS}`, `".[${EXTRAS}]"` ->
    `"pyproject.toml[${EXTRAS}]"`): the shell expands and splits it as it did the install's
    word. None when the word is single-quoted (pip then gets the `$` itself) or not of that
    form."""
    if not target.variable_extras or len(target.words) != 1:
        return None
    word = cmd.args[target.words[0]]
    raw = source[word.start : word.end]
    at = 1 if raw[:1] == '"' else 0
    if "'" in raw or "`" in raw or not raw[at:].startswith(target.path):
        return None
    if any(c.isspace() or c in "\"'$`" for c in pyproject):
        return None
    return raw[:at] + pyproject + raw[at + len(target.path) :]


def _pip_deps_command(
    source: str,
    cmd: Command,
    target: Target,
    pyproject: str,
    escape: str,
    script: str = EXTRACT,
    asked: tuple[str, ...] | None = None,
) -> str:
    """The same pip command with the project replaced by its dependencies' file (read by
    ``script`` from ``pyproject``, or a setup.cfg with :data:`EXTRACT_CFG`); ``asked``: the
    extras as the manifest spells them (default: as the command does)."""
    drop = set(target.words)
    text = source[cmd.start : cmd.args[0].start] if cmd.args else source[cmd.start : cmd.end]
    kept = [source[w.start : w.end] for i, w in enumerate(cmd.args) if i not in drop]
    extras = "".join(" " + e for e in (target.extras if asked is None else asked))
    extract = f'{_python_of(cmd)} -c "{script}" {pyproject}{extras} > {DEPS_FILE}'
    return (
        f"{extract} {escape}\n    && {text}{' '.join(kept)} -r {DEPS_FILE} {escape}\n"
        f"    && rm {DEPS_FILE}"
    )


@dataclass
class Rewrite:
    edits: list[Edit]
    why_not: str | None = None  # why no rewrite is offered (shown in the finding)


def _line_start(source: str, ins: Instruction) -> int:
    first = ins.comments_above[0].start if ins.comments_above else ins.start
    return source.rfind("\n", 0, first) + 1


def _block(source: str, ins: Instruction) -> tuple[int, int]:
    start = _line_start(source, ins)
    end = source.find("\n", ins.end)
    return start, len(source) if end == -1 else end + 1


def _copied_earlier(stage: Stage, before: Instruction, name: str, dest_dir: str) -> str | None:
    """The context path of ``name`` when an earlier COPY already put it into ``dest_dir``."""
    for ins in stage.instructions:
        if ins is before:
            break
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or len(ins.args) < 2:
            continue
        dest = resolve_path(_workdir_at(stage, ins), ins.args[-1])
        for src in ins.args[:-1]:
            if PurePosixPath(src).name != name or dest is None:
                continue
            into = dest if ins.args[-1].endswith("/") or len(ins.args) > 2 else None
            if into is None:
                into = str(PurePosixPath(dest).parent) if dest.endswith(name) else dest
            if into.rstrip("/") == dest_dir.rstrip("/"):
                return src
    return None


def project_rewrite(
    df: Dockerfile,
    stage: Stage,
    source_copy: Instruction,
    run: Instruction,
    between: list[Instruction],
    movable: bool,
) -> Rewrite:
    """Edits installing the dependencies of the project ``run`` installs before
    ``source_copy``; ``movable``: the steps between the two may move below the dependency
    install (system packages the build needs move above it instead)."""
    if run.heredocs or run.script is None or run.script.has_error:
        return Rewrite([], "the install is not a plain shell RUN")
    cmds = sh.commands(run)
    chosen: tuple[Command, str] | None = None
    for cmd in cmds:
        if cmd.in_condition:
            continue
        if installs_project_dependencies(cmd):
            chosen = (cmd, "pip")
            break
        tool = manager(cmd)
        if tool is not None:
            chosen = (cmd, tool)
            break
    if chosen is None:
        return Rewrite([], "no install of the project itself")
    cmd, tool = chosen
    if any(c.name in ("cd", "pushd") and c.start < cmd.start for c in cmds):
        return Rewrite([], "the RUN changes directory before the install")
    context = df.context_dir
    cwd = _workdir_at(stage, run)
    copy_dest = resolve_path(_workdir_at(stage, source_copy), source_copy.args[-1])
    broad = any(s.rstrip("/") in (".", "") for s in source_copy.args[:-1])
    if tool == "pip":
        targets = pip_targets(cmd)
        if len(targets) != 1:
            return Rewrite([], "the install names several local projects")
        target = targets[0]
        if target.variable_extras and _variable_extras_text(df.source, cmd, target) is None:
            return Rewrite([], "the extras come from a variable in a form not read here")
        project_path = target.path
        if target.archive:
            # an sdist or wheel built from the project in this RUN: the project is where
            # the build ran (the working directory, or the directory given to it)
            project_path = "."
            for c in cmds:
                if c.start >= cmd.start:
                    break
                module = sh.python_module(c)
                if (
                    module
                    and module[0] == "build"
                    and module[1]
                    and not module[1][-1].startswith("-")
                ):
                    project_path = module[1][-1]
        project = resolve_path(cwd, project_path)
        read = reads_copied_file(stage, source_copy, cmd, set(target.words), cwd)
        if read is not None:
            return Rewrite([], f"the install reads {read}, which the source COPY brings")
    else:
        project = cwd
    if project is None or copy_dest is None:
        return Rewrite([], "the project's directory depends on a variable")
    manifest_dir = project
    names = ["pyproject.toml"]
    if tool in _LOCKS:
        names.append(_LOCKS[tool])
    elif tool == "pip" and broad and copy_dest is not None:
        # a setuptools project whose dependencies are in setup.cfg (pyproject.toml, if
        # any, only names the build backend): that file is the manifest
        inside, base = PurePosixPath(manifest_dir), PurePosixPath(copy_dest)
        if inside == base or base in inside.parents:
            here = context / inside.relative_to(base)
            if setuptools_without_project(here / "pyproject.toml") and static_cfg_dependencies(
                here / "setup.cfg"
            ):
                names = ["setup.cfg"]
    # where the manifest is in the context: beside the COPY of the whole tree, or where an
    # earlier COPY took it from
    found: dict[str, str] = {}
    for name in names:
        earlier = _copied_earlier(stage, source_copy, name, manifest_dir)
        if earlier is not None:
            found[name] = earlier
    to_copy: list[str] = []
    if len(found) < len(names):
        if not broad:
            return Rewrite([], "the manifest is not copied before the source")
        inside = PurePosixPath(manifest_dir)
        base = PurePosixPath(copy_dest)
        if inside != base and base not in inside.parents:
            return Rewrite([], "the project is outside the copied tree")
        rel = inside.relative_to(base)
        for name in names:
            if name in found:
                continue
            ctx_path = rel / name
            if not (context / ctx_path).is_file():
                return Rewrite([], f"{ctx_path} is not in the build context")
            found[name] = str(ctx_path)
            to_copy.append(str(ctx_path))
        readme = readme_of(context / found[names[0]]) if names[0] == "pyproject.toml" else None
        if tool == "poetry" and readme and (context / rel / readme).is_file():
            to_copy.append(str(rel / readme))  # poetry checks the readme even with --no-root
        if tool == "uv" and (context / rel / ".python-version").is_file():
            to_copy.append(str(rel / ".python-version"))
    manifest = names[0]  # pyproject.toml, or setup.cfg (a pip install, checked above)
    pyproject_ctx = context / found[manifest]
    if tool == "pip" and manifest == "pyproject.toml" and not static_dependencies(pyproject_ctx):
        return Rewrite(
            [], "its dependencies are not listed statically in pyproject.toml's [project]"
        )
    if tool == "pip" and manifest == "pyproject.toml":
        table = (read_toml(pyproject_ctx) or {}).get("project", {})
        if names_itself(table):
            return Rewrite([], "its extras require the project itself")
    if tool == "pip" and manifest != "pyproject.toml" and pip_targets(cmd)[0].variable_extras:
        return Rewrite([], "the extras come from a variable and the manifest is setup.cfg")
    if tool == "uv":
        data = read_toml(pyproject_ctx)
        if data is None:
            return Rewrite([], "pyproject.toml does not parse")
        if "workspace" in data.get("tool", {}).get("uv", {}):
            return Rewrite([], "uv workspaces are not handled")
    source = df.source
    flags = "".join(
        source[f.start : f.end] + " " for f in run.flags if f.name in ("mount", "network")
    )
    pyproject_in_image = str(PurePosixPath(manifest_dir) / manifest)
    if manifest_dir == cwd:
        pyproject_in_image = manifest
    edits: list[Edit] = []
    move_run = False
    if tool == "pip":
        target = pip_targets(cmd)[0]
        variable = _variable_extras_text(source, cmd, target)
        if target.variable_extras and variable is not None:
            # the extras are known only at build time (`.${INSTALL_EXTRAS}`, a --build-arg
            # may change them): the dependency step reads the same words, expanded and split
            # by the same shell, as `pyproject.toml[extra,...]` and any requirement beside it
            words = _variable_extras_text(source, cmd, target, pyproject_in_image)
            deps_cmd = _pip_deps_command(
                source, cmd, target, f"{pyproject_in_image} {words}",
                df.directives.escape, EXTRACT_WORDS, (),
            )  # fmt: skip
        else:
            script = EXTRACT if manifest == "pyproject.toml" else EXTRACT_CFG
            extras = extras_as_written(target.extras, defined_extras(pyproject_ctx))
            deps_cmd = _pip_deps_command(
                source, cmd, target, pyproject_in_image, df.directives.escape, script, extras
            )
        insert = sh.insert_after_word(cmd, pip_subcommand(cmd) or "install", "--no-deps")
        if insert is None:
            return Rewrite([], "the install command has no subcommand word")
        edits.append(insert)
    else:
        flag = DEPS_ONLY_FLAG[tool]
        deps_cmd = source[cmd.start : cmd.end]
        if not cmd.has_flag(flag):
            deps_cmd += " " + flag
        elif len({(c.start, c.end) for c in cmds}) == 1:
            # already a dependencies-only install, alone in its RUN: it moves
            move_run = True
        if (
            tool == "uv"
            and df.uses_buildkit_features
            and UV_CACHE not in run.cache_mount_targets()
            and "--no-cache" not in deps_cmd
        ):
            flags += f"--mount=type=cache,target={UV_CACHE} "
    copy_lines = ""
    if to_copy:
        dest = source_copy.args[-1]
        rel_dirs = {str(PurePosixPath(p).parent) for p in to_copy}
        if len(rel_dirs) != 1:
            return Rewrite([], "the manifests are in several directories")
        sub = rel_dirs.pop()
        if sub != ".":
            dest = str(PurePosixPath(dest) / sub)
        if not dest.endswith("/"):
            dest += "/"
        keep = "".join(
            source[f.start : f.end] + " " for f in source_copy.flags if f.name in ("chown",)
        )
        copy_lines = f"COPY {keep}{' '.join(to_copy)} {dest}\n"
    what = "lock file" if tool in _LOCKS else manifest
    comment = f"# the project's dependencies ({what}), installed before its source is copied\n"
    setup = _setup_prefix(source, cmds, cmd)
    if setup is None:
        return Rewrite([], "commands before the install in its RUN may read the source")
    system = [c for c in _unique(cmds) if c.end <= cmd.start and _system_setup(c)]
    moved: list[tuple[Command, int]] = []  # commands after the install that go with it
    if system:
        # `apt-get install build-essential && pip install . && apt-get purge ...` (evidently):
        # the dependency step gets the system packages and their removal; the project's own
        # install, after the source COPY, no longer needs them where its build is pure Python
        why = _impure_build(context / found[manifest])
        if why is not None:
            return Rewrite([], f"the RUN installs system packages and {why}")
        kept_setup = [c for c in _unique(cmds) if c.end <= cmd.start and not _builds_project(c)]
        setup = "".join(
            source[c.start : c.end] + f" {df.directives.escape}\n    && " for c in kept_setup
        )
        cleanups = _system_cleanups(cmds, cmd)
        if cleanups is None:
            return Rewrite([], "the RUN's commands after the install are not a plain && chain")
        moved += cleanups
        ordered = _unique(cmds)
        for c in system:
            following = ordered[ordered.index(c) + 1]
            edits.append(Edit(c.start, following.start, ""))
    # cleanups of the installed packages after the install (JT136's test-suite trim, JT139's
    # strip) go with the dependencies they clean: left after the project's install, they
    # would rescan (and rewrite) every dependency on each code change
    # (in the RUN's order: a strip placed before the compilers' removal stays before it)
    moved += package_trims(source, cmds, cmd)
    for c, start in sorted(dict((m[0].start, m) for m in moved).values(), key=lambda m: m[0].start):
        deps_cmd += f" {df.directives.escape}\n    && {source[c.start : c.end]}"
        edits.append(Edit(start, c.end, ""))
    # an empty edit where other rules append to this RUN: an append computed on the RUN as it
    # is now (a cleanup of what it installs) waits for the next round, which sees the split
    # and puts it on the dependency step
    if not move_run:
        last = max(cmds, key=lambda c: c.end)
        edits.append(Edit(last.end, last.end, ""))
    block = f"{comment}{copy_lines}RUN {flags}{setup}{deps_cmd}\n"
    return place_dependency_step(source, source_copy, run, between, movable, block, edits, move_run)


def package_trims(source: str, cmds: list[Command], install: Command) -> list[tuple[Command, int]]:
    """The commands after ``install`` that clean the installed packages in place (a `find`
    under site-packages that removes or strips), each joined to the command before it by
    `&&`, with where its removal starts (that `&&`)."""
    out: list[tuple[Command, int]] = []
    ordered = sorted({(c.start, c.end): c for c in cmds}.values(), key=lambda c: c.start)
    for before, cmd in itertools.pairwise(ordered):
        if cmd.start <= install.start or cmd.in_condition:
            continue
        values = cmd.arg_values
        actions = sh.find_exec_actions(cmd) if cmd.name == "find" else []
        cleans = any("site-packages" in v for v in values) and any(
            a in ("rm", "strip") for a in actions
        )
        if not cleans or not _joined(source, before, cmd):
            continue
        at = ordered.index(cmd)
        head = ordered[max(0, at - 2) : at]
        dropped = _drops_binutils(ordered[at + 1 : at + 4])
        if "strip" in actions and _fetches_binutils(head) and dropped:
            # JT139's strip on a slim image brings binutils and removes them around it: the
            # whole sandwich moves, or the strip would run where no strip is installed
            chain = ordered[at - 3 : at + 1 + dropped] if at >= 3 else []
            if len(chain) != 4 + dropped or not all(
                _joined(source, a, b) for a, b in itertools.pairwise(chain)
            ):
                continue
            out += [(member, previous.end) for previous, member in itertools.pairwise(chain)]
            continue
        out.append((cmd, before.end))
    return out


def _joined(source: str, before: Command, cmd: Command) -> bool:
    """``cmd`` follows ``before`` through a plain `&&` (continuation lines allowed)."""
    gap = source[before.end : cmd.start].replace("\\\n", " ").replace("`\n", " ")
    return before.next_operator == "&&" and gap.strip() == "&&"


def _fetches_binutils(cmds: list[Command]) -> bool:
    if len(cmds) != 2:
        return False
    update, install = cmds
    return (
        update.name in sh.APT
        and update.subcommand() == "update"
        and install.name in sh.APT
        and install.subcommand() == "install"
        and "binutils" in install.arg_values
    )


def _drops_binutils(cmds: list[Command]) -> int:
    """How many of ``cmds`` end JT139's sandwich: the purge of binutils, `apt-get clean`
    (since the sandwich also clears apt's caches) and the removal of apt's lists; 0 when
    they do not."""
    if not cmds or cmds[0].name not in sh.APT or cmds[0].subcommand() not in ("purge", "remove"):
        return 0
    if "binutils" not in cmds[0].arg_values:
        return 0
    rest = cmds[1:]
    if rest and rest[0].name in sh.APT and rest[0].subcommand() == "clean":
        rest = rest[1:]
    last = rest[0] if rest else None
    if last is None or last.name != "rm":
        return 0
    if not any(v.startswith("/var/lib/apt/lists") for v in last.arg_values):
        return 0
    return len(cmds) - len(rest) + 1


def place_dependency_step(
    source: str,
    source_copy: Instruction,
    run: Instruction,
    between: list[Instruction],
    movable: bool,
    block: str,
    edits: list[Edit],
    move_run: bool = False,
) -> Rewrite:
    """Put ``block`` (the dependency step) before the source COPY, or, with system packages
    between the copy and the install, move the COPY down below it; ``edits`` so far."""
    if not between or all(i.keyword in _INERT_BETWEEN for i in between):
        at = _line_start(source, source_copy)
        edits.append(Edit(at, at, block))
        if move_run:
            edits.append(Edit(*_block(source, run), ""))
        return Rewrite(edits)
    if not movable:
        return Rewrite([], "a step between the copy and the install may read the source")
    # system packages between the copy and the install: the source COPY moves down to just
    # before the install, after the dependency step
    start, end = _block(source, source_copy)
    copy_text = source[start:end]
    if not copy_text.endswith("\n"):
        copy_text += "\n"
    at, run_end = _line_start(source, run), _block(source, run)[1]
    edits += [Edit(start, end, ""), Edit(at, run_end if move_run else at, block + copy_text)]
    return Rewrite(sorted(edits, key=lambda e: e.start))


# commands before the install in its RUN that configure it without reading the source; the
# dependency step repeats them (`poetry config virtualenvs.create false && poetry install`)
_SETUP = {"export", "set", "true", ":", "echo", "umask"}
_TOOL_CONFIG = {("poetry", "config"), ("pdm", "config"), ("uv", "venv"), ("pip", "config")}


def _setup_prefix(source: str, cmds: list[Command], cmd: Command) -> str | None:
    before = sorted(
        {(c.start, c.end): c for c in cmds if c.end <= cmd.start}.values(), key=lambda c: c.start
    )
    kept: list[Command] = []
    for c in before:
        if c.next_operator != "&&" or c.in_condition or _writes(c):
            return None
        vals = c.arg_values
        if _builds_project(c):
            continue  # the archive the install reads: not needed for the dependencies
        kept.append(c)
        if c.name in _SETUP or (c.name, c.subcommand()) in _TOOL_CONFIG or _system_setup(c):
            continue
        if (sh.python_module(c) or ("",))[0] == "venv" or c.name == "virtualenv":
            continue
        if pip_subcommand(c) == "install" and not any(
            _is_local(v) or v.endswith((".txt", ".toml", ".whl", ".tar.gz")) for v in vals
        ):
            continue  # tools from the index (`pip install poetry`)
        return None
    return "".join(source[c.start : c.end] + " && " for c in kept)


def _unique(cmds: list[Command]) -> list[Command]:
    return sorted({(c.start, c.end): c for c in cmds}.values(), key=lambda c: c.start)


# system package managers' installs and index updates: they set up a build, never read the
# source tree; and what undoes them in the same RUN
_SYSTEM_SETUP = {
    "apt-get": {"update", "install"}, "apt": {"update", "install"}, "apk": {"add", "update"},
    "yum": {"install", "makecache"}, "dnf": {"install", "makecache"},
    "microdnf": {"install"},
}  # fmt: skip
_SYSTEM_CLEANUP = {
    "apt-get": {"remove", "purge", "autoremove", "clean", "autoclean", "dist-clean"},
    "apt": {"remove", "purge", "autoremove", "clean", "autoclean", "dist-clean"},
    "apk": {"del"}, "yum": {"remove", "erase", "autoremove", "clean"},
    "dnf": {"remove", "erase", "autoremove", "clean"}, "microdnf": {"remove", "clean"},
}  # fmt: skip
_SYSTEM_CACHES = ("/var/lib/apt/lists", "/var/cache/apt", "/var/cache/apk", "/var/cache/yum",
                  "/var/cache/dnf")  # fmt: skip


def _system_setup(cmd: Command) -> bool:
    return cmd.subcommand() in _SYSTEM_SETUP.get(cmd.name, ())


def _system_cleanup(cmd: Command) -> bool:
    if cmd.subcommand() in _SYSTEM_CLEANUP.get(cmd.name, ()):
        return True
    paths = [v for v in cmd.arg_values if not v.startswith("-")]
    return (
        cmd.name == "rm"
        and bool(paths)
        and all(p.startswith(_SYSTEM_CACHES) and ".." not in p for p in paths)
    )


def _system_cleanups(cmds: list[Command], install: Command) -> list[tuple[Command, int]] | None:
    """The commands after ``install`` that remove system packages or their caches, each with
    where its removal from the RUN starts (the `&&` before it); None when a command after
    the install is not joined to the one before it by a plain `&&`."""
    ordered = _unique(cmds)
    out: list[tuple[Command, int]] = []
    for before, cmd in itertools.pairwise(ordered):
        if cmd.start <= install.start:
            continue
        if cmd.in_condition or before.next_operator != "&&":
            return None
        if _system_cleanup(cmd):
            out.append((cmd, before.end))
    return out


# build backends that only pack Python files (unless a build hook or an extension module
# says otherwise): the project's own install needs no compiler
_PURE_BACKENDS = ("hatchling.", "flit_core.", "poetry.core.", "pdm.backend", "setuptools.")
_COMPILING_REQUIRES = re.compile(
    r"^\s*(cython|numpy|pybind11|scikit-build|maturin|setuptools-rust|setuptools_rust|cffi|"
    r"meson-python|mesonpy|nanobind|cmake|ninja)\b",
    re.I,
)


def _impure_build(manifest: Path) -> str | None:
    """Why building the project at ``manifest``'s directory may compile (None: it only
    packs Python files, so the system packages of its RUN are not needed for it)."""
    here = manifest.parent
    if (here / "setup.py").exists():
        return "its setup.py may build extensions"
    data = read_toml(here / "pyproject.toml") if (here / "pyproject.toml").is_file() else {}
    if data is None:
        return "its pyproject.toml does not parse"
    build = data.get("build-system", {})
    backend = build.get("build-backend", "setuptools.build_meta")
    if not isinstance(backend, str) or not backend.startswith(_PURE_BACKENDS):
        return f"its build backend ({backend}) may compile"
    requires = build.get("requires", [])
    if any(isinstance(r, str) and _COMPILING_REQUIRES.match(r) for r in requires):
        return "its build requires a compiling tool"
    tool = data.get("tool", {})
    hatch_build = tool.get("hatch", {}).get("build", {})
    if "hooks" in hatch_build or any(
        "hooks" in t for t in hatch_build.get("targets", {}).values() if isinstance(t, dict)
    ):
        return "its build runs hatch build hooks"
    setuptools = tool.get("setuptools", {})
    if "ext-modules" in setuptools or "ext_modules" in setuptools:
        return "it declares extension modules"
    if "build" in tool.get("poetry", {}):
        return "its poetry build script may compile"
    return None


def _builds_project(cmd: Command) -> bool:
    vals = cmd.arg_values
    if sh.is_python(cmd):
        return (sh.python_module(cmd) or ("",))[0] == "build" or (
            vals[:1] == ["setup.py"] and any(v in ("sdist", "bdist_wheel") for v in vals)
        )
    return cmd.name in ("poetry", "uv", "pdm", "hatch", "flit") and cmd.subcommand() == "build"


def _writes(cmd: Command) -> bool:
    return any(">" in r for r in cmd.redirects)


_INERT_BETWEEN = {"EXPOSE", "LABEL", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "CMD", "ENTRYPOINT"}
