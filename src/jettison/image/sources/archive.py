"""The archive source: a ``docker save`` tar (legacy, or an OCI layout inside), maybe gzipped."""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from typing import Any

from jettison.image.blob import FileSource, GrowingFile, Source, Window
from jettison.image.errors import CorruptImageError, ImageError, ImageNotFoundError
from jettison.image.sources.decompress import decompress_to_spool
from jettison.image.sources.manifest import (
    MAX_JSON,
    blob_path,
    config_diff_ids,
    int_or_none,
    load_json,
    manifest_parts,
    select_manifest,
)
from jettison.image.sources.model import ImageData, LayerData, Scratch
from jettison.image.tarscan import BLOCK, REG, SYMLINK, TarEntry, scan


def open_archive(
    path: str,
    reference: str,
    tmp: Scratch,
    platform: str | None,
    closers: list[Callable[[], None]],
    side: Callable[[ImageData], Any] | None = None,
) -> ImageData:
    if os.path.isdir(path):  # open() takes a directory; its first read would fail
        raise ImageError("is a directory, not an archive (an OCI layout: --source oci)", path)
    try:
        src = FileSource(path)
        closers.append(src.close)
        head = src.pread(0, 4)
    except FileNotFoundError:
        raise ImageNotFoundError("no such file", path) from None
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror}", path) from None
    if head[:2] == b"\x1f\x8b" or head == b"\x28\xb5\x2f\xfd":  # docker save | gzip
        spooled = decompress_to_spool(Window(src, 0, src.size), tmp, "archive")
        closers.append(spooled.close)
        src = spooled
    return read_archive(src, src.size, reference, tmp, platform, closers, side=side)


def read_archive(
    src: Source,
    length: int,
    reference: str,
    tmp: Scratch,
    platform: str | None,
    closers: list[Callable[[], None]],
    kind: str | None = None,
    prepare: Callable[[Window, bool], Any] | None = None,
    whole: bool = False,
    side: Callable[[ImageData], Any] | None = None,
) -> ImageData:
    """Read a ``docker save`` tar (legacy or OCI layout inside) in one pass over it.

    From a complete file (or a stream the caller let arrive ``whole``), only the layers the
    chosen image uses are scanned, after the pass and on both cores (:func:`scan_layers`);
    from a stream still arriving (the engine's), each layer as it arrives, and
    ``prepare(window, base)`` makes each layer's preparation, which takes its entries in
    the waits for the stream (:func:`_scan_preparing`; see
    :func:`jettison.image.sources.open_image`).
    """
    outer = Window(src, 0, length)
    eager = isinstance(src, GrowingFile) and not whole
    jsons: dict[str, bytes] = {}
    layers: dict[str, tuple[list[TarEntry] | None, Window]] = {}
    prepared: dict[int, Any] = {}  # id(window) -> what ``prepare`` made of that layer
    aliases: dict[str, str] = {}
    for member in scan(outer, "archive"):
        name = _clean_member(member.name)
        if member.type == SYMLINK:  # docker save links identical layers to one copy
            aliases[name] = posixpath.normpath(
                posixpath.join(posixpath.dirname(name), member.linkname)
            )
            continue
        if member.type != REG:
            continue
        data = Window(src, member.offset, member.size)
        head = data.pread(0, BLOCK)
        if (
            head[:1] in (b"{", b"[")
            or name.endswith(".json")
            or name in ("oci-layout", "repositories")
        ) and not _is_tar(head):
            if member.size <= MAX_JSON:
                jsons[name] = data.read_exact(0, member.size, name)
            continue
        if head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd":
            spool = decompress_to_spool(data, tmp, name)
            closers.append(spool.close)
            data = Window(spool, 0, spool.size)
        elif not _is_tar(head) and head.strip(b"\0"):  # neither a tar nor an empty layer
            continue
        if eager:
            assert isinstance(src, GrowingFile)
            if prepare is None:
                entries = list(scan(data, name))
            else:
                prepared[id(data)] = prep = prepare(data, _legacy_base(jsons, name))
                entries = _scan_preparing(src, data, name, prep)
            layers[name] = (entries, data)
        else:
            layers[name] = (None, data)
    if kind is None:
        kind = (
            "docker-archive"
            if "manifest.json" in jsons and "index.json" not in jsons
            else "oci-archive"
        )

    def assemble() -> ImageData:
        return _assemble(jsons, layers, aliases, reference, platform, kind)

    early = None
    if side is not None and not eager and _side_beside_scan([w for _, w in layers.values()]):
        from jettison.image.parallel import Deferred

        work = side  # the child scans too (cheaper than sending its entries back)
        early = Deferred.in_child(lambda: work(assemble()))
    image = assemble()
    if early is not None:  # (a child that fails: the work is done here, without a new scan)
        early.fn = lambda: work(image)
    image.side = early
    for layer in image.layers:  # (the same window object: _assemble passes them on)
        layer.prepared = prepared.get(id(layer.window))
    return image


def _legacy_base(jsons: dict[str, bytes], name: str) -> bool:
    """Whether layer ``name`` is the image's first, as its legacy ``json`` beside it says
    (no parent), which ``docker save`` writes before the layer itself; False when unknown
    (the manifest at the archive's end decides)."""
    folder, _, base = name.rpartition("/")
    meta = jsons.get(f"{folder}/json") if folder and base == "layer.tar" else None
    if meta is None:
        return False
    try:
        info = json.loads(meta)
    except ValueError:
        return False
    return isinstance(info, dict) and not info.get("parent")


def _scan_preparing(src: GrowingFile, window: Window, name: str, prep: Any) -> list[TarEntry]:
    """The entries of the layer in ``window``, scanned as the stream brings them; each time
    the reader waits for the next bytes, ``prep`` takes the entries scanned since it last
    did (``prep.count`` of them so far, ``prep.add(more)``). What the layer's end leaves,
    the analysis does."""
    entries: list[TarEntry] = []
    queued = False

    def catch_up() -> None:
        nonlocal queued
        queued = False
        if prep.count < len(entries):
            prep.add(entries[prep.count :])

    for entry in scan(window, name):
        entries.append(entry)
        if not queued:  # one task at a time: it takes whatever has come by the next wait
            queued = True
            src.when_idle(catch_up)
    return entries


_SPLIT_BYTES = 8 << 20  # a fork pays off when the other core scans at least this much


# with this many tar bytes scanned on one core, the analysis's side job (which scans them
# again) runs in a child from the start (debian-slim: one layer of 78 MB, 4,222 entries)
_SIDE_BESIDE_SCAN_BYTES = 32 << 20


def _halves(lengths: list[int]) -> tuple[list[int], list[int], int]:
    """The layers (indexes) this process and a child scan, and the child's bytes: the
    halves balanced by bytes, the only balance known before scanning."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    mine: list[int] = []
    theirs: list[int] = []
    mine_bytes = theirs_bytes = 0
    for i in order:
        if mine_bytes <= theirs_bytes:
            mine.append(i)
            mine_bytes += lengths[i]
        else:
            theirs.append(i)
            theirs_bytes += lengths[i]
    return mine, theirs, theirs_bytes


def _side_beside_scan(windows: list[Window]) -> bool:
    """Whether the layers' scan leaves the other core idle (no split) for long enough."""
    lengths = [w.length for w in windows]
    return _halves(lengths)[2] < _SPLIT_BYTES and sum(lengths) >= _SIDE_BESIDE_SCAN_BYTES


def scan_layers(windows: list[tuple[Window, str]]) -> list[list[TarEntry]]:
    """Scan layer tars, in order; with 2 cores, the smaller half (by bytes) in a child.

    The child sends its entries back pickled (about 1 us each way per entry against 5 us
    to scan one).
    """
    mine, theirs, theirs_bytes = _halves([window.length for window, _ in windows])
    if theirs_bytes < _SPLIT_BYTES:
        return [list(scan(window, what)) for window, what in windows]
    from jettison.image.parallel import Deferred

    job = Deferred(lambda: [list(scan(*windows[i])) for i in theirs])
    result: list[list[TarEntry]] = [[] for _ in windows]
    for i in mine:
        result[i] = list(scan(*windows[i]))
    for i, entries in zip(theirs, job.result(), strict=True):
        result[i] = entries
    return result


def _clean_member(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def _is_tar(head: bytes) -> bool:
    if len(head) < BLOCK:
        return False
    if head[257:262] == b"ustar":
        return True
    try:
        stored = int(head[148:156].split(b"\0", 1)[0].strip() or b"x", 8)
    except ValueError:
        return False
    return stored == sum(head) - sum(head[148:156]) + 256


def _assemble(
    jsons: dict[str, bytes],
    layers: dict[str, tuple[list[TarEntry] | None, Window]],
    aliases: dict[str, str],
    reference: str,
    platform: str | None,
    kind: str,
) -> ImageData:
    def resolve(name: str) -> str:
        seen = 0
        while name in aliases and name not in layers and seen < 16:
            name, seen = aliases[name], seen + 1
        if name not in layers:
            raise CorruptImageError(
                f"layer {name} listed in the manifest is missing or is not a tar"
            )
        return name

    def scanned(names: list[str]) -> list[tuple[list[TarEntry], Window]]:
        """The named layers' entries and windows, scanning those not scanned yet."""
        resolved = [resolve(name) for name in names]
        todo = sorted({name for name in resolved if layers[name][0] is None})
        for name, entries in zip(
            todo, scan_layers([(layers[name][1], name) for name in todo]), strict=True
        ):
            layers[name] = (entries, layers[name][1])
        return [(layers[name][0] or [], layers[name][1]) for name in resolved]

    notes: list[str] = []
    chosen_platform = None
    if "manifest.json" in jsons and not (platform and "index.json" in jsons):
        manifest = load_json(jsons, "manifest.json", "manifest")
        if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
            raise CorruptImageError("manifest.json lists no image")
        if len(manifest) > 1:
            notes.append(f"archive holds {len(manifest)} images; inspecting the first")
        entry = manifest[0]
        config = load_json(jsons, _clean_member(str(entry.get("Config", ""))), "config")
        names = [_clean_member(str(p)) for p in entry.get("Layers") or []]
        diff_ids = config_diff_ids(config)
        out: list[LayerData] = []
        for i, (entries, window) in enumerate(scanned(names)):
            digest = diff_ids[i] if i < len(diff_ids) else names[i]
            out.append(
                LayerData(
                    digest,
                    "application/vnd.docker.image.rootfs.diff.tar",
                    window.length,
                    entries,
                    window,
                )
            )
        image_id = "sha256:" + posixpath.basename(str(entry.get("Config", ""))).split(".")[0]
    elif "index.json" in jsons:
        index = load_json(jsons, "index.json", "index")

        def fetch(digest: str) -> Any:
            return load_json(jsons, blob_path(digest), "blob")

        manifest_desc, chosen_platform = select_manifest(index, fetch, platform)
        manifest = fetch(manifest_desc["digest"])
        config, descs = manifest_parts(manifest, fetch)
        out = []
        picked = scanned([blob_path(desc["digest"]) for desc in descs])
        for desc, (entries, window) in zip(descs, picked, strict=True):
            out.append(
                LayerData(
                    str(desc["digest"]),
                    str(desc.get("mediaType", "")),
                    window.length,
                    entries,
                    window,
                    int_or_none(desc.get("size")),
                )
            )
        diff_ids = config_diff_ids(config)
        for ld, diff_id in zip(out, diff_ids, strict=False):
            ld.digest = diff_id
        image_id = str(manifest.get("config", {}).get("digest", ""))
    else:
        raise CorruptImageError(
            "not an image archive: neither manifest.json nor index.json "
            "found (is this a `docker save` tar or an OCI layout?)"
        )
    return ImageData(reference, kind, config, out, image_id, chosen_platform, notes)
