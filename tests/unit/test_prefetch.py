"""The inspect export asked for by the console entry point: which command lines send it,
and what is sent (the engine itself is exercised in tests/engine/test_inspect.py)."""

from __future__ import annotations

import os
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from jettison._entry import inspect_image_argument
from jettison.engine import prefetch


@pytest.mark.parametrize(
    ("args", "image"),
    [
        (["python:3.11-slim"], "python:3.11-slim"),
        (["--format", "json", "ghcr.io/org/app:1.2"], "ghcr.io/org/app:1.2"),
        (["app:latest", "--fail-on", "size=1GB", "-o", "report.json"], "app:latest"),
        (["--dive-compatible", "sha256:abc"], "sha256:abc"),
    ],
)
def test_a_plain_engine_image_is_asked_for_early(args: list[str], image: str) -> None:
    assert inspect_image_argument(args) == image


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["a:1", "b:2"],  # a usage error: the command says so
        ["--source", "archive", "x.tar"],
        ["--source=registry", "x"],
        ["docker-archive:x.tar"],
        ["oci:layout"],
        ["registry:ghcr.io/x"],
        ["bad name"],
    ],
)
def test_anything_else_is_left_to_the_command(args: list[str]) -> None:
    assert inspect_image_argument(args) is None


def test_an_existing_path_is_a_local_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "image.tar").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert inspect_image_argument(["image.tar"]) is None


@pytest.mark.parametrize("text", ["python:3.11-slim", "ghcr.io/a/b@sha256:00ff", "a b/é?#%"])
def test_quote_is_urllib_quote_without_safe_characters(text: str) -> None:
    assert prefetch.quote(text) == urllib.parse.quote(text, safe="")


def test_only_a_local_socket_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert prefetch.local_socket() == "/var/run/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/docker26.sock")
    assert prefetch.local_socket() == "/run/docker26.sock"
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2376")
    assert prefetch.local_socket() is None


def test_nothing_is_left_pending_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    prefetch.send("python:3.11-slim")
    assert prefetch.take("python:3.11-slim") is None


def test_the_requests_are_the_api_clients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a listening socket: both requests arrive as the API client writes them."""
    import socket

    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(2)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    try:
        prefetch.send("repo/app:1")
        got = []
        for _ in range(2):
            conn, _ = server.accept()
            got.append(conn.recv(4096))
            conn.close()
        sent = prefetch.take("repo/app:1")
        assert sent is not None
        assert isinstance(sent[1], prefetch.Drain)
        sent[0].close()
        sent[1].close()
    finally:
        server.close()
        prefetch.discard()
    assert got == [
        b"GET /images/repo%2Fapp%3A1/json HTTP/1.0\r\nHost: docker\r\n\r\n",
        b"GET /images/repo%2Fapp%3A1/get HTTP/1.0\r\nHost: docker\r\n\r\n",
    ]


def test_the_entry_points_prefixes_are_the_sources_own() -> None:
    """The entry point keeps its own copy of the prefixes (importing the image sources costs
    what it saves): it must name every prefix of another source than the engine."""
    from jettison._entry import _NOT_ENGINE
    from jettison.image.sources import PREFIXES

    assert set(_NOT_ENGINE) == set(PREFIXES)


def _engine(
    path: Path,
    answer: bytes,
    finished: threading.Event,
    inspect: bytes = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
) -> threading.Thread:
    """A pretend engine on ``path``: answers the JSON request with ``inspect``, the export
    with ``answer`` (in 64 KB writes, then the close); ``finished`` once it is all sent."""
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(2)

    def serve() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            request = conn.recv(4096)
            if b"/json " in request:
                conn.sendall(inspect)
            else:
                for start in range(0, len(answer), 65536):
                    conn.sendall(answer[start : start + 65536])
                finished.set()
            conn.close()
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_the_export_is_drained_before_the_command_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine can send the whole export (far more than a socket holds) before the
    command has adopted it: a thread reads it into the spool meanwhile. The reader then
    gets every byte of the body, without the head."""
    from jettison.image.blob import GrowingFile

    body = bytes(range(256)) * 16384  # 4 MB: a socket alone would hold a small part
    finished = threading.Event()
    engine = _engine(tmp_path / "engine.sock", b"HTTP/1.0 200 OK\r\nX: y\r\n\r\n" + body, finished)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'engine.sock'}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    try:
        prefetch.send("app:1")
        assert finished.wait(10), "the engine waited: nobody drained the export"
        sent = prefetch.take("app:1")
        assert sent is not None
        assert prefetch.answer(sent[0]) == (200, b"{}")
        status, spool = sent[1].hand_over(GrowingFile.following)
        assert status == 200
        assert spool.pread(0, len(body) + 10) == body
        assert sent[1].join(5)
        spool.close()
    finally:
        prefetch.discard()
        engine.join(5)
    assert [p.name for p in tmp_path.iterdir()] == ["engine.sock"]  # the spool: unlinked


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b'HTTP/1.0 404 Not Found\r\n\r\n{"message": "No such image: app:1"}', "no such image"),
        (
            b'HTTP/1.0 500 Error\r\n\r\n{"message": "disk full"}',
            "engine error for app:1: disk full",
        ),
    ],
)
def test_an_export_the_engine_refuses_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: bytes, error: str
) -> None:
    from jettison.errors import JettisonError
    from jettison.image.sources import open_image, request_export

    finished = threading.Event()
    engine = _engine(tmp_path / "engine.sock", answer, finished)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'engine.sock'}")
    try:
        prefetch.send("app:1")
        requested = request_export("app:1")
        with pytest.raises(JettisonError, match=error), open_image("app:1", requested=requested):
            pass
    finally:
        prefetch.discard()
        engine.join(5)


@pytest.mark.parametrize(
    ("inspect", "error"),
    [
        (b'HTTP/1.0 404 Not Found\r\n\r\n{"message": "No such image"}', "no such image"),
        (b"HTTP/1.0 200 OK\r\n\r\n<html>a proxy</html>", "is not JSON"),
        (b'HTTP/1.0 500 Error\r\n\r\n{"message": "daemon busy"}', "app:1: daemon busy"),
    ],
)
def test_an_image_inspect_the_engine_refuses_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inspect: bytes, error: str
) -> None:
    """The JSON asked for by the entry point, read without http.client: its refusals are
    the errors the command reports (and the export's reading stops)."""
    from jettison.errors import JettisonError
    from jettison.image.sources import request_export

    finished = threading.Event()
    engine = _engine(tmp_path / "engine.sock", b"HTTP/1.0 200 OK\r\n\r\n", finished, inspect)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'engine.sock'}")
    try:
        prefetch.send("app:1")
        with pytest.raises(JettisonError, match=error):
            request_export("app:1")
    finally:
        prefetch.discard()
        engine.join(5)


class _Follower:
    """A reader's view of the spool that records what it is told (``hand_over``'s
    ``follow``): the bytes there at the hand-over, each later write, the end."""

    def __init__(self, fd: int, written: int, done: bool, error: object) -> None:
        self.fd, self.start, self.error = fd, written, error
        self.writes: list[int] = []

    def advance(self, size: int) -> None:
        self.writes.append(size)

    def finish(self, error: object) -> None:
        self.error = error


def test_an_export_in_small_pieces_is_written_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docker 26 sends a save in pieces of some 32 KB, and a write to the spool costs about
    the same whatever its size: the drain gathers the pieces into writes of at least
    ``_BATCH`` bytes (the last one: the rest), and the reader gets every byte in order."""
    import os
    import socket
    import time

    body = os.urandom(1 << 20)
    go, handed = threading.Event(), threading.Event()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "engine.sock"))
    server.listen(2)

    def serve() -> None:  # the JSON at once; the export's head, then its body in 4 KB pieces
        for _ in range(2):
            conn, _ = server.accept()
            if b"/json " in conn.recv(4096):
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n{}")
            else:
                go.wait(10)
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
                handed.wait(10)  # (every write of the body reaches the reader's follower)
                for start in range(0, len(body), 4096):
                    conn.sendall(body[start : start + 4096])
                    time.sleep(0.0002)
            conn.close()
        server.close()

    engine = threading.Thread(target=serve, daemon=True)
    engine.start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'engine.sock'}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    try:
        prefetch.send("app:1")
        sent = prefetch.take("app:1")
        assert sent is not None
        assert prefetch.answer(sent[0]) == (200, b"{}")
        go.set()
        status, spool = sent[1].hand_over(_Follower)
        handed.set()
        assert status == 200
        assert sent[1].join(10)
        assert spool.error is None
        assert spool.start == 0 and sum(spool.writes) == len(body)
        assert os.pread(spool.fd, len(body) + 1, 0) == body
        assert len(spool.writes) >= 3 and min(spool.writes[:-1]) >= prefetch._BATCH
        os.close(spool.fd)
    finally:
        prefetch.discard()
        engine.join(5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness per thread: Linux")
def test_an_inspect_loads_its_code_at_a_lower_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the engine prepares the export, the command's modules load in a thread of
    lower priority (niceness is per thread on Linux), which the entry point waits for; a
    module that fails to load is left to the command's own import."""
    import os
    import sys
    import threading

    from jettison import _entry

    calls: list[tuple[int, int, int, str]] = []
    real = os.setpriority

    def record(which: int, who: int, value: int) -> None:
        calls.append((which, who, value, threading.current_thread().name))
        real(which, who, value)

    monkeypatch.setattr(os, "setpriority", record)
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    _entry.load_yielding(("colorsys", "jettison_no_such_module"))
    assert "colorsys" in sys.modules
    assert len(calls) == 1
    which, who, value, name = calls[0]
    assert (which, value, name) == (os.PRIO_PROCESS, _entry._LOAD_NICENESS, "jettison-load")
    assert who != threading.main_thread().native_id


@pytest.mark.parametrize(
    ("written", "finished", "cores", "whole"),
    [
        (500_000_000, False, 2, True),  # 500 MB/s: Docker 20.10 sending a prepared save
        (100_000_000, False, 2, False),  # 100 MB/s: Docker 26 sending as it produces
        (100_000_000, True, 2, True),  # already whole: nothing to overlap
        (500_000_000, False, 4, False),  # cores enough for the engine and the analysis
        (10, True, 8, True),
    ],
)
def test_a_fast_export_on_a_small_machine_is_analysed_once_whole(
    written: int, finished: bool, cores: int, whole: bool
) -> None:
    """On fewer than 4 cores, an export arriving at 300 MB/s or more is let arrive whole
    before the analysis starts (alongside, it would slow the engine down); a slower one is
    analysed as it arrives."""
    import time
    from types import SimpleNamespace

    from jettison.image.sources.engine import arrives_faster_than_analysed

    drain = SimpleNamespace(received=written, finished=finished, started=time.monotonic() - 1.0)
    assert arrives_faster_than_analysed(drain, cores) is whole


def test_the_arrival_is_watched_for_a_few_milliseconds_first() -> None:
    """Right after the head, too little has come to tell: the decision waits for the probe
    time (a fake drain that fills at 1 GB/s meanwhile)."""
    import time

    from jettison.image.sources import engine

    class Filling:
        finished = False

        def __init__(self) -> None:
            self.started = time.monotonic()

        @property
        def received(self) -> int:
            return int((time.monotonic() - self.started) * 1e9)

    started = time.monotonic()
    assert engine.arrives_faster_than_analysed(Filling(), 2) is True
    assert time.monotonic() - started >= engine._PROBE_SECONDS


def test_what_came_before_a_reset_reaches_the_spool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine that drops the connection in the middle of a batch: the bytes received
    before it are written to the spool (in order, once), then the error is reported."""
    import os
    import socket

    body = os.urandom(50_000)  # less than a batch: still in the buffer when the reset comes
    handed = threading.Event()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "engine.sock"))
    server.listen(2)

    def serve() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            if b"/json" in conn.recv(24):  # "GET /images/app%3A1/json" or ".../get "
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n{}")
                conn.close()
                continue
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
            handed.wait(10)  # (the body comes after the head: it waits for a batch)
            conn.sendall(body)
            # closed with the rest of the request unread in its queue: the reader gets
            # ECONNRESET once it has read what was sent
            conn.close()
        server.close()

    engine = threading.Thread(target=serve, daemon=True)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'engine.sock'}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    engine.start()
    try:
        prefetch.send("app:1")
        sent = prefetch.take("app:1")
        assert sent is not None
        assert prefetch.answer(sent[0]) == (200, b"{}")
        status, spool = sent[1].hand_over(_Follower)
        handed.set()
        assert status == 200
        assert sent[1].join(10)
        assert isinstance(spool.error, ConnectionResetError)
        assert spool.start == 0 and spool.writes == [len(body)]  # one write, at the end
        assert os.pread(spool.fd, len(body) + 1, 0) == body
        os.close(spool.fd)
    finally:
        prefetch.discard()
        engine.join(5)


@pytest.mark.parametrize("whole", [True, False], ids=["read-whole", "read-as-it-arrives"])
def test_an_export_read_whole_or_as_it_arrives_gives_one_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: bool
) -> None:
    """The export read once whole (as an archive) and the one analysed as it arrives give
    the report of the same archive read from a file."""
    from jettison.image.analysis import LayerPrep, _side_job, analyze
    from jettison.image.sources import engine as engine_source
    from jettison.image.sources import open_image, request_export
    from tests.unit.image.helpers import legacy_archive
    from tests.unit.image.test_replay import L0, L1, L2

    archive = legacy_archive([L0, L1, L2])
    (tmp_path / "img.tar").write_bytes(archive)
    with open_image(str(tmp_path / "img.tar")) as data:
        expected = analyze(data).to_json()
    finished = threading.Event()
    server = _engine(tmp_path / "engine.sock", b"HTTP/1.0 200 OK\r\n\r\n" + archive, finished)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'engine.sock'}")
    decided: list[bool] = []

    def decide(drain: object, cores: int | None = None) -> bool:
        decided.append(whole)
        return whole

    monkeypatch.setattr(engine_source, "arrives_faster_than_analysed", decide)
    sides: list[object] = []
    real_read = engine_source.read_archive

    def read(*args: Any) -> Any:
        sides.append(args[-1])  # what the archive reader is given to start beside its scan
        return real_read(*args)

    monkeypatch.setattr(engine_source, "read_archive", read)
    try:
        prefetch.send("app:1")
        requested = request_export("app:1")
        opened = open_image("app:1", requested=requested, prepare=LayerPrep, side=_side_job)
        with opened as data:
            prepared = [layer.prepared is not None for layer in data.layers]
            got = analyze(data).to_json()
    finally:
        prefetch.discard()
        server.join(5)
    assert decided == [whole]
    assert sides == [_side_job]  # (as it arrives, the reader prepares the layers instead)
    assert prepared == [not whole] * 3  # (as it arrives: each layer prepared)
    for key in ("image", "source", "id"):  # (what names the source)
        got.pop(key, None)
        expected.pop(key, None)
    assert got == expected


def test_elsewhere_than_linux_nothing_is_loaded_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where niceness is not per thread, ``setpriority`` of a thread's id could name some
    process: nothing is niced and nothing loaded ahead (the command imports as usual)."""
    import os

    from jettison import _entry

    calls: list[object] = []
    monkeypatch.setattr(os, "setpriority", lambda *args: calls.append(args))
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    _entry.load_yielding(("colorsys",))
    assert calls == [] and "colorsys" not in sys.modules


def test_a_spool_that_cannot_be_made_leaves_the_export_to_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unusable TMPDIR: the pending export is dropped (its sockets closed), so that the
    command asks the engine itself and reports the error as usual, not a traceback."""
    import socket

    ours, theirs = socket.socketpair()
    json_ours, json_theirs = socket.socketpair()

    def no_spool(self: object, sock: object, timeout: float = 600.0, label: object = None) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(prefetch.Drain, "__init__", no_spool)
    monkeypatch.setitem(prefetch._PENDING, "app:1", (json_ours, ours))
    prefetch.drain_pending()
    assert prefetch.take("app:1") is None
    assert ours.fileno() == -1 and json_ours.fileno() == -1
    for sock in (theirs, json_theirs):
        sock.close()


def test_forget_closes_this_processs_copies_and_leaves_the_requests_alive() -> None:
    """The waiting parent's copies go (close, no shutdown): the child's copies of the same
    sockets still carry the answers."""
    import socket

    ours, engine = socket.socketpair()
    child_copy = socket.socket(fileno=os.dup(ours.fileno()))
    json_ours, json_engine = socket.socketpair()
    prefetch._PENDING["app:1"] = (json_ours, ours)
    try:
        prefetch.forget()
        assert ours.fileno() == -1 and json_ours.fileno() == -1
        engine.sendall(b"HTTP/1.0 200 OK\r\n\r\nbody")
        assert child_copy.recv(64).endswith(b"body")  # (a shutdown would have ended it)
    finally:
        prefetch._PENDING.pop("app:1", None)
        for sock in (child_copy, engine, json_engine):
            sock.close()


_SLOW_EXPORT = """
import socket, sys, threading, time
from jettison.engine import prefetch

prefetch._SHOW_AFTER, prefetch._SHOW_EVERY = 0.2, 0.05
ours, engine = socket.socketpair()
drain = prefetch.Drain(ours, label=sys.argv[1] or None)


def send() -> None:
    time.sleep(0.5)  # the engine prepares the export
    engine.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n")
    for _ in range(5):
        engine.sendall(b"x" * 3_000_000)
        time.sleep(0.1)
    engine.close()


threading.Thread(target=send).start()
assert drain.join(30) and drain.error is None and drain.written == 15_000_000
"""


@pytest.mark.parametrize("label", ["app:1", ""])
def test_a_long_export_says_what_it_is_at_on_one_erased_line(label: str) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _SLOW_EXPORT, label], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    if not label:  # (no terminal, or -q)
        assert done.stderr == b""
        return
    shown = done.stderr.decode()
    assert "jettison inspect: app:1: waiting for the engine to prepare the export" in shown
    assert "MB of the export received" in shown
    assert shown.endswith("\r\x1b[K")  # erased before the report


_STALLING_EXPORT = """
import socket, sys, threading, time
from jettison.engine import prefetch

prefetch._SHOW_AFTER, prefetch._SHOW_EVERY = 0.05, 0.05
ours, engine = socket.socketpair()
drain = prefetch.Drain(ours, timeout=0.6, label=sys.argv[1] or None)


def send() -> None:  # a byte now and then for 2 s, never a gap of 0.6 s: no timeout
    engine.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n")
    for _ in range(8):
        time.sleep(0.25)
        engine.sendall(b"x" * 1000)
    time.sleep(1.0)  # then silence: the timeout
    engine.close()


threading.Thread(target=send).start()
drain.join(30)
print(drain.written, type(drain.error).__name__)
"""


@pytest.mark.parametrize("label", ["app:1", ""])
def test_the_timeout_is_per_wait_with_or_without_progress(label: str) -> None:
    """The timeout counts from the last byte received, not from the request, whether the
    progress line is shown or not."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _STALLING_EXPORT, label], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["8000", "TimeoutError"]


def test_progress_is_for_a_terminal_without_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    from jettison import _entry

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _entry.shows_progress(["inspect", "app:1"])
    assert not _entry.shows_progress(["inspect", "-q", "app:1"])
    assert not _entry.shows_progress(["inspect", "app:1", "--quiet"])
    assert not _entry.shows_progress(["inspect", "-qo", "out.json", "app:1"])
    assert _entry.shows_progress(["inspect", "-o", "q.json", "app:1"])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not _entry.shows_progress(["inspect", "app:1"])
    assert _entry.inspect_image_argument(["-q", "app:1"]) == "app:1"  # still asked for early


@pytest.mark.parametrize("show", [True, False])
def test_a_served_inspect_adopts_the_export_with_the_clients_progress(show: bool) -> None:
    """A server's command takes over the sockets the client asked on; by then its standard
    error is the client's, where the progress line goes when the client wants one."""
    import socket

    json_ours, json_theirs = socket.socketpair()
    export_ours, export_theirs = socket.socketpair()
    try:
        prefetch.adopt("app:1", json_ours.detach(), export_ours.detach(), show_progress=show)
        sent = prefetch.take("app:1")
        assert sent is not None
        assert sent[1]._label == ("app:1" if show else None)
        sent[0].close()
        sent[1].close()
    finally:
        prefetch.discard()
        json_theirs.close()
        export_theirs.close()


_STOPPED_EXPORT = """
import os, socket, time
from jettison.engine import prefetch

prefetch._SHOW_AFTER, prefetch._SHOW_EVERY = 0.05, 0.05
ours, engine = socket.socketpair()
drain = prefetch.Drain(ours, label="app:1")
time.sleep(0.3)  # the line is on the terminal; then the command fails:
drain.close()
os.write(2, b"jettison: error: ...")
"""


def test_a_failing_inspect_erases_the_progress_line_before_its_error() -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-c", _STOPPED_EXPORT], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"waiting for the engine" in done.stderr
    assert done.stderr.endswith(b"\r\x1b[Kjettison: error: ...")
