"""Build-cache and speed rules: instruction order, stale apt caches, cache mounts, layers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _project
from jettison.rules import _shell as sh
from jettison.rules.registry import Category, RuleContext, rule

# dependency manifests and the installs that read them
MANIFESTS = (
    "requirements",
    "pyproject.toml",
    "poetry.lock",
    "setup.py",
    "setup.cfg",
    "Pipfile",
    "uv.lock",
    "pdm.lock",
    "environment.yml",
    "environment.yaml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Gemfile",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "composer.json",
    "pom.xml",
    "build.gradle",
    "conda-lock.yml",
)


def dependency_install(cmd: Command) -> bool:
    """Commands that install a project's dependencies from its manifest."""
    sub = cmd.subcommand()
    vals = cmd.arg_values
    pip_sub = _project.pip_subcommand(cmd)
    if pip_sub in ("install", "wheel") and cmd.has_flag("--no-deps", "--no-dependencies"):
        # the project alone (`pip install --no-deps .`) installs no dependency; a locked
        # requirements file installed with --no-deps still does
        return cmd.has_flag("-r", "--requirement")
    if _project.installs_project_dependencies(cmd):
        return True
    if pip_sub == "wheel":
        return cmd.has_flag("-r", "--requirement")
    if sh.is_pip_install(cmd):
        return any(
            v.startswith("-r")
            or v.startswith("--requirement")
            or v in (".", "-e")
            or v.endswith((".txt", ".toml"))
            or v.startswith("./")
            for v in vals
        )
    if cmd.name in ("poetry", "pipenv", "pdm", "bundle", "composer"):
        return sub in ("install", "sync")
    if cmd.name == "uv":
        return sub in ("sync", "pip")
    if cmd.name in ("npm", "pnpm"):
        return sub in ("install", "i", "ci")
    if cmd.name == "yarn":
        return sub in (None, "install")
    if cmd.name == "go":
        return (sub == "mod" and "download" in vals) or sub == "build"
    if cmd.name in ("conda", "mamba", "micromamba"):
        return "-f" in vals or "--file" in vals
    if cmd.name in ("mvn", "gradle", "./gradlew", "cargo"):
        return sub in ("install", "dependency:go-offline", "build", "fetch", "package")
    return False


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
        pyproject.toml's `[project]` table (and the extras asked for), read at build time
        with the same pip command, then the project with `--no-deps` (only when the
        dependencies are static: a setup.py computing them needs the source); poetry, uv
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
    context = Path(df.path).parent
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
                if not edits and project:
                    edits = _project.project_rewrite(
                        df, stage, source, ins, between, all(_source_free(i) for i in between)
                    ).edits
                what = "the whole context" if _is_broad_copy(source) else "source files"
                advice = (
                    "install the dependencies from the manifest first, then the project "
                    "without them"
                    if project
                    else "copy the manifest first"
                )
                yield ctx.report(
                    f"`{' '.join(cmd.argv[:3])}` runs after copying {what}: every code change "
                    f"reinstalls dependencies; {advice} (line {source.line})",
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


def manifests_of(ins: Instruction) -> list[str] | None:
    """Context paths an install reads, or None when it needs the whole source tree."""
    return manifests_of_commands(sh.commands(ins))


def manifests_of_commands(commands: list[Command]) -> list[str] | None:
    """Context paths these commands read, or None when one needs the whole source tree."""
    paths: list[str] = []
    for cmd in commands:
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
    if _needs_local_source(Path(df.path).parent, manifests):
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


def _makes_venv(cmd: Command) -> bool:
    """`python -m venv DIR` / `virtualenv DIR`: an empty environment, no file of the context."""
    vals = cmd.arg_values
    return cmd.name == "virtualenv" or (
        (cmd.name in sh.PYTHON or cmd.name.startswith("python3.")) and vals[:2] == ["-m", "venv"]
    )


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
    """For a RUN that is a plain `&&` chain, the manifests read by its longest leading run of
    manifest installs, and the source span from the first command to the first one left."""
    script = run.script
    if script is None or script.has_error or run.heredocs:
        return None
    cmds = sorted({(c.start, c.end): c for c in script.commands}.values(), key=lambda c: c.start)
    if len(cmds) < 2 or any(c.in_condition for c in cmds):
        return None
    if any(c.next_operator != "&&" for c in cmds[:-1]) or cmds[-1].next_operator:
        return None
    for k in range(len(cmds) - 1, 0, -1):
        found = manifests_of_commands(cmds[:k])
        if found:
            return found, (cmds[0].start, cmds[k].start)
    return None


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


@rule(
    "JT202",
    "apt-update-alone",
    Category.CACHE,
    Severity.WARNING,
    "`apt-get update` in a RUN of its own",
    what="Flags a RUN that runs `apt-get update` (or `apk update`, `yum makecache`) without "
    "installing anything in the same RUN.",
    why="""
        The update layer is cached: later RUNs that change their package list reuse an old
        index and fail or install stale versions (Docker's best-practices "cache busting"
        bug); the index also stays in the image.
    """,
    example="RUN apt-get update\nRUN apt-get install -y curl",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*",
    fix="Unsafe: merges the update into the next RUN that installs packages (when nothing "
    "but comments lies between them and their flags match).",
    fix_safety=FixSafety.UNSAFE,
    equivalents={"checkov": "CKV_DOCKER_5"},
)
def apt_update_alone(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        instrs = stage.instructions
        for idx, ins in enumerate(instrs):
            if ins.keyword != "RUN":
                continue
            cmds = sh.commands(ins)
            updates = [
                c
                for c in cmds
                if (c.name in sh.APT and c.subcommand() == "update")
                or (c.name == "apk" and c.subcommand() == "update")
            ]
            if not updates:
                continue
            installs = [
                c for c in cmds if c.subcommand() in ("install", "add", "upgrade", "dist-upgrade")
            ]
            if installs:
                continue
            edits: list[Edit] = []
            nxt = instrs[idx + 1] if idx + 1 < len(instrs) else None
            if (
                nxt is not None
                and nxt.keyword == "RUN"
                and nxt.script is not None
                and ins.script is not None
                and [f.name + str(f.value) for f in ins.flags]
                == [f.name + str(f.value) for f in nxt.flags]
                and not ins.heredocs
                and not nxt.heredocs
                and any(c.subcommand() in ("install", "add") for c in sh.commands(nxt))
            ):
                edits = _merge_runs(ctx.dockerfile, ins, nxt)
            yield ctx.report(
                f"`{updates[0].name} update` alone: a later install may use a "
                "stale cached index; update and install in the same RUN",
                ins,
                edits=edits,
            )


def _merge_runs(df: Dockerfile, first: Instruction, second: Instruction) -> list[Edit]:
    """Edits joining two adjacent shell-form RUNs into one (``first && second``)."""
    source = df.source
    a = first.script
    b = second.script
    if a is None or b is None or not a.text.text.strip() or not b.text.text.strip():
        return []
    if first.heredocs or second.heredocs:
        return []
    body_a = a.text.text.rstrip()
    # a trailing operator would change the meaning; a comment would swallow the second RUN
    if body_a[-1] in ";&|\\`" or "#" in body_a:
        return []
    a_end = a.text.offsets[len(body_a) - 1] + 1
    b_start = b.text.offsets[0]
    # remove "<newline(s)>RUN [flags] " between the two scripts, join with a continuation
    between = source[a_end:b_start]
    if "#" in between:
        return []  # keep comments: do not merge across them
    if any(
        line.strip() and not line.strip().upper().startswith("RUN") for line in between.splitlines()
    ):
        return []
    return [Edit(a_end, b_start, f" {df.directives.escape}\n    && ")]


@rule(
    "JT203",
    "no-cache-mount",
    Category.CACHE,
    Severity.INFO,
    "dependency install without a BuildKit cache mount",
    what="""
        Suggests `RUN --mount=type=cache` for pip, apt, npm, yarn, go, cargo and uv installs
        in a Dockerfile that already uses BuildKit features (a `# syntax` line, other
        `--mount`s, heredocs, `COPY --link/--chmod`).
    """,
    why="""
        A cache mount keeps downloaded packages *outside* the image and across builds: a
        dependency change re-downloads only what changed (dependency installs
        typically ~70 % faster), and nothing lands in the layer.
    """,
    example="RUN pip install --no-cache-dir -r requirements.txt",
    use_instead="RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
    fix="""
        Unsafe: adds the cache mount flag (needs BuildKit; the file already relies on it).
        For apt, the same RUN also starts with `rm -f /etc/apt/apt.conf.d/docker-clean`, as
        Docker's documentation shows: Debian's and Ubuntu's images ship that file, which
        deletes every downloaded package after each apt-get run, so the cache would keep
        nothing. The file stays removed for later instructions: give their apt-get the same
        cache mount, or their downloaded packages stay in their layers.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def cache_mount(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.dockerfile.uses_buildkit_features:
        return
    targets = {
        "pip": "/root/.cache/pip",
        "npm": "/root/.npm",
        "yarn": "/usr/local/share/.cache/yarn",
        "go": "/root/go/pkg/mod",
        "cargo": "/usr/local/cargo/registry",
        "uv": "/root/.cache/uv",
        "apt-get": "/var/cache/apt",
    }
    for ins in ctx.runs():
        if ins.json_form or (
            ins.flags_named("mount")
            and any(f.options().get("type") == "cache" for f in ins.flags_named("mount"))
        ):
            continue
        pip_cache_off = ins.variables.get("PIP_NO_CACHE_DIR", "").lower() not in ("", "0")
        for cmd in sh.commands(ins):
            tool = "pip" if sh.is_pip_install(cmd) else cmd.name
            if tool == "pip" and (pip_cache_off or cmd.has_flag("--no-cache-dir")):
                continue  # the user chose no cache; a mount would change nothing
            if tool in targets and (
                tool == "pip"
                or dependency_install(cmd)
                or (tool == "apt-get" and cmd.subcommand() == "install")
            ):
                target = targets[tool]
                extra = ",sharing=locked" if tool == "apt-get" else ""
                flag = f"--mount=type=cache,target={target}{extra} "
                kw_end = ins.keyword_end
                edits = [Edit(kw_end + 1, kw_end + 1, flag)]
                if tool == "apt-get" and not _docker_clean_removed(ins):
                    # Debian's and Ubuntu's images delete every downloaded .deb after each
                    # apt-get run (/etc/apt/apt.conf.d/docker-clean): a cache mount would
                    # keep nothing unless that file goes first, in the same RUN
                    script = ins.script
                    if script is None or ins.heredocs or not script.commands:
                        edits = []  # nowhere to put it: report without a fix
                    else:
                        first = script.start  # before the whole script: `! cmd` stays whole
                        edits.append(Edit(first, first, f"{_RM_DOCKER_CLEAN} && "))
                yield ctx.report(
                    f"`{tool}` downloads on every rebuild; a cache mount on "
                    f"{target} keeps them outside the image",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=edits,
                )
                break


_DOCKER_CLEAN = "/etc/apt/apt.conf.d/docker-clean"
_RM_DOCKER_CLEAN = f"rm -f {_DOCKER_CLEAN}"


def _docker_clean_removed(ins: Instruction) -> bool:
    """True when this RUN, or an earlier one of its image, already deletes docker-clean."""
    stage = ins.stage
    earlier = list(stage.all_instructions()) if stage is not None else [ins]
    for other in earlier:
        if other.keyword == "RUN" and any(
            c.name == "rm" and _DOCKER_CLEAN in c.arg_values for c in sh.commands(other)
        ):
            return True
        if other is ins:
            break
    return False


@rule(
    "JT204",
    "consecutive-env-label",
    Category.CACHE,
    Severity.INFO,
    "several consecutive ENV, LABEL or ARG instructions",
    what="Flags ENV, LABEL or ARG instructions that directly follow another of the same kind.",
    why="Each one is an instruction and an image-config layer entry to rebuild; one "
    "instruction with several pairs is shorter and rebuilds once.",
    example="ENV OMP_NUM_THREADS=1\nENV OMP_PROC_BIND=spread",
    use_instead="ENV OMP_NUM_THREADS=1 \\\n    OMP_PROC_BIND=spread",
    fix="Safe: merges ENV and LABEL runs into one instruction. An ENV whose value refers to a "
    "name set by an ENV just before it starts a new run (a single ENV expands its values "
    "with the variables as they were before it), so only runs that can merge are reported. "
    "ARGs are reported only: several names in one ARG need a newer Dockerfile "
    "frontend than Docker 20.10's built-in one. The merged lines are continued with the "
    "file's escape character (a backtick under ``# escape=` ``).",
    fix_safety=FixSafety.SAFE,
)
def consecutive_env(ctx: RuleContext) -> Iterator[Finding]:

    src = ctx.dockerfile.source
    for stage in ctx.stages:
        group: list[Instruction] = []
        for ins in [*stage.instructions, None]:
            if (
                ins is not None
                and group
                and ins.keyword == group[0].keyword
                and ins.keyword in ("ENV", "LABEL", "ARG")
                and not ins.comments_above
                and _only_blank_between(src, group[-1], ins)
            ):
                group.append(ins)
                continue
            for run in _mergeable_runs(group):
                edits: list[Edit] = []
                legacy = any(
                    not member.text.split() or "=" not in member.text.split()[0] for member in run
                )  # the legacy "ENV key value" form holds one pair and cannot be joined
                # one ARG with several names needs a newer Dockerfile frontend than some
                # engines have (20.10's built-in one): report, do not rewrite
                if not legacy and run[0].keyword != "ARG":
                    joint = f" {ctx.dockerfile.directives.escape}\n    "  # the file's escape
                    for prev, member in itertools.pairwise(run):
                        edits.append(Edit(prev.end, member.body.offsets[0], joint))
                yield ctx.report(
                    f"{len(run)} consecutive {run[0].keyword} instructions; merge them into one",
                    run[1],
                    edits=edits,
                )
            group = [ins] if ins is not None and ins.keyword in ("ENV", "LABEL", "ARG") else []


def _mergeable_runs(group: list[Instruction]) -> list[list[Instruction]]:
    """The parts of a group of consecutive ENVs that can become one instruction.

    One ENV expands every value with the variables as they were before it, so an ENV whose
    value refers to a name set earlier in the group (``ENV JAVA_HOME=/opt/java`` then
    ``ENV PATH=$JAVA_HOME/bin:$PATH``) cannot join it: the group is split there, and only
    parts of two or more are reported. LABEL values are no variables, and one ARG expands
    its names in order, so those groups stay whole."""
    from jettison.dockerfile.expand import references

    if len(group) < 2:
        return []
    if group[0].keyword != "ENV":
        return [group]
    runs: list[list[Instruction]] = [[]]
    names: set[str] = set()
    for member in group:
        values = [member.args[i + 1] for i in range(0, len(member.args) - 1, 2)]
        if runs[-1] and any(references(v) & names for v in values):
            runs.append([])
            names = set()
        runs[-1].append(member)
        names |= {member.args[i] for i in range(0, len(member.args), 2)}
    return [run for run in runs if len(run) > 1]


def _only_blank_between(src: str, a: Instruction, b: Instruction) -> bool:
    return not src[a.end : b.start].strip()


def _command_count(ins: Instruction) -> int:
    # wrappers (sudo, env ...) are recorded twice in the script; count commands, not records
    return len({(c.start, c.end) for c in sh.commands(ins)})


@rule(
    "JT205",
    "consecutive-run",
    Category.CACHE,
    Severity.INFO,
    "consecutive short RUN instructions that would merge safely",
    what="""
        Notes two adjacent RUNs with the same flags, each running a single simple command,
        directly one after the other (no comment or blank line between them).
    """,
    why="""
        Fewer layers, and a cleanup in the second RUN only shrinks the image if it runs in the
        same layer. Merging is contested (hadolint #715): separate RUNs cache independently,
        so this is information, never a warning, and the fixer never merges across a COPY or
        RUNs with different `--mount` flags.
    """,
    example="RUN mkdir /app\nRUN chown app /app",
    use_instead="RUN mkdir /app && chown app /app",
    fix="Unsafe (changes cache granularity): joins the two RUNs with `&&` when their flags "
    "match, nothing but whitespace lies between them and the first one changes no shell "
    "state (`cd`, `export`, variable assignments, `set` ...) that would leak into the second.",
    fix_safety=FixSafety.UNSAFE,
    notes="Not reported where the file separates the two on purpose: a comment or a blank "
    "line between them (separate steps, documented or grouped), installs from different "
    "package managers (apt and pip, pip and npm: each keeps its own cached layer), or an "
    "install from a manifest (`pip install -r requirements.txt`, `npm ci`) next to another "
    "step (it re-runs only when the manifest changes). Otherwise the same condition as "
    "hadolint DL3059 as it behaves in 2.15.1: its source says "
    "'at most two commands' per RUN, but its command list holds every simple command twice "
    "(once through its redirection wrapper), so in practice it fires only for single-command "
    "RUNs; jettison states that condition directly. Across stages it never fires. hadolint "
    "also skips commands whose name is a variable (`$HADOOP/bin/x`) when counting; jettison "
    "counts them.",
    equivalents={"hadolint": "DL3059"},
)
def consecutive_run(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        prev: Instruction | None = None
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                prev = None
                continue
            if (
                prev is not None
                and [(f.name, f.value) for f in prev.flags]
                == [(f.name, f.value) for f in ins.flags]
                and _command_count(prev) <= 1
                and _command_count(ins) <= 1
                and not _separated_on_purpose(prev, ins, ctx.dockerfile.source)
            ):
                edits = _merge_runs(ctx.dockerfile, prev, ins) if _mergeable(prev, ins) else []
                yield ctx.report("consecutive RUN instructions; consider merging", ins, edits=edits)
            prev = ins


# the package manager family of an install: installs from different sources change for
# different reasons, and each keeps its own cached layer on purpose
_INSTALLERS = {
    "apt-get": "system", "apt": "system", "aptitude": "system", "apk": "system",
    "yum": "system", "dnf": "system", "microdnf": "system", "zypper": "system",
    "pip": "python", "pip3": "python", "pip2": "python", "uv": "python", "poetry": "python",
    "pipenv": "python", "pdm": "python", "conda": "python", "mamba": "python",
    "micromamba": "python", "npm": "node", "yarn": "node", "pnpm": "node", "gem": "ruby",
    "bundle": "ruby", "go": "go", "cargo": "rust", "composer": "php", "luarocks": "lua",
}  # fmt: skip


def _install_kinds(ins: Instruction) -> set[str]:
    kinds: set[str] = set()
    for c in sh.commands(ins):
        if sh.is_pip_install(c):
            kinds.add("python")
        elif c.name in _INSTALLERS and (
            dependency_install(c) or c.subcommand() in ("install", "add", "i", "ci", "get")
        ):
            kinds.add(_INSTALLERS[c.name])
    return kinds


def _separated_on_purpose(first: Instruction, second: Instruction, src: str) -> bool:
    """Two RUNs the author keeps apart: a comment or a blank line between them (separate
    steps, documented or grouped), installs from different package managers (each cached
    on its own: a new npm package must not re-run the apt layer), or an install from a
    manifest next to another step (it re-runs only when the manifest changes)."""
    if second.comments_above or first.script is None or second.script is None:
        return True
    if src[first.end : second.start].count("\n") > 1:
        return True
    a, b = _install_kinds(first), _install_kinds(second)
    if (a or b) and a != b:
        return True
    manifest = [any(dependency_install(c) for c in sh.commands(i)) for i in (first, second)]
    return manifest[0] != manifest[1]


# builtins whose effect on the shell (cwd, variables, options) would leak into the next command
# once two RUNs share one shell
_SHELL_STATE = {
    "cd",
    "export",
    "source",
    ".",
    "set",
    "unset",
    "umask",
    "ulimit",
    "alias",
    "pushd",
    "popd",
    "shopt",
    "exit",
    "exec",
    "trap",
    "eval",
    "read",
}


def _mergeable(first: Instruction, second: Instruction) -> bool:
    # installs keep their own layer: merging one with another step would re-run the install
    # whenever that step changes, and hides it from the multi-stage conversion
    if any(
        dependency_install(c) or sh.is_pip_install(c) or c.subcommand() in ("install", "add")
        for ins in (first, second)
        for c in sh.commands(ins)
    ):
        return False
    script = first.script
    return (
        script is not None
        and not script.has_error
        and not first.heredocs
        and all(c.name not in _SHELL_STATE and not c.assignments for c in script.commands)
        and not re.search(r"(^|[;&|]\s*)[A-Za-z_][A-Za-z0-9_]*=", script.text.text)
    )
