"""``jettison server``: a served audit is the same run as a normal one (output, exit code,
stdin, working directory), only faster; anything unexpected falls back to a normal run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jettison import __version__
from jettison._entry import encode

JETTISON = [sys.executable, "-m", "jettison"]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose server socket lives under tmp_path; the server is stopped."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run_dir)}
    env.pop("JETTISON_NO_SERVER", None)
    try:
        yield env
    finally:
        subprocess.run([*JETTISON, "server", "stop"], env=env, capture_output=True)


def _project(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    (root / "requirements.txt").write_text("six\n")
    (root / "app.py").write_text("import six\n")
    (root / "Dockerfile").write_text(
        "FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\nCMD python app.py\n"
    )
    return root


def _audit(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None) -> tuple:
    done = subprocess.run(
        [*JETTISON, "audit", *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True
    )
    return done.returncode, done.stdout, done.stderr


def test_a_served_audit_is_a_normal_run(tmp_path: Path, runtime: dict[str, str]) -> None:
    project = _project(tmp_path / "p")
    alone = {**runtime, "JETTISON_NO_SERVER": "1"}
    expected = [
        _audit(alone, project, "Dockerfile"),
        _audit(alone, project, "--format", "json", "--no-context", "Dockerfile"),
        _audit(alone, project, "-", stdin="FROM x\n"),
        _audit(alone, project, "missing/Dockerfile"),
    ]
    assert expected[0][0] == 1 and expected[3][0] == 2
    started = subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "120"],
        env=runtime,
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stderr
    status = subprocess.run([*JETTISON, "server", "status"], env=runtime, capture_output=True)
    assert status.returncode == 0
    served = [
        _audit(runtime, project, "Dockerfile"),
        _audit(runtime, project, "--format", "json", "--no-context", "Dockerfile"),
        _audit(runtime, project, "-", stdin="FROM x\n"),
        _audit(runtime, project, "missing/Dockerfile"),
    ]
    assert served == expected


def test_another_version_is_told_to_run_alone(tmp_path: Path, runtime: dict[str, str]) -> None:
    started = subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "120"], env=runtime, capture_output=True
    )
    assert started.returncode == 0
    path = Path(runtime["XDG_RUNTIME_DIR"]) / "jettison" / "server.sock"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    for version, answer in ((__version__ + ".other", b"stale"), (__version__, b"refused")):
        # no descriptors sent: a well-formed request of another version is stale, one of
        # this version without the client's stdin/stdout/stderr is refused
        payload = encode(version, ["audit", "Dockerfile"], str(tmp_path), {})
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(30)
            client.connect(str(path))
            client.sendall(len(payload).to_bytes(4, "big") + payload)
            assert client.recv(64).startswith(answer)


def test_no_server_is_a_normal_run(tmp_path: Path, runtime: dict[str, str]) -> None:
    project = _project(tmp_path)
    code, out, _ = _audit(runtime, project, "Dockerfile")
    assert code == 1 and "JT111" in out
    status = subprocess.run([*JETTISON, "server", "status"], env=runtime, capture_output=True)
    assert status.returncode == 1


def test_only_a_private_socket_gets_the_command(
    tmp_path: Path, runtime: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client sends its environment (secrets included): never to a socket in a folder
    others can enter."""
    from jettison._entry import _via_server

    project = _project(tmp_path / "p")
    started = subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "120"], env=runtime, capture_output=True
    )
    assert started.returncode == 0
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime["XDG_RUNTIME_DIR"])
    monkeypatch.chdir(project)
    folder = Path(runtime["XDG_RUNTIME_DIR"]) / "jettison"
    null = os.open(os.devnull, os.O_RDWR)
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    try:
        for fd in (0, 1, 2):  # what the served command writes goes nowhere
            os.dup2(null, fd)
        served = _via_server(["audit", "--no-context", "Dockerfile"])
        folder.chmod(0o755)
        refused = _via_server(["audit", "--no-context", "Dockerfile"])
    finally:
        for fd, copy in zip((0, 1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)
        folder.chmod(0o700)
    assert served == 1 and refused is None
