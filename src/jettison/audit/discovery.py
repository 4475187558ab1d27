"""Which files the verbs read: the one list of skipped directories and of Dockerfile and
compose file names, and :func:`discover`, the expansion of paths, globs and directories.

Every verb that walks a tree or tells a compose file from a Dockerfile asks here, so
``docker-compose.prod.yml`` or ``stack.yml`` given on the command line is a compose file for
every verb.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jettison.errors import JettisonError

# never a project's own files: version control, virtualenvs, caches of Python tools
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
# the audit also skips installed packages (a vendored site-packages holds other projects'
# Dockerfiles); bench and fix read them, an application may ship its own
AUDIT_SKIP_DIRS = SKIP_DIRS | {"site-packages"}

_DOCKERFILE_NAME = re.compile(
    r"^(Dockerfile|Containerfile)([._-].*)?$|.*\.(Dockerfile|dockerfile|Containerfile)$"
)
_COMPOSE_NAME = re.compile(r"^(docker-)?compose([._-].*)?\.ya?ml$")
_YAML_SUFFIXES = (".yml", ".yaml")
# the files `docker compose` reads from a directory, in its order of preference
DEFAULT_COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE_NAME.match(name)) and not name.endswith((".md", ".dockerignore"))


def is_compose_name(name: str) -> bool:
    """A compose file found in a directory walk: ``compose.yaml``, ``docker-compose.prod.yml``
    and the like."""
    return bool(_COMPOSE_NAME.match(name))


def is_compose_file(path: str | Path) -> bool:
    """A file named on the command line that is a compose file: a compose name, or any YAML
    file (``docker compose -f stack.yml`` takes any name; a Dockerfile is never YAML)."""
    name = os.path.basename(path)
    return is_compose_name(name) or name.endswith(_YAML_SUFFIXES)


@dataclass
class Inputs:
    dockerfiles: list[str] = field(default_factory=list)
    compose_files: list[str] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)


def discover(paths: Sequence[str]) -> Inputs:
    """Expand paths, globs and directories into Dockerfiles and compose files."""
    found = Inputs()
    seen: set[str] = set()

    def add(path: str, explicit: bool) -> None:
        key = os.path.normpath(path)
        if key in seen:
            return
        name = os.path.basename(path)
        if is_compose_file(path) if explicit else is_compose_name(name):
            seen.add(key)
            found.compose_files.append(path)
        elif explicit or is_dockerfile_name(name):
            seen.add(key)
            found.dockerfiles.append(path)

    for raw in paths:
        if os.path.isdir(raw):

            def unreadable(exc: OSError) -> None:  # os.walk skips these silently otherwise
                found.errors.append(
                    JettisonError(f"cannot read directory: {exc.strerror}", exc.filename)
                )

            before = len(found.dockerfiles) + len(found.compose_files) + len(found.errors)
            for root, dirs, files in os.walk(raw, onerror=unreadable):
                dirs[:] = sorted(d for d in dirs if d not in AUDIT_SKIP_DIRS)
                for name in sorted(files):
                    add(os.path.join(root, name), explicit=False)
            if len(found.dockerfiles) + len(found.compose_files) + len(found.errors) == before:
                # an empty or mistyped directory must not pass as "0 findings"
                found.errors.append(
                    JettisonError(
                        "no Dockerfile, Containerfile or compose file found in this directory",
                        raw,
                    )
                )
        elif os.path.exists(raw) or os.path.islink(raw):
            add(raw, explicit=True)
        elif any(ch in raw for ch in "*?["):
            import glob

            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                found.errors.append(JettisonError("no files match this pattern", raw))
            for match in matches:
                if os.path.isfile(match):
                    add(match, explicit=True)
        else:
            found.errors.append(JettisonError("no such file or directory", raw))
    return found
