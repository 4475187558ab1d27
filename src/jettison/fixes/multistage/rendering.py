"""Writing the conversion: :func:`render` turns a :class:`Plan` and the runtime packages
into the new Dockerfile text; :func:`render_removal` removes the toolchain instead when
nothing was compiled."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction, Stage
from jettison.dockerfile.commands import APT, append_to_run, commands, is_pip_install
from jettison.findings import Edit
from jettison.fixes.multistage.classify import cut_commands, no_lasting_effect
from jettison.fixes.multistage.model import PIP_CACHE, USER_ID, USER_NAME, Plan
from jettison.rules.size.word_removal import remove_words


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
    text = plan.builder_text.get(ins.index) or _text(plan.df, ins)
    uses_pip = any(is_pip_install(c) for c in commands(ins))
    if plan.cache_mount and uses_pip and PIP_CACHE not in ins.cache_mount_targets():
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
            meaningful = [c for c in keep if not no_lasting_effect(c)]
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
