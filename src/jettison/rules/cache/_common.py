"""Helpers shared by several cache rules: which commands install dependencies, merging RUNs."""

from __future__ import annotations

import re

from jettison.dockerfile import Command, Dockerfile, Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit
from jettison.rules import _project

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


def merge_runs(df: Dockerfile, first: Instruction, second: Instruction) -> list[Edit]:
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


# a local project a pip command installs: `.`, `./pkg[extra]`, `/src`
LOCAL_PROJECT = re.compile(r"^(\.|\.\.|/)\S*$")


def install_targets(cmd: Command) -> list[str]:
    """The words a `pip install` installs (requirements, paths), its options and their
    values left out."""
    args = [w.value for w in cmd.words_after("install")]
    return [
        a
        for i, a in enumerate(args)
        if not a.startswith("-") and (i == 0 or args[i - 1] not in _project.PIP_VALUE_OPTIONS)
    ]
