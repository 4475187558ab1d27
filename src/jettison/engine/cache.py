"""The builder cache and image space: what `docker system df -v` knows, and pruning it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import docker.errors
import requests.exceptions

from jettison.engine.client import docker_client
from jettison.errors import JettisonError

PRUNE_TIMEOUT_S = 3600  # a prune of tens of GB of cache has taken minutes


@dataclass
class CacheEntry:
    id: str
    type: str  # regular | source.local | exec.cachemount | internal | frontend ...
    description: str
    size_bytes: int
    in_use: bool
    shared: bool
    usage_count: int
    last_used: str | None


@dataclass
class CacheStats:
    build_cache_bytes: int = 0
    build_cache_reclaimable_bytes: int = 0  # not in use and not shared with an image
    build_cache_entries: int = 0
    by_type: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> (count, bytes)
    largest: list[CacheEntry] = field(default_factory=list)
    images: int = 0
    images_bytes: int = 0  # unique bytes of all layers (layers shared counted once)
    images_dangling: int = 0
    images_dangling_bytes: int = 0
    containers: int = 0
    volumes_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "build_cache": {
                "bytes": self.build_cache_bytes,
                "reclaimable_bytes": self.build_cache_reclaimable_bytes,
                "entries": self.build_cache_entries,
                "by_type": {k: {"entries": c, "bytes": b} for k, (c, b) in self.by_type.items()},
                "largest": [e.__dict__ for e in self.largest],
            },
            "images": {
                "count": self.images,
                "bytes": self.images_bytes,
                "dangling": self.images_dangling,
                "dangling_bytes": self.images_dangling_bytes,
            },
            "containers": self.containers,
            "volumes_bytes": self.volumes_bytes,
        }


def cache_stats(sdk: Any | None = None, largest: int = 10) -> CacheStats:
    sdk = sdk or docker_client()
    try:
        df = sdk.df()
    except docker.errors.APIError as exc:
        raise JettisonError(f"the engine cannot report disk usage: {exc.explanation}") from None
    stats = CacheStats()
    entries = []
    for raw in df.get("BuildCache") or []:
        entry = CacheEntry(
            id=str(raw.get("ID", "")),
            type=str(raw.get("Type", "")),
            description=str(raw.get("Description", "")),
            size_bytes=int(raw.get("Size") or 0),
            in_use=bool(raw.get("InUse")),
            shared=bool(raw.get("Shared")),
            usage_count=int(raw.get("UsageCount") or 0),
            last_used=raw.get("LastUsedAt"),
        )
        entries.append(entry)
        # shared records are also image layers: counting them would double the total
        if not entry.shared:
            stats.build_cache_bytes += entry.size_bytes
            if not entry.in_use:
                stats.build_cache_reclaimable_bytes += entry.size_bytes
        count, size = stats.by_type.get(entry.type, (0, 0))
        stats.by_type[entry.type] = (count + 1, size + (0 if entry.shared else entry.size_bytes))
    stats.build_cache_entries = len(entries)
    stats.largest = sorted(
        (e for e in entries if not e.shared), key=lambda e: e.size_bytes, reverse=True
    )[:largest]
    images = df.get("Images") or []
    stats.images = len(images)
    stats.images_bytes = int(df.get("LayersSize") or 0)
    dangling = [i for i in images if (i.get("RepoTags") or ["<none>:<none>"]) == ["<none>:<none>"]]
    stats.images_dangling = len(dangling)
    stats.images_dangling_bytes = sum(
        int(i.get("Size") or 0) - int(i.get("SharedSize") or 0)
        for i in dangling
        if int(i.get("SharedSize") or 0) >= 0
    )
    stats.containers = len(df.get("Containers") or [])
    stats.volumes_bytes = sum(
        int((v.get("UsageData") or {}).get("Size") or 0) for v in df.get("Volumes") or []
    )
    return stats


def prune_cache(
    sdk: Any | None = None,
    *,
    all_entries: bool = False,
    keep_storage: int | None = None,
    until: str | None = None,
) -> tuple[int, int]:
    """Prune the builder cache; returns (entries deleted, bytes reclaimed)."""
    sdk = sdk or docker_client()
    filters = {"until": until} if until else None
    # Pruning a large cache takes minutes: the engine answers only when it is done, so the
    # client's usual read timeout would abandon a prune that is still working.
    usual_timeout = sdk.api.timeout
    sdk.api.timeout = PRUNE_TIMEOUT_S
    try:
        done = sdk.api.prune_builds(
            filters=filters, keep_storage=keep_storage, all=all_entries or None
        )
    except docker.errors.APIError as exc:
        raise JettisonError(f"the engine refused to prune: {exc.explanation}") from None
    except requests.exceptions.RequestException as exc:
        raise JettisonError(f"the engine did not finish pruning its build cache: {exc}") from None
    finally:
        sdk.api.timeout = usual_timeout
    deleted = done.get("CachesDeleted") or []
    return len(deleted), int(done.get("SpaceReclaimed") or 0)
