"""Declared dependencies: requirements files, pyproject (PEP 621, Poetry, PDM, uv dependency
groups), setup.cfg, Pipfile, and the ``pip install`` commands of the Dockerfile itself.

Requirement strings are parsed by ``packaging`` (PEP 508: extras, markers, URLs); pip's own
options (``-r``/``-c`` includes, ``--hash``, ``-e``, index options) are handled here.
"""

from __future__ import annotations

from pathlib import Path

from jettison.deps.pyproject import parse_pyproject
from jettison.deps.requirements import (
    DEV,
    OPTIONAL,
    RUNTIME,
    Declared,
    Manifests,
    parse_requirement_text,
    parse_requirements_file,
    pip_install_packages,
    requirement_file_group,
)
from jettison.deps.setup_files import parse_pipfile, parse_setup_cfg, parse_setup_py

__all__ = [
    "DEV",
    "OPTIONAL",
    "RUNTIME",
    "Declared",
    "Manifests",
    "find_manifests",
    "parse_pipfile",
    "parse_pyproject",
    "parse_requirement_text",
    "parse_requirements_file",
    "parse_setup_cfg",
    "parse_setup_py",
    "pip_install_packages",
]


def find_manifests(root: Path) -> Manifests:
    """Every manifest in the project root (and a ``requirements/`` directory)."""
    out = Manifests()
    if root.is_file():
        root = root.parent
    # requirements.txt, requirements-dev.txt, but also dev-requirements.txt, win-requirements.txt
    candidates = sorted(root.glob("*requirements*.txt")) + sorted(root.glob("*requirements*.in"))
    candidates += (
        sorted((root / "requirements").glob("*.txt")) if (root / "requirements").is_dir() else []
    )
    # runtime files first: ``requirements-dev.txt`` starting with ``-r requirements.txt`` must
    # not make the runtime requirements dev ones (each file is read once)
    candidates.sort(key=lambda c: requirement_file_group(c) != RUNTIME)
    seen: set[Path] = set()
    for candidate in candidates:
        if candidate.with_suffix(".txt") != candidate and candidate.with_suffix(".txt").exists():
            continue  # requirements.in compiled into requirements.txt: read the .txt
        if candidate.name.endswith(".pruned.txt"):
            continue  # written by ``jettison deps --write``
        parse_requirements_file(candidate, out=out, _seen=seen)
    if (root / "pyproject.toml").is_file():
        parse_pyproject(root / "pyproject.toml", out)
    if (root / "setup.cfg").is_file():
        parse_setup_cfg(root / "setup.cfg", out)
    if (root / "setup.py").is_file():
        parse_setup_py(root / "setup.py", out)
    if (root / "Pipfile").is_file():
        parse_pipfile(root / "Pipfile", out)
    return out
