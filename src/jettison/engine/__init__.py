"""The engine boundary: BuildKit builds through the docker CLI, the SDK for the rest.

* :func:`find_build_client` / :func:`docker_client`: detect a client that really
  BuildKit-builds, and the SDK client; :class:`EngineUnavailableError` when none answers.
* :func:`build`: one build, parsed into per-step records (:mod:`.progress`).
* :func:`verify`: the smoke check (:mod:`.verify`).
* :func:`cache_stats` / :func:`prune_cache`: the builder cache (:mod:`.cache`).
"""

from __future__ import annotations

from jettison.engine.build import (
    BuildResult,
    BuildStepError,
    ImageInfo,
    build,
    inspect_image,
    remove_image,
)
from jettison.engine.cache import CacheStats, cache_stats, prune_cache
from jettison.engine.client import BuildClient, docker_client, find_build_client, require_engine
from jettison.engine.progress import BuildProgress, Step, parse_plain, parse_rawjson
from jettison.engine.verify import Check, VerifyResult, verify

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
    "inspect_image",
    "parse_plain",
    "parse_rawjson",
    "prune_cache",
    "remove_image",
    "require_engine",
    "verify",
]
