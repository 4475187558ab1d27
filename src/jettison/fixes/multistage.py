"""Multi-stage conversion for Python applications (an unsafe fix).

The final image's stages (the final stage and the stages it is built FROM) are read as one
sequence of instructions, and :func:`plan_conversion` decides where each goes; :func:`render`
writes the result:

* stages outside the final image are written as they are, first;
* **builder** (the original base image): the original ARG/ENV/WORKDIR, every apt install,
  a virtualenv (the file's own, at its own path, or one in ``/opt/venv``, created first and
  put on ``PATH``), the COPYs the installs need, the pip installs (with a pip cache mount
  only when the file already uses BuildKit syntax, because a plain ``docker build`` would
  reject ``RUN --mount``) and, once the engine scan has decided it, the removal of pip,
  setuptools and wheel from the virtualenv when nothing in it imports them;
* **runtime** (the ``-slim`` variant of the base, :func:`jettison.rules.size.slim_variant`,
  named like the final stage was): the original ARG/ENV; one apt install of the packages
  that are not build tools plus the Debian packages of the shared libraries the installed
  packages load; a non-root user ``app`` (uid 10001) unless the file has its own USER; the
  virtualenv copied from the builder; then the original WORKDIR/COPY/ADD/RUN/EXPOSE/
  HEALTHCHECK/LABEL/VOLUME/USER/ENTRYPOINT/CMD in their order, with ``USER app`` after the
  last filesystem change. A RUN that mixes apt or pip with other commands is split: the
  builder runs it whole, the runtime stage runs only the other commands.

The runtime packages are found by :func:`jettison.fixes.runtime_libs.scan` (an engine step:
build the builder stage, ``ldd`` every ELF file in the virtualenv, ``dpkg -S`` each library
outside it, minus what the slim image has). ``render`` takes that list as plain data, sorted,
so the text it writes depends only on the input file and that list. When the scan finds that
nothing was compiled (every distribution came as a wheel for the platform), :func:`render_removal`
removes the toolchain from the file instead of moving it into a builder.

A conversion that cannot make the image smaller is not offered: the final image must carry
compilers, headers or other build packages, or be on a full base image with a slim variant.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction, Stage
from jettison.findings import Edit
from jettison.rules._project import is_extraction
from jettison.rules._shell import APT, PIP, PYTHON, append_to_run, commands, is_pip_install
from jettison.rules.size import (
    _SUITES,
    BUILD_TOOLS,
    _temporary_installs,
    remove_words,
    slim_variant,
)

CODE = "MULTISTAGE"
VENV = "/opt/venv"
USER_NAME = "app"
USER_ID = 10001
BUILDER = "builder"
PIP_CACHE = "/root/.cache/pip"
PIP_TOOLING = ("pip", "setuptools", "wheel")

# tools whose environments this conversion does not know how to move into a runtime stage
_UNHANDLED = {
    "conda": "conda environments",
    "mamba": "conda environments (mamba)",
    "micromamba": "conda environments (micromamba)",
    "poetry": "poetry-managed installs",
    "pipenv": "pipenv-managed installs",
    "pdm": "pdm-managed installs",
    "uv": "uv-managed installs",
    "apk": "Alpine packages (apk)",
    "yum": "RPM packages (yum)",
    "dnf": "RPM packages (dnf)",
    "microdnf": "RPM packages (microdnf)",
    "zypper": "RPM packages (zypper)",
    "npm": "Node.js builds (npm)",
    "yarn": "Node.js builds (yarn)",
}
_PIP_LOCATION_FLAGS = ("--user", "--prefix", "--target", "-t", "--root")
_MANIFEST = re.compile(
    r"^(requirements[\w.-]*\.(txt|in)|constraints[\w.-]*\.txt|pyproject\.toml|setup\.py|"
    r"setup\.cfg|MANIFEST\.in)$"
)
_RUNTIME_ONLY = {"EXPOSE", "HEALTHCHECK", "LABEL", "VOLUME", "ENTRYPOINT", "CMD", "STOPSIGNAL"}
# tools that only prepare an install (their output is read by pip): builder only
_PREPARE_ONLY = {"pip-compile", "pip-sync", "pyproject-build"}
# programs that need the toolchain: a RUN calling them outside the installs is not moved
_COMPILERS = {"gcc", "cc", "g++", "c++", "clang", "make", "cmake", "cargo", "rustc", "go",
              "ninja", "meson", "gfortran", "ld", "configure"}  # fmt: skip
# packages the app may run at run time although they are build tools for pip (git+ URLs)
_VCS_PACKAGES = {"git", "openssh-client", "git-core", "mercurial", "subversion"}
# distributions that run git at run time (GitPython, ...): git stays in the runtime stage
VCS_USERS = {"gitpython", "pygit2", "dulwich", "gitdb", "pre-commit", "setuptools-scm"}


@dataclass(frozen=True)
class Refusal:
    """The conversion does not apply to this file, and why (shown to the user)."""

    reason: str
    line: int | None = None


@dataclass
class Plan:
    """Where each instruction of the final image goes; ``render`` turns it into text."""

    df: Dockerfile
    builder_base: str  # the FROM argument of the builder, as written (may hold ${ARGS})
    runtime_base: str  # the same for the runtime stage
    builder: list[Instruction] = field(default_factory=list)
    runtime: list[Instruction] = field(default_factory=list)
    pip_runs: set[int] = field(default_factory=set)  # instruction indexes of pip RUNs
    apt_runtime_packages: list[str] = field(default_factory=list)  # non-build apt packages
    has_user: bool = False
    cache_mount: bool = False
    venv: str = VENV
    own_venv: bool = False  # the file creates the virtualenv itself (and sets PATH)
    builder_ref: str = ""  # the builder base, resolved (what the scan compares)
    runtime_ref: str = ""  # the runtime base, resolved (what the scan queries)
    kept_stages: list[Stage] = field(default_factory=list)  # not in the final image
    runtime_name: str | None = None  # the final stage's AS name (a --target keeps working)
    builder_name: str = BUILDER
    runtime_text: dict[int, str] = field(default_factory=dict)  # split RUNs: what stays
    build_packages: list[str] = field(default_factory=list)  # toolchain in the final image
    vcs_packages: list[str] = field(default_factory=list)  # git & co., build tools for pip
    runtime_uses_pip: bool = False  # a runtime RUN or the command runs pip
    removable: bool = False  # the toolchain serves only the pip installs (see render_removal)
    apt_runs: list[Instruction] = field(default_factory=list)  # RUNs installing build packages
    platform: str = ""  # the FROM flags (--platform=...) of the final image's first stage
    later_froms: list[Instruction] = field(default_factory=list)  # their comments stay

    @property
    def builder_stage_name(self) -> str:
        return self.builder_name


def is_build_package(pkg: str) -> bool:
    return (
        pkg in BUILD_TOOLS
        or pkg.endswith(("-dev", "-devel"))
        or re.match(r"^(gcc|g\+\+|clang|llvm|cpp)-\d+$", pkg) is not None
    )


# Commands that leave nothing behind but deletions when their RUN runs in the builder only:
# shell state that ends with the RUN, output, tests and cleanup.
_NO_LASTING_EFFECT = {
    "cd", "set", "export", "unset", "true", ":", "echo", "printf", "test", "[", "ls", "rm",
    "find", "apt-cache", "dpkg-query", "which", "command", "type",
}  # fmt: skip
_WRAPPERS = {"sudo", "env", "nohup", "time", "nice"}  # the wrapped command is seen on its own
_PIP_READ_ONLY = {"cache", "list", "check", "show", "freeze", None}  # None: --version
_FIND_WRITES = {"-fprint", "-fprint0", "-fprintf", "-fls"}
_FIND_EXEC = {"-exec", "-execdir", "-ok", "-okdir"}


def _is_pip(name: str) -> bool:
    return name in PIP or name.startswith(("pip3.", "pip2."))


def _writes_a_file(cmd: Command) -> bool:
    """An output redirect to anything but /dev/null or another descriptor."""
    for redirect in cmd.redirects:
        if ">" not in redirect:
            continue  # input: <, <<EOF, <<<
        target = redirect.split(">", 1)[1].lstrip(">|&").strip()
        if target and target != "/dev/null" and not target.isdigit() and target != "-":
            return True
    return False


def _no_lasting_effect(cmd: Command) -> bool:
    if is_extraction(cmd):
        return True  # JT201's listing of the project's dependencies into a temporary file
    if _writes_a_file(cmd):
        return False
    name = cmd.name
    if _is_pip(name):
        return cmd.subcommand() in _PIP_READ_ONLY
    if name != "find":
        return name in _NO_LASTING_EFFECT
    args = cmd.arg_values
    if any(a in _FIND_WRITES for a in args):
        return False
    # find -exec CMD: only rm keeps it a cleanup
    return all(args[i + 1 : i + 2] == ["rm"] for i, a in enumerate(args) if a in _FIND_EXEC)


def _is_pip_uninstall(cmd: Command) -> bool:
    return _is_pip(cmd.name) and cmd.subcommand() == "uninstall"


def _installs_application_packages(cmd: Command) -> bool:
    """A pip install of more than pip's own tooling (``pip install --upgrade pip`` alone gives
    no application packages to move into a builder)."""
    for word in cmd.words_after("install"):
        name = re.split(r"[<>=!~\[;@ ]", word.value, maxsplit=1)[0].lower()
        if name not in PIP_TOOLING:
            return True
    return cmd.has_flag("-r", "--requirement", "-e", "--editable")


_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _expand(value: str, ins: Instruction) -> str | None:
    """``$VIRTUAL_ENV`` with the ARG/ENV value visible at ``ins``; None if unknown."""
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        val = ins.variables.get(m.group(1))
        if val is None or "$" in val:
            missing = True
            return ""
        return val

    out = _VAR.sub(sub, value)
    return None if missing or not out.startswith("/") else str(PurePosixPath(out))


def _venv_target(cmd: Command, ins: Instruction) -> str | bool | None:
    """The directory a ``python -m venv DIR`` / ``virtualenv DIR`` creates; False when the
    command makes no virtualenv, None when its directory cannot be read."""
    vals = cmd.arg_values
    if cmd.name == "virtualenv":
        rest = vals
    elif cmd.name in PYTHON or cmd.name.startswith("python3."):
        joined = [v for v in vals]
        if joined[:2] in (["-m", "venv"], ["-m", "virtualenv"]):
            rest = joined[2:]
        elif joined[:1] in (["-mvenv"], ["-mvirtualenv"]):
            rest = joined[1:]
        else:
            return False
    else:
        return False
    dirs = [w for w in rest if not w.startswith("-")]
    if len(dirs) != 1:
        return None
    return _expand(dirs[0], ins)


def _in_venv(cmd: Command, ins: Instruction, venv: str, activated: bool) -> bool:
    """Whether a pip command installs into ``venv``: called by its path, after the RUN
    sourced its activate script, or with the virtualenv first on PATH."""
    if cmd.name_word.value.startswith(venv.rstrip("/") + "/bin/"):
        return True
    if activated:
        return True
    path = ins.variables.get("PATH", "")
    first = path.split(":", 1)[0]
    resolved = _expand(first, ins) if "$" in first else first
    return resolved == venv.rstrip("/") + "/bin"


def _activates(cmd: Command, venv: str) -> bool:
    return cmd.name in (".", "source") and any(
        a.rstrip("/") == venv.rstrip("/") + "/bin/activate" for a in cmd.arg_values
    )


def _apt_packages(ins: Instruction) -> list[str]:
    out: list[str] = []
    for cmd in commands(ins):
        if cmd.name in APT and cmd.subcommand() == "install":
            for word in cmd.words_after("install"):
                out.append(word.value)
    return out


def _manifest_only(ins: Instruction) -> bool:
    if ins.keyword != "COPY" or ins.flag("from") is not None or len(ins.args) < 2:
        return False
    return all(_MANIFEST.match(PurePosixPath(src).name) for src in ins.args[:-1])


def _flat_gaps(df: Dockerfile, ins: Instruction, cmds: list[Command]) -> bool:
    """The RUN is a plain list of commands joined by ``&&`` or ``;`` (no loop, condition,
    pipe or subshell): commands can be cut out of it."""
    if ins.heredocs or ins.json_form or not cmds:
        return False
    esc = df.directives.escape
    src = df.source

    def gap_ok(text: str, allowed: tuple[str, ...]) -> bool:
        lines = []
        for line in text.replace("\r", "").split("\n"):
            s = line.strip()
            if s.startswith("#"):
                continue
            lines.append(s[:-1] if s.endswith(esc) else s)
        return "".join(x.strip() for x in lines) in allowed

    head = src[ins.keyword_end : cmds[0].start]
    for f in ins.flags:
        head = head.replace(src[f.start : f.end], "")
    if not gap_ok(head, ("",)):
        return False
    for a, b in itertools.pairwise(cmds):
        if a.in_condition or not gap_ok(src[a.end : b.start], ("&&", ";")):
            return False
    return not cmds[-1].in_condition and gap_ok(src[cmds[-1].end : ins.end], ("", ";"))


def cut_commands(df: Dockerfile, ins: Instruction, keep: list[Command]) -> str | None:
    """The RUN's text with only the commands in ``keep`` (the original joins, continuation
    lines and comments before each kept command stay); None when it is not a flat list or
    nothing is kept."""
    cmds = commands(ins)
    if not keep or not _flat_gaps(df, ins, cmds):
        return None
    src = df.source
    kept = {id(c) for c in keep}
    out = src[ins.start : cmds[0].start]
    first = True
    for i, cmd in enumerate(cmds):
        if id(cmd) not in kept:
            continue
        if not first:
            out += src[cmds[i - 1].end : cmd.start]
        out += src[cmd.start : cmd.end]
        first = False
    return out.replace("\r\n", "\n")


def _is_apt_setup(cmd: Command) -> bool:
    """A command that adds an apt repository or key: the installs after it need it."""
    if cmd.name in ("apt-key", "add-apt-repository", "gpg"):
        return True
    return any("/etc/apt" in v for v in (*cmd.arg_values, *cmd.redirects))


@dataclass
class _Run:
    """One RUN's commands by role."""

    apt: list[Command] = field(default_factory=list)
    pip: list[Command] = field(default_factory=list)
    venv: list[Command] = field(default_factory=list)
    prepare: list[Command] = field(default_factory=list)  # pip-compile & co.
    lasting: list[Command] = field(default_factory=list)  # other commands with effects
    quiet: list[Command] = field(default_factory=list)  # no lasting effect

    @property
    def moves(self) -> bool:
        return bool(self.apt or self.pip or self.venv or self.prepare)


def _classify(ins: Instruction) -> _Run | Refusal:
    run = _Run()
    for cmd in commands(ins):
        name = cmd.name
        if name in _UNHANDLED:
            return Refusal(f"{_UNHANDLED[name]} are not handled", ins.line)
        if name in PYTHON and "pipenv" in cmd.arg_values[:2]:
            return Refusal(_UNHANDLED["pipenv"] + " are not handled", ins.line)
        if name in _WRAPPERS:
            continue
        if name in APT:
            run.apt.append(cmd)
        elif is_pip_install(cmd) or _is_pip_uninstall(cmd):
            if cmd.has_flag(*_PIP_LOCATION_FLAGS):
                return Refusal(
                    "pip installs outside the environment (--user/--prefix/--target/--root) "
                    "are not handled",
                    ins.line,
                )
            run.pip.append(cmd)
        elif _venv_target(cmd, ins) is not False:
            run.venv.append(cmd)
        elif name in _PREPARE_ONLY or (
            name in PYTHON and cmd.arg_values[:2] in (["-m", "build"], ["-m", "piptools"])
        ):
            run.prepare.append(cmd)
        elif _no_lasting_effect(cmd) or (name in (".", "source") and "activate" in str(cmd.argv)):
            run.quiet.append(cmd)
        else:
            run.lasting.append(cmd)
    return run


def _stage_refs(ins: Instruction) -> list[str]:
    """Stage names an instruction reads from (COPY --from, RUN --mount=from=)."""
    out: list[str] = []
    f = ins.flag("from")
    if f is not None and f.value:
        out.append(f.value.lower())
    for m in ins.flags_named("mount"):
        src = m.options().get("from")
        if src:
            out.append(src.lower())
    return out


def _runtime_base(stage: Stage) -> tuple[str, str] | Refusal:
    """(as written, resolved) for the runtime stage's FROM."""
    ref = stage.base_resolved
    repo = ref.split("@", 1)[0].rsplit(":", 1)[0] if ":" in ref.split("/")[-1] else ref
    if repo not in ("python", "library/python", "docker.io/library/python"):
        return Refusal(
            f"the base image {ref} is not an official python image", stage.from_instruction.line
        )
    tag = ref.split("@", 1)[0].rsplit(":", 1)[-1] if ":" in ref.split("/")[-1] else ""
    if "slim" in tag:
        return stage.base, ref
    slim = slim_variant(ref)
    if slim is None:
        return Refusal(f"{ref} has no -slim variant", stage.from_instruction.line)
    if "$" in stage.base:  # a tag made of ARGs: the slim tag is made of the same ARGs
        name, _, written_tag = stage.base.rpartition(":")
        if not name or "$" in name:
            return Refusal("the base image is a variable", stage.from_instruction.line)
        for suite in _SUITES:
            if written_tag.endswith("-" + suite):
                return f"{name}:{written_tag[: -len(suite) - 1]}-slim-{suite}", slim
        return f"{name}:{written_tag}-slim", slim
    return slim, slim


def plan_conversion(df: Dockerfile) -> Plan | Refusal | None:
    """A plan, a refusal with its reason, or None when the conversion does not apply.

    It applies when the final image (the final stage and the stages it is built FROM)
    installs Python packages with pip and carries something a builder can take away: build
    packages (compilers, headers, ``*-dev``) or a full base image with a slim variant.
    """
    final = df.final_stage
    if final is None:
        return None
    lineage = list(reversed(list(final.lineage())))
    root = lineage[0]
    # an ancestor that is only a FROM line (`FROM python:3.11-slim AS python`) is an alias
    # other stages may build from: it is written as it is
    while len(lineage) > 1 and not [
        i for i in lineage[0].instructions if i is not lineage[0].from_instruction
    ]:
        lineage = lineage[1:]
    in_image = {id(s) for s in lineage}
    body = [
        i
        for s in lineage
        for i in s.instructions
        if i is not s.from_instruction and i.keyword != "FROM"
    ]
    if not any(
        is_pip_install(c) and _installs_application_packages(c)
        for i in body
        if i.keyword == "RUN"
        for c in commands(i)
    ):
        return None  # no Python packages installed: nothing to move into a builder
    # the toolchain the final image carries (a purge in the same RUN takes it away)
    build_packages: list[str] = []
    vcs_packages: list[str] = []
    apt_runs: list[Instruction] = []
    for ins in body:
        if ins.keyword != "RUN":
            continue
        temporary = {(c.start, p) for c, p in _temporary_installs(ins)}
        found = False
        for cmd in commands(ins):
            if cmd.name not in APT or cmd.subcommand() != "install":
                continue
            for word in cmd.words_after("install"):
                name = word.value.split("=", 1)[0]
                if is_build_package(name) and (cmd.start, word.value) not in temporary:
                    found = True
                    target = vcs_packages if name in _VCS_PACKAGES else build_packages
                    if name not in target:
                        target.append(name)
        if found:
            apt_runs.append(ins)
    runtime_bases = _runtime_base(root)
    if isinstance(runtime_bases, Refusal):
        if not build_packages and len(df.stages) > 1:
            return None
        return runtime_bases
    runtime_base, runtime_ref = runtime_bases
    full_base = runtime_ref != root.base_resolved
    if not build_packages and not vcs_packages and not full_base:
        # a slim base without compilers or headers: a builder has nothing to take away
        # (its virtualenv would only add bytes)
        return None
    if root.base_unresolved or "$" in root.base.split(":", 1)[0]:
        return Refusal("the base image is a variable", root.from_instruction.line)
    for ins in body:
        if ins.keyword in ("SHELL", "ONBUILD"):
            return Refusal(f"{ins.keyword} is not handled by the multi-stage conversion", ins.line)
    # stages outside the final image stay as they are; they must not read from its stages,
    # whose names go (numbers would move)
    names = {s.name for s in lineage if s.name} | {str(s.index) for s in lineage}
    kept = [s for s in df.stages if id(s) not in in_image]
    for s in df.stages:
        for ins in s.instructions:
            refs = _stage_refs(ins)
            if any(r.isdigit() for r in refs) and len(df.stages) > 1:
                return Refusal("stages named by number are not handled", ins.line)
            if any(r in names for r in refs):
                return Refusal(
                    "a stage reads from a stage of the final image, whose name would go",
                    ins.line,
                )
        if id(s) not in in_image and s.parent is not None and id(s.parent) in in_image:
            return Refusal(
                f"stage {s.label} is built FROM a stage of the final image",
                s.from_instruction.line,
            )
    taken = {s.name for s in df.stages if s.name}
    builder_name = next(n for n in (BUILDER, "venv-builder", "jettison-builder") if n not in taken)
    runs: dict[int, _Run] = {}
    for ins in body:
        if ins.keyword == "RUN" and not ins.json_form:
            classified = _classify(ins)
            if isinstance(classified, Refusal):
                return classified
            runs[ins.index] = classified
    # the virtualenv: the file's own (at its own path) or /opt/venv
    venv = VENV
    own_venv = False
    venv_at: int | None = None
    for ins in body:
        found_run = runs.get(ins.index)
        for cmd in found_run.venv if found_run else []:
            venv_dir = _venv_target(cmd, ins)
            if not isinstance(venv_dir, str):
                return Refusal("a virtualenv whose directory cannot be read", ins.line)
            if own_venv and venv_dir != venv:
                return Refusal("more than one virtualenv", ins.line)
            venv, own_venv = venv_dir, True
            venv_at = ins.index if venv_at is None else venv_at
    pip_runs = [i for i in body if runs.get(i.index) is not None and runs[i.index].pip]
    app_pip = [
        i
        for i in pip_runs
        if any(_installs_application_packages(c) for c in runs[i.index].pip if is_pip_install(c))
    ]
    if not app_pip:
        return None
    if own_venv:
        if venv_at is not None and app_pip[0].index < venv_at:
            return Refusal(
                f"packages installed before the virtualenv {venv} is made are not handled",
                app_pip[0].line,
            )
        for ins in pip_runs:
            run = runs[ins.index]
            activated = False
            for cmd in commands(ins):
                activated = activated or _activates(cmd, venv)
                if (
                    cmd in run.pip
                    and not _in_venv(cmd, ins, venv, activated)
                    and ins in app_pip
                    and _installs_application_packages(cmd)
                ):
                    return Refusal(
                        f"a pip install outside the virtualenv {venv} is not handled",
                        ins.line,
                    )
    last_pip = app_pip[-1].index
    plan = Plan(
        df=df,
        builder_base=root.base,
        runtime_base=runtime_base,
        builder_ref=root.base_resolved,
        runtime_ref=runtime_ref,
        pip_runs={i.index for i in pip_runs},
        cache_mount=df.uses_buildkit_features,
        venv=venv,
        own_venv=own_venv,
        kept_stages=kept,
        runtime_name=final.name,
        builder_name=builder_name,
        later_froms=[s.from_instruction for s in lineage if s is not root],
        build_packages=build_packages,
        vcs_packages=vcs_packages,
        apt_runs=apt_runs,
        platform="".join(
            f"--{f.name}={f.value} " for f in root.from_instruction.flags if f.value is not None
        ),
    )
    pip_paths = [
        w.value.rstrip("*").rstrip("/")
        for i in pip_runs
        for c in runs[i.index].pip
        for w in c.args
        if w.value.startswith("/")
    ]
    apt_keep: list[str] = []
    compiles_elsewhere = False
    apt_setup_seen = False
    for ins in body:
        kw = ins.keyword
        before_install = ins.index < last_pip
        if kw == "USER":
            if before_install:
                return Refusal("USER before the pip installs is not handled", ins.line)
            plan.has_user = True
            plan.runtime.append(ins)
        elif kw in ("ARG", "ENV", "WORKDIR"):
            plan.builder.append(ins)
            plan.runtime.append(ins)
        elif kw == "RUN":
            this = runs.get(ins.index)
            if this is None:  # exec form: a program run as it is
                if before_install:
                    plan.builder.append(ins)
                plan.runtime.append(ins)
                continue
            run = this
            compilers = [c.name for c in run.lasting if c.name in _COMPILERS]
            if compilers:
                if before_install or run.moves:
                    return Refusal(
                        f"a RUN compiles with `{compilers[0]}` outside the pip installs",
                        ins.line,
                    )
                compiles_elsewhere = True
            if any(_is_apt_setup(c) for c in run.lasting):
                apt_setup_seen = True
            if run.moves:
                if run.apt and apt_setup_seen:
                    return Refusal(
                        "apt repositories or keys set up for the installs are not handled",
                        ins.line,
                    )
                plan.builder.append(ins)
                for pkg in _apt_packages(ins):
                    name = pkg.split("=", 1)[0]
                    if not is_build_package(name) and pkg not in apt_keep:
                        apt_keep.append(pkg)
                if run.lasting:  # split: the runtime stage runs the other commands
                    text = cut_commands(df, ins, [*run.lasting, *run.quiet])
                    if text is None:
                        return Refusal(
                            f"a RUN mixes installs with `{run.lasting[0].name}` in a loop, "
                            "condition or pipe; split it first",
                            ins.line,
                        )
                    plan.runtime_text[ins.index] = text
                    plan.runtime.append(ins)
            else:
                if before_install:
                    plan.builder.append(ins)
                plan.runtime.append(ins)
        elif kw in ("COPY", "ADD"):
            if before_install:
                plan.builder.append(ins)
            source = ins.flag("from")
            dest = ins.args[-1].rstrip("/") if ins.args else ""
            wheels = (
                before_install
                and source is not None
                and dest.startswith("/")
                and any(p == dest or p.startswith(dest + "/") for p in pip_paths)
            )
            if not _manifest_only(ins) and not wheels:
                plan.runtime.append(ins)
        elif kw in _RUNTIME_ONLY or kw == "MAINTAINER":
            plan.runtime.append(ins)
        else:
            return Refusal(f"{kw} is not handled by the multi-stage conversion", ins.line)
    if compiles_elsewhere and build_packages:
        return Refusal("a RUN after the installs compiles with the toolchain", None)
    plan.apt_runtime_packages = apt_keep
    plan.runtime_uses_pip = _runtime_runs_pip(plan)
    # git & co. stay when the runtime stage runs them
    for pkg in list(vcs_packages):
        if _runtime_mentions(plan, {pkg, "git"} if pkg.startswith("git") else {pkg, "ssh"}):
            plan.apt_runtime_packages.append(pkg)
            vcs_packages.remove(pkg)
    if not build_packages and not vcs_packages and not full_base:
        return None  # what the builder could take away, the runtime still needs
    plan.removable = bool(build_packages or vcs_packages)
    return plan


def _runtime_words(plan: Plan) -> list[str]:
    """Program names and arguments (base names) the runtime stage runs."""
    words: list[str] = []
    for ins in plan.runtime:
        if ins.keyword == "RUN":
            run_cmds = commands(ins)
            if ins.index in plan.runtime_text:
                run = _classify(ins)
                if isinstance(run, _Run):
                    run_cmds = [*run.lasting, *run.quiet]
            for c in run_cmds:
                words.extend(PurePosixPath(w).name for w in c.argv if w)
        elif ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            words.extend(PurePosixPath(w).name for a in ins.args for w in a.split() if w)
    return words


def _runtime_mentions(plan: Plan, names: set[str]) -> bool:
    return any(w in names for w in _runtime_words(plan))


def _runtime_runs_pip(plan: Plan) -> bool:
    words = _runtime_words(plan)
    return any(_is_pip(w) or w in ("setup.py", "easy_install") for w in words) or any(
        a == "-m" and b in ("pip", "pip3", "ensurepip") for a, b in itertools.pairwise(words)
    )


def _leading(df: Dockerfile, ins: Instruction) -> str:
    """Comments and blank lines directly above ``ins`` (its own lines, newline-terminated)."""
    prev_end = df.directives.end
    for other in df.instructions:
        if other.end <= ins.start and other is not ins:
            prev_end = max(prev_end, other.end)
    lead = df.source[prev_end : ins.start]
    if prev_end > df.directives.end and lead.startswith(("\r\n", "\n")):
        lead = lead[2:] if lead.startswith("\r\n") else lead[1:]
    return lead.replace("\r\n", "\n")


def _text(df: Dockerfile, ins: Instruction) -> str:
    return df.source[ins.start : ins.end].replace("\r\n", "\n")


# directories of the base system: never handed to the application's user
_SYSTEM_DIRS = {
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib",
    "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share",
    "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/cache", "/var/lib", "/var/log",
    "/var/run", "/var/tmp",
}  # fmt: skip
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9_./@+-]+$")


def _owned_dir(path: str) -> bool:
    return (
        path.startswith("/")
        and _PLAIN_PATH.match(path) is not None
        and path.rstrip("/") not in _SYSTEM_DIRS
        and "/.." not in path
        and not path.startswith(("/proc/", "/sys/", "/dev/", "/etc/", "/usr/lib/", "/usr/bin/"))
    )


class _Ownership:
    """The runtime stage's instructions as written when the conversion adds the user ``app``:
    what the original (root) process could write at run time stays writable by ``app``. The
    WORKDIR is created and handed over in one layer (``mkdir -p X && chown``), COPY/ADD into
    an owned directory get ``--chown``, and directories a RUN makes with ``mkdir`` are handed
    over in the same RUN. System directories are never changed."""

    def __init__(self, df: Dockerfile, plan: Plan) -> None:
        self.df = df
        self.venv = plan.venv
        self.cwd: str | None = "/"
        self.owned: list[str] = []
        self.owner = f"{USER_NAME}:{USER_NAME}"

    def _resolve(self, path: str) -> str | None:
        if path.startswith("/"):
            return str(PurePosixPath(path))
        if self.cwd is None or "$" in path:
            return None
        return str(PurePosixPath(self.cwd) / path)

    def _inside_owned(self, path: str) -> bool:
        return any(path == o or path.startswith(o.rstrip("/") + "/") for o in self.owned)

    def text(self, ins: Instruction, override: str | None = None) -> str:
        df = self.df
        text = _text(df, ins) if override is None else override
        if ins.keyword == "WORKDIR" and ins.args:
            target = self._resolve(ins.args[0])
            self.cwd = target
            if (
                target is None
                or not _owned_dir(target)
                or target == self.venv
                or self._inside_owned(target)
            ):
                return text
            self.owned.append(target)
            return f"RUN mkdir -p {target} && chown {self.owner} {target}\n{text}"
        if ins.keyword in ("COPY", "ADD") and ins.flag("chown") is None and len(ins.args) > 1:
            dest = self._resolve(ins.args[-1])
            if dest is not None and self._inside_owned(dest):
                head = ins.keyword_end - ins.start
                return text[:head] + f" --chown={self.owner}" + text[head:]
            return text
        if ins.keyword == "RUN":
            made = [m for m in self._mkdir_targets(ins) if m != self.venv]
            if made and override is not None:
                self.owned.extend(made)
                return f"{text} && chown {self.owner} " + " ".join(made)
            if made:
                edit = append_to_run(ins, df, f"chown {self.owner} " + " ".join(made))
                if edit is not None:
                    raw = df.source[ins.start : ins.end]
                    at = edit.start - ins.start
                    text = (raw[:at] + edit.text + raw[edit.end - ins.start :]).replace(
                        "\r\n", "\n"
                    )
                    self.owned.extend(made)
        return text

    def _mkdir_targets(self, ins: Instruction) -> list[str]:
        cmds = commands(ins)
        if any(c.name in ("cd", "pushd", "popd") for c in cmds):
            return []  # relative paths would be resolved against another directory
        made: list[str] = []
        for cmd in cmds:
            if cmd.name != "mkdir" or any(w.dynamic for w in cmd.args):
                continue
            skip = False
            for word in cmd.args:
                value = word.value
                if skip:
                    skip = False
                elif value in ("-m", "--mode", "--context"):
                    skip = True
                elif not value.startswith("-"):
                    path = self._resolve(value)
                    if path is not None and _owned_dir(path) and path not in made:
                        made.append(path)
        return made


def _pip_run_text(plan: Plan, ins: Instruction) -> str:
    text = _text(plan.df, ins)
    if plan.cache_mount and PIP_CACHE not in ins.cache_mount_targets():
        head = ins.keyword_end - ins.start
        text = (text[:head] + f" --mount=type=cache,target={PIP_CACHE}" + text[head:]).replace(
            " --no-cache-dir", ""
        )
    return text


def _stage_text(df: Dockerfile, stage: Stage) -> str:
    """A stage outside the final image, as written (comments above each instruction kept)."""
    out = ""
    for ins in stage.instructions:
        out += _leading(df, ins) + _text(df, ins) + "\n"
    return out


def _apt_install(packages: list[str], esc: str) -> str:
    return (
        f"RUN apt-get update {esc}\n"
        "    && apt-get install -y --no-install-recommends "
        + " ".join(packages)
        + f" {esc}\n    && rm -rf /var/lib/apt/lists/*\n"
    )


def render(
    plan: Plan,
    runtime_packages: list[str],
    libraries: list[str] | None = None,
    strip: tuple[str, ...] | list[str] = (),
) -> str:
    """The multi-stage Dockerfile; ``runtime_packages`` are the scanned library packages,
    ``strip`` the packaging tools (pip, setuptools, wheel) the runtime's virtualenv drops.

    Continuation lines end in the file's escape character (``# escape=`` keeps its meaning).
    """
    df = plan.df
    esc = df.directives.escape
    venv = plan.venv
    out: list[str] = []
    header = df.source[: df.directives.end].replace("\r\n", "\n")
    for g in df.global_args:
        header += _leading(df, g) + _text(df, g) + "\n"
    out.append(header)
    for stage in plan.kept_stages:
        out.append(_stage_text(df, stage))
    root = next(s for s in df.stages if s.base == plan.builder_base and s.parent is None)
    lead = "" if root in plan.kept_stages else _leading(df, root.from_instruction)
    if plan.kept_stages and not lead.startswith("\n"):
        lead = "\n" + lead
    out.append(lead)
    out.append(
        "# build stage: compilers, headers and a virtualenv with the application's packages\n"
    )
    out.append(f"FROM {plan.platform}{plan.builder_base} AS {plan.builder_name}\n")
    if not plan.own_venv:
        out.append(f"RUN python -m venv {venv}\n")
        out.append(f'ENV VIRTUAL_ENV={venv} PATH="{venv}/bin:$PATH"\n')
    runtime_ids = {id(i) for i in plan.runtime}
    for ins in plan.builder:
        if id(ins) not in runtime_ids:
            out.append(_leading(df, ins))
        if ins.index in plan.pip_runs:
            out.append(_pip_run_text(plan, ins) + "\n")
        else:
            out.append(_text(df, ins) + "\n")
    if strip:
        out.append(
            "# the runtime needs no packaging tools: nothing in the virtualenv imports them\n"
            f"RUN {venv}/bin/python -m pip uninstall -y " + " ".join(strip) + "\n"
        )
    out.append("\n")
    for later in plan.later_froms:  # comments above the FROMs of the final image's stages
        out.append(_leading(df, later).lstrip("\n"))
    out.append("# runtime stage: the slim base, the virtualenv and the application only\n")
    name = f" AS {plan.runtime_name}" if plan.runtime_name else ""
    out.append(f"FROM {plan.platform}{plan.runtime_base}{name}\n")
    prelude_done = False

    def prelude() -> None:
        packages = sorted(set(plan.apt_runtime_packages) | set(runtime_packages))
        if packages:
            if libraries:
                out.append(
                    "# shared libraries the installed packages load: "
                    + ", ".join(sorted(libraries))
                    + "\n"
                )
            out.append(_apt_install(packages, esc))
        if not plan.has_user:
            out.append(
                f"RUN groupadd --system --gid {USER_ID} {USER_NAME} {esc}\n"
                f"    && useradd --no-log-init --system --uid {USER_ID} --gid {USER_NAME} "
                f"--create-home {USER_NAME}\n"
            )
        out.append(f"COPY --from={plan.builder_name} {venv} {venv}\n")
        if not plan.own_venv:
            out.append(f'ENV VIRTUAL_ENV={venv} PATH="{venv}/bin:$PATH"\n')

    last_fs = max(
        (
            n
            for n, ins in enumerate(plan.runtime)
            if ins.keyword in ("RUN", "COPY", "ADD", "WORKDIR")
        ),
        default=-1,
    )
    owned = _Ownership(df, plan) if not plan.has_user else None
    for n, ins in enumerate(plan.runtime):
        if not prelude_done and ins.keyword not in ("ARG", "ENV", "LABEL"):
            prelude()
            prelude_done = True
        out.append(_leading(df, ins))
        override = plan.runtime_text.get(ins.index)
        if owned is not None:
            out.append(owned.text(ins, override) + "\n")
        else:
            out.append((override if override is not None else _text(df, ins)) + "\n")
        if n == last_fs and not plan.has_user:
            out.append(f"USER {USER_NAME}\n")
    if not prelude_done:
        prelude()
        if not plan.has_user:
            out.append(f"USER {USER_NAME}\n")
    tail = df.source[df.instructions[-1].end :].replace("\r\n", "\n").lstrip("\n")
    if tail:
        out.append(tail if tail.endswith("\n") else tail + "\n")
    text = "".join(out)
    return text.replace("\n", df.newline) if df.newline != "\n" else text


def render_removal(plan: Plan, runtime_packages: list[str]) -> str:
    """The file without its toolchain, when nothing the pip installs built needed it: the
    build packages leave the apt installs (a command left with none goes, with the list
    cleanup of its RUN), the base becomes its slim variant, and the packages of the shared
    libraries the installed distributions load are installed in their place."""
    df = plan.df
    src = df.source
    esc = df.directives.escape
    drop = set(plan.build_packages) | set(plan.vcs_packages)
    drop -= set(plan.apt_runtime_packages)  # git & co. the runtime runs
    edits: list[Edit] = []
    root = next(s for s in df.stages if s.base == plan.builder_base and s.parent is None)
    if plan.runtime_base != plan.builder_base:
        fr = root.from_instruction
        at = src.find(plan.builder_base, fr.keyword_end, fr.end)
        if at >= 0:
            edits.append(Edit(at, at + len(plan.builder_base), plan.runtime_base))
    pending = sorted(set(runtime_packages))
    for ins in plan.apt_runs:
        cmds = commands(ins)
        words = []
        emptied: list[Command] = []
        for cmd in cmds:
            if cmd.name not in APT or cmd.subcommand() != "install":
                continue
            pkgs = cmd.words_after("install")
            gone = [w for w in pkgs if w.value.split("=", 1)[0] in drop]
            if not gone:
                continue
            if len(gone) == len(pkgs):
                emptied.append(cmd)
            else:
                words.extend(gone)
                if pending:  # the libraries go where the build packages were
                    last = pkgs[-1]
                    edits.append(Edit(last.end, last.end, " " + " ".join(pending)))
                    pending = []
        if emptied:
            # an install left with no package goes, and so does the rest of the apt work
            # of its RUN (update, clean, list removal, purges) when no install stays
            installs_left = [
                c
                for c in cmds
                if c.name in APT and c.subcommand() == "install" and c not in emptied
            ]
            gone_cmds = set(map(id, emptied))
            if not installs_left:
                gone_cmds |= {
                    id(c)
                    for c in cmds
                    if c.name in APT
                    or c.name == "apt-mark"
                    or (c.name == "rm" and any("/var/lib/apt/lists" in v for v in c.arg_values))
                }
            keep = [c for c in cmds if id(c) not in gone_cmds]
            meaningful = [c for c in keep if not _no_lasting_effect(c)]
            if not meaningful:
                new = _apt_install(pending, esc).rstrip("\n") if pending else ""
                pending = []
                start, end = ins.start, ins.end
                if not new:  # the whole line goes
                    end = src.find("\n", end) + 1 if src.find("\n", end) >= 0 else len(src)
                edits.append(Edit(start, end, new))
                continue
            text = cut_commands(df, ins, keep)
            if text is None:
                return ""
            if pending:
                text += f" {esc}\n    && " + _apt_install(pending, esc)[4:].rstrip("\n")
                pending = []
            edits.append(Edit(ins.start, ins.end, text))
            continue
        if words:
            edits.extend(remove_words(src, ins, words, esc))
    out = src
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out
