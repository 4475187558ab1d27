"""Image indexes, manifests and configs (OCI and Docker media types), shared by the archive,
OCI layout and registry sources: choosing a platform's manifest and checking what it lists."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from jettison.image.errors import CorruptImageError, ImageError, ImageNotFoundError
from jettison.image.sources.model import host_platform

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
LAYER_TYPES = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
}
MAX_JSON = 64 << 20
_DIGEST = re.compile(r"^(sha256|sha512):([0-9a-f]{64}|[0-9a-f]{128})$")


def load_json(jsons: dict[str, bytes], name: str, what: str) -> Any:
    raw = jsons.get(name)
    if raw is None:
        raise CorruptImageError(f"{what} {name} is missing from the image")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CorruptImageError(f"{what} {name} is not valid JSON") from None


def blob_path(digest: str) -> str:
    m = _DIGEST.match(str(digest))
    if not m:
        raise CorruptImageError(f"invalid digest {str(digest)[:80]!r}")
    return f"blobs/{m.group(1)}/{m.group(2)}"


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def config_diff_ids(config: Any) -> list[str]:
    if not isinstance(config, dict):
        raise CorruptImageError("image config is not a JSON object")
    rootfs = config.get("rootfs") or {}
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [str(d) for d in ids] if isinstance(ids, list) else []


def parse_platform(text: str) -> tuple[str, str, str]:
    parts = text.split("/")
    if len(parts) < 2 or not all(parts):
        raise ImageError(f"invalid platform {text!r} (expected os/arch[/variant])")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def select_manifest(
    index: Any, fetch: Callable[[str], Any], platform: str | None
) -> tuple[dict[str, Any], str | None]:
    """Pick the manifest for ``platform`` (default: this host's) from an index."""
    want = parse_platform(platform or host_platform())
    for _depth in range(4):  # an index may point at another index (docker save does)
        manifests = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(manifests, list) or not manifests:
            raise CorruptImageError("image index lists no manifests")
        candidates = [
            m
            for m in manifests
            if isinstance(m, dict)
            and (m.get("annotations") or {}).get("vnd.docker.reference.type")
            != "attestation-manifest"
        ]
        for m in candidates:
            media = m.get("mediaType", "")
            if media and media not in INDEX_TYPES | MANIFEST_TYPES:
                raise CorruptImageError(f"unknown manifest media type {media!r}")
        if len(candidates) == 1 and candidates[0].get("mediaType") in INDEX_TYPES:
            index = fetch(candidates[0]["digest"])
            continue
        platformed = [m for m in candidates if isinstance(m.get("platform"), dict)]
        if not platformed:
            if len(candidates) == 1 or platform is None:
                return candidates[0], None
            raise ImageError(f"index has no platform information; cannot choose {platform}")
        available = []
        for m in platformed:
            p = m["platform"]
            name = f"{p.get('os')}/{p.get('architecture')}" + (
                f"/{p['variant']}" if p.get("variant") else ""
            )
            available.append(name)
            if (
                p.get("os") == want[0]
                and p.get("architecture") == want[1]
                and (not want[2] or p.get("variant", "") == want[2])
            ):
                return m, name
        raise ImageNotFoundError(
            f"no manifest for platform {'/'.join(x for x in want if x)} "
            f"(available: {', '.join(available)})"
        )
    raise CorruptImageError("image index nests too deeply")


def manifest_parts(
    manifest: Any, fetch: Callable[[str], Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(manifest, dict):
        raise CorruptImageError("image manifest is not a JSON object")
    media = manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    if media not in MANIFEST_TYPES:
        raise CorruptImageError(f"unknown manifest media type {media!r}")
    descs = manifest.get("layers")
    if not isinstance(descs, list):
        raise CorruptImageError("image manifest has no layers list")
    for d in descs:
        if not isinstance(d, dict) or "digest" not in d:
            raise CorruptImageError("image manifest has a malformed layer descriptor")
        if d.get("mediaType") and d["mediaType"] not in LAYER_TYPES:
            raise CorruptImageError(f"unknown layer media type {d['mediaType']!r}")
    config = fetch(str((manifest.get("config") or {}).get("digest", "")))
    if not isinstance(config, dict):
        raise CorruptImageError("image config is not a JSON object")
    return config, descs
