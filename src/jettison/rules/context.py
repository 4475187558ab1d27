"""Build-context rules: .dockerignore presence and coverage, secrets, context size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jettison.context.dockerignore import (
    copied_sources,
    generate_dockerignore,
    git_history_needed,
    safe_patterns,
)
from jettison.context.scan import REQUIRED_IGNORES, ContextScan
from jettison.dockerfile import Dockerfile
from jettison.findings import Edit, Finding, Fix, FixSafety, Severity
from jettison.rules.registry import Category, Rule, rule

if TYPE_CHECKING:  # types only: the audit pipeline runs the analysis, rules sit below deps
    from jettison.deps import DepsReport


@dataclass
class ContextInput:
    display: str  # the context directory as shown to the user
    scan: ContextScan
    dockerfiles: list[Dockerfile]
    rule: Rule
    # the `jettison deps` analysis of a Python project, run by the audit pipeline when JT605
    # is selected (None otherwise)
    deps_report: DepsReport | None = None

    def report(
        self,
        message: str,
        path: str | None = None,
        line: int = 1,
        severity: Severity | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        return Finding(
            code=self.rule.code,
            message=message,
            path=path or self.display,
            line=line,
            end_line=line,
            severity=severity or self.rule.severity,
            equivalents=dict(self.rule.equivalents),
            rule_name=self.rule.name,
            fix=fix,
            show_source=False,
        )

    @property
    def ignore_display(self) -> str:
        scan = self.scan
        if scan.dockerignore is None:
            return self.display
        return f"{self.display.rstrip('/')}/{scan.dockerignore.name}"


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


@rule(
    "JT601",
    "no-dockerignore",
    Category.CONTEXT,
    Severity.WARNING,
    "the build context has no .dockerignore",
    what="Flags a build context that COPY/ADD reads from and that has no `.dockerignore` "
    "(nor a `<Dockerfile>.dockerignore`).",
    why="""
        Everything in the directory is sent to the builder on every build and `COPY . .`
        puts it in the image: `.git` history, virtualenvs, caches, local `.env` secrets.
        Any change to them also invalidates the COPY layer (a `.dockerignore` typically
        makes contexts 50-90 % smaller).
    """,
    example="(a project directory with .git/, .venv/ and no .dockerignore)",
    use_instead=".dockerignore:\n.git\n.venv\n**/__pycache__\n**/*.pyc\n.env",
    fix="Safe: writes a `.dockerignore` with the entries this context actually has, never "
    "one that a COPY/ADD names (shown by `jettison fix --diff`); `.git` stays when the build "
    "reads it (a RUN running `git rev-parse`/`git describe`, or an install of the project "
    "whose version comes from setuptools-scm, hatch-vcs, versioneer and the like).",
    fix_safety=FixSafety.SAFE,
    scope="context",
)
def no_dockerignore(ctx: ContextInput) -> Iterator[Finding]:
    if ctx.scan.dockerignore is not None:
        return
    git_reason = git_history_needed(ctx.scan.root, ctx.dockerfiles)
    content = generate_dockerignore(ctx.scan, ctx.dockerfiles, keep_git=git_reason is not None)
    saved = sum(b for p, b in ctx.scan.present_defaults.items() if p != ".git" or not git_reason)
    fix = Fix("write a .dockerignore", FixSafety.SAFE, (Edit(0, 0, content, ".dockerignore"),))
    yield ctx.report(
        f"no .dockerignore: all {human(ctx.scan.included_bytes)} of the context "
        "are sent on every build"
        + (f" ({human(saved)} of it never needed)" if saved else "")
        + (f"; .git stays in the context: the build reads it ({git_reason})" if git_reason else ""),
        fix=fix,
    )


@rule(
    "JT602",
    "dockerignore-incomplete",
    Category.CONTEXT,
    Severity.WARNING,
    ".dockerignore does not exclude .git, caches, virtualenvs or .env",
    what="Flags a `.dockerignore` that lets `.git`, `__pycache__`, `*.pyc`, `.venv`/`venv`, "
    "`node_modules` or `.env` through, when the context has them.",
    why="These are large, change often (invalidating COPY layers) or hold secrets.",
    example=".dockerignore:\n*.md",
    use_instead=".dockerignore:\n*.md\n.git\n.venv\n**/__pycache__\n**/*.pyc\n.env",
    fix="Safe: appends the missing entries (never one a COPY/ADD names, nor `.git` when the "
    "build reads it, as for JT601).",
    fix_safety=FixSafety.SAFE,
    scope="context",
)
def dockerignore_incomplete(ctx: ContextInput) -> Iterator[Finding]:
    scan = ctx.scan
    if scan.dockerignore is None:
        return
    missing = [p for p in REQUIRED_IGNORES if p in scan.present_defaults]
    if ".git" in missing and git_history_needed(scan.root, ctx.dockerfiles):
        missing.remove(".git")  # the build reads it: excluding it would break the build
    missing = safe_patterns(missing, copied_sources(ctx.dockerfiles))
    if not missing:
        return
    text = scan.dockerignore.read_text(encoding="utf-8", errors="replace")
    sep = "" if text.endswith("\n") or not text else "\n"
    content = text + sep + "\n".join(missing) + "\n"
    fix = Fix(
        "add missing .dockerignore entries",
        FixSafety.SAFE,
        (Edit(0, 0, content, scan.dockerignore.name),),
    )
    size = sum(scan.present_defaults[p] for p in missing)
    yield ctx.report(
        f".dockerignore lets {', '.join(missing)} through ({human(size)})",
        path=ctx.ignore_display,
        fix=fix,
    )


@rule(
    "JT603",
    "secrets-in-context",
    Category.CONTEXT,
    Severity.ERROR,
    "private keys, .env files or credentials in the build context",
    what="Flags files that look like secrets (private keys, `.env`, `.netrc`, `.pypirc`, "
    "npm tokens, cloud credentials, Docker auth) that `.dockerignore` does not exclude. "
    "Their content is never printed. Environment-file templates meant to be committed "
    "(`.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `example.env` ...) are "
    "not flagged, nor names that only start with `.env` (`.envoy.yaml`).",
    why="They are sent to the builder, and `COPY . .` bakes them into a layer that anyone "
    "who can pull the image can read, even if a later layer deletes them.",
    example="(a context with .env and deploy/id_rsa, no .dockerignore)",
    use_instead="Add them to .dockerignore; pass build secrets with `RUN --mount=type=secret`.",
    scope="context",
)
def secrets_in_context(ctx: ContextInput) -> Iterator[Finding]:
    for rel, kind in ctx.scan.secrets:
        yield ctx.report(
            f"{rel}: {kind} in the build context and not ignored",
            path=f"{ctx.display.rstrip('/')}/{rel}",
        )


@rule(
    "JT604",
    "large-context",
    Category.CONTEXT,
    Severity.INFO,
    "the build context is large, and what a .dockerignore would save",
    what="Reports the context size, its biggest entries and the bytes the standard ignore "
    "entries would save, when the context is over 10 MB or over 1 MB would be saved.",
    why="The context is uploaded to the builder before every build; with remote builders or "
    "CI runners that is network time on every build.",
    example="(a 400 MB context with a dataset directory)",
    use_instead="Exclude data, artifacts and caches in .dockerignore; copy only what the "
    "image needs.",
    scope="context",
)
def large_context(ctx: ContextInput) -> Iterator[Finding]:
    scan = ctx.scan
    saved = sum(scan.present_defaults.values())
    if scan.included_bytes < 10_000_000 and saved < 1_000_000:
        return
    top = ", ".join(f"{e.path} {human(e.size)}" for e in scan.top_entries[:3])
    yield ctx.report(
        f"build context is {human(scan.included_bytes)} in {scan.included_files} "
        f"files (biggest: {top}); standard ignores would save {human(saved)}",
        path=ctx.ignore_display,
    )


@rule(
    "JT605",
    "unused-python-packages",
    Category.CONTEXT,
    Severity.WARNING,
    "Python packages installed in the image that the code never uses",
    what="""
        Runs the `jettison deps` analysis on the build context of a Python project (one with
        a requirements file, pyproject.toml, setup.cfg or Pipfile): every distribution the
        image installs for run time that no code imports and no command, URL, setting or
        plugin uses, with the bytes it costs where they are known.
    """,
    why="""
        Unused packages are pure weight: one data service cut its dependencies from 59.3 MB to
        10.2 MB (matplotlib, seaborn, jupyter, redis, sqlalchemy ...) by reading the imports
        by hand.
    """,
    example="requirements.txt lists pandas and matplotlib; only pandas is imported",
    use_instead="Drop the unused requirement (`jettison deps --write` writes a pruned file).",
    fix="`jettison deps --write` (a separate command: it needs the project's metadata).",
    notes="""
        The audit uses the metadata it can find without building (the project's `.venv`, else
        the interpreter running jettison); findings whose import-name mapping had to be
        guessed are reported as info and say so. `jettison deps --image IMG` reads the
        built image's own metadata and is exact. A requirement it cannot read (malformed, an
        include that is missing) is a finding of its own at its file and line, and the rest
        of the project is still analysed.
    """,
    scope="context",
)
def unused_python_packages(ctx: ContextInput) -> Iterator[Finding]:
    report = ctx.deps_report
    if report is None:
        return
    seen: set[str] = set()
    for error in report.errors:
        # a requirement the analysis could not read: one finding where it is; the rest
        # of the project is still analysed
        # the same file can be read under two names (relative and absolute)
        key = f"{Path(error.path).resolve() if error.path else ''}:{error.line}:{error.message}"
        if key in seen:
            continue
        seen.add(key)
        yield Finding(
            code=ctx.rule.code,
            rule_name=ctx.rule.name,
            severity=Severity.WARNING,
            path=error.path or ctx.display,
            line=error.line or 1,
            end_line=error.line or 1,
            message=f"not analysed: {error.message}",
            show_source=error.line is not None,
        )
    for item in report.of("JT901"):
        finding = next(
            f
            for f in report.findings()
            if f.code == "JT901" and f.line == item.line and f.path == item.path
        )
        yield Finding(
            code=ctx.rule.code,
            rule_name=ctx.rule.name,
            severity=Severity.INFO if item.guessed else ctx.rule.severity,
            path=item.path,
            line=item.line,
            end_line=item.line,
            message=finding.message,
            equivalents={"jettison deps": "JT901"},
        )
