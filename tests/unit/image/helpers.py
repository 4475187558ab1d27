"""Build tiny layers and images in memory: docker-save legacy, OCI archive, OCI layout."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import zstandard

# (name, kind, payload): kind f=file (payload bytes), d=dir, l=symlink (payload target),
# h=hard link (payload target), w=whiteout marker, o=opaque marker
Spec = list[tuple[str, str, Any]]


def layer(spec: Spec, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, kind, payload in spec:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "f":
                data = payload if isinstance(payload, bytes) else payload[0]
                info.size = len(data)
                info.mode = 0o644 if isinstance(payload, bytes) else payload[1]
                tar.addfile(info, io.BytesIO(data))
                continue
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "l":
                info.type, info.linkname = tarfile.SYMTYPE, payload
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, payload
            elif kind == "w":
                info.name = (
                    name.rpartition("/")[0] + "/.wh." + name.rpartition("/")[2]
                    if "/" in name
                    else ".wh." + name
                )
            elif kind == "o":
                info.name = f"{name}/.wh..wh..opq"
            tar.addfile(info)
    return buf.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_for(
    layers: list[bytes], history: list[dict[str, Any]] | None = None, env: list[str] | None = None
) -> dict[str, Any]:
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": env or ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [_digest(x) for x in layers]},
        "history": history
        or [{"created_by": f"RUN step {i} # buildkit"} for i in range(len(layers))],
    }


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def legacy_archive(
    layers: list[bytes], config: dict[str, Any] | None = None, parents: bool = True
) -> bytes:
    """``docker save`` as Docker <= 24 writes it (layers sorted by id, each beside its
    legacy ``json`` naming its parent, manifest last); ``parents=False``: no json names a
    parent (each layer looks like a base)."""
    config = config or config_for(layers)
    raw = json.dumps(config).encode()
    cfg = hashlib.sha256(raw).hexdigest()
    ids = [hashlib.sha256(f"{i}".encode() + x).hexdigest() for i, x in enumerate(layers)]
    parent = {lid: ids[i - 1] for i, lid in enumerate(ids) if i and parents}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for lid, data in sorted(zip(ids, layers, strict=True)):
            _add(tar, f"{lid}/VERSION", b"1.0")
            meta = {"id": lid, **({"parent": parent[lid]} if lid in parent else {})}
            _add(tar, f"{lid}/json", json.dumps(meta).encode())
            _add(tar, f"{lid}/layer.tar", data)
        _add(tar, f"{cfg}.json", raw)
        manifest = [
            {
                "Config": f"{cfg}.json",
                "RepoTags": ["t:1"],
                "Layers": [f"{i}/layer.tar" for i in ids],
            }
        ]
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return buf.getvalue()


def _compress(data: bytes, how: str) -> tuple[bytes, str]:
    base = "application/vnd.oci.image.layer.v1.tar"
    if how == "gzip":
        return gzip.compress(data), base + "+gzip"
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data), base + "+zstd"
    return data, base


def oci_blobs(
    layers: list[bytes],
    compress: str = "none",
    config: dict[str, Any] | None = None,
    platforms: list[str] | None = None,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Blobs (path -> bytes) and index.json of an OCI layout; one manifest per platform."""
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        d = _digest(data)
        blobs["blobs/sha256/" + d.split(":")[1]] = data
        return d

    descs = []
    for x in layers:
        data, media = _compress(x, compress)
        descs.append({"mediaType": media, "digest": put(data), "size": len(data)})
    manifests = []
    for plat in platforms or [""]:
        cfg = dict(config or config_for(layers))
        if plat:
            cfg["architecture"] = plat.split("/")[1]
        raw = json.dumps(cfg).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": put(raw),
                "size": len(raw),
            },
            "layers": descs if not plat or plat.endswith("amd64") else descs[:1],
        }
        mraw = json.dumps(manifest).encode()
        desc: dict[str, Any] = {
            "mediaType": manifest["mediaType"],
            "digest": put(mraw),
            "size": len(mraw),
        }
        if plat:
            desc["platform"] = {"os": plat.split("/")[0], "architecture": plat.split("/")[1]}
        manifests.append(desc)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }
    return blobs, index


def oci_archive(
    layers: list[bytes],
    compress: str = "none",
    with_manifest_json: bool = True,
    platforms: list[str] | None = None,
) -> bytes:
    """``docker save`` as Docker >= 25 writes it: an OCI layout (plus manifest.json) in a tar."""
    blobs, index = oci_blobs(layers, compress, platforms=platforms)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in sorted(blobs.items()):
            _add(tar, path, data)
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add(tar, "index.json", json.dumps(index).encode())
        if with_manifest_json:
            mdesc = index["manifests"][0]
            manifest = json.loads(blobs["blobs/sha256/" + mdesc["digest"].split(":")[1]])
            entry = {
                "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":")[1],
                "RepoTags": ["t:1"],
                "Layers": ["blobs/sha256/" + d["digest"].split(":")[1] for d in manifest["layers"]],
            }
            _add(tar, "manifest.json", json.dumps([entry]).encode())
    return buf.getvalue()


def oci_layout(
    root: Path, layers: list[bytes], compress: str = "none", platforms: list[str] | None = None
) -> Path:
    blobs, index = oci_blobs(layers, compress, platforms=platforms)
    for path, data in blobs.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps(index))
    return root
