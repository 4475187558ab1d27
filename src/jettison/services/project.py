"""What ``jettison services``/``build``/``ci github`` read: a compose file or a Dockerfile set.

A compose project is its compose file (or a directory holding one): its services, contexts
and Dockerfiles come from the file, generated files go next to it. A Dockerfile set is two
or more Dockerfiles given on the command line: each is a service named after its file
(``api/Dockerfile`` -> ``api``, ``Dockerfile.worker`` -> ``worker``) whose build context is
its directory unless ``--context DOCKERFILE=DIR`` says otherwise; generated files go to the
deepest directory holding every Dockerfile and context, and the project is named after it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from jettison.audit import is_compose_name
from jettison.context.compose import ComposeService, read_compose
from jettison.errors import JettisonError

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


@dataclass(frozen=True)
class Project:
    name: str
    root: Path  # where bases/ and docker-bake.hcl live
    compose: Path | None  # None for a Dockerfile set
    services: list[ComposeService]
    inputs: tuple[tuple[Path, Path], ...] = ()  # Dockerfile set: (Dockerfile, context)

    @property
    def source(self) -> Path:
        """The file (or, for a Dockerfile set, the directory) errors and reports name."""
        return self.compose if self.compose is not None else self.root

    @property
    def label(self) -> str:
        """For generated files' headers: the compose file's name or the Dockerfiles'."""
        if self.compose is not None:
            return self.compose.name
        return ", ".join(_rel(df, self.root) for df, _ in self.inputs)

    def relocated(self, root: Path) -> Project:
        """The same project read from a copy of its root directory at ``root``."""
        if self.compose is not None:
            return open_project(root / self.compose.relative_to(self.root))
        moved = [(root / df.relative_to(self.root), root / ctx.relative_to(self.root))
                 for df, ctx in self.inputs]  # fmt: skip
        return open_project([str(df) for df, _ in moved], dict(moved))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def project_name(compose_path: Path, explicit: str | None = None) -> str:
    """Compose's project name: ``name:`` or the directory name, normalised as compose does."""
    raw = explicit or compose_path.resolve().parent.name
    name = re.sub(r"[^a-z0-9_-]", "", raw.lower()).lstrip("_-")
    return name or "project"


def find_compose(path: str | Path) -> Path:
    target = Path(path)
    if target.is_dir():
        for name in COMPOSE_NAMES:
            if (target / name).is_file():
                return target / name
        raise JettisonError(
            "no compose file in this directory (give Dockerfiles to use a Dockerfile set)",
            str(target),
        )
    if not target.is_file():
        raise JettisonError("no such file or directory", str(target))
    return target


def _is_compose(path: Path) -> bool:
    return path.is_dir() or is_compose_name(path.name) or path.suffix in (".yml", ".yaml")


def service_name(dockerfile: Path) -> str:
    """``api/Dockerfile`` -> ``api``, ``Dockerfile.worker`` -> ``worker``, ``web.Dockerfile``
    -> ``web``; lower case, as image names must be."""
    name = dockerfile.name
    stem = ""
    for prefix in ("Dockerfile", "Containerfile", "dockerfile", "containerfile"):
        if name.startswith(prefix) and len(name) > len(prefix) and name[len(prefix)] in "._-":
            stem = name[len(prefix) + 1 :]
            break
    for suffix in (".Dockerfile", ".dockerfile", ".Containerfile", ".containerfile"):
        if not stem and name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
    if not stem:
        stem = dockerfile.resolve().parent.name
    return re.sub(r"[^a-z0-9_.-]+", "-", stem.lower()).strip("-._") or "service"


def open_project(
    paths: list[str] | str | Path, contexts: dict[Path, Path] | None = None
) -> Project:
    """A compose project (one compose file or directory) or a Dockerfile set (any number of
    Dockerfiles, ``contexts`` mapping some of them to a build context other than their
    directory); :class:`JettisonError` on bad input."""
    given = [str(paths)] if isinstance(paths, str | Path) else list(paths) or ["."]
    contexts = contexts or {}
    first = Path(given[0])
    if len(given) == 1 and first.exists() and _is_compose(first):
        if contexts:
            raise JettisonError("--context is for a set of Dockerfiles, not a compose project")
        compose = find_compose(first)
        return _compose_project(compose)
    dockerfiles: list[Path] = []
    for raw in given:
        path = Path(raw)
        if not path.exists():
            raise JettisonError("no such file or directory", raw)
        if path.is_dir():
            raise JettisonError("a directory in a Dockerfile set: give its Dockerfile", raw)
        if _is_compose(path):
            raise JettisonError("a compose file goes alone, not in a set of Dockerfiles", raw)
        resolved = path.resolve()
        if resolved in dockerfiles:
            raise JettisonError("given twice", raw)
        dockerfiles.append(resolved)
    resolved_contexts = {Path(os.path.abspath(k)).resolve(): v for k, v in contexts.items()}
    for df in resolved_contexts:
        if df not in dockerfiles:
            raise JettisonError("--context names a Dockerfile that is not in the set", str(df))
    inputs: list[tuple[Path, Path]] = []
    for df in dockerfiles:
        ctx = resolved_contexts.get(df)
        if ctx is None:
            inputs.append((df, df.parent))
            continue
        if not ctx.is_dir():
            raise JettisonError(f"build context {ctx} does not exist", str(df))
        inputs.append((df, ctx.resolve()))
    root = Path(os.path.commonpath([p for pair in inputs for p in pair]))
    if root.is_file():  # a single Dockerfile (its context is its directory or above it)
        root = root.parent
    taken: set[str] = set()
    services = []
    for df, ctx in inputs:
        name = stem = service_name(df)
        n = 2
        while name in taken:  # two api/Dockerfile in different trees: api, api-2
            name, n = f"{stem}-{n}", n + 1
        taken.add(name)
        services.append(ComposeService(name, str(df), ctx, df, None, line=1))
    name = project_name(root / "Dockerfile")
    return Project(name, root, None, services, tuple(inputs))


def _compose_project(compose: Path) -> Project:
    import yaml

    services = read_compose(str(compose))
    data = yaml.safe_load(compose.read_text(encoding="utf-8"))
    explicit = data.get("name") if isinstance(data, dict) else None
    name = project_name(compose, str(explicit) if explicit else None)
    return Project(name, compose.parent, compose, services)
