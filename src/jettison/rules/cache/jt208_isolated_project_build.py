"""JT208 isolated-project-build: the project's own install sets up a build environment on
every code change, although its build requirements are already installed."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Command, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules._manifests import canonical, read_toml
from jettison.rules.cache._common import LOCAL_PROJECT, install_targets
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._pip_names import project_dir

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")
# where an install puts packages that the interpreter does not import from
_ELSEWHERE = ("--target", "-t", "--user", "--root")


def _interpreter(cmd: Command, ins: Instruction) -> str:
    """The environment whose Python runs this pip (and so imports the build backend): the
    virtualenv its program lives in, the active one, or the system's."""
    program = cmd.name_word.value
    if "/bin/" in program:
        return program.rsplit("/bin/", 1)[0]
    venv = ins.variables.get("VIRTUAL_ENV", "").rstrip("/")
    first = ins.variables.get("PATH", "").split(":")[0]
    if venv and first.rstrip("/") == f"{venv}/bin":
        return venv
    return "system"


def _build_requirements(ctx: RuleContext, ins: Instruction, target: str) -> list[str] | None:
    """The project's `[build-system] requires`, when it has a pyproject.toml that names them."""
    folder = project_dir(ctx, ins, target.partition("[")[0])
    if folder is None:
        return None
    table = (read_toml(folder / "pyproject.toml") or {}).get("build-system") or {}
    requires = table.get("requires")
    if not isinstance(requires, list) or not requires or "build-backend" not in table:
        return None
    return [str(r) for r in requires]


def _installed_before(stage: Stage, run: Instruction, environment: str) -> dict[str, str]:
    """Distributions (PEP 503 name -> the version part of the word installing them: `==1.0`,
    or empty) that pip installs by name
    into ``environment`` before ``run``, in the stage or the stages it is built from."""
    found: dict[str, str] = {}
    for current in reversed(list(stage.lineage())):
        for ins in current.instructions:
            if ins.keyword != "RUN" or ins.index >= run.index:
                continue
            for cmd in sh.pip_installs(ins):
                if cmd.has_flag("--prefix", *_ELSEWHERE) or _interpreter(cmd, ins) != environment:
                    continue
                for target in install_targets(cmd):
                    match = _NAME.match(target)
                    if match and not LOCAL_PROJECT.match(target):
                        found[canonical(match.group(1))] = match.group(2).strip()
    return found


def _satisfied(requirement: str, installed: dict[str, str]) -> bool:
    """The requirement's distribution is installed pinned to a version its specifier allows,
    or unpinned (the newest, as an isolated build would get) where it asks only for a lower
    bound."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    match = _NAME.match(requirement.split(";", 1)[0])
    # what the install asked for: `==1.2`, a range, or nothing (the newest)
    written = installed.get(canonical(match.group(1))) if match else None
    if match is None or written is None or match.group(2).strip().startswith("["):
        return False
    try:
        specifier = SpecifierSet(match.group(2).strip())
    except InvalidSpecifier:
        return False
    if written.startswith("=="):
        return specifier.contains(written[2:].strip(), prereleases=True)
    if written:
        return False  # a range of its own: which version it installed is not known
    return all(s.operator in (">=", ">") for s in specifier)


@rule(
    "JT208",
    "isolated-project-build",
    Category.CACHE,
    Severity.INFO,
    "the project's own install sets up a build environment on every code change",
    what="""
        Flags `pip install --no-deps <the project>` (the install that follows the source
        COPY once the dependencies have their own step) whose project names its build
        backend in pyproject.toml, when every build requirement is already installed by
        name, earlier in the same environment (`pip install --upgrade pip setuptools
        wheel`), unpinned with only lower bounds required, or pinned to a version the
        requirement allows.
    """,
    why="""
        pip builds a project with a pyproject.toml in an isolated environment: a fresh one
        on every install, into which it downloads and installs the build requirements
        again, then throws away. After a code change, that is most of what the rebuild of
        a pure-Python project does. When the environment already holds the same backend,
        `--no-build-isolation` builds with it: the same build, without the download.
    """,
    example="""
        RUN pip install --no-cache-dir --upgrade pip setuptools wheel
        COPY pyproject.toml .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY src ./src
        RUN pip install --no-cache-dir --no-deps .
    """,
    use_instead="""
        RUN pip install --no-cache-dir --upgrade pip setuptools wheel
        COPY pyproject.toml .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY src ./src
        RUN pip install --no-cache-dir --no-deps --no-build-isolation .
    """,
    fix="""
        Unsafe: inserts `--no-build-isolation` after `install`. The build then uses the
        environment's copy of the backend, which the Dockerfile installed itself; a
        backend that behaves differently from the version an isolated build would download
        changes the built package. `jettison fix --unsafe-fixes --verify` builds and checks
        the image, and rolls the fix back on its own when a check fails.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def isolated_project_build(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        for ins in stage.instructions:
            if ins.keyword != "RUN" or ins.variables.get("PIP_NO_BUILD_ISOLATION"):
                continue
            for cmd in sh.pip_installs(ins):
                if not cmd.has_flag("--no-deps", "--no-dependencies") or cmd.has_flag(
                    "--no-build-isolation", "-e", "--editable", *_ELSEWHERE
                ):
                    continue
                targets = install_targets(cmd)
                if len(targets) != 1 or not LOCAL_PROJECT.match(targets[0]):
                    continue
                requires = _build_requirements(ctx, ins, targets[0])
                if requires is None:
                    continue
                installed = _installed_before(stage, ins, _interpreter(cmd, ins))
                if not all(_satisfied(r, installed) for r in requires):
                    continue
                edit = sh.insert_after_word(cmd, "install", "--no-build-isolation")
                names = ", ".join(_NAME.match(r).group(1) for r in requires)  # type: ignore[union-attr]
                yield ctx.report(
                    f"pip builds the project in a fresh environment on every code change, "
                    f"downloading its build requirements ({names}) that this environment "
                    "already has; `--no-build-isolation` builds with those",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=[edit] if edit else None,
                )
