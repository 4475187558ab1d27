"""JT207 project-in-copied-environment: the project is installed into the environment that
another stage copies whole, so every code change copies all the dependencies again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from jettison.dockerfile import Command, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _project
from jettison.rules.cache._common import LOCAL_PROJECT, install_targets
from jettison.rules.registry import Category, RuleContext, rule

_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")


@dataclass
class _Install:
    """A `pip install --no-deps <local project>` into an environment a later stage copies."""

    run: Instruction
    cmd: Command
    environment: str  # the venv or --prefix folder, absolute, no trailing slash
    prefix_word: tuple[int, int] | None  # the --prefix value's span, when given as an option


def _environment(cmd: Command, ins: Instruction) -> tuple[str, tuple[int, int] | None] | None:
    """Where ``cmd`` installs: its --prefix folder (and that value's span), or the virtual
    environment its pip belongs to; None for the system site-packages, --user or --target."""
    if cmd.has_flag("--user", "--target", "-t", "--root", "-e", "--editable"):
        return None
    words = list(cmd.args)
    for i, word in enumerate(words):
        if word.value.startswith("--prefix="):
            value = word.value.split("=", 1)[1]
            start = word.start + len("--prefix=")
            return (value.rstrip("/"), (start, word.end)) if _PLAIN_PATH.match(value) else None
        if word.value == "--prefix" and i + 1 < len(words):
            nxt = words[i + 1]
            ok = _PLAIN_PATH.match(nxt.value)
            return (nxt.value.rstrip("/"), (nxt.start, nxt.end)) if ok else None
    program = cmd.name_word.value
    if "/bin/" in program:  # /opt/venv/bin/pip, /opt/venv/bin/python -m pip
        root = program.rsplit("/bin/", 1)[0]
        return (
            (root, None) if _PLAIN_PATH.match(root) and root not in ("/usr", "/usr/local") else None
        )
    venv = ins.variables.get("VIRTUAL_ENV", "")
    path = ins.variables.get("PATH", "")
    if venv and _PLAIN_PATH.match(venv) and f"{venv.rstrip('/')}/bin" in path.split(":")[0]:
        return venv.rstrip("/"), None
    return None


def _project_installs(stage: Stage) -> Iterator[_Install]:
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        for cmd in sh.pip_installs(ins):
            if not cmd.has_flag("--no-deps", "--no-dependencies"):
                continue
            targets = install_targets(cmd)
            if not targets or not all(LOCAL_PROJECT.match(t) for t in targets):
                continue
            found = _environment(cmd, ins)
            if found is not None:
                yield _Install(ins, cmd, found[0], found[1])


def _copies_of(ctx: RuleContext, stage: Stage, environment: str) -> list[Instruction]:
    """The later stages' `COPY --from=<stage> <environment> DEST` instructions."""
    names = {str(stage.index)} | ({stage.name} if stage.name else set())
    out = []
    for other in ctx.stages:
        if other.index <= stage.index:
            continue
        for ins in other.instructions:
            origin = ins.flag("from") if ins.keyword == "COPY" else None
            if origin is None or (origin.value or "").lower() not in names or len(ins.args) != 2:
                continue
            if ins.args[0].rstrip("/") == environment and "$" not in ins.args[1]:
                out.append(ins)
    return out


def _holds_dependencies(stage: Stage, install: _Install) -> bool:
    """An earlier pip install of the stage (or a stage it is built from) put packages other
    than the project into the same environment: the part of it that stays the same."""
    for current in stage.lineage():
        for ins in current.instructions:
            if ins.keyword != "RUN" or ins.index >= install.run.index:
                continue
            for cmd in sh.pip_installs(ins):
                found = _environment(cmd, ins)
                if found is not None and found[0] == install.environment:
                    return True
    return False


def _uses_environment_later(stage: Stage, install: _Install) -> bool:
    """A later step of the stage runs Python or pip from the environment (a second install
    on top, a compile or collect step, a test run): it must keep finding the project there.
    Uninstalling pip & co. from it does not count."""
    for ins in stage.instructions:
        if ins.index <= install.run.index:
            continue
        if ins.keyword in ("COPY", "ADD") and install.environment in " ".join(ins.args):
            return True
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            program = cmd.name_word.value
            from_env = program.startswith(install.environment + "/")
            python_or_pip = sh.is_python(cmd) or cmd.name in sh.PIP
            if (from_env or python_or_pip) and "uninstall" not in cmd.arg_values[:3]:
                return True
    return False


@rule(
    "JT207",
    "project-in-copied-environment",
    Category.CACHE,
    Severity.INFO,
    "the project is installed into the environment another stage copies whole",
    what="""
        Flags `pip install --no-deps <the project>` into a virtual environment or a
        `--prefix` folder that already holds the dependencies and that a later stage copies
        whole (`COPY --from=build /opt/venv /opt/venv`).
    """,
    why="""
        The project changes with every code change; the dependencies do not. Installed into
        the same folder, the project makes the copy of that folder new on every code change:
        all the dependencies (often hundreds of megabytes) are copied, stored and pushed
        again. Installed into a folder of its own and copied after the environment, only the
        project's own files are.
    """,
    example="""
        FROM python:3.12 AS build
        RUN python -m venv /opt/venv
        COPY requirements.txt .
        RUN /opt/venv/bin/pip install -r requirements.txt
        COPY . /src
        RUN /opt/venv/bin/pip install --no-deps /src
        FROM python:3.12-slim
        COPY --from=build /opt/venv /opt/venv
    """,
    use_instead="""
        FROM python:3.12 AS build
        RUN python -m venv /opt/venv
        COPY requirements.txt .
        RUN /opt/venv/bin/pip install -r requirements.txt
        COPY . /src
        RUN /opt/venv/bin/pip install --no-deps --prefix=/opt/venv-project /src
        FROM python:3.12-slim
        COPY --from=build /opt/venv /opt/venv
        COPY --from=build /opt/venv-project /opt/venv
    """,
    fix="""
        Unsafe: the project's install gets a prefix of its own (`--prefix=ENV-project`, or
        its `--prefix` value changed to that), and every stage that copies the environment
        copies that prefix to the same destination right after it, with the same flags. A
        prefix has the layout of a virtual environment (`lib/pythonX.Y/site-packages`,
        `bin`), and pip writes the console scripts with the environment's interpreter. Not
        offered when a later step of the build stage uses the project from the environment.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def project_in_copied_environment(ctx: RuleContext) -> Iterator[Finding]:
    source = ctx.dockerfile.source
    for stage in ctx.stages:
        for install in _project_installs(stage):
            copies = _copies_of(ctx, stage, install.environment)
            if (
                not copies
                or not _holds_dependencies(stage, install)
                or _uses_environment_later(stage, install)
            ):
                continue
            separate = f"{install.environment}-project"
            edits: list[Edit] = []
            if install.prefix_word is not None:
                start, end = install.prefix_word
                edits.append(Edit(start, end, separate))
            else:
                edit = sh.insert_after_word(install.cmd, "install", f"--prefix={separate}")
                if edit is None:
                    continue
                edits.append(edit)
            for copy in copies:
                flags = " ".join(source[f.start : f.end] for f in copy.flags)
                line_end = _project._block(source, copy)[1]
                lead = "" if source[:line_end].endswith("\n") else "\n"
                edits.append(
                    Edit(line_end, line_end, f"{lead}COPY {flags} {separate} {copy.args[1]}\n")
                )
            yield ctx.report(
                f"the project is installed into {install.environment}, which line "
                f"{copies[0].line} copies whole: every code change copies all its "
                "dependencies again; install the project into a prefix of its own and copy "
                "that after the environment",
                install.run,
                start=install.cmd.start,
                end=install.cmd.end,
                edits=edits,
            )
