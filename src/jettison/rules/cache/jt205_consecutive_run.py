"""JT205 consecutive-run: consecutive short RUN instructions that would merge safely."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.cache._common import dependency_install, merge_runs
from jettison.rules.registry import Category, RuleContext, rule


def _command_count(ins: Instruction) -> int:
    # wrappers (sudo, env ...) are recorded twice in the script; count commands, not records
    return len({(c.start, c.end) for c in sh.commands(ins)})


@rule(
    "JT205",
    "consecutive-run",
    Category.CACHE,
    Severity.INFO,
    "consecutive short RUN instructions that would merge safely",
    what="""
        Notes two adjacent RUNs with the same flags, each running a single simple command,
        directly one after the other (no comment or blank line between them).
    """,
    why="""
        Fewer layers, and a cleanup in the second RUN only shrinks the image if it runs in the
        same layer. Merging is contested (hadolint #715): separate RUNs cache independently,
        so this is information, never a warning, and the fixer never merges across a COPY or
        RUNs with different `--mount` flags.
    """,
    example="RUN mkdir /app\nRUN chown app /app",
    use_instead="RUN mkdir /app && chown app /app",
    fix="Unsafe (changes cache granularity): joins the two RUNs with `&&` when their flags "
    "match, nothing but whitespace lies between them and the first one changes no shell "
    "state (`cd`, `export`, variable assignments, `set` ...) that would leak into the second.",
    fix_safety=FixSafety.UNSAFE,
    notes="Not reported where the file separates the two on purpose: a comment or a blank "
    "line between them (separate steps, documented or grouped), installs from different "
    "package managers (apt and pip, pip and npm: each keeps its own cached layer), or an "
    "install from a manifest (`pip install -r requirements.txt`, `npm ci`) next to another "
    "step (it re-runs only when the manifest changes). Otherwise the same condition as "
    "hadolint DL3059 as it behaves in 2.15.1: its source says "
    "'at most two commands' per RUN, but its command list holds every simple command twice "
    "(once through its redirection wrapper), so in practice it fires only for single-command "
    "RUNs; jettison states that condition directly. Across stages it never fires. hadolint "
    "also skips commands whose name is a variable (`$HADOOP/bin/x`) when counting; jettison "
    "counts them.",
    equivalents={"hadolint": "DL3059"},
)
def consecutive_run(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        prev: Instruction | None = None
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                prev = None
                continue
            if (
                prev is not None
                and [(f.name, f.value) for f in prev.flags]
                == [(f.name, f.value) for f in ins.flags]
                and _command_count(prev) <= 1
                and _command_count(ins) <= 1
                and not _separated_on_purpose(prev, ins, ctx.dockerfile.source)
            ):
                edits = merge_runs(ctx.dockerfile, prev, ins) if _mergeable(prev, ins) else []
                yield ctx.report("consecutive RUN instructions; consider merging", ins, edits=edits)
            prev = ins


# the package manager family of an install: installs from different sources change for
# different reasons, and each keeps its own cached layer on purpose
_INSTALLERS = {
    "apt-get": "system", "apt": "system", "aptitude": "system", "apk": "system",
    "yum": "system", "dnf": "system", "microdnf": "system", "zypper": "system",
    "pip": "python", "pip3": "python", "pip2": "python", "uv": "python", "poetry": "python",
    "pipenv": "python", "pdm": "python", "conda": "python", "mamba": "python",
    "micromamba": "python", "npm": "node", "yarn": "node", "pnpm": "node", "gem": "ruby",
    "bundle": "ruby", "go": "go", "cargo": "rust", "composer": "php", "luarocks": "lua",
}  # fmt: skip


def _install_kinds(ins: Instruction) -> set[str]:
    kinds: set[str] = set()
    for c in sh.commands(ins):
        if sh.is_pip_install(c):
            kinds.add("python")
        elif c.name in _INSTALLERS and (
            dependency_install(c) or c.subcommand() in ("install", "add", "i", "ci", "get")
        ):
            kinds.add(_INSTALLERS[c.name])
    return kinds


def _separated_on_purpose(first: Instruction, second: Instruction, src: str) -> bool:
    """Two RUNs the author keeps apart: a comment or a blank line between them (separate
    steps, documented or grouped), installs from different package managers (each cached
    on its own: a new npm package must not re-run the apt layer), or an install from a
    manifest next to another step (it re-runs only when the manifest changes)."""
    if second.comments_above or first.script is None or second.script is None:
        return True
    if src[first.end : second.start].count("\n") > 1:
        return True
    a, b = _install_kinds(first), _install_kinds(second)
    if (a or b) and a != b:
        return True
    manifest = [any(dependency_install(c) for c in sh.commands(i)) for i in (first, second)]
    return manifest[0] != manifest[1]


# builtins whose effect on the shell (cwd, variables, options) would leak into the next command
# once two RUNs share one shell
_SHELL_STATE = {
    "cd",
    "export",
    "source",
    ".",
    "set",
    "unset",
    "umask",
    "ulimit",
    "alias",
    "pushd",
    "popd",
    "shopt",
    "exit",
    "exec",
    "trap",
    "eval",
    "read",
}


def _mergeable(first: Instruction, second: Instruction) -> bool:
    # installs keep their own layer: merging one with another step would re-run the install
    # whenever that step changes, and hides it from the multi-stage conversion
    if any(
        dependency_install(c) or sh.is_pip_install(c) or c.subcommand() in ("install", "add")
        for ins in (first, second)
        for c in sh.commands(ins)
    ):
        return False
    script = first.script
    return (
        script is not None
        and not script.has_error
        and not first.heredocs
        and all(c.name not in _SHELL_STATE and not c.assignments for c in script.commands)
        and not re.search(r"(^|[;&|]\s*)[A-Za-z_][A-Za-z0-9_]*=", script.text.text)
    )
