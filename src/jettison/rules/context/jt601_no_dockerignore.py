"""JT601 no-dockerignore: the build context has no .dockerignore."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Edit, Finding, Fix, FixSafety, Severity
from jettison.rules.context.input import ContextInput
from jettison.rules.registry import Category, rule
from jettison.units import human_bytes


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
    # imported here: the generator loads the context scanner, which only the audits that scan a
    # context need (every audit imports the rules)
    from jettison.build_context.dockerignore import generate_dockerignore, git_history_needed

    if ctx.scan.dockerignore is not None:
        return
    git_reason = git_history_needed(ctx.scan.root, ctx.dockerfiles)
    content = generate_dockerignore(ctx.scan, ctx.dockerfiles, keep_git=git_reason is not None)
    saved = sum(b for p, b in ctx.scan.present_defaults.items() if p != ".git" or not git_reason)
    fix = Fix("write a .dockerignore", FixSafety.SAFE, (Edit(0, 0, content, ".dockerignore"),))
    yield ctx.report(
        f"no .dockerignore: all {human_bytes(ctx.scan.included_bytes, largest='GB')} of the "
        "context are sent on every build"
        + (f" ({human_bytes(saved, largest='GB')} of it never needed)" if saved else "")
        + (f"; .git stays in the context: the build reads it ({git_reason})" if git_reason else ""),
        fix=fix,
    )
