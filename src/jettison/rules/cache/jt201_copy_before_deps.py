"""JT201 copy-before-deps: the whole source tree is copied before dependencies are installed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _project
from jettison.rules._project_several import several_projects_rewrite
from jettison.rules.cache._common import dependency_install
from jettison.rules.registry import Category, RuleContext, rule


def _is_broad_copy(ins: Instruction) -> bool:
    if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or len(ins.args) < 2:
        return False
    return any(s.rstrip("/") in (".", "", "./") or s in ("*", "./*") for s in ins.args[:-1])


@rule(
    "JT201",
    "copy-before-deps",
    Category.CACHE,
    Severity.WARNING,
    "the whole source tree is copied before dependencies are installed",
    what="""
        Flags `COPY . .` (or another copy of the whole context, or of code: `COPY src
        ./src`, Python files) that comes before a dependency install (pip install -r,
        `pip install .`/`pip wheel .`/an sdist of the project, poetry/pipenv/uv/pdm,
        npm ci, yarn, go mod download, bundle install, ...) in the same stage. An install
        of the project itself is not flagged when its dependencies were installed before
        the copy (`poetry install --no-root`, `pip install -r`) or it runs with
        `--no-deps`.
    """,
    why="""
        Every change to any source file invalidates the COPY layer and therefore every layer
        after it: the dependency install reruns on each code change (often
        minutes per build). Copy the manifest first, install, then copy the code: a code
        change then rebuilds in seconds.
    """,
    example="COPY . .\nRUN pip install -r requirements.txt",
    use_instead="COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .",
    fix="""
        Unsafe: copies the manifest (for `pip install -r requirements.txt` all
        `requirements*.txt`, so `-r base.txt` includes still resolve; a requirements
        directory whole; package.json and its lockfile for npm/yarn) to the same destination
        and moves the install, with its comments, above the broad COPY. When only the
        leading commands of the RUN read manifests (`pip install -r requirements.txt && pip
        install --no-deps .`), only those move. When system packages are installed between
        the copy and the install (compilers pip needs), the broad COPY moves below the
        install instead. Never when another step between them may read the source, or when
        a requirements file installs from the source tree (`-e ./lib`). For an install of
        the project itself: pip (`pip install .`, `-e ".[extras]"`, `pip wheel -w DIR .`, an
        sdist or wheel built in the same RUN) first installs the dependencies listed in
        pyproject.toml's `[project]` table, or in setup.cfg's `install_requires` for a
        setuptools project without one (and the extras asked for), read at build time with
        the same pip command, then the project with `--no-deps` (only when the dependencies
        are static: a setup.py computing them needs the source; not when the command reads
        a file the source COPY brings, `-c constraints.txt`, nor when an extra requires the
        project itself); several local projects in one command (a monorepo's packages)
        get one step for all their dependencies, leaving out the projects themselves; the
        source COPY may move below a WORKDIR when its destination is absolute; poetry, uv
        and pdm copy the manifest and lock file and run `poetry install --no-root`, `uv
        sync --no-install-project` (with a cache mount when the file uses BuildKit syntax)
        or `pdm install --no-self` first, repeating configuration commands such as
        `poetry config` from the same RUN. Commands after the install (a plugin loop)
        stay after it; versions derived from VCS keep working, since the project is still
        built from the full source.
    """,
    fix_safety=FixSafety.UNSAFE,
    notes="hadolint has no rule for this (requested in hadolint #1199).",
)
def copy_before_deps(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    context = df.context_dir
    for stage in ctx.stages:
        source: Instruction | None = None
        locked: set[str] = set()  # poetry/uv/pdm dependencies installed before the source
        for ins in stage.instructions:
            if source is None and _is_source_copy(ins, context):
                source = ins
            elif ins.keyword == "RUN" and source is None:
                for c in sh.commands(ins):
                    tool = _project.manager(c)
                    if tool is not None and c.has_flag(_project.DEPS_ONLY_FLAG[tool]):
                        locked.add(tool)
                    if tool is not None or (dependency_install(c) and _reads_manifest(c)):
                        locked.add("pip")  # a later install of the project finds them there
            elif ins.keyword == "RUN" and source is not None:
                installs = [c for c in sh.commands(ins) if _reinstalls(c, locked)]
                if not installs:
                    continue
                cmd = installs[0]
                instructions = stage.instructions
                between = instructions[instructions.index(source) + 1 : instructions.index(ins)]
                edits: list[Edit] = []
                if _is_broad_copy(source):
                    edits = _move_install_edits(df, instructions, source, ins)
                project = _project.installs_project_dependencies(cmd) or (
                    _project.manager(cmd) is not None
                )
                why_not: str | None = None
                if not edits and project:
                    movable = all(_source_free(i) or _moves_past(i, source) for i in between)
                    if len(_project.pip_targets(cmd)) > 1:  # a monorepo's packages at once
                        rewrite = several_projects_rewrite(
                            df, stage, source, ins, between, movable, cmd
                        )
                    else:
                        rewrite = _project.project_rewrite(df, stage, source, ins, between, movable)
                    edits, why_not = rewrite.edits, rewrite.why_not
                what = "the whole context" if _is_broad_copy(source) else "source files"
                advice = (
                    "install the dependencies from the manifest first, then the project "
                    "without them"
                    if project
                    else "copy the manifest first"
                )
                yield ctx.report(
                    f"`{' '.join(cmd.argv[:3])}` runs after copying {what}: every code change "
                    f"reinstalls dependencies; {advice} (line {source.line})"
                    + (f" (not rewritten: {why_not})" if why_not and not edits else ""),
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=edits,
                )
                break


def _reinstalls(cmd: Command, locked: set[str]) -> bool:
    """Whether ``cmd`` installs dependencies that no step before the source copy installed:
    a project install after ``poetry install --no-root`` or ``pip install -r`` of its
    requirements finds them installed."""
    if not dependency_install(cmd):
        return False
    tool = _project.manager(cmd)
    if tool is not None:
        return tool not in locked
    if _project.installs_project_dependencies(cmd):
        return "pip" not in locked
    return True


def _reads_manifest(cmd: Command) -> bool:
    """A pip install from a requirements file (or JT201's own dependency listing)."""
    return _project.pip_subcommand(cmd) == "install" and cmd.has_flag("-r", "--requirement")


# sources that are dependency inputs, not code: copying them first is the point of the fix
_NOT_CODE = re.compile(
    r"^(requirements.*|constraints.*|.*\.lock|pyproject\.toml|setup\.(py|cfg)|Pipfile.*|"
    r"MANIFEST\.in|README.*|LICEN[CS]E.*|\.python-version|.*\.whl|wheels?|vendor|deps|"
    r"package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|go\.(mod|sum)|Cargo\.(toml|lock)|"
    r"Gemfile.*|composer\.(json|lock)|environment\.ya?ml|.*\.(sh|conf|cfg|ini|pem|crt))$",
    re.I,
)


def _is_source_copy(ins: Instruction, context: Path) -> bool:
    """A COPY of the whole context, or of code: Python files or a directory of the context
    (``COPY src ./src``) that is not a dependency input."""
    if _is_broad_copy(ins):
        return True
    if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or len(ins.args) < 2:
        return False
    for src in ins.args[:-1]:
        name = PurePosixPath(src).name
        if "$" in src or "*" in src or _NOT_CODE.match(name):
            continue
        if name.endswith(".py"):
            return True
        try:
            if (context / src.lstrip("/")).is_dir():
                return True
        except OSError:
            continue
    return False


# instructions that may stand between the broad COPY and the install without the install
# depending on them
_INERT = {
    "COPY",
    "ADD",
    "EXPOSE",
    "LABEL",
    "VOLUME",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "CMD",
    "ENTRYPOINT",
}


# commands that may share the install's RUN without reading the source tree
_CLEANUP = {"rm", "true", "echo"}
_SYSTEM_PACKAGE_TOOLS = {"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "apt-mark"}
_LOCAL_PACKAGES = (".deb", ".rpm", ".apk")


def manifests_of(ins: Instruction) -> list[str] | None:
    """Context paths an install reads, or None when it needs the whole source tree."""
    return manifests_of_commands(sh.commands(ins))


def manifests_of_commands(commands: list[Command]) -> list[str] | None:
    """Context paths these commands read, or None when one needs the whole source tree."""
    paths: list[str] = []
    for cmd in commands:
        if cmd.name in _SYSTEM_PACKAGE_TOOLS:
            # the compilers pip needs, installed and removed around it (a slim image's
            # usual RUN): the index's packages, no file of the context, unless named
            if any(v.startswith(("./", "../", "/")) or v.endswith(_LOCAL_PACKAGES)
                   for v in cmd.arg_values):  # fmt: skip
                return None
            continue
        if (
            not dependency_install(cmd)
            and not sh.is_pip_install(cmd)
            and not (
                cmd.name in _CLEANUP
                or (cmd.name in ("npm", "yarn") and cmd.subcommand() == "cache")
            )
        ):
            return None  # another command (`python -m compileall .`) may need the source
        if not dependency_install(cmd):
            if sh.is_pip_install(cmd):
                # packages from the index (`pip install --upgrade pip`) need no source;
                # local paths and archives do
                if any(
                    v == "."
                    or v.startswith(("./", "../", "/"))
                    or v.endswith((".whl", ".tar.gz", ".zip"))
                    for v in cmd.arg_values
                ):
                    return None
            elif cmd.name in ("npm", "yarn", "poetry", "uv", "pipenv") and cmd.subcommand() in (
                "install",
                "ci",
                "sync",
                None,
            ):
                return None
            continue
        if sh.is_pip_install(cmd):
            vals = cmd.arg_values
            skip = False
            for i, v in enumerate(vals):
                if skip:
                    skip = False
                    continue
                if v in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(vals):
                    paths.append(vals[i + 1])
                    skip = True
                elif v.startswith(("--requirement=", "--constraint=")):
                    paths.append(v.split("=", 1)[1])
                elif v.startswith("-r") and len(v) > 2:
                    paths.append(v[2:])
                elif (
                    not v.startswith("-")
                    and v not in ("install",)
                    and (v in (".", "-e") or v.startswith(("./", "/")) or v.endswith(".toml"))
                ):
                    return None
            if not paths:
                return None
        elif cmd.name in ("npm", "pnpm"):
            paths += (
                ["package.json", "package-lock.json*"]
                if cmd.name == "npm"
                else ["package.json", "pnpm-lock.yaml"]
            )
        elif cmd.name == "yarn":
            paths += ["package.json", "yarn.lock"]
        else:
            return None
        if any(w.dynamic for w in cmd.args):
            return None
    return paths or None


def _move_install_edits(
    df: Dockerfile, instructions: list[Instruction], broad: Instruction, run: Instruction
) -> list[Edit]:
    """Copy the manifests and run the install before the broad COPY (same destination)."""
    source = df.source
    between = instructions[instructions.index(broad) + 1 : instructions.index(run)]
    if run.heredocs:
        return []
    # system packages between the copy and the install (compilers pip needs): the install
    # cannot move above them, so the broad COPY moves below the install instead
    move_copy_down = any(i.keyword not in _INERT for i in between)
    if move_copy_down and not all(_source_free(i) for i in between):
        return []
    moved_prefix: tuple[int, int] | None = None  # (start, end) of the commands moved
    manifests = manifests_of(run)
    if manifests is None:
        # `pip install -r requirements.txt && pip install --no-deps .`: move the leading
        # installs that read only manifests, leave the rest where the source is
        split = _manifest_prefix(run)
        if split is not None:
            manifests, moved_prefix = split
    dest = broad.args[-1]
    if manifests and dest.startswith("/"):
        # `COPY . /app` + `-r /app/requirements.txt`: the path inside the context
        manifests = [m.removeprefix(dest.rstrip("/") + "/") for m in manifests]
    if not manifests or any(m.startswith("/") or ".." in m or "$" in m for m in manifests):
        return []
    if _needs_local_source(df.context_dir, manifests):
        return []
    srcs: list[str] = []
    for m in manifests:
        m = m.removeprefix("./")
        if "/" in m:
            directory = m.rsplit("/", 1)[0] + "/"
            srcs.append(directory)  # -r includes usually live next to the file
        elif m.startswith("requirements") and m.endswith(".txt"):
            srcs.append("requirements*.txt")  # keeps `-r base.txt` style includes working
        else:
            srcs.append(m)
    srcs = list(dict.fromkeys(srcs))
    if any("/" in s.rstrip("/") or s.endswith("/") for s in srcs):
        if len(srcs) != 1 or dest not in (".", "./"):
            return []
        copy_line = f"COPY {_flags_text(source, broad)}{srcs[0]} ./{srcs[0]}"
    else:
        # several sources or a wildcard need a destination ending in '/'
        target = "./" if dest in (".", "./") else dest if dest.endswith("/") else dest + "/"
        copy_line = f"COPY {_flags_text(source, broad)}{' '.join(srcs)} {target}"
    insert_at = (
        source.rfind(
            "\n", 0, broad.comments_above[0].start if broad.comments_above else broad.start
        )
        + 1
    )
    if move_copy_down:
        if moved_prefix is not None:
            return []
        return _move_copy_below(source, broad, run, copy_line)
    if moved_prefix is not None:
        start, rest = moved_prefix
        moved = source[start : _command_end(run, start, rest)]
        flags = "".join(source[f.start : f.end] + " " for f in run.flags)
        return [
            Edit(insert_at, insert_at, f"{copy_line}\nRUN {flags}{moved}\n"),
            Edit(start, rest, ""),
        ]
    first = run.comments_above[0].start if run.comments_above else run.start
    run_start = source.rfind("\n", 0, first) + 1
    run_end = source.find("\n", run.end)
    run_end = len(source) if run_end == -1 else run_end + 1
    block = source[run_start:run_end]
    if not block.endswith("\n"):
        block += "\n"
    return [Edit(insert_at, insert_at, copy_line + "\n" + block), Edit(run_start, run_end, "")]


_PACKAGE_TOOLS = {
    "apt-get",
    "apt",
    "apk",
    "yum",
    "dnf",
    "microdnf",
    "zypper",
    "rm",
    "echo",
    "true",
    "ln",
    "mkdir",
    "apt-mark",
    "dpkg-reconfigure",
    "update-ca-certificates",
    "groupadd",
    "useradd",
    "addgroup",
    "adduser",
    "locale-gen",
}


def _source_free(ins: Instruction) -> bool:
    """An instruction that cannot read files a broad COPY brought in."""
    if ins.keyword in _INERT or ins.keyword in ("ENV", "ARG", "USER"):
        return ins.keyword not in ("COPY", "ADD") or bool(ins.flag("from"))
    if ins.keyword != "RUN" or ins.script is None or ins.script.has_error or ins.heredocs:
        return False
    return all(
        (c.name in _PACKAGE_TOOLS or _index_only_pip(c) or _makes_venv(c))
        and not any(w.value.startswith(("./", "../")) for w in c.args)
        for c in ins.script.commands
    )


def _moves_past(ins: Instruction, source_copy: Instruction) -> bool:
    """A WORKDIR the source COPY may move below: its destination is absolute and it gives no
    owner or mode (a COPY --chown into a folder WORKDIR already made leaves the folder
    root's; --chmod likewise may leave it 755)."""
    return (
        ins.keyword == "WORKDIR"
        and source_copy.args[-1].startswith("/")
        and "$" not in source_copy.args[-1]
        and source_copy.flag("chown") is None
        and source_copy.flag("chmod") is None
    )


def _makes_venv(cmd: Command) -> bool:
    """`python -m venv DIR` / `virtualenv DIR`: an empty environment, no file of the context."""
    module = sh.python_module(cmd)
    return cmd.name == "virtualenv" or (module is not None and module[0] == "venv")


def _index_only_pip(cmd: Command) -> bool:
    """`pip install --upgrade pip wheel`: packages from the index, no file of the context."""
    return sh.is_pip_install(cmd) and not any(
        v in (".", "-e", "-r", "-c", "--requirement", "--constraint", "--editable")
        or v.startswith(("-r", "-c", "/", "./", "../", "--requirement", "--constraint"))
        or v.endswith((".txt", ".whl", ".tar.gz", ".zip", ".toml"))
        for v in cmd.arg_values
    )


def _move_copy_below(
    source: str, broad: Instruction, run: Instruction, copy_line: str
) -> list[Edit]:
    """Move the broad COPY (with its comments) to right after the install, and copy the
    manifests just before the install, so system-package layers stay cached too."""
    first = broad.comments_above[0].start if broad.comments_above else broad.start
    block_start = source.rfind("\n", 0, first) + 1
    block_end = source.find("\n", broad.end)
    block_end = len(source) if block_end == -1 else block_end + 1
    block = source[block_start:block_end].rstrip("\n")
    run_first = run.comments_above[0].start if run.comments_above else run.start
    run_line_start = source.rfind("\n", 0, run_first) + 1
    run_line_end = source.find("\n", run.end)
    run_line_end = len(source) if run_line_end == -1 else run_line_end
    return [
        Edit(block_start, block_end, ""),
        Edit(run_line_start, run_line_start, copy_line + "\n"),
        Edit(run_line_end, run_line_end, "\n" + block),
    ]


def _manifest_prefix(run: Instruction) -> tuple[list[str], tuple[int, int]] | None:
    """For a RUN whose script starts with an `&&` chain of simple commands, the manifests
    read by the longest leading run of manifest installs, and the source span from the first
    command to the statement left after it (a command, or a compound such as a plugin loop:
    `pip install -r requirements.txt && for d in plugins/*; do ...; done`)."""
    script = run.script
    if script is None or script.has_error or run.heredocs:
        return None
    text, offsets = script.text.text, script.text.offsets
    at = {offset: i for i, offset in enumerate(offsets)}
    cmds = sorted({(c.start, c.end): c for c in script.commands}.values(), key=lambda c: c.start)
    if not cmds or cmds[0].start not in at or text[: at[cmds[0].start]].strip():
        return None
    # (command, text index of the statement after its `&&`), while the chain is top level
    chain: list[tuple[Command, int]] = []
    for i, cmd in enumerate(cmds):
        if cmd.in_condition or cmd.next_operator != "&&" or cmd.end - 1 not in at:
            break
        joined = _AND.match(text, at[cmd.end - 1] + 1)
        if joined is None:
            break  # a redirect or anything else between the command and its `&&`
        chain.append((cmd, joined.end()))
        following = cmds[i + 1] if i + 1 < len(cmds) else None
        if following is None or at.get(following.start) != joined.end():
            break  # what follows is a compound statement: the chain ends here
    if not chain or "||" in text[chain[-1][1] :]:
        return None  # `... && loop || true`: moving the installs would change what fails
    for k in range(len(chain), 0, -1):
        found = manifests_of_commands([c for c, _ in chain[:k]])
        if found:
            return found, (chain[0][0].start, offsets[chain[k - 1][1]])
    return None


_AND = re.compile(r"\s*&&\s*")


def _command_end(run: Instruction, start: int, rest: int) -> int:
    """End of the last moved command (before the `&&` that joined it to the next one)."""
    script = run.script
    assert script is not None
    return max(c.end for c in script.commands if start <= c.start and c.end <= rest)


_LOCAL_REQUIREMENT = re.compile(r"^\s*(-e\s+|--editable\s+)?(\.|/|file:)|@\s*file:")


def _needs_local_source(context: Path, manifests: list[str]) -> bool:
    """True when a requirements file (as found in the build context, usually the Dockerfile's
    directory) installs something from the source tree (`-e ./lib`, `./pkg`, `file:`), or
    includes a file outside what would be copied first."""
    for name in manifests:
        path = context / name.removeprefix("./")
        if not path.is_file() or not name.endswith(".txt"):
            continue
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return True
        for line in lines:
            if _LOCAL_REQUIREMENT.search(line):
                return True
            include = re.match(r"^\s*(-r|-c|--requirement|--constraint)\s*=?\s*(\S+)", line)
            if include and ("/" in include.group(2) and "/" not in name):
                return True
    return False


def _flags_text(source: str, ins: Instruction) -> str:
    kept = [source[f.start : f.end] for f in ins.flags if f.name in ("chown", "chmod")]
    return "".join(k + " " for k in kept)
