"""JT606 test-suite-in-image: the project's test suite goes into the image with its source."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.context.input import ContextInput
from jettison.rules.registry import Category, rule
from jettison.units import human_bytes

_SUITE_NAMES = ("tests", "test")
# how deep a suite may sit: `tests/`, `pkg/tests/`, `src/pkg/tests/`
_MAX_DEPTH = 3
# a folder is a Python test suite when it holds test modules or a conftest
_TEST_MODULE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")
# a build or a container that runs the tests needs them (pytest, unittest, tox, nox,
# Django's test runner) or names the folder
_RUNS_TESTS = re.compile(
    r"\b(pytest|py\.test|unittest|tox|nox|nose2?)\b|manage\.py\s+test\b|(^|[\s/])tests?(/|\s|$)"
)
_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", "site-packages"})


def _suites(root: Path, is_excluded: Callable[[str], bool]) -> list[tuple[str, int]]:
    """(relative folder, bytes) of the Python test suites in the context that are sent."""
    found: list[tuple[str, int]] = []
    todo = [(root, 0)]
    while todo:
        folder, depth = todo.pop()
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            continue
        for child in children:
            rel = child.relative_to(root).as_posix()
            if child.name in _SKIP or child.name.startswith(".") or is_excluded(rel):
                continue
            if child.name in _SUITE_NAMES:
                files = [p for p in child.rglob("*") if p.is_file() and not p.is_symlink()]
                if any(_TEST_MODULE.match(p.name) for p in files):
                    found.append((rel, sum(p.stat().st_size for p in files)))
                continue
            if depth + 1 < _MAX_DEPTH:
                todo.append((child, depth + 1))
    return sorted(found)


def _covered(suite: str, sources: list[str]) -> bool:
    """A COPY/ADD sends the suite: it copies the context or a folder above the suite."""
    return any(src in (".", "*") or suite.startswith(src + "/") for src in sources)


@rule(
    "JT606",
    "test-suite-in-image",
    Category.CONTEXT,
    Severity.INFO,
    "the project's test suite goes into the image with its source",
    what="""
        Flags the Python test suites of the build context (a `tests` or `test` folder with
        test modules or a `conftest.py`, at the top or up to three folders deep) that a
        `COPY .` or a COPY of a folder above them sends into the image, when no build step
        and no command of the image runs tests (pytest, unittest, tox, nox, `manage.py
        test`) or names the folder, and the `.dockerignore` lets them through.
    """,
    why="""
        The running service never imports its own tests, yet every image carries them,
        with their fixtures and data, and a change to a test invalidates the COPY layer and
        everything after it. A `.dockerignore` entry keeps them out of the context, the
        layers and the rebuilds.
    """,
    example=".dockerignore:\n.git\n**/__pycache__\n(and a Dockerfile with `COPY . /app`)",
    use_instead=".dockerignore:\n.git\n**/__pycache__\ntests",
    fix="""
        Unsafe: appends the suites' folders to the `.dockerignore`. An application that
        imports from its test folder at run time breaks; `jettison fix --unsafe-fixes
        --verify` builds the image, runs its checks and rolls this fix back on its own when
        one fails.
    """,
    notes="""
        Only a context that has a `.dockerignore` is fixed (JT601 makes one). Folders a
        COPY or ADD names, or sits inside, are never excluded.
    """,
    fix_safety=FixSafety.UNSAFE,
    scope="context",
)
def test_suite_in_image(ctx: ContextInput) -> Iterator[Finding]:
    # imported here: the context scanner is loaded only by the audits that scan a context
    from jettison.build_context.dockerignore import copied_sources, safe_patterns

    scan = ctx.scan
    if scan.dockerignore is None or any(
        _RUNS_TESTS.search(ins.text)
        for df in ctx.dockerfiles
        for ins in df.instructions
        if ins.keyword in ("RUN", "CMD", "ENTRYPOINT")
    ):
        return
    sources = copied_sources(ctx.dockerfiles)
    suites = [
        (rel, size) for rel, size in _suites(scan.root, scan.is_excluded) if _covered(rel, sources)
    ]
    allowed = set(safe_patterns([rel for rel, _ in suites], sources))
    suites = [(rel, size) for rel, size in suites if rel in allowed]
    if not suites:
        return
    fix = ctx.ignore_fix(
        "exclude the test suites from the build context",
        FixSafety.UNSAFE,
        [rel for rel, _ in suites],
    )
    shown = ", ".join(f"{rel}/ ({human_bytes(size)})" for rel, size in suites)
    yield ctx.report(
        f"the test suite goes into the image with the source: {shown}; nothing in the "
        "build or the image runs it",
        path=ctx.ignore_display,
        fix=fix,
    )
