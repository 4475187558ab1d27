"""The engine boundary: every call to Docker goes through this package.

* :func:`find_build_client` / :func:`docker_client`: detect a client that really
  BuildKit-builds, and the SDK client; :class:`EngineUnavailableError` when none answers.
* :func:`build`: one build, parsed into per-step records (:mod:`.buildkit`, :mod:`.progress`).
* :func:`verify`: the smoke check (:mod:`.smoke`).
* :func:`image_info` / :func:`remove_image`: images in the engine (:mod:`.images`).
* :func:`cache_stats` / :func:`prune_cache`: the builder cache (:mod:`.cache`).
* :mod:`.api`: the two Engine API calls ``inspect`` makes over the standard library;
  :mod:`.export`: image and container filesystems streamed through the SDK.

The names below load their modules on first use: ``jettison inspect`` talks to the engine
through :mod:`.api` without paying for the Docker SDK the other modules import.
"""

from __future__ import annotations

import importlib

# typing's constant without importing typing (10 ms of `jettison inspect`'s start, which
# imports this package for jettison.engine.prefetch); mypy reads any TYPE_CHECKING as True
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from jettison.engine.buildkit import BuildResult, BuildStepError, build
    from jettison.engine.cache import CacheStats, cache_stats, prune_cache
    from jettison.engine.client import (
        BuildClient,
        docker_client,
        find_build_client,
        require_engine,
        use_builder,
    )
    from jettison.engine.images import ImageInfo, image_info, remove_image
    from jettison.engine.progress import BuildProgress, Step, parse_plain, parse_rawjson
    from jettison.engine.smoke import Check, VerifyResult, verify

_HOMES = {
    "BuildResult": "buildkit",
    "BuildStepError": "buildkit",
    "ImageInfo": "images",
    "build": "buildkit",
    "image_info": "images",
    "remove_image": "images",
    "CacheStats": "cache",
    "cache_stats": "cache",
    "prune_cache": "cache",
    "BuildClient": "client",
    "docker_client": "client",
    "find_build_client": "client",
    "require_engine": "client",
    "use_builder": "client",
    "BuildProgress": "progress",
    "Step": "progress",
    "parse_plain": "progress",
    "parse_rawjson": "progress",
    "Check": "smoke",
    "VerifyResult": "smoke",
    "verify": "smoke",
}

__all__ = [
    "BuildClient",
    "BuildProgress",
    "BuildResult",
    "BuildStepError",
    "CacheStats",
    "Check",
    "ImageInfo",
    "Step",
    "VerifyResult",
    "build",
    "cache_stats",
    "docker_client",
    "find_build_client",
    "image_info",
    "parse_plain",
    "parse_rawjson",
    "prune_cache",
    "remove_image",
    "require_engine",
    "use_builder",
    "verify",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value
