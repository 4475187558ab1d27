"""The OCI source: an OCI image layout directory (``index.json``, ``blobs/``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from jettison.image.blob import FileSource, Window
from jettison.image.errors import CorruptImageError, ImageNotFoundError
from jettison.image.sources.archive import scan_layers
from jettison.image.sources.decompress import decompress_to_spool
from jettison.image.sources.manifest import (
    MAX_JSON,
    blob_path,
    config_diff_ids,
    manifest_parts,
    select_manifest,
)
from jettison.image.sources.model import ImageData, LayerData, Scratch


def open_layout(
    path: str, reference: str, tmp: Scratch, platform: str | None, closers: list[Callable[[], None]]
) -> ImageData:
    if not os.path.isfile(os.path.join(path, "index.json")):
        raise ImageNotFoundError("not an OCI image layout (no index.json)", path)

    def read_json(digest: str) -> Any:
        return read_json_file(os.path.join(path, blob_path(digest)))

    index = read_json_file(os.path.join(path, "index.json"))
    desc, chosen = select_manifest(index, read_json, platform)
    manifest = read_json(str(desc.get("digest", "")))
    config, descs = manifest_parts(manifest, read_json)
    layers = []
    diff_ids = config_diff_ids(config)
    for i, d in enumerate(descs):
        blob = os.path.join(path, blob_path(str(d["digest"])))
        try:
            src = FileSource(blob)
        except OSError:
            raise CorruptImageError(f"layer blob {d['digest']} is missing", path) from None
        closers.append(src.close)
        window = Window(src, 0, src.size)
        head = window.pread(0, 4)
        if head[:2] == b"\x1f\x8b" or head == b"\x28\xb5\x2f\xfd":
            spool = decompress_to_spool(window, tmp, str(d["digest"]))
            closers.append(spool.close)
            window = Window(spool, 0, spool.size)
        layers.append(
            LayerData(
                diff_ids[i] if i < len(diff_ids) else str(d["digest"]),
                str(d.get("mediaType", "")),
                window.length,
                [],
                window,
                src.size,
            )
        )
    for ld, entries in zip(
        layers, scan_layers([(ld.window, ld.digest) for ld in layers]), strict=True
    ):
        ld.entries = entries
    return ImageData(
        reference,
        "oci-layout",
        config,
        layers,
        str((manifest.get("config") or {}).get("digest", "")),
        chosen,
    )


def read_json_file(path: str) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_JSON + 1)
    except OSError:
        raise CorruptImageError("missing or unreadable", path) from None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CorruptImageError("not valid JSON", path) from None
