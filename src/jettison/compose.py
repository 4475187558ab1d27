"""Compose files: which services are built, from which context and Dockerfile."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.errors import JettisonError


@dataclass(frozen=True)
class ComposeService:
    name: str
    compose_file: str
    context: Path | None  # None: not built here (image only, or a remote context)
    dockerfile: Path | None
    image: str | None
    skipped_reason: str = ""
    target: str | None = None
    line: int = 1
    # how the service runs: what `jettison fix --verify` starts to check a built image
    args: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    user: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    working_dir: str | None = None


_VARIABLE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def _interpolate(value: str) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``$VAR`` from the environment."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        return os.environ.get(name) or (m.group(2) or "")

    return _VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def _words(value: Any) -> list[str] | None:
    """A compose ``command``/``entrypoint``: a list, or a string split as compose splits it."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_interpolate(str(v)) for v in value]
    try:
        return shlex.split(_interpolate(str(value)))
    except ValueError:
        return [str(value)]


def _environment(value: Any) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if v is not None:
                pairs.append((str(k), _interpolate(str(v))))
    elif isinstance(value, list):
        for item in value:
            key, sep, val = str(item).partition("=")
            if sep:
                pairs.append((key, _interpolate(val)))
    return tuple(pairs)


def _args(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): _interpolate(str(v)) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return dict((k, _interpolate(v)) for k, _, v in (str(i).partition("=") for i in value) if k)
    return {}


def _run_fields(spec: dict[str, Any]) -> dict[str, Any]:
    user = spec.get("user")
    workdir = spec.get("working_dir")
    return {
        "command": _words(spec.get("command")),
        "entrypoint": _words(spec.get("entrypoint")),
        "user": _interpolate(str(user)) if user is not None else None,
        "environment": _environment(spec.get("environment")),
        "working_dir": str(workdir) if workdir is not None else None,
    }


def _is_remote(context: str) -> bool:
    return context.startswith(("http://", "https://", "git@", "git://", "ssh://", "github.com/"))


def _line_index(text: str) -> dict[str, int]:
    """Line of each service key (``  name:``) for error positions."""
    lines: dict[str, int] = {}
    in_services = False
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("services:"):
            in_services = True
            continue
        if in_services and raw and not raw[0].isspace() and not raw.startswith("#"):
            in_services = False
        if in_services:
            stripped = raw.strip()
            indent = len(raw) - len(raw.lstrip())
            if stripped.endswith(":") and 0 < indent <= 4 and not stripped.startswith("#"):
                lines.setdefault(stripped[:-1].strip("'\""), number)
    return lines


def read_compose(path: str) -> list[ComposeService]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JettisonError(f"cannot read compose file: {exc}", path) from None
    import yaml  # a Dockerfile-only run never reads YAML: import it when one is read

    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise JettisonError(f"invalid YAML: {problem}", path, line) from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise JettisonError("not a compose file: no 'services' mapping", path)
    lines = _line_index(text)
    base = Path(path).parent
    services = []
    for name, spec in data["services"].items():
        line = lines.get(str(name), 1)
        spec = spec if isinstance(spec, dict) else {}
        image = spec.get("image")
        build = spec.get("build")
        run = _run_fields(spec)
        if build is None:
            services.append(
                ComposeService(
                    str(name), path, None, None, image, "uses an image only", line=line, **run
                )
            )
            continue
        if isinstance(build, str):
            build = {"context": build}
        if not isinstance(build, dict):
            services.append(
                ComposeService(
                    str(name), path, None, None, image, "unrecognised build section", line=line
                )
            )
            continue
        context = str(build.get("context", "."))
        if _is_remote(context):
            services.append(
                ComposeService(
                    str(name), path, None, None, image, f"remote build context {context}", line=line
                )
            )
            continue
        ctx = (base / context).resolve()
        if "dockerfile_inline" in build:
            services.append(
                ComposeService(str(name), path, ctx, None, image, "inline Dockerfile", line=line)
            )
            continue
        dockerfile = ctx / str(build.get("dockerfile", "Dockerfile"))
        if not ctx.is_dir():
            raise JettisonError(
                f"service '{name}': build context {context} does not exist", path, line
            )
        if not dockerfile.is_file():
            services.append(
                ComposeService(
                    str(name), path, ctx, None, image, f"no Dockerfile at {dockerfile}", line=line
                )
            )
            continue
        target = build.get("target")
        services.append(
            ComposeService(
                str(name),
                path,
                ctx,
                dockerfile,
                image,
                target=str(target) if target else None,
                line=line,
                args=_args(build.get("args")),
                **run,
            )
        )
    return services
