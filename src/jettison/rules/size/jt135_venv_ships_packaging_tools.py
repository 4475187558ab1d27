"""JT135 venv-ships-packaging-tools: a virtualenv copied into the final image still carries pip and
setuptools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from jettison.dockerfile import Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules._project import pip_subcommand
from jettison.rules.registry import Category, RuleContext, rule


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
            module = sh.python_module(cmd)
            if cmd.name == "virtualenv" or (module is not None and module[0] == "venv"):
                values = cmd.arg_values if module is None else module[1]
                if "--without-pip" in values or "--no-pip" in values:
                    continue
                paths = [v for v in values if not v.startswith("-")]
                path = expand(paths[-1], env) if paths else ""
                if path.startswith("/") and "$" not in path:
                    made[str(PurePosixPath(path))] = ins
    return made


# build-time tools a builder installs into its virtualenv by name to prepare the install
# (pip-tools' `pip-compile`, with `build` and `pyproject_hooks`, which only it needs here):
# uninstalled with pip, before it, while nothing in the final image runs them
_BUILD_TOOLS = {"pip-tools": ("pip-tools", "build", "pyproject_hooks")}


def _build_tools_installed(stage: Stage) -> list[str]:
    """The distributions of :data:`_BUILD_TOOLS` a RUN of ``stage`` installs by name."""
    found: list[str] = []
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        for cmd in sh.pip_installs(ins):
            for word in cmd.words_after("install"):
                found += _BUILD_TOOLS.get(word.value.lower(), ())
    return list(dict.fromkeys(found))


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
        step, a RUN that uninstalls pip, setuptools and wheel from the virtualenv (and
        pip-tools, with `build` and `pyproject_hooks`, where the builder installed it to
        compile its requirements); the builder's own layers do not reach the final image.
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
            tools = " ".join([*_build_tools_installed(builder), "pip", "setuptools", "wheel"])
            edits: list[Edit] = []
            if last is not None:
                edits.append(
                    Edit(last.end, last.end, f"\nRUN {venv}/bin/python -m pip uninstall -y {tools}")
                )
            yield ctx.report(
                f"the virtualenv {venv} from stage {builder.label} still holds pip and "
                "setuptools (15-25 MB) that nothing in the final image runs",
                ins,
                edits=edits,
            )
