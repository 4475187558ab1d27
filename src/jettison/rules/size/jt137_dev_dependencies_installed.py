"""JT137 dev-dependencies-installed: the project's development dependencies (tests, linters,
type checkers, docs) are installed into the image that runs it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from jettison.dockerfile import Command, Dockerfile, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules._manifests import read_toml
from jettison.rules._project import PIP_VALUE_OPTIONS, pip_subcommand
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import copied_from_stages

# group and extra names that are development tooling by convention (PEP 735 examples, poetry's
# and uv's default "dev" group, the usual extras of setuptools projects)
DEV_NAMES = frozenset(
    {"dev", "develop", "development", "test", "tests", "testing", "lint", "linting",
     "docs", "doc", "typing", "mypy", "ci", "devel"}
)  # fmt: skip
_DEV_REQUIREMENTS = re.compile(
    r"^(requirements[-_.]?(dev|develop|test|tests|testing|lint|docs|ci)|"
    r"(dev|test|tests|testing|lint|docs|ci)[-_.]?requirements)\.(txt|in)$",
    re.I,
)
_DEV_DIRS = {"requirements", "reqs", "requirements.d"}
# a command that runs the dev tooling in the image: then it is what the image is for
_RUNS_DEV_TOOLS = re.compile(
    r"\b(pytest|py\.test|tox|nox|mypy|ruff|flake8|pylint|black|isort|coverage|sphinx-build|"
    r"mkdocs|pre-commit)\b"
)


def _dev_requirements_file(path: str) -> bool:
    p = PurePosixPath(path)
    if _DEV_REQUIREMENTS.match(p.name):
        return True
    return p.parent.name in _DEV_DIRS and p.stem.lower() in DEV_NAMES


def _dev_group(name: str) -> bool:
    return name.split(":")[-1].lower() in DEV_NAMES  # `--group path/pyproject.toml:dev` too


# pip options whose value names what is installed, and whether that value is development-only
_DEV_VALUE = {
    "--group": _dev_group,
    "-r": _dev_requirements_file,
    "--requirement": _dev_requirements_file,
}


def _project_dev_groups(project: dict[str, Any], tool: str) -> list[str]:
    """The development groups a tool installs by default, as the pyproject declares them."""
    groups = project.get("dependency-groups") or {}
    declared = [g for g in groups if g.lower() in DEV_NAMES]
    tools = project.get("tool") or {}
    if tool == "poetry":
        poetry = tools.get("poetry") or {}
        named = [
            g
            for g, spec in (poetry.get("group") or {}).items()
            if g.lower() in DEV_NAMES and not (isinstance(spec, dict) and spec.get("optional"))
        ]
        if poetry.get("dev-dependencies"):
            named.append("dev")
        return sorted(set(named))
    if tool == "uv":
        # uv installs the "dev" group (and [tool.uv] dev-dependencies) unless told not to
        uv = tools.get("uv") or {}
        default = uv.get("default-groups", ["dev"])
        has_dev = "dev" in groups or bool(uv.get("dev-dependencies"))
        return ["dev"] if has_dev and default != [] else []
    if tool == "pdm":
        pdm = tools.get("pdm") or {}
        return sorted(set(declared) | set(pdm.get("dev-dependencies") or {}))
    return declared


def _word_span(src: str, cmd: Command, first: int, last: int) -> tuple[int, int]:
    """The source span of words ``first..last`` of ``cmd`` with the blanks before them."""
    start = cmd.args[first].start
    while start > 0 and src[start - 1] in " \t":
        start -= 1
    return start, cmd.args[last].end


def _pip_dev_parts(src: str, cmd: Command) -> tuple[list[str], list[Edit], bool]:
    """(what is dev, edits removing it, whether something else is still installed)."""
    found: list[str] = []
    edits: list[Edit] = []
    others = False
    args = cmd.args
    i = args.index(next(a for a in args if a.value == "install")) + 1
    while i < len(args):
        word = args[i]
        v = word.value
        option, attached, value = v.partition("=")
        if word.dynamic:
            others = True
        elif option in _DEV_VALUE and (attached or i + 1 < len(args)):
            # `--group dev` or `--group=dev`: the option and its value go together
            last = i if attached else i + 1
            value = value if attached else args[last].value
            if _DEV_VALUE[option](value):
                found.append(v if attached else f"{v} {value}")
                edits.append(Edit(*_word_span(src, cmd, i, last), ""))
            else:
                others = True
            i = last + 1
            continue
        elif v.startswith("-"):
            if v in PIP_VALUE_OPTIONS:
                i += 2
                continue
        elif v.endswith("]") and "[" in v and word.raw in (v, f'"{v}"', f"'{v}'"):
            path, extras = v[:-1].split("[", 1)
            names = [e.strip() for e in extras.split(",") if e.strip()]
            dev = [e for e in names if e.lower() in DEV_NAMES]
            if dev:
                found.append(f"{path}[{','.join(dev)}]")
                kept = [e for e in names if e not in dev]
                text = f"{path}[{','.join(kept)}]" if kept else path
                quoted = 1 if word.raw != v else 0  # keep the quotes: edit inside them
                edits.append(Edit(word.start + quoted, word.end - quoted, text))
            others = True  # the project itself is still installed
        else:
            others = True
        i += 1
    return found, edits, others


def _add_flag(cmd: Command, flag: str) -> Edit:
    """Append ``flag`` after the subcommand word (``uv sync`` -> ``uv sync --no-dev``)."""
    sub = next(a for a in cmd.args if a.value == cmd.subcommand())
    return Edit(sub.end, sub.end, f" {flag}")


# the managers whose default dev groups _manager_dev reads from the pyproject.toml
_GROUPS_FROM_PYPROJECT = ("poetry", "uv", "pdm")


def _manager_dev(cmd: Command, project: dict[str, Any]) -> tuple[list[str], list[Edit]] | None:
    """Dev groups a poetry/uv/pdm/pipenv install brings in, and the edit that leaves them."""
    sub = cmd.subcommand()
    if cmd.name == "pipenv" and sub in ("install", "sync"):
        for word in cmd.args:
            if word.value in ("--dev", "-d"):
                return ["--dev"], [Edit(word.start - 1, word.end, "")]
        return None
    if cmd.name == "poetry" and sub == "install":
        if cmd.has_flag("--only", "--without", "--no-dev", "--only-root"):
            return None
        groups = _project_dev_groups(project, "poetry")
        return (groups, [_add_flag(cmd, f"--without {','.join(groups)}")]) if groups else None
    if cmd.name == "uv" and sub == "sync":
        if cmd.has_flag("--no-dev", "--only-group", "--no-default-groups", "--only-dev"):
            return None
        groups = _project_dev_groups(project, "uv")
        return (groups, [_add_flag(cmd, "--no-dev")]) if groups else None
    if cmd.name == "pdm" and sub in ("install", "sync"):
        if cmd.has_flag("--prod", "--production", "-G", "--group", "--no-default"):
            return None
        groups = _project_dev_groups(project, "pdm")
        return (groups, [_add_flag(cmd, "--prod")]) if groups else None
    return None


# where a builder stage puts installed packages that a final image then copies
_ENVIRONMENT_PATH = re.compile(
    r"(venv|site-packages|dist-packages|^/usr/local/?$|^/usr/local/lib|^/root/\.local|"
    r"^/install/?$|^/opt/[^/]*(env|python|app)[^/]*/?$)"
)


def _stages_reaching_final(df: Dockerfile) -> list[Stage]:
    """The final image's stages and the stages it copies an environment from (a builder's
    virtualenv or install prefix; not static files or a compiled binary)."""
    reaching = [s for s in df.stages if s.in_final_image]
    for stage in list(reaching):
        for ins in stage.instructions:
            flag = ins.flag("from") if ins.keyword in ("COPY", "ADD") else None
            source = df.stage_named(flag.value) if flag is not None and flag.value else None
            if source is None or source in reaching:
                continue
            if any(_ENVIRONMENT_PATH.search(path) for path in ins.args[:-1]):
                reaching.append(source)
                reaching += [s for s in copied_from_stages(df, source) if s not in reaching]
    return reaching


_DEV_TOKEN = re.compile(
    r"(^|[^a-z])(dev|devel|develop|development|tests?|testing|unittests?|ci|tox)([^a-z]|$)"
)
_SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "zsh", "/bin/zsh", "ash", "/bin/ash"}


def _development_image(df: Dockerfile) -> bool:
    """A Dockerfile that builds a development or test image, where dev tools belong: named so
    (`Dockerfile.dev`, `test.Dockerfile`), a dev/test stage in the final image, a base named
    for testing (`themattrix/tox`), or no command of its own but a shell (a toolbox)."""
    if _DEV_TOKEN.search(PurePosixPath(df.path).name.lower()):
        return True
    final = df.final_stage
    if final is None:
        return True
    chain = [s for s in df.stages if s.in_final_image]
    if any(s.name and _DEV_TOKEN.search(s.name) for s in chain):
        return True
    for stage in chain:  # a test runner installed by name: the image is for running tests
        for ins in stage.instructions:
            for cmd in sh.commands(ins) if ins.keyword == "RUN" else []:
                if pip_subcommand(cmd) == "install" and any(
                    _RUNS_DEV_TOOLS.fullmatch(re.split(r"[<>=!~\[ ;]", w.value)[0].lower())
                    for w in cmd.words_after("install")
                ):
                    return True
    if _DEV_TOKEN.search(final.root_image().lower().rsplit("/", 1)[-1]):
        return True
    commands = [i for i in final.all_instructions() if i.keyword in ("CMD", "ENTRYPOINT")]
    if not commands:
        return True  # the base's command (a shell, for debian and python)
    last = commands[-1]
    words = list(last.args) if last.json_form else last.text.split()
    return bool(words) and words[0] in _SHELLS and len(words) <= 2 and "-c" not in words


def _runs_dev_tools(df: Dockerfile, after: Instruction) -> bool:
    final = df.final_stage
    if final is None:
        return False
    return any(
        _RUNS_DEV_TOOLS.search(ins.text)
        for ins in final.all_instructions()
        if ins.keyword in ("CMD", "ENTRYPOINT")
        or (ins.keyword == "RUN" and ins.index > after.index and ins.stage is final)
    )


@rule(
    "JT137",
    "dev-dependencies-installed",
    Category.SIZE,
    Severity.INFO,
    "the project's development dependencies are installed into the image that runs it",
    what="""
        Flags installs into the final image (or a stage it copies from) that bring in
        development groups or extras (`dev`, `test`, `lint`, `docs`, `typing` ...):
        `pip install --group dev`, `-r requirements-dev.txt`, `.[dev,test]`, `poetry
        install`, `uv sync` and `pdm install` without leaving out the dev groups the
        pyproject.toml declares, `pipenv install --dev`. Not when the image runs the dev
        tools itself (pytest, tox, mypy, ruff ... in CMD, ENTRYPOINT or a later RUN).
    """,
    why="""
        Test runners, linters, type checkers and their stubs are needed to develop the
        project, not to run it: mypy alone is 40 MB installed, ruff 25 MB. `uv sync`, `pdm
        install` and `poetry install` include the dev group by default. Development and
        test images are left alone: a Dockerfile named so (`Dockerfile.dev`), a dev or test
        stage in the final image, a base image for testing, or a shell as the only command.
    """,
    example="RUN pip install --group main --group dev",
    use_instead="RUN pip install --group main",
    fix="""
        Unsafe (an app that imports a dev dependency at run time breaks; `fix --verify`
        imports every installed package and runs the checks, and rolls the fix back): removes
        the dev groups, extras and requirement files from a pip install when something else
        is still installed; adds `--without GROUPS` to `poetry install`, `--no-dev` to `uv
        sync`, `--prod` to `pdm install`; drops `--dev` from `pipenv install`.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def dev_dependencies_installed(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    src = df.source
    project: dict[str, Any] | None = None
    if _development_image(df):
        return
    for stage in _stages_reaching_final(df):
        for ins in stage.instructions:
            if ins.keyword != "RUN" or _runs_dev_tools(df, ins):
                continue
            for cmd in sh.commands(ins):
                if cmd.in_condition:
                    continue
                edits: list[Edit] = []
                if pip_subcommand(cmd) == "install" and any(a.value == "install" for a in cmd.args):
                    found, edits, others = _pip_dev_parts(src, cmd)
                    if not others:
                        edits = []  # nothing else installed: removing it is a RUN rewrite
                else:
                    if project is None and cmd.name in _GROUPS_FROM_PYPROJECT:
                        # read once, and only for the managers that take groups from it
                        project = read_toml(df.context_dir / "pyproject.toml") or {}
                    managed = _manager_dev(cmd, project or {})
                    if managed is None:
                        continue
                    found, edits = managed
                if not found:
                    continue
                yield ctx.report(
                    f"`{' '.join(cmd.argv[:2])}` installs development dependencies "
                    f"({', '.join(found)}) into the image that runs the project",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=edits,
                )
