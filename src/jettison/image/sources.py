"""Where images come from: the engine, ``docker save`` archives, OCI layouts and registries.

Every source ends as the same :class:`ImageData`: the config document and, per layer, the
scanned tar headers plus a random-access window onto the uncompressed tar. Nothing is ever
extracted: uncompressed layers are read in place, compressed ones are decompressed into a
spool file inside a private temporary directory that is always removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from jettison.errors import EngineUnavailableError
from jettison.image.blob import CHUNK, FileSource, GrowingFile, Source, Window
from jettison.image.errors import CorruptImageError, ImageError, ImageNotFoundError
from jettison.image.tarscan import BLOCK, REG, SYMLINK, TarEntry, scan

SOURCE_KINDS = ("auto", "engine", "archive", "oci", "registry")

_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
_MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
_LAYER_TYPES = {
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
_MAX_JSON = 64 << 20
_DIGEST = re.compile(r"^(sha256|sha512):([0-9a-f]{64}|[0-9a-f]{128})$")


@dataclass
class LayerData:
    """One layer: its tar headers and where to read file content from."""

    digest: str
    media_type: str
    tar_size: int
    entries: list[TarEntry]
    window: Window
    compressed_size: int | None = None


@dataclass
class ImageData:
    reference: str
    kind: str  # engine | docker-archive | oci-archive | oci-layout | registry
    config: dict[str, Any]
    layers: list[LayerData]
    image_id: str = ""
    platform: str | None = None
    notes: list[str] = field(default_factory=list)


def host_platform() -> str:
    import platform

    machine = platform.machine().lower()
    arch = {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm/v7",
        "armv6l": "arm/v6",
        "i386": "386",
        "i686": "386",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)
    return f"linux/{arch}"


class EngineRequest(NamedTuple):
    """An image export already asked of the engine (see :func:`request_export`)."""

    reference: str
    source: str
    image_id: str
    pending: Any  # engine_api.PendingSave


def request_export(reference: str, source: str = "auto") -> EngineRequest | None:
    """For an engine image, send the export request now and return it; else None.

    The engine prepares the whole ``docker save`` before its first byte, so a caller that
    asks first and then imports the analysis code overlaps the two. Errors (no engine, no
    such image) are raised here, as :func:`open_image` would raise them.
    """
    kind, target = _classify(reference, source)
    if kind != "engine":
        return None
    from jettison.image.engine_api import EngineAPI

    api = EngineAPI.from_env()
    if api is None:
        return None
    image_id = _engine_image_id(api, target)
    return EngineRequest(reference, source, image_id, _request_save(api, image_id))


@contextlib.contextmanager
def open_image(
    reference: str,
    source: str = "auto",
    platform: str | None = None,
    requested: EngineRequest | None = None,
) -> Iterator[ImageData]:
    """Read ``reference`` from ``source``; temporary files live only inside the block."""
    kind, target = _classify(reference, source)
    tmp = Scratch()
    closers: list[Callable[[], None]] = [tmp.remove]
    if requested is not None:
        closers.append(requested.pending.close)
    try:
        if requested is not None and kind == "engine":
            yield _from_engine(target, reference, tmp, platform, closers, requested)
        elif kind == "archive":
            yield _from_archive_file(target, reference, tmp, platform, closers)
        elif kind == "oci":
            yield _from_oci_dir(target, reference, tmp, platform, closers)
        elif kind == "registry":
            yield _from_registry(target, reference, tmp, platform, closers)
        else:
            yield _from_engine(target, reference, tmp, platform, closers)
    finally:
        for close in reversed(closers):  # the scratch directory goes last
            with contextlib.suppress(Exception):
                close()


class Scratch(os.PathLike[str]):
    """A private temporary directory made on first use (a plain archive needs none)."""

    def __init__(self) -> None:
        self.path: str | None = None

    def __fspath__(self) -> str:
        if self.path is None:
            import tempfile

            self.path = tempfile.mkdtemp(prefix="jettison-inspect-")
        return self.path

    def remove(self) -> None:
        if self.path is not None:
            import shutil

            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def _classify(reference: str, source: str) -> tuple[str, str]:
    prefixes = {
        "docker-archive:": "archive",
        "oci-archive:": "archive",
        "archive:": "archive",
        "oci:": "oci",
        "registry:": "registry",
        "docker://": "registry",
        "docker-daemon:": "engine",
        "engine:": "engine",
    }
    if source not in SOURCE_KINDS:
        raise ImageError(f"unknown source {source!r} (choose from {', '.join(SOURCE_KINDS)})")
    if source == "auto":
        for prefix, kind in prefixes.items():
            if reference.startswith(prefix):
                return kind, reference[len(prefix) :]
        if os.path.isdir(reference):
            return "oci", reference
        if os.path.isfile(reference):
            return "archive", reference
        if reference.endswith((".tar", ".tar.gz", ".tgz")) or (
            os.sep in reference and reference.startswith((".", "/"))
        ):
            raise ImageNotFoundError("no such archive or directory", reference)
        return "engine", reference
    return source, reference


# --- archives (docker save, legacy and OCI) ----------------------------------------------


def _from_archive_file(
    path: str, reference: str, tmp: Scratch, platform: str | None, closers: list[Callable[[], None]]
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
        spooled = _decompress_to_spool(Window(src, 0, src.size), tmp, "archive")
        closers.append(spooled.close)
        src = spooled
    return read_archive(src, src.size, reference, tmp, platform, closers)


def read_archive(
    src: Source,
    length: int,
    reference: str,
    tmp: Scratch,
    platform: str | None,
    closers: list[Callable[[], None]],
    kind: str | None = None,
) -> ImageData:
    """Read a ``docker save`` tar (legacy or OCI layout inside) in one pass over it.

    From a complete file, only the layers the chosen image uses are scanned, after the
    pass and on both cores (:func:`scan_layers`); from a stream still arriving (the
    engine's), each layer as soon as it is there.
    """
    outer = Window(src, 0, length)
    eager = isinstance(src, GrowingFile)
    jsons: dict[str, bytes] = {}
    layers: dict[str, tuple[list[TarEntry] | None, Window]] = {}
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
            if member.size <= _MAX_JSON:
                jsons[name] = data.read_exact(0, member.size, name)
            continue
        if head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd":
            spool = _decompress_to_spool(data, tmp, name)
            closers.append(spool.close)
            data = Window(spool, 0, spool.size)
            layers[name] = (list(scan(data, name)) if eager else None, data)
        elif _is_tar(head) or not head.strip(b"\0"):  # an empty layer is all zeros
            layers[name] = (list(scan(data, name)) if eager else None, data)
    return _assemble(
        jsons,
        layers,
        aliases,
        reference,
        platform,
        kind
        or (
            "docker-archive"
            if "manifest.json" in jsons and "index.json" not in jsons
            else "oci-archive"
        ),
    )


_SPLIT_BYTES = 8 << 20  # a fork pays off when the other core scans at least this much


def scan_layers(windows: list[tuple[Window, str]]) -> list[list[TarEntry]]:
    """Scan layer tars, in order; with 2 cores, the smaller half (by bytes) in a child.

    Splitting by tar bytes is the only balance known before scanning; the child sends
    its entries back pickled (about 1 us each way per entry against 5 us to scan one).
    """
    order = sorted(range(len(windows)), key=lambda i: -windows[i][0].length)
    mine: list[int] = []
    theirs: list[int] = []
    mine_bytes = theirs_bytes = 0
    for i in order:
        if mine_bytes <= theirs_bytes:
            mine.append(i)
            mine_bytes += windows[i][0].length
        else:
            theirs.append(i)
            theirs_bytes += windows[i][0].length
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


def _load(jsons: dict[str, bytes], name: str, what: str) -> Any:
    raw = jsons.get(name)
    if raw is None:
        raise CorruptImageError(f"{what} {name} is missing from the image")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CorruptImageError(f"{what} {name} is not valid JSON") from None


def _blob_path(digest: str) -> str:
    m = _DIGEST.match(str(digest))
    if not m:
        raise CorruptImageError(f"invalid digest {str(digest)[:80]!r}")
    return f"blobs/{m.group(1)}/{m.group(2)}"


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
        manifest = _load(jsons, "manifest.json", "manifest")
        if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
            raise CorruptImageError("manifest.json lists no image")
        if len(manifest) > 1:
            notes.append(f"archive holds {len(manifest)} images; inspecting the first")
        entry = manifest[0]
        config = _load(jsons, _clean_member(str(entry.get("Config", ""))), "config")
        names = [_clean_member(str(p)) for p in entry.get("Layers") or []]
        diff_ids = _diff_ids(config)
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
        index = _load(jsons, "index.json", "index")

        def fetch(digest: str) -> Any:
            return _load(jsons, _blob_path(digest), "blob")

        manifest_desc, chosen_platform = _select_manifest(index, fetch, platform)
        manifest = fetch(manifest_desc["digest"])
        config, descs = _manifest_parts(manifest, fetch)
        out = []
        picked = scanned([_blob_path(desc["digest"]) for desc in descs])
        for desc, (entries, window) in zip(descs, picked, strict=True):
            out.append(
                LayerData(
                    str(desc["digest"]),
                    str(desc.get("mediaType", "")),
                    window.length,
                    entries,
                    window,
                    _int(desc.get("size")),
                )
            )
        diff_ids = _diff_ids(config)
        for ld, diff_id in zip(out, diff_ids, strict=False):
            ld.digest = diff_id
        image_id = str(manifest.get("config", {}).get("digest", ""))
    else:
        raise CorruptImageError(
            "not an image archive: neither manifest.json nor index.json "
            "found (is this a `docker save` tar or an OCI layout?)"
        )
    return ImageData(reference, kind, config, out, image_id, chosen_platform, notes)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _diff_ids(config: Any) -> list[str]:
    if not isinstance(config, dict):
        raise CorruptImageError("image config is not a JSON object")
    rootfs = config.get("rootfs") or {}
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [str(d) for d in ids] if isinstance(ids, list) else []


def _parse_platform(text: str) -> tuple[str, str, str]:
    parts = text.split("/")
    if len(parts) < 2 or not all(parts):
        raise ImageError(f"invalid platform {text!r} (expected os/arch[/variant])")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def _select_manifest(
    index: Any, fetch: Callable[[str], Any], platform: str | None
) -> tuple[dict[str, Any], str | None]:
    """Pick the manifest for ``platform`` (default: this host's) from an index."""
    want = _parse_platform(platform or host_platform())
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
            if media and media not in _INDEX_TYPES | _MANIFEST_TYPES:
                raise CorruptImageError(f"unknown manifest media type {media!r}")
        if len(candidates) == 1 and candidates[0].get("mediaType") in _INDEX_TYPES:
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


def _manifest_parts(
    manifest: Any, fetch: Callable[[str], Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(manifest, dict):
        raise CorruptImageError("image manifest is not a JSON object")
    media = manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    if media not in _MANIFEST_TYPES:
        raise CorruptImageError(f"unknown manifest media type {media!r}")
    descs = manifest.get("layers")
    if not isinstance(descs, list):
        raise CorruptImageError("image manifest has no layers list")
    for d in descs:
        if not isinstance(d, dict) or "digest" not in d:
            raise CorruptImageError("image manifest has a malformed layer descriptor")
        if d.get("mediaType") and d["mediaType"] not in _LAYER_TYPES:
            raise CorruptImageError(f"unknown layer media type {d['mediaType']!r}")
    config = fetch(str((manifest.get("config") or {}).get("digest", "")))
    if not isinstance(config, dict):
        raise CorruptImageError("image config is not a JSON object")
    return config, descs


# --- decompression --------------------------------------------------------------------------


class _WindowReader:
    """A sequential file object over a :class:`Window` (for gzip/zstd readers)."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.window.length - self.pos
        data = self.window.pread(self.pos, n)
        self.pos += len(data)
        return data

    def readable(self) -> bool:
        return True


def _decompress_to_spool(window: Window, tmp: Scratch, what: str) -> FileSource:
    import tempfile

    head = window.pread(0, 4)
    fd, path = tempfile.mkstemp(dir=tmp, suffix=".tar")
    with os.fdopen(fd, "wb") as out:
        _decompress_stream(_WindowReader(window), head, out, what)
    return FileSource(path)


def _decompress_stream(reader: Any, head: bytes, out: IO[bytes], what: str) -> None:
    import shutil

    try:
        if head[:2] == b"\x1f\x8b":
            import gzip

            with gzip.GzipFile(fileobj=reader) as gz:
                shutil.copyfileobj(gz, out, CHUNK)
        elif head[:4] == b"\x28\xb5\x2f\xfd":
            _zstd_copy(reader, out, what)
        else:
            shutil.copyfileobj(reader, out, CHUNK)
    except (OSError, EOFError, ValueError) as exc:
        raise CorruptImageError(f"cannot decompress {what}: {exc}") from None
    except Exception as exc:  # zstandard.ZstdError and friends
        if type(exc).__module__.startswith("zstandard"):
            raise CorruptImageError(f"cannot decompress {what}: {exc}") from None
        raise


def _zstd_copy(reader: Any, out: IO[bytes], what: str) -> None:
    """Decompress every zstd frame of ``reader`` into ``out``.

    zstandard's stream reader returns what it has and stops without an error when the input
    ends inside a frame, so a truncated layer would read as a shorter (often empty) one: the
    frames are decoded one by one here and a frame left open at the end is an error.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    frame = dctx.decompressobj()
    open_frame = False
    while True:
        data = reader.read(CHUNK)
        if not data:
            break
        while data:
            out.write(frame.decompress(data))
            open_frame = not frame.eof
            if open_frame:
                break
            data = frame.unused_data  # the next frame (zstd streams may hold several)
            frame = dctx.decompressobj()
    if open_frame:
        raise CorruptImageError(f"cannot decompress {what}: truncated zstd data")


# --- OCI image layout directory --------------------------------------------------------------


def _from_oci_dir(
    path: str, reference: str, tmp: Scratch, platform: str | None, closers: list[Callable[[], None]]
) -> ImageData:
    if not os.path.isfile(os.path.join(path, "index.json")):
        raise ImageNotFoundError("not an OCI image layout (no index.json)", path)

    def read_json(digest: str) -> Any:
        return _read_json_file(os.path.join(path, _blob_path(digest)))

    index = _read_json_file(os.path.join(path, "index.json"))
    desc, chosen = _select_manifest(index, read_json, platform)
    manifest = read_json(str(desc.get("digest", "")))
    config, descs = _manifest_parts(manifest, read_json)
    layers = []
    diff_ids = _diff_ids(config)
    for i, d in enumerate(descs):
        blob = os.path.join(path, _blob_path(str(d["digest"])))
        try:
            src = FileSource(blob)
        except OSError:
            raise CorruptImageError(f"layer blob {d['digest']} is missing", path) from None
        closers.append(src.close)
        window = Window(src, 0, src.size)
        head = window.pread(0, 4)
        if head[:2] == b"\x1f\x8b" or head == b"\x28\xb5\x2f\xfd":
            spool = _decompress_to_spool(window, tmp, str(d["digest"]))
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


def _read_json_file(path: str) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_JSON + 1)
    except OSError:
        raise CorruptImageError("missing or unreadable", path) from None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CorruptImageError("not valid JSON", path) from None


# --- the engine --------------------------------------------------------------------------------


def _from_engine(
    name: str,
    reference: str,
    tmp: Scratch,
    platform: str | None,
    closers: list[Callable[[], None]],
    requested: EngineRequest | None = None,
) -> ImageData:
    """Stream ``docker save`` into a spool file and analyse it while it arrives."""
    from jettison.image.engine_api import EngineAPI

    api = EngineAPI.from_env() if requested is None else None
    chunks: Iterable[bytes]
    if requested is not None:
        image_id, chunks = requested.image_id, requested.pending.chunks(CHUNK)
    elif api is not None:
        image_id = _engine_image_id(api, name)
        pending = _request_save(api, image_id)
        closers.append(pending.close)
        chunks = pending.chunks(CHUNK)
    else:  # a transport only the SDK speaks (ssh://)
        image_id, chunks = _sdk_stream(name, closers)
    spool = GrowingFile(os.path.join(tmp, "save.tar"))
    closers.append(spool.close)
    stop = threading.Event()

    def pump() -> None:
        error: BaseException | None = None
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                spool.write(chunk)
        except Exception as exc:
            error = ImageError(f"engine stopped sending {name}: {_short(exc)}")
        spool.finish(error)

    thread = threading.Thread(target=pump, name="jettison-docker-save", daemon=True)
    thread.start()

    def join() -> None:
        stop.set()
        thread.join(timeout=30)

    closers.append(join)
    data = read_archive(spool, 1 << 62, reference, tmp, platform, closers, kind="engine")
    # the archive's end is read: let the stream finish, so the analysis may fork safely
    thread.join(timeout=10)
    data.image_id = image_id
    return data


def _engine_unavailable(reason: str) -> EngineUnavailableError:
    return EngineUnavailableError(
        f"no Docker engine answers ({reason}); give an archive, OCI layout or registry "
        "reference instead"
    )


def _engine_image_id(api: Any, name: str) -> str:
    from jettison.image.engine_api import EngineHTTPError

    try:
        info = api.image(name)
    except EngineHTTPError as exc:
        if exc.status == 404:
            raise ImageNotFoundError(f"no such image in the engine: {name}") from None
        raise ImageError(f"engine error for {name}: {_short(exc)}") from None
    except OSError as exc:  # no socket, refused, permission denied, timeout
        raise _engine_unavailable(f"{api.describe()}: {exc.strerror or exc}") from None
    return str(info.get("Id") or name)


def _request_save(api: Any, image_id: str) -> Any:
    try:
        return api.save(image_id)
    except OSError as exc:
        raise _engine_unavailable(f"{api.describe()}: {exc.strerror or exc}") from None


def _sdk_stream(name: str, closers: list[Callable[[], None]]) -> tuple[str, Iterator[bytes]]:
    try:
        import docker
        import docker.errors
    except ImportError:  # pragma: no cover - a declared dependency
        raise EngineUnavailableError("the docker package is not installed") from None
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as exc:
        raise _engine_unavailable(_short(exc)) from None
    closers.append(client.close)
    try:
        image = client.images.get(name)
    except docker.errors.ImageNotFound:
        raise ImageNotFoundError(f"no such image in the engine: {name}") from None
    except docker.errors.APIError as exc:
        raise ImageError(f"engine error for {name}: {_short(exc)}") from None
    image_id = str(image.id)
    return image_id, iter(client.api.get_image(image_id, chunk_size=CHUNK))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# --- registries (distribution API) -------------------------------------------------------------

_ACCEPT = ", ".join(sorted(_INDEX_TYPES | _MANIFEST_TYPES))


class RegistryRef(NamedTuple):
    host: str
    repository: str
    reference: str  # tag or digest

    @property
    def base(self) -> str:
        host = self.host.split(":")[0]
        secure = host not in ("localhost", "127.0.0.1", "::1", "[::1]") and not host.startswith(
            "127."
        )
        return f"{'https' if secure else 'http'}://{self.host}/v2/{self.repository}"


def parse_registry_ref(text: str) -> RegistryRef:
    for scheme in ("https://", "http://", "docker://", "registry:"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    host, _, rest = text.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        host, rest = "registry-1.docker.io", text
        if "/" not in rest.split(":")[0].split("@")[0]:
            rest = "library/" + rest
    if "@" in rest:
        repo, _, ref = rest.partition("@")
    else:
        repo, _, ref = (
            rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "latest")
        )
    if not repo or not ref:
        raise ImageError(f"invalid registry reference {text!r}")
    return RegistryRef(host, repo, ref)


class _Registry:
    def __init__(self, ref: RegistryRef) -> None:
        self.ref = ref
        self.token: str | None = None

    def open(self, path: str, accept: str | None = None) -> Any:
        # urllib loads only for registry sources (it is most of this module's import time)
        import urllib.error
        import urllib.request

        url = f"{self.ref.base}/{path}"
        for _attempt in range(2):
            req = urllib.request.Request(url)
            if accept:
                req.add_header("Accept", accept)
            if self.token:
                req.add_header("Authorization", f"Bearer {self.token}")
            try:
                return urllib.request.urlopen(req, timeout=60)
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("WWW-Authenticate", "")
                if (
                    exc.code == 401
                    and challenge.lower().startswith("bearer")
                    and self.token is None
                ):
                    self.token = self._token(challenge)
                    continue
                if exc.code == 404:
                    raise ImageNotFoundError(
                        f"not found in registry: {self.ref.host}/{self.ref.repository} ({path})"
                    ) from None
                raise ImageError(f"registry answered {exc.code} for {url}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ImageError(f"cannot reach registry {self.ref.host}: {reason}") from None
        raise ImageError(f"registry {self.ref.host} refused the anonymous token")

    def _token(self, challenge: str) -> str:
        import urllib.error
        import urllib.parse
        import urllib.request

        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise ImageError(f"registry {self.ref.host} sent an unusable auth challenge")
        url = realm + "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                body = json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ImageError(f"cannot get a registry token: {exc}") from None
        return str(body.get("token") or body.get("access_token") or "")

    def json(self, path: str, accept: str | None = None) -> Any:
        with self.open(path, accept) as resp:
            data = resp.read(_MAX_JSON + 1)
        try:
            return json.loads(data)
        except ValueError:
            raise CorruptImageError(f"registry sent invalid JSON for {path}") from None


def _from_registry(
    text: str, reference: str, tmp: Scratch, platform: str | None, closers: list[Callable[[], None]]
) -> ImageData:
    ref = parse_registry_ref(text)
    reg = _Registry(ref)
    top = reg.json(f"manifests/{ref.reference}", _ACCEPT)
    chosen = None
    if isinstance(top, dict) and (top.get("mediaType") in _INDEX_TYPES or "manifests" in top):
        desc, chosen = _select_manifest(
            top, lambda d: reg.json(f"manifests/{d}", _ACCEPT), platform
        )
        manifest = reg.json(f"manifests/{desc['digest']}", _ACCEPT)
    else:
        manifest = top
    config, descs = _manifest_parts(manifest, lambda d: reg.json(f"blobs/{d}"))
    diff_ids = _diff_ids(config)
    layers = []
    import tempfile

    for i, d in enumerate(descs):
        digest = str(d["digest"])
        _blob_path(digest)  # validates the digest before it names anything
        fd, path = tempfile.mkstemp(dir=tmp, suffix=".tar")
        with os.fdopen(fd, "wb") as out, reg.open(f"blobs/{digest}") as resp:
            hashing = _HashingReader(resp)
            head = hashing.peek(4)
            _decompress_stream(hashing, head, out, digest)
            hashing.drain()
        if hashing.hexdigest() != digest.split(":", 1)[1] and digest.startswith("sha256:"):
            raise CorruptImageError(f"layer {digest} does not match its digest")
        src = FileSource(path)
        closers.append(src.close)
        window = Window(src, 0, src.size)
        layers.append(
            LayerData(
                diff_ids[i] if i < len(diff_ids) else digest,
                str(d.get("mediaType", "")),
                src.size,
                list(scan(window, digest)),
                window,
                _int(d.get("size")),
            )
        )
    return ImageData(
        reference,
        "registry",
        config,
        layers,
        str((manifest.get("config") or {}).get("digest", "")),
        chosen,
    )


class _HashingReader:
    """Reads a response while hashing it, with a small peek buffer for sniffing."""

    def __init__(self, raw: Any) -> None:
        import hashlib

        self.raw = raw
        self.hash = hashlib.sha256()
        self.pending = b""

    def peek(self, n: int) -> bytes:
        while len(self.pending) < n:
            more = self.raw.read(n - len(self.pending))
            if not more:
                break
            self.hash.update(more)
            self.pending += more
        return self.pending[:n]

    def read(self, n: int = -1) -> bytes:
        if self.pending:
            cut = len(self.pending) if n is None or n < 0 else n
            out, self.pending = self.pending[:cut], self.pending[cut:]
            return out
        data: bytes = self.raw.read(n if n and n > 0 else CHUNK)
        self.hash.update(data)
        return data

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


def iter_content(layer: LayerData, entry: TarEntry) -> Iterable[bytes]:
    return layer.window.chunks(entry.offset, entry.size)
