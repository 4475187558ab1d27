"""What the runtime image does not need: trees stored twice, wheels kept after install,
`*-dev` packages installed for their library, git kept after a `pip install git+...`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from jettison.dockerfile import Command, Instruction, Stage
from jettison.dockerfile.shell import Word
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _shell as sh
from jettison.rules._project import pip_subcommand, resolve_path
from jettison.rules.registry import Category, RuleContext, rule


def _workdirs(stage: Stage) -> dict[int, str | None]:
    """The working directory in effect at each instruction of ``stage`` (by index)."""
    cwd: str | None = "/"
    out: dict[int, str | None] = {}
    for ins in stage.all_instructions():
        out[ins.index] = cwd
        if ins.keyword == "WORKDIR" and ins.args:
            cwd = resolve_path(cwd, ins.args[0])
    return out


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


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


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
        stage put files without `--chown`.
    """,
    why="""
        A layer stores every file whose metadata changes: `chown -R` after the COPY writes
        the whole tree a second time, so the image carries it twice. `COPY --chown` gives the
        files their owner in the COPY layer itself.
    """,
    example="COPY . /app\nRUN chown -R app:app /app",
    use_instead="COPY --chown=app:app . /app\nRUN chown app:app /app",
    fix="""
        Unsafe: adds `--chown=OWNER` to every COPY/ADD into the directory before the chown,
        and drops `-R` (the directory itself still changes owner, so the user can create
        files in it). Only when no other RUN between the first COPY and the chown may write
        into the tree (their files would no longer change owner) and the chown names one
        directory. The finding gives the tree's size in the build context: the bytes saved.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def copy_then_chown(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    context = Path(df.path).parent
    for stage in ctx.stages:
        cwd = _workdirs(stage)
        copies: list[tuple[Instruction, str]] = []  # (COPY without --chown, destination)
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and len(ins.args) > 1:
                dest = resolve_path(cwd.get(ins.index), ins.args[-1])
                if dest is not None and ins.flag("chown") is None:
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
                ]  # fmt: skip
                if not into:
                    continue
                local = [c for c, _ in into if c.flag("from") is None]
                sizes = [_context_bytes(context, c.args[:-1]) for c in local]
                size = sum(s for s in sizes if s is not None)
                how = f" ({_mb(size)} in the build context)" if local and size else ""
                edits = _fix(ctx, stage, ins, cmd, into, owner, paths, flag_at)
                yield ctx.report(
                    f"`chown -R {owner} {' '.join(paths)}` stores the copied tree a second "
                    f"time{how}; give it its owner in the COPY (`COPY --chown={owner}`, "
                    f"line {into[0][0].line})",
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
    if len(paths) != 1 or cmd.args[flag_at].value != "-R":
        return []
    first = into[0][0]
    target = resolve_path(_workdirs(stage).get(run.index), paths[0])
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
            dest = resolve_path(_workdirs(stage).get(ins.index), ins.args[-1])
            if dest is not None and dest.startswith(target.rstrip("/") + "/"):
                return []
    for c in sh.commands(run):
        if c.start < cmd.start and c.name not in ("groupadd", "useradd", "addgroup", "adduser",
                                                  "mkdir", "set", "true"):  # fmt: skip
            return []
    if ":" not in owner and "." in owner:
        owner = owner.replace(".", ":", 1)  # chown's old user.group form; --chown wants ':'
    edits = [Edit(c.keyword_end, c.keyword_end, f" --chown={owner}") for c, _ in into]
    word = cmd.args[flag_at]
    end = word.end
    source = ctx.dockerfile.source
    while end < len(source) and source[end] in " \t":
        end += 1
    edits.append(Edit(word.start, end, ""))
    return edits


@rule(
    "JT131",
    "wheels-copied-into-final",
    Category.SIZE,
    Severity.WARNING,
    "wheels copied from a build stage stay in the final image after they are installed",
    what="""
        Flags `COPY --from=STAGE DIR DIR` in the final image followed by a `pip install`
        from that directory (`DIR/*.whl`, `--find-links DIR`), when nothing else uses DIR.
    """,
    why="""
        The COPY layer keeps every wheel even if a later `rm -rf DIR` deletes them: the
        image carries the packages twice, once installed and once as wheels. A bind mount
        of the build stage's directory lends the wheels to the install and leaves none in
        the image.
    """,
    example="COPY --from=builder /wheels /wheels\nRUN pip install --no-cache-dir /wheels/*",
    use_instead="RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \\\n"
    "    pip install --no-cache-dir /wheels/*",
    fix="""
        Unsafe (needs BuildKit; offered when the file already uses BuildKit syntax): removes
        the COPY and adds the bind mount to the install's RUN; an `rm -rf DIR` at the end of
        that RUN goes (the mount is read-only). The bytes saved are the COPY layer's size
        (`jettison inspect` shows it).
    """,
    fix_safety=FixSafety.UNSAFE,
)
def wheels_copied(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    for stage in ctx.stages:
        if not stage.in_final_image:
            continue
        cwd = _workdirs(stage)
        for n, ins in enumerate(stage.instructions):
            src_stage = ins.flag("from")
            if ins.keyword != "COPY" or src_stage is None or len(ins.args) != 2:
                continue
            if len(ins.flags) != 1:
                continue  # --chown/--chmod/--link: the mount would not reproduce them
            dest = resolve_path(cwd.get(ins.index), ins.args[-1])
            if dest is None or dest in ("/", "/usr", "/usr/local", "/app"):
                continue
            users = [
                later
                for later in stage.instructions[n + 1 :]
                if dest in later.text or any(dest in a for a in later.args)
            ]
            installs = [u for u in users if u.keyword == "RUN" and _installs_from(u, dest)]
            if len(users) != 1 or len(installs) != 1:
                continue
            run = installs[0]
            edits: list[Edit] = []
            if df.uses_buildkit_features and not run.heredocs:
                edits = _bind_edits(ctx, ins, run, src_stage.value or "", dest)
            yield ctx.report(
                f"the wheels copied into {dest} stay in the image after `pip install`; "
                f"bind-mount them from `{src_stage.value}` for the install instead",
                ins,
                edits=edits,
            )


def _installs_from(run: Instruction, dest: str) -> bool:
    return any(
        pip_subcommand(c) == "install" and any(v.startswith(dest) for v in c.arg_values)
        for c in sh.commands(run)
    )


def _bind_edits(
    ctx: RuleContext, copy: Instruction, run: Instruction, stage: str, dest: str
) -> list[Edit]:
    source = ctx.dockerfile.source
    src = copy.args[0]
    cmds = sorted({(c.start, c.end): c for c in sh.commands(run)}.values(), key=lambda c: c.start)
    edits: list[Edit] = []
    for i, c in enumerate(cmds):
        if c.name == "rm" and any(v.rstrip("/*") == dest.rstrip("/") for v in c.arg_values):
            # only a trailing `&& rm -rf DIR` goes; anywhere else the RUN is left alone
            if i != len(cmds) - 1 or i == 0 or cmds[i - 1].next_operator != "&&":
                return []
            prev_end = cmds[i - 1].end
            edits.append(Edit(prev_end, c.end, ""))
        elif c.name != "rm" and dest in source[c.start : c.end] and pip_subcommand(c) != "install":
            return []  # another command reads the wheels
    line_start = source.rfind("\n", 0, copy.start) + 1
    line_end = source.find("\n", copy.end)
    line_end = len(source) if line_end == -1 else line_end + 1
    mount = f" --mount=type=bind,from={stage},source={src},target={dest}"
    edits.append(Edit(line_start, line_end, ""))
    edits.append(Edit(run.keyword_end, run.keyword_end, mount))
    return sorted(edits, key=lambda e: e.start)


# `*-dev` package -> the runtime library it exists for, and the -dev package's own installed
# size on Debian bookworm in KiB (dpkg Installed-Size; its header-only dependencies add more).
# bullseye names the libraries of a few differently.
_RUNTIME_LIBRARY: dict[str, tuple[str, int]] = {
    "libpq-dev": ("libpq5", 595),
    "libxml2-dev": ("libxml2", 3286),
    "libxslt1-dev": ("libxslt1.1", 2535),
    "libxslt-dev": ("libxslt1.1", 2535),
    "libjpeg62-turbo-dev": ("libjpeg62-turbo", 1096),
    "libjpeg-dev": ("libjpeg62-turbo", 1096),
    "zlib1g-dev": ("zlib1g", 1310),
    "libffi-dev": ("libffi8", 315),
    "libssl-dev": ("libssl3", 12206),
    "libyaml-dev": ("libyaml-0-2", 256),
    "libmariadb-dev": ("libmariadb3", 981),
    "libmariadb-dev-compat": ("libmariadb3", 981),
    "default-libmysqlclient-dev": ("libmariadb3", 981),
    "libcurl4-openssl-dev": ("libcurl4", 1778),
    "libsqlite3-dev": ("libsqlite3-0", 3150),
    "libpng-dev": ("libpng16-16", 854),
    "libfreetype-dev": ("libfreetype6", 2060),
    "libfreetype6-dev": ("libfreetype6", 2060),
    "libwebp-dev": ("libwebp7", 1084),
    "libgdbm-dev": ("libgdbm6", 400),
    "libbz2-dev": ("libbz2-1.0", 95),
    "liblzma-dev": ("liblzma5", 726),
    "libreadline-dev": ("libreadline8", 790),
    "libmagic-dev": ("libmagic1", 0),
    "libsass-dev": ("libsass1", 0),
    "libgettextpo-dev": ("libgettextpo0", 0),
    "libopenjp2-7-dev": ("libopenjp2-7", 0),
    "liblcms2-dev": ("liblcms2-2", 0),
    "libtiff-dev": ("libtiff6", 0),
    "libldap2-dev": ("libldap-2.5-0", 0),
    "libsasl2-dev": ("libsasl2-2", 0),
}
_BULLSEYE = {
    "libffi-dev": "libffi7",
    "libssl-dev": "libssl1.1",
    "libwebp-dev": "libwebp6",
    "libtiff-dev": "libtiff5",
    "libldap2-dev": "libldap-2.4-2",
}
_COMPILERS = {"gcc", "g++", "clang", "build-essential", "cc", "make", "cmake", "cargo", "rustc"}


def _compiler(pkg: str) -> bool:
    return pkg in _COMPILERS or pkg.split("-", 1)[0] in ("gcc", "g++", "clang", "llvm")


def _final_installs(ctx: RuleContext) -> list[tuple[Instruction, Command, Word]]:
    """(RUN, install command, package word) of the apt installs of the final image that no
    later command of the same RUN removes again."""
    from jettison.rules.size import _temporary_installs

    out: list[tuple[Instruction, Command, Word]] = []
    for ins in ctx.runs(final_only=True):
        temporary = {(c.start, p) for c, p in _temporary_installs(ins)}
        for cmd in sh.apt_installs(ins):
            for word in cmd.words_after("install"):
                if (cmd.start, word.value) not in temporary and not word.dynamic:
                    out.append((ins, cmd, word))
    return out


@rule(
    "JT132",
    "dev-package-for-a-library",
    Category.SIZE,
    Severity.WARNING,
    "a `*-dev` package installed for its shared library in an image that compiles nothing",
    what="""
        Flags `apt-get install libpq-dev` (and the other `*-dev` packages of common
        libraries) in the final image of a slim base when that image installs no compiler:
        nothing can use the headers, only the shared library the package depends on.
    """,
    why="""
        A `-dev` package brings C headers, static archives, pkg-config files and often more
        `-dev` packages (`libpq-dev` pulls `libssl-dev`, 12 MB); the runtime needs only the
        library (`libpq5`).
    """,
    example="FROM python:3.11-slim\nRUN apt-get update && apt-get install -y libpq-dev",
    use_instead="FROM python:3.11-slim\nRUN apt-get update && apt-get install -y libpq5",
    fix="""
        Unsafe: replaces the package by its runtime library (`libpq-dev` -> `libpq5`,
        `libxml2-dev` -> `libxml2`, ...; bullseye's names on a bullseye base). The finding
        gives the `-dev` package's own installed size on Debian bookworm where known. A
        program that reads the headers or runs `pg_config` at run time would need it back.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def dev_package_for_a_library(ctx: RuleContext) -> Iterator[Finding]:
    final = ctx.dockerfile.final_stage
    if final is None or "slim" not in final.root_image():
        return  # full images carry the headers and compilers anyway
    installs = _final_installs(ctx)
    if any(_compiler(w.value.split("=", 1)[0]) for _, _, w in installs):
        return  # something may compile against the headers
    for ins in ctx.runs(final_only=True):
        if any(c.name in _COMPILERS for c in sh.commands(ins)):
            return
    bullseye = "bullseye" in final.root_image()
    for ins, _cmd, word in installs:
        name = word.value.split("=", 1)[0]
        known = _RUNTIME_LIBRARY.get(name)
        if known is None:
            continue
        library, kib = known
        if bullseye:
            library = _BULLSEYE.get(name, library)
        size = f" ({_mb(kib * 1024)} installed, headers and archives)" if kib else ""
        yield ctx.report(
            f"`{name}`{size} in an image that compiles nothing: install the library "
            f"`{library}` instead",
            ins,
            start=word.start,
            end=word.end,
            edits=[Edit(word.start, word.end, library)],
        )


_VCS_USERS = re.compile(r"^\s*(gitpython|pygit2|dulwich|pre-commit|setuptools-scm)\b", re.I | re.M)


@rule(
    "JT133",
    "git-for-pip-only",
    Category.SIZE,
    Severity.WARNING,
    "git installed for a `pip install git+...` and kept in the image",
    what="""
        Flags git installed by apt in the final image when its only use is a pip install of
        a `git+` requirement (on the command line or in a requirements file): no later
        command, no ENTRYPOINT/CMD and no listed distribution that drives git
        (GitPython, pygit2, dulwich) uses it.
    """,
    why="""
        pip needs git only while it clones; git then stays with its dependencies (perl,
        curl's libraries, about 40 MB on Debian bookworm, ~90 MB with recommends).
    """,
    example="RUN apt-get update && apt-get install -y git \\\n"
    "    && pip install git+https://github.com/org/lib",
    use_instead="RUN apt-get update && apt-get install -y git \\\n"
    "    && pip install git+https://github.com/org/lib \\\n"
    "    && apt-get purge -y --auto-remove git",
    fix="""
        Unsafe: when git is installed in the RUN of the pip install, appends
        `apt-get purge -y --auto-remove git` to it. In separate RUNs only the finding is
        given: the multi-stage conversion (`fix --unsafe-fixes`) moves git into its builder.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def git_for_pip_only(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    context = Path(df.path).parent
    installs = [(i, c, w) for i, c, w in _final_installs(ctx) if w.value.split("=")[0] == "git"]
    if not installs:
        return
    ins, _cmd, word = installs[0]
    final = df.final_stage
    assert final is not None
    pip_uses: list[tuple[Instruction, Command]] = []
    for later in final.all_instructions():
        if later.index < ins.index and later is not ins:
            continue
        if later.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK") and any(
            "git" in a.split() or "/git" in a for a in later.args
        ):
            return
        if later.keyword != "RUN":
            continue
        for cmd in sh.commands(later):
            if cmd.name == "git":
                return
            if not sh.is_pip_install(cmd):
                continue
            values = cmd.arg_values
            texts = [v for v in values if v.startswith("git+")]
            for i, v in enumerate(values):
                if v in ("-r", "--requirement") and i + 1 < len(values):
                    path = context / values[i + 1].lstrip("/")
                    try:
                        content = path.read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        continue
                    if _VCS_USERS.search(content):
                        return  # a distribution that runs git at run time
                    if "git+" in content:
                        texts.append(values[i + 1])
            if texts:
                pip_uses.append((later, cmd))
    if not pip_uses:
        return
    run, cmd = pip_uses[-1]
    edits: list[Edit] = []
    if run is ins and len(pip_uses) == 1:
        edit = sh.append_to_run(run, df, "apt-get purge -y --auto-remove git")
        if edit is not None:
            edits.append(edit)
    yield ctx.report(
        f"git is only used by `pip install` of a git+ requirement (line {run.line}) and "
        "stays in the image (about 40 MB with its dependencies): purge it in the same RUN, "
        "or install in a builder stage",
        ins,
        start=word.start,
        end=word.end,
        edits=edits,
    )


_PACKAGING_TOOLS = {"pip", "setuptools", "wheel"}


def _tool_upgrade(cmd: Command) -> list[str] | None:
    """The packaging tools a ``pip install -U pip [setuptools wheel]`` upgrades, when that is
    all the command installs (None: not such a command)."""
    if pip_subcommand(cmd) != "install" or not cmd.has_flag("-U", "--upgrade"):
        return None
    names: list[str] = []
    for word in cmd.words_after("install"):  # an -r file or an index URL is a word too
        name = re.split(r"[<>=!~\[ ;]", word.value, maxsplit=1)[0].lower()
        if word.dynamic or name not in _PACKAGING_TOOLS:
            return None
        names.append(name)
    return names or None


@rule(
    "JT134",
    "packaging-tools-upgraded",
    Category.SIZE,
    Severity.INFO,
    "pip, setuptools or wheel upgraded in a layer of its own",
    what="""
        Flags `pip install --upgrade pip` (setuptools, wheel) in a stage of the final image,
        in a RUN that did not create the environment it upgrades (a virtualenv made in the
        same RUN is upgraded in its own layer and is not flagged).
    """,
    why="""
        The base image's copy stays in the layer below; the upgrade writes the new one on
        top, so the image carries both: pip alone is 8-12 MB installed. The image's pip is
        rarely what the app needs at run time, and a recent base already has a recent pip.
    """,
    example="RUN pip install --upgrade pip\nRUN pip install -r requirements.txt",
    use_instead="RUN pip install -r requirements.txt",
    fix="""
        Unsafe (the pip version at build and run time changes: a requirement that needs a
        newer pip fails to build, which `fix --verify` catches and rolls back): removes the
        upgrade, the whole RUN when it is the only command, else the command and its `&&`.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def packaging_tools_upgraded(ctx: RuleContext) -> Iterator[Finding]:
    src = ctx.dockerfile.source
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        for n, cmd in enumerate(cmds):
            tools = _tool_upgrade(cmd)
            if tools is None or cmd.in_condition:
                continue
            if any(c.name in ("virtualenv", "venv") or "venv" in c.arg_values for c in cmds[:n]):
                continue  # a fresh environment upgraded in the layer that made it
            edits: list[Edit] = []
            if len(cmds) == 1 and ins.sub_instruction is None and not ins.heredocs:
                end = ins.end + 1 if src[ins.end : ins.end + 1] == "\n" else ins.end
                edits.append(Edit(ins.start, end, ""))
            elif cmd.next_operator == "&&" and n + 1 < len(cmds):
                edits.append(Edit(cmd.start, cmds[n + 1].start, ""))
            yield ctx.report(
                f"`{' '.join(cmd.argv)}` upgrades {', '.join(tools)} in its own layer: the "
                "base image's copy stays below it (pip alone is 8-12 MB)",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=edits,
            )


def _venvs_made(stage: Stage) -> dict[str, Instruction]:
    """Virtualenvs a stage creates with their packaging tools: path -> the RUN."""
    from jettison.dockerfile.expand import expand

    made: dict[str, Instruction] = {}
    env: dict[str, str] = {}  # ENV set so far: `python -m venv $VIRTUAL_ENV` is common
    for ins in stage.all_instructions():
        if ins.keyword == "ENV":
            for i in range(0, len(ins.args) - 1, 2):
                env[ins.args[i]] = expand(ins.args[i + 1], env)
            continue
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            values = cmd.arg_values
            if cmd.name == "virtualenv" or (
                (cmd.name in sh.PYTHON or cmd.name.startswith("python3."))
                and values[:2] == ["-m", "venv"]
            ):
                if "--without-pip" in values or "--no-pip" in values:
                    continue
                paths = [v for v in values if not v.startswith("-") and v not in ("venv",)]
                if cmd.name != "virtualenv" and paths[:1] == ["-m"]:
                    paths = paths[1:]
                path = expand(paths[-1], env) if paths else ""
                if path.startswith("/") and "$" not in path:
                    made[str(PurePosixPath(path))] = ins
    return made


def _uninstalls_pip(stage: Stage) -> bool:
    """Whether a RUN of ``stage`` already removes pip (``pip uninstall ... pip``)."""
    return any(
        pip_subcommand(cmd) == "uninstall" and "pip" in cmd.arg_values
        for ins in stage.instructions
        if ins.keyword == "RUN"
        for cmd in sh.commands(ins)
    )


@rule(
    "JT135",
    "venv-ships-packaging-tools",
    Category.SIZE,
    Severity.INFO,
    "a virtualenv copied into the final image still carries pip and setuptools",
    what="""
        Flags `COPY --from=STAGE VENV ...` into the final image of a virtualenv that STAGE
        made with its packaging tools (`python -m venv`, `virtualenv`, without
        `--without-pip`), when nothing in the final image runs pip.
    """,
    why="""
        pip and setuptools take 15-25 MB of a virtualenv and are only needed to install
        into it, which the builder already did. A multi-stage build copies them anyway.
    """,
    example="FROM python:3.11 AS builder\nRUN python -m venv /venv && /venv/bin/pip install "
    "-r requirements.txt\nFROM python:3.11-slim\nCOPY --from=builder /venv /venv",
    use_instead="FROM python:3.11 AS builder\nRUN python -m venv /venv && /venv/bin/pip "
    "install -r requirements.txt\nRUN /venv/bin/python -m pip uninstall -y pip setuptools "
    "wheel\nFROM python:3.11-slim\nCOPY --from=builder /venv /venv",
    fix="""
        Unsafe (an app that imports `pkg_resources` needs setuptools: `fix --verify` imports
        every installed package and rolls the fix back): adds, as the builder stage's last
        step, a RUN that uninstalls pip, setuptools and wheel from the virtualenv; the
        builder's own layers do not reach the final image.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def venv_ships_packaging_tools(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    final = df.final_stage
    if final is None:
        return
    stages = {s.name: s for s in df.stages if s.name} | {str(s.index): s for s in df.stages}
    runs_pip = any(
        "pip" in ins.text.replace("pipefail", "")
        for ins in final.all_instructions()
        if ins.keyword in ("RUN", "CMD", "ENTRYPOINT")
    )
    if runs_pip:
        return
    for ins in final.instructions:
        source = ins.flag("from") if ins.keyword == "COPY" else None
        if source is None or len(ins.args) < 2:
            continue
        builder = stages.get(str(source.value).lower())
        if builder is None or builder is final:
            continue
        venvs = _venvs_made(builder)
        for src in ins.args[:-1]:
            venv = str(PurePosixPath(src))
            if venv not in venvs:
                continue
            if _uninstalls_pip(builder):
                continue
            last = builder.instructions[-1] if builder.instructions else None
            edits: list[Edit] = []
            if last is not None:
                edits.append(
                    Edit(
                        last.end,
                        last.end,
                        f"\nRUN {venv}/bin/python -m pip uninstall -y pip setuptools wheel",
                    )
                )
            yield ctx.report(
                f"the virtualenv {venv} from stage {builder.label} still holds pip and "
                "setuptools (15-25 MB) that nothing in the final image runs",
                ins,
                edits=edits,
            )
