"""Every source gives the same numbers: legacy and OCI archives, OCI layouts, a registry."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from jettison.image.analysis import analyze
from jettison.image.errors import CorruptImageError, ImageError, ImageNotFoundError
from jettison.image.sources import open_image, parse_registry_ref
from tests.unit.image.helpers import (
    config_for,
    layer,
    legacy_archive,
    oci_archive,
    oci_blobs,
    oci_layout,
)
from tests.unit.image.test_replay import L0, L1, L2

EXPECTED = (2371, 1151, 1220, 12)


def _numbers(ref: str, **kw: Any) -> tuple[int, int, int, int]:
    with open_image(ref, **kw) as data:
        r = analyze(data)
    return r.size_bytes, r.final_bytes, r.reclaimable_bytes, r.duplicate_bytes


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_oci_archive_and_layout(tmp_path: Path, compress: str) -> None:
    tar = tmp_path / "oci.tar"
    tar.write_bytes(oci_archive([L0, L1, L2], compress))
    assert _numbers(str(tar)) == EXPECTED
    # an OCI archive without Docker's manifest.json is read through index.json
    tar.write_bytes(oci_archive([L0, L1, L2], compress, with_manifest_json=False))
    assert _numbers(str(tar)) == EXPECTED
    layout = oci_layout(tmp_path / "layout", [L0, L1, L2], compress)
    assert _numbers(str(layout)) == EXPECTED


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_truncated_compressed_layer_is_an_error(tmp_path: Path, compress: str) -> None:
    """zstandard's stream reader ends quietly inside a cut frame: a truncated layer must not
    read as a shorter or empty one."""
    layout = oci_layout(tmp_path / "layout", [L0, L1, L2], compress)
    for blob in (layout / "blobs" / "sha256").iterdir():
        data = blob.read_bytes()
        if data[:2] == b"\x1f\x8b" or data[:4] == b"\x28\xb5\x2f\xfd":
            blob.write_bytes(data[: len(data) - 9])
    with pytest.raises(CorruptImageError, match=r"cannot decompress sha256:\w+: "):
        _numbers(str(layout))


@pytest.mark.parametrize(("key", "value"), [("history", 5), ("history", "x"), ("Env", 5)])
def test_config_fields_of_the_wrong_type_are_ignored(
    tmp_path: Path, key: str, value: object
) -> None:
    """A damaged or hand-made image config (``"history": 5``) loses what it cannot say, not
    the whole inspection."""
    config = config_for([L0, L1, L2])
    if key == "Env":
        config["config"]["Env"] = value
    else:
        config[key] = value
    tar = tmp_path / "img.tar"
    tar.write_bytes(legacy_archive([L0, L1, L2], config))
    assert _numbers(str(tar)) == EXPECTED
    with open_image(str(tar)) as data:
        report = analyze(data)
    assert report.env == {} if key == "Env" else report.layers[0].created_by == "(missing)"


def test_legacy_archive_gzipped_whole(tmp_path: Path) -> None:
    tar = tmp_path / "img.tar.gz"
    tar.write_bytes(gzip.compress(legacy_archive([L0, L1, L2])))
    assert _numbers(str(tar)) == EXPECTED


def test_platform_choice(tmp_path: Path) -> None:
    layout = oci_layout(
        tmp_path / "multi", [L0, L1, L2], "gzip", platforms=["linux/arm64", "linux/amd64"]
    )
    assert _numbers(str(layout), platform="linux/amd64") == EXPECTED
    with open_image(str(layout), platform="linux/arm64") as data:
        assert len(data.layers) == 1 and data.platform == "linux/arm64"
    with pytest.raises(ImageNotFoundError, match="available: linux/arm64, linux/amd64"):
        _numbers(str(layout), platform="linux/s390x")


def test_bad_inputs_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError):
        _numbers(str(tmp_path / "missing.tar"))
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar" * 100)
    with pytest.raises(CorruptImageError, match="checksum"):
        _numbers(str(junk))
    whole = legacy_archive([L0, L1, L2])
    junk.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptImageError, match=r"truncated|missing"):
        _numbers(str(junk))
    blobs, index = oci_blobs([L0])
    index["manifests"][0]["mediaType"] = "application/x-strange"
    layout = tmp_path / "strange"
    for p, d in blobs.items():
        (layout / p).parent.mkdir(parents=True, exist_ok=True)
        (layout / p).write_bytes(d)
    (layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(CorruptImageError, match="unknown manifest media type"):
        _numbers(str(layout))


def test_temp_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "t"))
    (tmp_path / "t").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    layout = oci_layout(tmp_path / "gz", [L0, L1, L2], "gzip")
    assert _numbers(str(layout)) == EXPECTED
    assert list((tmp_path / "t").iterdir()) == []


def test_registry_ref_parsing() -> None:
    r = parse_registry_ref("127.0.0.1:5000/library/python:3.11-slim")
    assert (r.host, r.repository, r.reference) == ("127.0.0.1:5000", "library/python", "3.11-slim")
    assert r.base.startswith("http://")
    r = parse_registry_ref("python")
    assert (r.host, r.repository, r.reference) == (
        "registry-1.docker.io",
        "library/python",
        "latest",
    )
    assert parse_registry_ref("ghcr.io/a/b@sha256:" + "0" * 64).reference.startswith("sha256:")


class _Registry(BaseHTTPRequestHandler):
    """Just enough of the distribution API, behind an anonymous bearer-token challenge."""

    blobs: ClassVar[dict[str, bytes]] = {}
    manifests: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host = f"127.0.0.1:{self.server.server_address[1]}"
        if self.path.startswith("/token"):
            return self._send(200, "application/json", b'{"token": "t0k"}')
        if self.headers.get("Authorization") != "Bearer t0k":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate", f'Bearer realm="http://{host}/token",service="test"'
            )
            self.end_headers()
            return None
        _, _, repo_rest = self.path.partition("/v2/")
        repo, kind, ref = (
            repo_rest.rpartition("/")[0].rpartition("/")[0],
            repo_rest.split("/")[-2],
            repo_rest.split("/")[-1],
        )
        assert repo == "team/app"
        if kind == "manifests" and ref in self.manifests:
            media, body = self.manifests[ref]
            return self._send(200, media, body)
        if kind == "blobs" and ref in self.blobs:
            return self._send(200, "application/octet-stream", self.blobs[ref])
        return self._send(404, "text/plain", b"no")

    def _send(self, code: int, media: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_registry_source_with_token_auth_and_index() -> None:
    blobs, index = oci_blobs([L0, L1, L2], "gzip", platforms=["linux/amd64", "linux/arm64"])
    _Registry.blobs = {"sha256:" + p.rsplit("/", 1)[1]: d for p, d in blobs.items()}
    raw = json.dumps(index).encode()
    _Registry.manifests = {"v1": (index["mediaType"], raw)}
    for m in index["manifests"]:
        _Registry.manifests[m["digest"]] = (m["mediaType"], _Registry.blobs[m["digest"]])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ref = f"registry:127.0.0.1:{server.server_address[1]}/team/app:v1"
        assert _numbers(ref) == EXPECTED
        with pytest.raises(ImageNotFoundError):
            _numbers(ref.replace(":v1", ":nope"))
        # a blob that does not match its digest is refused
        first = index["manifests"][0]["digest"]
        manifest = json.loads(_Registry.blobs[first])
        layer_digest = manifest["layers"][0]["digest"]
        good = _Registry.blobs[layer_digest]
        _Registry.blobs[layer_digest] = gzip.compress(b"\0" * 1024)
        with pytest.raises(CorruptImageError, match="does not match its digest"):
            _numbers(ref)
        _Registry.blobs[layer_digest] = good
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ImageError, match="cannot reach registry"):
        _numbers(f"registry:127.0.0.1:{server.server_address[1]}/team/app:v1")
    assert hashlib.sha256(good).hexdigest() == layer_digest.split(":")[1]


def test_platform_in_oci_archive_uses_the_index(tmp_path: Path) -> None:
    tar = tmp_path / "multi.tar"
    tar.write_bytes(oci_archive([L0, L1, L2], "zstd", platforms=["linux/arm64", "linux/amd64"]))
    assert _numbers(str(tar), platform="linux/amd64") == EXPECTED
    with open_image(str(tar), platform="linux/arm64") as data:
        assert len(data.layers) == 1


def _big_layers() -> list[bytes]:
    """Three layers of 9-10 MB: enough for the scan to split over two processes."""
    from tests.unit.image.helpers import layer

    return [
        layer(
            [(f"l{n}", "d", None)]
            + [(f"l{n}/f{i}", "f", bytes([n, i]) * 50_000) for i in range(95)]
        )
        for n in range(3)
    ]


@pytest.mark.usefixtures("forkable")
def test_layers_scanned_on_two_cores_equal_one(
    tmp_path: Path, monkeypatch, forks: list[int]
) -> None:
    from jettison.image.sources import archive

    path = tmp_path / "big.tar"
    path.write_bytes(legacy_archive(_big_layers()))
    with open_image(str(path)) as data:
        split = [[tuple(e) for e in ld.entries] for ld in data.layers]
    assert forks  # the scan did fork (where fork is allowed: these tests run on Linux)
    monkeypatch.setattr(archive, "_SPLIT_BYTES", 1 << 62)
    with open_image(str(path)) as data:
        inline = [[tuple(e) for e in ld.entries] for ld in data.layers]
    assert split == inline and [len(x) for x in split] == [96, 96, 96]


@pytest.mark.usefixtures("forkable")
def test_corrupt_layer_scanned_in_the_child_is_one_clear_error(tmp_path: Path) -> None:
    layers = _big_layers()
    bad = bytearray(layers[1])  # equal sizes: layers 0 and 2 stay, layer 1 goes to the child
    bad[512 + 20] ^= 0xFF  # in the second member's header: a checksum error
    layers[1] = bytes(bad)
    path = tmp_path / "bad.tar"
    path.write_bytes(legacy_archive(layers))
    with pytest.raises(CorruptImageError, match="checksum"), open_image(str(path)):
        pass


def _scan_report(image: Any) -> tuple[int, list[int], bytes]:
    """What a side job may compute from a read image: in which process, the entries, and a
    file's content (read through the layer's window)."""
    entry = image.layers[0].entries[1]
    return (
        os.getpid(),
        [len(layer.entries) for layer in image.layers],
        image.layers[0].window.pread(entry.offset, entry.size),
    )


@pytest.mark.usefixtures("forkable")
def test_a_side_job_starts_before_a_scan_that_leaves_the_other_core_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One large layer is scanned on one core: the caller's side job is forked before that
    scan (the child scans too) and gives what it gives inline. Where the scan itself is
    split over two processes, or the layers are small, it is not started."""
    from jettison.image import parallel
    from jettison.image.sources import archive

    events: list[str] = []
    real_start, real_scan = parallel.Deferred._start, archive.scan_layers
    monkeypatch.setattr(
        parallel.Deferred, "_start", lambda self: (events.append("fork"), real_start(self))
    )
    monkeypatch.setattr(
        archive, "scan_layers", lambda windows: (events.append("scan"), real_scan(windows))[1]
    )
    one = tmp_path / "one.tar"
    one.write_bytes(legacy_archive([_big_layers()[0]]))
    monkeypatch.setattr(archive, "_SIDE_BESIDE_SCAN_BYTES", 1 << 20)
    with open_image(str(one), side=_scan_report) as data:
        assert events == ["fork", "scan"]  # the child started first
        assert data.side is not None
        pid, counts, content = data.side.result()
        assert pid != os.getpid()
        assert (counts, content) == _scan_report(data)[1:]
        assert counts == [96]
    events.clear()
    monkeypatch.setattr(archive, "_SIDE_BESIDE_SCAN_BYTES", 100 << 20)  # too little to scan
    with open_image(str(one), side=_scan_report) as data:
        assert data.side is None and events == ["scan"]
    events.clear()
    monkeypatch.setattr(archive, "_SIDE_BESIDE_SCAN_BYTES", 1 << 20)
    three = tmp_path / "three.tar"
    three.write_bytes(legacy_archive(_big_layers()))
    with open_image(str(three), side=_scan_report) as data:  # the scan takes both cores
        assert data.side is None and events == ["scan", "fork"]
    events.clear()
    monkeypatch.setenv("JETTISON_NO_FORK", "1")
    with open_image(str(one), side=_scan_report) as data:  # no child: the caller runs it
        assert data.side is None and events == ["scan"]


@pytest.mark.usefixtures("forkable")
def test_an_image_analysed_with_its_side_job_started_early_gives_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    from jettison.image import analysis
    from jettison.image.analysis import inspect_image
    from jettison.image.sources import archive

    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive([L0, L1, L2]))
    monkeypatch.setattr(archive, "_SIDE_BESIDE_SCAN_BYTES", 0)
    monkeypatch.setattr(analysis, "_FORK_ENTRIES_UNPREPARED", 0)
    early = inspect_image(str(path)).to_json()
    assert forks == [1]  # the analysis took the child started before the scan
    monkeypatch.setenv("JETTISON_NO_FORK", "1")
    assert inspect_image(str(path)).to_json() == early
    assert early["duplicate_bytes"] == 12 and early["dive"]["efficiency"] is not None


@contextlib.contextmanager
def _local_engine(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A pretend engine on a local TCP port answering with ``handler``: its DOCKER_HOST."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_engine_answer_that_is_not_json_is_an_engine_error() -> None:
    """A proxy's HTML page where the engine's JSON was expected is an EngineHTTPError (the
    caller's one-line message), not a JSONDecodeError."""
    from jettison.engine.api import EngineAPI, EngineHTTPError

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>page not found</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with _local_engine(Page) as host:
        api = EngineAPI(host, timeout=5)
        with pytest.raises(EngineHTTPError, match="not JSON"):
            api.get_json("/images/x/json")


def test_export_is_asked_in_http_1_0_and_read_to_the_close() -> None:
    """The export request is HTTP/1.0, so the engine sends the tar unchunked and closes the
    connection at its end: every byte arrives, in reads of at most the size asked for."""
    from jettison.engine.api import EngineAPI

    body = bytes(range(256)) * 12_289  # 3.1 MB: several reads, the last one short
    seen: list[str] = []

    class Export(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.requestline)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-tar")
            self.end_headers()  # no length, no chunks: the close ends the body
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with _local_engine(Export) as host:
        api = EngineAPI(host, timeout=5)
        # each chunk is a view of one buffer, valid until the next: copied as it comes
        chunks = [bytes(chunk) for chunk in api.save("sha256:abc").chunks(1 << 20)]
    assert seen == ["GET /images/sha256%3Aabc/get HTTP/1.0"]
    assert b"".join(chunks) == body
    assert all(0 < len(c) <= 1 << 20 for c in chunks)


def test_archive_that_is_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a directory, not an archive"):
        _numbers(str(tmp_path), source="archive")


@contextlib.contextmanager
def _streamed_whole(tmp_path: Path, archive: bytes) -> Iterator[Any]:
    """An export read as from the engine, with layer preparations, though every byte was
    there before reading began (no wait: nothing taken yet)."""
    from jettison.image.analysis import LayerPrep
    from jettison.image.blob import GrowingFile
    from jettison.image.sources.archive import read_archive
    from jettison.image.sources.model import Scratch

    spool = GrowingFile(str(tmp_path / "save.tar"))
    spool.write(archive)
    spool.finish()
    try:
        yield read_archive(spool, 1 << 62, "img", Scratch(), None, [], "engine", LayerPrep)
    finally:
        spool.close()


def _unchanged_unprepared(data: Any) -> dict[str, Any]:
    """The report of ``data`` with its layer preparations, asserted to be the one computed
    without them."""
    prepared = analyze(data).to_json()
    for ld in data.layers:
        ld.prepared = None
    assert analyze(data).to_json() == prepared
    return prepared


@pytest.mark.parametrize("parents", [True, False], ids=["legacy-json", "no-parents"])
def test_layers_prepared_while_streaming_give_the_same_report(
    tmp_path: Path, parents: bool
) -> None:
    """An export read while it streams in has each layer prepared in pieces as its entries
    arrive (dive's tree, the bloat categories of its files, and the replay of the layer
    whose legacy json names no parent), in the reader's waits; the report is the one
    computed without them. With no json naming a parent, every layer is taken for the
    base: the replay of the first in the manifest is used, the others' are not."""
    from jettison.image.analysis import LayerPrep
    from jettison.image.blob import GrowingFile
    from jettison.image.sources.archive import read_archive
    from jettison.image.sources.model import Scratch
    from tests.unit.image.helpers import layer

    apt = layer(
        [
            ("var/lib/apt/lists/deb_Packages", "f", b"P" * 3000),
            ("usr/lib/python3/site-packages/pkg/tests/test_x.py", "f", b"t" * 400),
            ("root/.cache/pip/http/ab", "f", b"c" * 700),
            ("./odd//name", "f", b"o" * 9),  # a path the replay cleans: classified after it
            ("srv/id_rsa", "f", b"-----BEGIN RSA PRIVATE KEY-----\n"),
        ]
    )
    # the scanner reads 64 KB ahead: files big enough that it waits between layers, and
    # within one (taken in pieces)
    padding = layer([("opt/blob", "f", bytes(range(256)) * 1024)])
    many = layer([(f"srv/data/part{i}.bin", "f", bytes([i]) * 40_000) for i in range(12)])
    archive = legacy_archive([L0, L1, padding, many, L2, apt], parents=parents)
    spool = GrowingFile(str(tmp_path / "save.tar"))

    def pump() -> None:
        for start in range(0, len(archive), 16384):  # in pieces, as a socket delivers them
            spool.write(archive[start : start + 16384])
            time.sleep(0.002)  # the reader catches up and waits: its idle time
        spool.finish()

    feeder = threading.Thread(target=pump)
    feeder.start()
    pieces: list[int] = []

    class Counted(LayerPrep):
        def add(self, entries: list[Any]) -> None:
            pieces.append(len(entries))
            super().add(entries)

    data = read_archive(spool, 1 << 62, "img", Scratch(), None, [], "engine", Counted)
    feeder.join()
    try:
        assert all(isinstance(ld.prepared, LayerPrep) for ld in data.layers)
        # taken in the waits, in pieces; what the stream's end left (the last layer in
        # the archive's order) is the analysis's to do
        taken = [ld.prepared.count for ld in data.layers]
        whole = [len(ld.entries) for ld in data.layers]
        assert sum(taken) == sum(pieces) and len(pieces) >= 4, (taken, pieces)
        assert sum(t == w for t, w in zip(taken, whole, strict=True)) >= 5, (taken, whole)
        assert len(pieces) > sum(t > 0 for t in taken), pieces  # a layer in several pieces
        replaying = [ld.prepared.replayer is not None for ld in data.layers]
        assert replaying == [True] + [not parents] * (len(data.layers) - 1), replaying
        streamed = _unchanged_unprepared(data)
    finally:
        spool.close()
    categories = {c["id"] for c in streamed["categories"]}
    assert {"apt-lists", "pip-cache", "python-tests-docs", "secrets"} <= categories


def test_a_base_layer_the_stream_left_half_taken_is_finished_by_the_analysis(
    tmp_path: Path,
) -> None:
    """The base layer's replay, begun while the export streamed in and cut by its end, is
    completed by the analysis: the report is the one of a replay in one pass."""
    with _streamed_whole(tmp_path, legacy_archive([L0, L1, L2])) as data:
        base = data.layers[0].prepared
        assert base.replayer is not None and base.count == 0
        base.add(data.layers[0].entries[:4])  # what the waits took before the end
        _unchanged_unprepared(data)
        assert base.replayer is None  # taken by the analysis: its replay was this one


def test_a_growing_file_runs_idle_tasks_only_while_a_reader_waits(tmp_path: Path) -> None:
    from jettison.image.blob import GrowingFile

    spool = GrowingFile(str(tmp_path / "spool"))
    ran: list[str] = []
    spool.write(b"abcd")
    spool.when_idle(lambda: ran.append("first"))
    assert spool.pread(0, 4) == b"abcd" and ran == []  # the bytes were there: no wait

    def later() -> None:
        time.sleep(0.05)
        spool.write(b"efgh")

    writer = threading.Thread(target=later)
    writer.start()
    assert spool.pread(4, 4) == b"efgh"  # waits: the task runs in the wait, once
    writer.join()
    assert ran == ["first"]
    spool.when_idle(lambda: ran.append("never"))
    spool.finish()
    assert spool.pread(0, 8) == b"abcdefgh" and ran == ["first"]
    spool.close()


@pytest.mark.parametrize("limit", [1 << 20, 100], ids=["mapped", "too-large-to-map"])
def test_a_complete_growing_file_reads_the_same_mapped_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Once the writer has finished, a small spool is read through a memory map (slices),
    a large one with a read each: the same bytes either way."""
    from jettison.image import blob

    monkeypatch.setattr(blob, "MAP_LIMIT", limit)
    spool = blob.GrowingFile(str(tmp_path / "spool"))
    data = bytes(range(256)) * 8
    spool.write(data)
    assert spool.pread(10, 20) == data[10:30]  # not finished: read, never mapped
    assert spool._mapped is None
    spool.finish()
    assert spool.pread(100, 300) == data[100:400]
    assert spool.pread(len(data) - 5, 50) == data[-5:]  # short at the end, as a read is
    assert bool(spool._mapped) == (limit > len(data))
    spool.close()


def test_a_path_listed_twice_counts_as_its_last_entry_when_the_stream_took_only_the_first(
    tmp_path: Path,
) -> None:
    """A layer listing a path twice (a small file, then a large one) whose preparation took
    only the first before the stream ended: the categories are the last entry's, as
    without preparation."""
    from jettison.image.bloat import LARGE_FILE
    from tests.unit.image.helpers import layer

    twice = layer([("srv/model.bin", "f", b"m" * 10), ("srv/model.bin", "f", b"M" * LARGE_FILE)])
    with _streamed_whole(tmp_path, legacy_archive([twice])) as data:
        data.layers[0].prepared.add(data.layers[0].entries[:1])  # the small one only
        streamed = _unchanged_unprepared(data)
    assert "large-files" in {c["id"] for c in streamed["categories"]}


_LATE_IMPORTS = """
import sys
from jettison.image.analysis import analyze, import_late_modules
from jettison.image.blob import GrowingFile
from jettison.image.sources.archive import read_archive
from jettison.image.sources.model import Scratch

import_late_modules()
loaded = set(sys.modules)
fd = __import__("os").open(sys.argv[1], __import__("os").O_RDONLY)
size = __import__("os").fstat(fd).st_size
spool = GrowingFile.following(fd, size, True, None)  # an export read whole, as from the engine
report = analyze(read_archive(spool, 1 << 62, "x", Scratch(), None, [], "engine"))
assert report.hashed_files, "the image has files to hash"
print(" ".join(sorted(set(sys.modules) - loaded)))
"""


def test_an_export_analysed_after_the_late_imports_imports_nothing(tmp_path: Path) -> None:
    """What the analysis imports on first use is imported while the engine prepares an
    export (``import_late_modules``): after its last byte, nothing is left to import."""
    import subprocess
    import sys

    same = os.urandom(3000) * 3  # two files of 9 kB with equal heads: hashed whole
    layers = [
        layer([("a/one", "f", same), ("a/two", "f", same), ("a/three", "f", same[:-1] + b"!")])
    ]
    archive = tmp_path / "image.tar"
    archive.write_bytes(legacy_archive(layers))
    done = subprocess.run(
        [sys.executable, "-c", _LATE_IMPORTS, str(archive)],
        capture_output=True,
        text=True,
        env={**os.environ, "JETTISON_NO_FORK": "1"},  # (a child's imports are not seen)
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
