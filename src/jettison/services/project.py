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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.audit.discovery import DEFAULT_COMPOSE_NAMES, is_compose_file
from jettison.compose import ComposeService, read_compose
from jettison.errors import JettisonError


@dataclass(frozen=True)
class Project:
    name: str
    root: Path  # where bases/ and docker-bake.hcl live
    compose: Path | None  # None for a Dockerfile set
    services: list[ComposeService]
    inputs: tuple[tuple[Path, Path], ...] = ()  # Dockerfile set: (Dockerfile, context)
    # compose ``additional_contexts: {x: "service:other"}``: service -> {other: line}
    context_deps: dict[str, dict[str, int]] = field(default_factory=dict)

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
        for name in DEFAULT_COMPOSE_NAMES:
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
    return path.is_dir() or is_compose_file(path)


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

    shown = str(compose)
    try:
        services = read_compose(shown)
        text = compose.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            # before constructing: that merges ``<<`` keys into the mapping nodes themselves
            _no_duplicate_keys(root, shown)
            context_deps = _check_builds(root, shown)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except RecursionError:  # PyYAML composes and constructs recursively
        raise JettisonError("compose file too deeply nested to read", shown) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:  # changed since read_compose
        raise JettisonError(f"cannot read compose file: {exc}", shown) from None
    explicit = data.get("name") if isinstance(data, dict) else None
    name = project_name(compose, str(explicit) if explicit else None)
    return Project(name, compose.parent, compose, services, context_deps=context_deps)


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _no_duplicate_keys(root: Any, path: str) -> None:
    """A key given twice in one mapping is an error, as it is for docker compose (YAML would
    silently keep the last). Keys merged in with ``<<`` may be overridden."""
    import yaml

    stack = [root] if root is not None else []
    seen_nodes: set[int] = set()  # aliases share nodes: each is checked once
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                stack.append(value)
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue
                where = first.setdefault((key.tag, key.value), _line(key))
                if where != _line(key):
                    raise JettisonError(
                        f"duplicate key {key.value!r} (first at line {where})", path, _line(key)
                    )
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _mapping_get(node: Any, name: str) -> tuple[Any, Any] | tuple[None, None]:
    """(key node, value node) of ``name`` in a mapping node, or (None, None)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == name and key.tag != _MERGE_TAG:
                return key, value
    return None, None


def _yaml_type(node: Any) -> str:
    """What a node holds, with its article: "an integer", "a list"."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = str(node.tag).rsplit(":", 1)[-1]
    return {"int": "an integer", "bool": "a boolean", "null": "null"}.get(kind, f"a {kind}")


def _check_builds(root: Any, path: str) -> dict[str, dict[str, int]]:
    """Each service's ``build`` must be a string (the context) or a mapping; returns the
    services each one names in ``build.additional_contexts`` (``service:NAME``)."""
    import yaml

    deps: dict[str, dict[str, int]] = {}
    _, services = _mapping_get(root, "services")
    if not isinstance(services, yaml.MappingNode):
        return deps  # read_compose has said what is wrong
    for name_node, spec in services.value:
        if not isinstance(name_node, yaml.ScalarNode) or name_node.tag == _MERGE_TAG:
            continue
        name = str(name_node.value)
        key, build = _mapping_get(spec, "build")
        if build is None or (isinstance(build, yaml.ScalarNode) and build.tag.endswith(":null")):
            continue
        if isinstance(build, yaml.ScalarNode) and build.tag.endswith(":str"):
            continue
        if not isinstance(build, yaml.MappingNode):
            raise JettisonError(
                f"service '{name}': build must be a string (the context) or a mapping, "
                f"not {_yaml_type(build)}",
                path,
                _line(key),
            )
        key, extra = _mapping_get(build, "additional_contexts")
        if extra is None or (isinstance(extra, yaml.ScalarNode) and extra.tag.endswith(":null")):
            continue
        values: list[Any] = []
        if isinstance(extra, yaml.MappingNode):
            values = [v for _, v in extra.value]
        elif isinstance(extra, yaml.SequenceNode):
            values = list(extra.value)
        else:
            raise JettisonError(
                f"service '{name}': build.additional_contexts must be a mapping or a list, "
                f"not {_yaml_type(extra)}",
                path,
                _line(key),
            )
        for value in values:
            if not isinstance(value, yaml.ScalarNode):
                continue
            text = str(value.value)
            if isinstance(extra, yaml.SequenceNode):  # ["name=service:other"]
                text = text.partition("=")[2]
            if text.startswith("service:"):
                deps.setdefault(name, {}).setdefault(text.removeprefix("service:"), _line(value))
    return deps
