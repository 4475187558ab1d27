"""The inspect export asked for by the console entry point: which command lines send it,
and what is sent (the engine itself is exercised in tests/engine/test_inspect.py)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

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
        assert sent is not None and all(isinstance(s, socket.socket) for s in sent)
        for s in sent:
            s.close()
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
