"""A one-file audit (pre-commit hooks, editors) pays only for what it uses: no Docker SDK
client (requests, urllib3), no rich, no process pool; the .dockerignore matcher is still
the SDK's own code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from jettison.build_context.matcher import PatternMatcher

DOCKERFILE = "FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
NOT_ON_THE_AUDIT_PATH = (
    "docker",
    "requests",
    "urllib3",
    "rich",
    "multiprocessing",
    "concurrent.futures",
)


def imported_modules(args: list[str], cwd: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "jettison", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", line)
        if m:
            names.add(m.group(1))
    assert "jettison.rules.registry" in names  # the run did import what it needs
    return names


@pytest.mark.parametrize("args", [["audit", "Dockerfile"], ["audit", "--no-context", "Dockerfile"]])
def test_a_one_file_audit_imports_no_docker_client(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / ".dockerignore").write_text(".git\n**/__pycache__\n!keep/__pycache__\n")
    names = imported_modules(args, tmp_path)
    for top in NOT_ON_THE_AUDIT_PATH:
        assert not any(n == top or n.startswith(top + ".") for n in names), top
    if "--no-context" in args:  # the matcher loads only for a context scan
        assert "tarfile" not in names


PATTERNS = [
    ".git",
    "**/__pycache__",
    "**/*.pyc",
    "!keep/**/*.pyc",
    "/build",
    "docs/*.md",
    "!docs/README.md",
    "node_modules",
    "*.log",
    "a/**/b",
    "[a-c]x?",
    "./dist",
    "data/",
]
PATHS = [
    ".git",
    ".git/config",
    "src/__pycache__/x.pyc",
    "keep/deep/x.pyc",
    "build/out",
    "docs/a.md",
    "docs/README.md",
    "docs/sub/a.md",
    "node_modules/x/index.js",
    "x.log",
    "logs/x.log",
    "a/b",
    "a/x/y/b",
    "bxq",
    "dxq",
    "dist/pkg.whl",
    "data/file",
    "src/app.py",
]


def test_the_matcher_is_the_sdks() -> None:
    """Same class code, same answers as ``docker.utils.build.PatternMatcher`` (which the
    test imports the usual way) on every pattern and path above."""
    import docker.utils.build

    ours = PatternMatcher(PATTERNS)
    theirs = docker.utils.build.PatternMatcher(PATTERNS)
    assert type(ours).__name__ == "PatternMatcher" and type(ours) is not PatternMatcher
    assert [ours.matches(p) for p in PATHS] == [theirs.matches(p) for p in PATHS]
    assert any(ours.matches(p) for p in PATHS) and not all(ours.matches(p) for p in PATHS)
    # one pattern at a time too (safe_patterns matches candidates singly)
    for pattern in PATTERNS:
        one, other = PatternMatcher([pattern]), docker.utils.build.PatternMatcher([pattern])
        assert [one.matches(p) for p in PATHS] == [other.matches(p) for p in PATHS], pattern
