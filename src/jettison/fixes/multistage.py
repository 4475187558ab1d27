"""Multi-stage conversion for Python applications (an unsafe fix).

From a single-stage Dockerfile on an official ``python`` image that installs build tools and
Python packages, :func:`plan_conversion` decides where every instruction goes and
:func:`render` writes the two-stage file:

* **builder** (the original base image): the original ARG/ENV/WORKDIR, every apt install,
  a virtualenv in ``/opt/venv`` (created first, put on ``PATH``), the COPYs the installs need
  and the pip installs (with a pip cache mount only when the file already uses BuildKit
  syntax, because a plain ``docker build`` would reject ``RUN --mount``).
* **runtime** (the ``-slim`` variant of the base, :func:`jettison.rules.size.slim_variant`):
  the original ARG/ENV; one apt install of the packages that are not build tools plus the
  Debian packages of the shared libraries the installed packages load; a non-root user
  ``app`` (uid 10001) unless the file has its own USER; ``COPY --from=builder /opt/venv``;
  then the original WORKDIR/COPY/ADD/RUN/EXPOSE/HEALTHCHECK/LABEL/VOLUME/USER/ENTRYPOINT/
  CMD in their order, with ``USER app`` after the last filesystem change.

The runtime packages are found by :func:`jettison.fixes.runtime_libs.scan` (an engine step:
build the builder stage, ``ldd`` every ELF file in the virtualenv, ``dpkg -S`` each library
outside it, minus what the slim image has). ``render`` takes that list as plain data, sorted,
so the text it writes depends only on the input file and that list.

What is refused (a reason, no output): conda/mamba, poetry, pipenv, pdm, uv, non-Debian
package managers, npm/yarn, ``pip install --user/--prefix/--target/--root``, a RUN that
mixes the installs with a command that may leave something the runtime needs (see
``_NO_LASTING_EFFECT``), SHELL/ONBUILD, USER before the installs, a base image that is not an
official ``python`` image with a slim variant, a variable base. A RUN of apt-get and pip
together (plus cleanup) goes into the builder whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction
from jettison.rules._project import is_extraction
from jettison.rules._shell import APT, PIP, append_to_run, commands, is_pip_install
from jettison.rules.size import BUILD_TOOLS, slim_variant

CODE = "MULTISTAGE"
VENV = "/opt/venv"
USER_NAME = "app"
USER_ID = 10001
BUILDER = "builder"
PIP_CACHE = "/root/.cache/pip"

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


@dataclass(frozen=True)
class Refusal:
    """The conversion does not apply to this file, and why (shown to the user)."""

    reason: str
    line: int | None = None


@dataclass
class Plan:
    """Where each instruction of the single stage goes; ``render`` turns it into text."""

    df: Dockerfile
    builder_base: str
    runtime_base: str
    builder: list[Instruction] = field(default_factory=list)
    runtime: list[Instruction] = field(default_factory=list)
    pip_runs: set[int] = field(default_factory=set)  # instruction indexes of pip RUNs
    apt_runtime_packages: list[str] = field(default_factory=list)  # non-build apt packages
    has_user: bool = False
    cache_mount: bool = False

    @property
    def builder_stage_name(self) -> str:
        return BUILDER


def is_build_package(pkg: str) -> bool:
    return (
        pkg in BUILD_TOOLS
        or pkg.endswith(("-dev", "-devel"))
        or re.match(r"^(gcc|g\+\+|clang|llvm|cpp)-\d+$", pkg) is not None
    )


# Commands that leave nothing behind but deletions when their RUN runs in the builder only:
# shell state that ends with the RUN, output, tests and cleanup. A RUN of apt-get and/or pip
# plus these goes to the builder whole; anything else (useradd, mkdir, curl, apt-key, a
# python script...) may make something the runtime stage needs, so such a RUN is refused.
_NO_LASTING_EFFECT = {
    "cd", "set", "export", "unset", "true", ":", "echo", "printf", "test", "[", "ls", "rm",
    "find", "apt-cache", "dpkg-query", "which", "command", "type",
}  # fmt: skip
_WRAPPERS = {"sudo", "env", "nohup", "time", "nice"}  # the wrapped command is seen on its own
_PIP_READ_ONLY = {"cache", "list", "check", "show", "freeze", None}  # None: --version
_PIP_TOOLING = {"pip", "setuptools", "wheel"}
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
        if name not in _PIP_TOOLING:
            return True
    return cmd.has_flag("-r", "--requirement", "-e", "--editable")


def _kind(ins: Instruction) -> tuple[str, Refusal | None]:
    """RUN kinds: apt, pip, apt+pip (one step: builder only), other; with a refusal when the
    RUN cannot be placed."""
    cmds = commands(ins)
    if ins.keyword == "RUN" and ins.json_form:
        return "other", None
    apt = pip = False
    other: str | None = None  # the first command with effects of its own
    for cmd in cmds:
        name = cmd.name
        if name in _UNHANDLED:
            return "", Refusal(f"{_UNHANDLED[name]} are not handled", ins.line)
        if name in ("python", "python3") and "pipenv" in cmd.arg_values[:2]:
            return "", Refusal(_UNHANDLED["pipenv"] + " are not handled", ins.line)
        if name in _WRAPPERS:
            continue
        if name in APT:
            apt = True
        elif is_pip_install(cmd) or _is_pip_uninstall(cmd):
            pip = True
            if cmd.has_flag(*_PIP_LOCATION_FLAGS):
                return "", Refusal(
                    "pip installs outside the environment (--user/--prefix/--target/--root) "
                    "are not handled",
                    ins.line,
                )
        elif not _no_lasting_effect(cmd) and other is None:
            other = name
    if other is not None and (apt or pip):
        what = "apt-get and pip" if apt and pip else "apt-get" if apt else "pip installs"
        return "", Refusal(
            f"a RUN mixes {what} with `{other}`, which may make something the runtime stage "
            "needs; split it first",
            ins.line,
        )
    if apt and pip:
        return "apt+pip", None
    return ("apt" if apt else "pip" if pip else "other"), None


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


def plan_conversion(df: Dockerfile) -> Plan | Refusal | None:
    """A plan, a refusal with its reason, or None when the conversion does not apply.

    It applies to single-stage files that install Python packages with pip. Files that
    are already multi-stage, or install no Python package, are left to the other fixes.
    """
    if len(df.stages) != 1:
        return None
    stage = df.stages[0]
    kinds: dict[int, str] = {}
    body = [i for i in stage.instructions if i is not stage.from_instruction]
    if not any(
        is_pip_install(c) and _installs_application_packages(c)
        for i in body
        if i.keyword == "RUN"
        for c in commands(i)
    ):
        return None  # no Python packages installed: nothing to move into a builder
    for ins in body:
        if ins.keyword in ("SHELL", "ONBUILD"):
            return Refusal(f"{ins.keyword} is not handled by the multi-stage conversion", ins.line)
        if ins.keyword == "RUN":
            kind, refusal = _kind(ins)
            if refusal is not None:
                return refusal
            kinds[ins.index] = kind
    pip_runs = [i for i in body if kinds.get(i.index) in ("pip", "apt+pip")]
    if not pip_runs:
        return None
    base = stage.base
    if "$" in base or stage.base_unresolved:
        return Refusal("the base image is a variable", stage.from_instruction.line)
    ref = stage.base_resolved
    repo = ref.split("@", 1)[0].rsplit(":", 1)[0] if ":" in ref.split("/")[-1] else ref
    if repo not in ("python", "library/python", "docker.io/library/python"):
        return Refusal(
            f"the base image {ref} is not an official python image", stage.from_instruction.line
        )
    tag = ref.split("@", 1)[0].rsplit(":", 1)[-1] if ":" in ref.split("/")[-1] else ""
    if "slim" in tag:
        runtime_base = ref
    else:
        slim = slim_variant(ref)
        if slim is None:
            return Refusal(f"{ref} has no -slim variant", stage.from_instruction.line)
        runtime_base = slim
    last_pip = pip_runs[-1].index
    plan = Plan(
        df=df,
        builder_base=ref,
        runtime_base=runtime_base,
        pip_runs={i.index for i in pip_runs},
        cache_mount=df.uses_buildkit_features,
    )
    apt_keep: list[str] = []
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
            kind = kinds[ins.index]
            if kind in ("apt", "pip", "apt+pip"):
                plan.builder.append(ins)
                if kind != "pip":
                    for pkg in _apt_packages(ins):
                        name = pkg.split("=", 1)[0]
                        if not is_build_package(name) and pkg not in apt_keep:
                            apt_keep.append(pkg)
            else:
                if before_install:
                    plan.builder.append(ins)
                plan.runtime.append(ins)
        elif kw in ("COPY", "ADD"):
            if before_install:
                plan.builder.append(ins)
            if not _manifest_only(ins):
                plan.runtime.append(ins)
        elif kw in _RUNTIME_ONLY or kw == "MAINTAINER":
            plan.runtime.append(ins)
        else:
            return Refusal(f"{kw} is not handled by the multi-stage conversion", ins.line)
    plan.apt_runtime_packages = apt_keep
    return plan


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
    "/var/run", "/var/tmp", VENV,
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

    def __init__(self, df: Dockerfile) -> None:
        self.df = df
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

    def text(self, ins: Instruction) -> str:
        df = self.df
        text = _text(df, ins)
        if ins.keyword == "WORKDIR" and ins.args:
            target = self._resolve(ins.args[0])
            self.cwd = target
            if target is None or not _owned_dir(target) or self._inside_owned(target):
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
            made = self._mkdir_targets(ins)
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


def render(plan: Plan, runtime_packages: list[str], libraries: list[str] | None = None) -> str:
    """The two-stage Dockerfile; ``runtime_packages`` are the scanned library packages.

    Continuation lines end in the file's escape character (``# escape=`` keeps its meaning).
    """
    df = plan.df
    esc = df.directives.escape
    stage = df.stages[0]
    fr = stage.from_instruction
    out: list[str] = []
    header = df.source[: df.directives.end].replace("\r\n", "\n")
    for g in df.global_args:
        header += _leading(df, g) + _text(df, g) + "\n"
    out.append(header)
    out.append(_leading(df, fr))
    flags = "".join(f"--{f.name}={f.value} " if f.value is not None else "" for f in fr.flags)
    out.append(
        "# build stage: compilers, headers and a virtualenv with the application's packages\n"
    )
    out.append(f"FROM {flags}{plan.builder_base} AS {BUILDER}\n")
    out.append(f"RUN python -m venv {VENV}\n")
    out.append(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"\n')
    runtime_ids = {id(i) for i in plan.runtime}
    for ins in plan.builder:
        if id(ins) not in runtime_ids:
            out.append(_leading(df, ins))
        if ins.index in plan.pip_runs:
            out.append(_pip_run_text(plan, ins) + "\n")
        else:
            out.append(_text(df, ins) + "\n")
    out.append("\n# runtime stage: the slim base, the virtualenv and the application only\n")
    out.append(f"FROM {flags}{plan.runtime_base}\n")
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
            out.append(
                f"RUN apt-get update {esc}\n"
                "    && apt-get install -y --no-install-recommends "
                + " ".join(packages)
                + f" {esc}\n    && rm -rf /var/lib/apt/lists/*\n"
            )
        if not plan.has_user:
            out.append(
                f"RUN groupadd --system --gid {USER_ID} {USER_NAME} {esc}\n"
                f"    && useradd --no-log-init --system --uid {USER_ID} --gid {USER_NAME} "
                f"--create-home {USER_NAME}\n"
            )
        out.append(f"COPY --from={BUILDER} {VENV} {VENV}\n")
        out.append(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"\n')

    last_fs = max(
        (
            n
            for n, ins in enumerate(plan.runtime)
            if ins.keyword in ("RUN", "COPY", "ADD", "WORKDIR")
        ),
        default=-1,
    )
    owned = _Ownership(df) if not plan.has_user else None
    for n, ins in enumerate(plan.runtime):
        if not prelude_done and ins.keyword not in ("ARG", "ENV", "LABEL"):
            prelude()
            prelude_done = True
        out.append(_leading(df, ins))
        out.append((owned.text(ins) if owned is not None else _text(df, ins)) + "\n")
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
