"""What each command of a RUN does, as the conversion needs to know it: apt, pip, a
virtualenv, a step that only prepares an install, a command with no lasting effect; and
how to cut commands out of a flat RUN."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction
from jettison.dockerfile.commands import (
    APT,
    PIP,
    commands,
    find_exec_actions,
    is_pip_install,
    python_module,
)
from jettison.fixes.multistage.model import PIP_TOOLING, Refusal
from jettison.rules._manifests import is_extraction
from jettison.rules.size._common import workdirs
from jettison.rules.size.build_tools import BUILD_TOOLS

# tools whose environments this conversion does not know how to move into a runtime stage
_UNHANDLED = {
    "conda": "conda environments",
    "mamba": "conda environments (mamba)",
    "micromamba": "conda environments (micromamba)",
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
    r"setup\.cfg|MANIFEST\.in|Pipfile(\.lock|\*)?|(poetry|uv|pdm)\.lock)$"
)


# tools that only prepare an install (their output is read by pip): builder only
_PREPARE_ONLY = {"pip-compile", "pip-sync", "pyproject-build"}


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


def is_pip(name: str) -> bool:
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


def no_lasting_effect(cmd: Command) -> bool:
    if is_extraction(cmd):
        return True  # JT201's listing of the project's dependencies into a temporary file
    if _writes_a_file(cmd):
        return False
    name = cmd.name
    if is_pip(name):
        return cmd.subcommand() in _PIP_READ_ONLY
    if name != "find":
        return name in _NO_LASTING_EFFECT
    args = cmd.arg_values
    if any(a in _FIND_WRITES for a in args):
        return False
    # find -exec CMD: rm is a cleanup; strip (JT139) rewrites installed libraries in place,
    # and the builder's copy carries them stripped
    return all(action in ("rm", "strip") for action in find_exec_actions(cmd))


def _is_pip_uninstall(cmd: Command) -> bool:
    return is_pip(cmd.name) and cmd.subcommand() == "uninstall"


# uv's commands: `uv pip install|sync` install like pip into the active virtualenv (or the
# system's with --system), `uv sync` into the project's environment (`.venv` beside
# pyproject.toml, or UV_PROJECT_ENVIRONMENT), `uv venv` makes one; `uv lock`/`uv export`
# only prepare an install
_UV_PREPARE = {"lock", "export", "--version", "version", "cache"}


def uv_subcommand(cmd: Command) -> str | None:
    """``sync``, ``venv``, ``pip install``, ``pip sync`` ... for a uv command, else None."""
    if cmd.name != "uv":
        return None
    words = [v for v in cmd.arg_values if not v.startswith("-")]
    if not words:
        return ""
    if words[0] == "pip" and len(words) > 1:
        return f"pip {words[1]}"
    return words[0]


def is_uv_install(cmd: Command) -> bool:
    return uv_subcommand(cmd) in ("sync", "pip install", "pip sync")


# pdm's commands: `pdm install|sync` fill the project's environment (`.venv` beside
# pyproject.toml, made on first use, as `uv sync` does); lock and export only prepare
_PDM_PREPARE = {"lock", "export", "config", "--version", "list", "show", "info", ""}


def pdm_subcommand(cmd: Command) -> str | None:
    if cmd.name != "pdm":
        return None
    return next((w for w in cmd.arg_values if not w.startswith("-")), "")


def is_pdm_install(cmd: Command) -> bool:
    return pdm_subcommand(cmd) in ("install", "sync")


def fills_project_environment(cmd: Command) -> bool:
    """`uv sync` or `pdm install|sync`: the project's own `.venv` is made and filled."""
    return uv_subcommand(cmd) == "sync" or is_pdm_install(cmd)


def is_poetry_install(cmd: Command) -> bool:
    return cmd.name == "poetry" and cmd.subcommand() == "install"


def pipenv_subcommand(cmd: Command) -> str | None:
    """``install``, ``sync``, ``lock`` ... for `pipenv` or `python -m pipenv`, else None
    ("" for a bare `pipenv --version`)."""
    if cmd.name == "pipenv":
        words = cmd.arg_values
    elif (module := python_module(cmd)) is not None and module[0] == "pipenv":
        words = list(module[1])
    else:
        return None
    return next((w for w in words if not w.startswith("-")), "")


def is_pipenv_install(cmd: Command) -> bool:
    return pipenv_subcommand(cmd) in ("install", "sync")


def is_install(cmd: Command) -> bool:
    """A command that installs Python packages: pip's install, uv's, poetry's or pipenv's."""
    return (
        is_pip_install(cmd)
        or is_uv_install(cmd)
        or is_poetry_install(cmd)
        or is_pipenv_install(cmd)
        or is_pdm_install(cmd)
    )


# poetry's commands that only prepare an install (configuration, lock and export files, a
# wheel in dist/ a later pip install reads): builder only
_POETRY_PREPARE = {"config", "lock", "export", "check", "build", "self", "--version", "about"}
# pipenv's commands that only prepare an install (a lock file, a requirements export)
_PIPENV_PREPARE = {"lock", "requirements", "check", "verify", "graph", "--version", ""}
# tools that drive installs and are not the application's: pip installs them with the base
# image's own interpreter in the builder, outside its virtualenv
_FRONTEND = re.compile(r"^(poetry(-[a-z0-9-]+)?|pipenv|pdm)$")


def installs_only_frontends(cmd: Command) -> bool:
    """`pip install poetry` (and its plugins) or `pip install pipenv`: a build tool, not an
    application package."""
    if not is_pip_install(cmd) or cmd.has_flag("-r", "--requirement", "-e", "--editable"):
        return False
    names = [
        re.split(r"[<>=!~\[;@ ]", w.value, maxsplit=1)[0].lower()
        for w in cmd.words_after("install")
    ]
    return bool(names) and all(_FRONTEND.match(n) or n in PIP_TOOLING for n in names)


# pdm's settings that move or replace the project's `.venv` (an active virtualenv too: the
# builder's would be used instead of the project's own)
_PDM_ELSEWHERE = ("PDM_VENV_IN_PROJECT", "PDM_USE_VENV", "PDM_PYTHON", "PDM_VENV_LOCATION")


def uv_project_environment(cmd: Command, ins: Instruction) -> str | None:
    """Where `uv sync` or `pdm install` installs: UV_PROJECT_ENVIRONMENT, or `.venv` in the
    working directory (where the project's pyproject.toml is); None when it cannot be read."""
    if is_pdm_install(cmd):
        if cmd.has_flag("-g", "--global", "-p", "--project", "--venv") or any(
            ins.variables.get(v) for v in (*_PDM_ELSEWHERE, "VIRTUAL_ENV")
        ):
            return None
        cwd = workdirs(ins.stage).get(ins.index) if ins.stage is not None else None
        return str(PurePosixPath(cwd) / ".venv") if cwd else None
    configured = ins.variables.get("UV_PROJECT_ENVIRONMENT")
    if configured:
        return _expand(configured, ins) if configured.startswith("/") or "$" in configured else None
    if cmd.has_flag("--directory", "--project"):
        return None
    cwd = workdirs(ins.stage).get(ins.index) if ins.stage is not None else None
    return str(PurePosixPath(cwd) / ".venv") if cwd else None


def installs_application_packages(cmd: Command) -> bool:
    """A pip install of more than pip's own tooling (``pip install --upgrade pip`` alone gives
    no application packages to move into a builder)."""
    if uv_subcommand(cmd) in ("sync", "pip sync") or is_poetry_install(cmd):
        return True
    if is_pipenv_install(cmd) or is_pdm_install(cmd):
        return True
    if installs_only_frontends(cmd):
        return False
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


def venv_target(cmd: Command, ins: Instruction) -> str | bool | None:
    """The directory a ``python -m venv DIR`` / ``virtualenv DIR`` / ``uv venv [DIR]``
    creates, or `uv sync` installs into; False when the command makes no virtualenv, None
    when its directory cannot be read."""
    vals = cmd.arg_values
    sub = uv_subcommand(cmd)
    if fills_project_environment(cmd):
        return uv_project_environment(cmd, ins)
    if sub == "venv":
        dirs = [w for w in vals[1:] if not w.startswith("-")]
        if len(dirs) > 1 or any(v.startswith(("-p", "--python")) for v in vals[1:]):
            return None
        cwd = workdirs(ins.stage).get(ins.index) if ins.stage is not None else None
        target = dirs[0] if dirs else ".venv"
        if target.startswith("/") or "$" in target:
            return _expand(target, ins)
        return str(PurePosixPath(cwd) / target) if cwd else None
    if cmd.name == "virtualenv":
        rest = vals
    elif (module := python_module(cmd)) is not None:
        if module[0] not in ("venv", "virtualenv"):
            return False
        rest = module[1]
    else:
        return False
    dirs = [w for w in rest if not w.startswith("-")]
    if len(dirs) != 1:
        return None
    return _expand(dirs[0], ins)


def in_venv(cmd: Command, ins: Instruction, venv: str, activated: bool) -> bool:
    """Whether a pip command installs into ``venv``: called by its path, after the RUN
    sourced its activate script, or with the virtualenv first on PATH."""
    if cmd.name_word.value.startswith(venv.rstrip("/") + "/bin/"):
        return True
    sub = uv_subcommand(cmd)
    if fills_project_environment(cmd):
        return uv_project_environment(cmd, ins) == venv.rstrip("/")
    if sub is not None or cmd.name == "poetry":
        # uv pip: the active virtualenv (VIRTUAL_ENV), unless told otherwise
        if cmd.has_flag("--system", "--python", "-p", "--prefix", "--target"):
            return False
        active = ins.variables.get("VIRTUAL_ENV", "")
        return activated or (_expand(active, ins) if "$" in active else active) == venv.rstrip("/")
    if activated:
        return True
    path = ins.variables.get("PATH", "")
    first = path.split(":", 1)[0]
    resolved = _expand(first, ins) if "$" in first else first
    return resolved == venv.rstrip("/") + "/bin"


def activates(cmd: Command, venv: str) -> bool:
    return cmd.name in (".", "source") and any(
        a.rstrip("/") == venv.rstrip("/") + "/bin/activate" for a in cmd.arg_values
    )


def apt_packages(ins: Instruction) -> list[str]:
    out: list[str] = []
    for cmd in commands(ins):
        if cmd.name in APT and cmd.subcommand() == "install":
            for word in cmd.words_after("install"):
                out.append(word.value)
    return out


def manifest_only(ins: Instruction) -> bool:
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


def is_apt_setup(cmd: Command) -> bool:
    """A command that adds an apt repository or key: the installs after it need it."""
    if cmd.name in ("apt-key", "add-apt-repository", "gpg"):
        return True
    return any("/etc/apt" in v for v in (*cmd.arg_values, *cmd.redirects))


@dataclass
class RunCommands:
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


def classify(ins: Instruction) -> RunCommands | Refusal:
    run = RunCommands()
    for cmd in commands(ins):
        name = cmd.name
        if name in _UNHANDLED:
            return Refusal(f"{_UNHANDLED[name]} are not handled", ins.line)
        if name in _WRAPPERS:
            continue
        if name == "uv":
            sub = uv_subcommand(cmd)
            if sub in ("sync", "venv"):
                run.venv.append(cmd)  # `uv sync` both makes the environment and fills it
                if sub == "sync":
                    run.pip.append(cmd)
            elif sub in ("pip install", "pip sync", "pip uninstall"):
                if cmd.has_flag("--target", "--prefix", "--user", "-p", "--python"):
                    return Refusal(
                        "uv installs outside the environment (--target/--prefix/--python) "
                        "are not handled",
                        ins.line,
                    )
                run.pip.append(cmd)
            elif sub in _UV_PREPARE or (sub or "").startswith("pip "):
                run.prepare.append(cmd)
            else:
                return Refusal(f"`uv {sub}` is not handled", ins.line)
            continue
        if name == "poetry":
            sub = cmd.subcommand()
            if sub == "install":
                run.pip.append(cmd)
            elif sub is None or sub in _POETRY_PREPARE:
                run.prepare.append(cmd)
            else:
                return Refusal(f"`poetry {sub}` is not handled", ins.line)
            continue
        pipenv = pipenv_subcommand(cmd)
        if pipenv is not None:
            if pipenv in ("install", "sync"):
                # the builder runs it with its virtualenv active, which pipenv installs
                # into; without --system the original's own virtualenv (somewhere under
                # ~/.local or the project) is what the image runs, and its path goes
                if not cmd.has_flag("--system"):
                    return Refusal(
                        "pipenv installs into a virtualenv of its own (no --system): not handled",
                        ins.line,
                    )
                run.pip.append(cmd)
            elif pipenv in _PIPENV_PREPARE:
                run.prepare.append(cmd)
            else:
                return Refusal(f"`pipenv {pipenv}` is not handled", ins.line)
            continue
        pdm = pdm_subcommand(cmd)
        if pdm is not None:
            if pdm in ("install", "sync"):
                run.venv.append(cmd)  # like `uv sync`: makes the project's .venv and fills it
                run.pip.append(cmd)
            elif pdm in _PDM_PREPARE:
                run.prepare.append(cmd)
            else:
                return Refusal(f"`pdm {pdm}` is not handled", ins.line)
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
        elif venv_target(cmd, ins) is not False:
            run.venv.append(cmd)
        elif name in _PREPARE_ONLY or ((python_module(cmd) or ("",))[0] in ("build", "piptools")):
            run.prepare.append(cmd)
        elif no_lasting_effect(cmd) or (name in (".", "source") and "activate" in str(cmd.argv)):
            run.quiet.append(cmd)
        else:
            run.lasting.append(cmd)
    return run
