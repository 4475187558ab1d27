"""``jettison server``: a served audit is the same run as a normal one (output, exit code,
stdin, working directory), only faster; anything unexpected falls back to a normal run. By
default the first audit starts a server in the background, and the next ones use it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jettison import __version__
from jettison._entry import encode, identity, server_mode
from jettison.server import running

JETTISON = [sys.executable, "-m", "jettison"]
PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose server socket lives under tmp_path, where `jettison audit` uses a
    server but starts none (tests of the start in the background set JETTISON_SERVER); the
    server, one still starting as well, is stopped."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run_dir), "JETTISON_SERVER": "manual"}
    for name in ("JETTISON_NO_SERVER", "CI"):
        env.pop(name, None)
    try:
        yield env
    finally:
        folder = run_dir / "jettison"
        if (folder / "server.started").exists():  # started in the background: wait for it
            _wait(lambda: (folder / "server.pid").exists())
        subprocess.run([*JETTISON, "server", "stop"], env=env, capture_output=True)


def _wait(condition: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


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
    here = identity()
    cases = (
        (here.replace(__version__, __version__ + ".other", 1), b"stale"),
        (f"{__version__} /another/installation/jettison", b"stale"),
        (here, b"refused"),
    )
    for version, answer in cases:
        # no descriptors sent: a well-formed request of another version or installation is
        # stale, one of this one without the client's stdin/stdout/stderr is refused
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


def _servers(run_dir: Path) -> set[int]:
    """The live `jettison server run` processes whose socket directory is ``run_dir`` (not
    their forks: the handler waiting for the next request, the requests being served)."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            env = (proc / "environ").read_bytes().split(b"\0")
            status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
        except (OSError, ValueError):
            continue
        mine = f"XDG_RUNTIME_DIR={run_dir}".encode() in env
        if mine and argv[-3:-1] == [b"server", b"run"] and "zombie" not in status["State"]:
            parents[int(proc.name)] = int(status["PPid"])
    return {pid for pid, parent in parents.items() if parent not in parents}


@PROC
def test_the_first_audit_starts_a_server_for_the_next(
    tmp_path: Path, runtime: dict[str, str]
) -> None:
    """The default: no server, so the audit runs as usual and starts one in the background
    (its own session, in /, without the caller's other variables); the next is served."""
    project = _project(tmp_path / "p")
    alone = _audit({**runtime, "JETTISON_SERVER": "off"}, project, "Dockerfile")
    auto = {k: v for k, v in runtime.items() if k != "JETTISON_SERVER"}
    auto["SOME_TOKEN"] = "secret"
    assert server_mode(auto) == "auto"
    run_dir = Path(runtime["XDG_RUNTIME_DIR"])
    sock = run_dir / "jettison" / "server.sock"
    assert not running(str(sock))
    assert _audit(auto, project, "Dockerfile") == alone  # the first: a normal run
    assert _wait(lambda: running(str(sock))), "no server started in the background"
    pid = int((run_dir / "jettison" / "server.pid").read_text())
    assert _servers(run_dir) == {pid}
    assert os.readlink(f"/proc/{pid}/cwd") == "/"
    assert b"SOME_TOKEN" not in Path(f"/proc/{pid}/environ").read_bytes()
    assert os.getsid(pid) != os.getsid(0)
    assert _audit(auto, project, "Dockerfile") == alone
    # the second was the server's: the client's own path to it answers with the exit code
    served = subprocess.run(
        [*JETTISON[:1], "-c", "from jettison._entry import _via_server as v; "
         "raise SystemExit(0 if v(['audit', 'Dockerfile']) == 1 else 9)"],
        env=auto, cwd=project, capture_output=True, text=True,
    )  # fmt: skip
    assert served.returncode == 0 and served.stdout == alone[1]
    status = subprocess.run([*JETTISON, "server", "status"], env=auto, capture_output=True)
    assert status.returncode == 0
    stopped = subprocess.run([*JETTISON, "server", "stop"], env=auto, capture_output=True)
    assert stopped.returncode == 0 and _wait(lambda: not _servers(run_dir), 10)


@PROC
@pytest.mark.parametrize(
    "setting",
    [{"CI": "true"}, {"JETTISON_SERVER": "off"}, {"JETTISON_NO_SERVER": "1"}, {}],
    ids=["CI", "off", "no-server", "manual"],
)
def test_ci_and_the_switch_start_no_server(
    tmp_path: Path, runtime: dict[str, str], setting: dict[str, str]
) -> None:
    project = _project(tmp_path / "p")
    env = {k: v for k, v in runtime.items() if k != "JETTISON_SERVER" or not setting}
    env.update(setting)
    code, out, _ = _audit(env, project, "Dockerfile")
    assert code == 1 and "JT111" in out
    # a start in the background makes its directory (and its stamp) before the audit runs
    run_dir = Path(runtime["XDG_RUNTIME_DIR"])
    assert not (run_dir / "jettison").exists()
    assert not _servers(run_dir)


def test_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert server_mode({}) == "auto"
    assert server_mode({"CI": "true"}) == server_mode({"CI": "1"}) == "manual"
    assert server_mode({"CI": "false"}) == server_mode({"CI": ""}) == "auto"
    assert server_mode({"CI": "true", "JETTISON_SERVER": "on"}) == "auto"
    assert server_mode({"JETTISON_SERVER": "manual"}) == "manual"
    assert server_mode({"JETTISON_SERVER": "OFF"}) == server_mode({"JETTISON_SERVER": "0"}) == "off"
    assert server_mode({"JETTISON_NO_SERVER": "1", "JETTISON_SERVER": "on"}) == "off"
    monkeypatch.delattr(os, "fork")  # Windows
    assert server_mode({"JETTISON_SERVER": "on"}) == "off"


@PROC
def test_servers_started_at_once_leave_one(tmp_path: Path, runtime: dict[str, str]) -> None:
    """Three audits starting a server each and two `jettison server run` at the same moment:
    one server takes the lock, the others exit."""
    project = _project(tmp_path / "p")
    run_dir = Path(runtime["XDG_RUNTIME_DIR"])
    auto = {k: v for k, v in runtime.items() if k != "JETTISON_SERVER"}

    def spawn(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*JETTISON, *args],
            env=auto,
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    procs = [spawn("server", "run"), spawn("server", "run")]
    procs += [spawn("audit", "Dockerfile") for _ in range(3)]
    try:
        for proc in procs[2:]:
            assert proc.wait(timeout=120) == 1
        sock = str(run_dir / "jettison" / "server.sock")
        assert _wait(lambda: running(sock) and len(_servers(run_dir)) == 1), _servers(run_dir)
        time.sleep(1)  # a second one would still be there
        pid = int((run_dir / "jettison" / "server.pid").read_text())
        assert _servers(run_dir) == {pid}
        assert all(p.poll() == 1 for p in procs[:2] if p.pid != pid)  # "another runs"
    finally:
        subprocess.run([*JETTISON, "server", "stop"], env=auto, capture_output=True)
        for pid in _servers(run_dir):  # (servers the lock did not stop)
            os.kill(pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


@PROC
def test_a_long_dockerfile_is_served(tmp_path: Path, runtime: dict[str, str]) -> None:
    """BuildKit's parser is Go: were it loaded in the server, its runtime's threads would be
    missing from the forks, and the first parse needing them would wait forever (2,000
    instructions did)."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "Dockerfile").write_text(
        "FROM debian:bookworm\n" + "RUN apt-get install curl\n" * 2000
    )
    alone = _audit({**runtime, "JETTISON_SERVER": "off"}, project, "--no-context", "Dockerfile")
    started = subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "120"], env=runtime, capture_output=True
    )
    assert started.returncode == 0
    pid = int((Path(runtime["XDG_RUNTIME_DIR"]) / "jettison" / "server.pid").read_text())
    assert len(os.listdir(f"/proc/{pid}/task")) == 1  # the forks lack no thread
    try:
        done = subprocess.run(
            [*JETTISON, "audit", "--no-context", "Dockerfile"],
            env=runtime, cwd=project, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            os.kill(int(child), 9)  # the fork waiting forever
        raise
    assert (done.returncode, done.stdout, done.stderr) == alone


def _inspect(env: dict[str, str], cwd: Path, *args: str) -> tuple:
    done = subprocess.run(
        [*JETTISON, "inspect", *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    return done.returncode, done.stdout, done.stderr


def test_a_served_inspect_is_a_normal_run(tmp_path: Path, runtime: dict[str, str]) -> None:
    """An image archive's inspect, served or not: the same output and exit codes (a failed
    threshold and a missing archive as well), the client's temporary directory used and
    left empty (the served run cleans up after its client has its answer)."""
    from tests.unit.image.helpers import legacy_archive
    from tests.unit.image.test_replay import L0, L1, L2

    (tmp_path / "img.tar").write_bytes(legacy_archive([L0, L1, L2]))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**runtime, "TMPDIR": str(scratch)}
    calls = [
        ("img.tar",),
        ("img.tar", "--format", "json"),
        ("img.tar", "--fail-on", "size=1kB"),
        ("missing.tar",),
    ]
    alone = [_inspect({**env, "JETTISON_NO_SERVER": "1"}, tmp_path, *c) for c in calls]
    assert [code for code, _, _ in alone] == [0, 0, 1, 2]
    assert _wait(lambda: not list(scratch.iterdir()), 10), list(scratch.iterdir())
    started = subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "120"], env=runtime, capture_output=True
    )
    assert started.returncode == 0, started.stderr
    assert [_inspect(env, tmp_path, *c) for c in calls] == alone
    assert _wait(lambda: not list(scratch.iterdir()), 10), list(scratch.iterdir())
    # served indeed: the client's own path to the server answers with the exit code
    served = subprocess.run(
        [*JETTISON[:1], "-c", "from jettison._entry import _via_server as v; "
         "raise SystemExit(0 if v(['inspect', 'img.tar', '--fail-on', 'size=1kB']) == 1 else 9)"],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert served.returncode == 0 and served.stdout == alone[2][1]


def test_ctrl_c_stops_a_served_command_as_it_stops_a_normal_one(
    tmp_path: Path, runtime: dict[str, str]
) -> None:
    """Ctrl-C reaches the client alone: the served command is told, stops as a normal run
    would (its message, exit code 130), and the server serves on. Here the command waits
    for a Dockerfile on stdin that never ends."""
    started = subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "120"], env=runtime, capture_output=True
    )
    assert started.returncode == 0, started.stderr
    results = []
    for env in ({**runtime, "JETTISON_NO_SERVER": "1"}, runtime):
        client = subprocess.Popen(
            [*JETTISON, "audit", "-"], env=env, cwd=tmp_path, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert client.stdin is not None
        client.stdin.write("FROM debian:bookworm\n")
        client.stdin.flush()
        time.sleep(1.5)  # started, reading
        assert client.poll() is None
        client.send_signal(signal.SIGINT)
        code = client.wait(timeout=30)  # (stdin still open: the Dockerfile never ends)
        assert client.stdout is not None and client.stderr is not None
        out, err = client.stdout.read(), client.stderr.read()
        client.stdin.close()
        results.append((code, out, err.strip().splitlines()[-1:]))
    assert results[0] == results[1] == (130, "", ["jettison: interrupted"]), results
    assert _audit(runtime, tmp_path, "-", stdin="FROM x\n")[0] == 1  # served on


def _pretend_engine(path: Path, archive: bytes, requests: list[bytes]) -> None:
    """An engine on ``path`` that answers any image's JSON and export (``archive``), in
    HTTP/1.0, recording each request line, until its socket file is removed."""
    import json
    import threading

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(8)
    server.settimeout(0.5)
    inspect = json.dumps({"Id": "sha256:" + "ab" * 32}).encode()

    def serve() -> None:
        while path.exists():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                request = conn.recv(4096)
                requests.append(request.split(b"\r\n", 1)[0])
                body = inspect if b"/json " in request else archive
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + body)
        server.close()

    threading.Thread(target=serve, daemon=True).start()


def test_a_served_inspect_of_an_engine_image_adopts_the_clients_export(
    tmp_path: Path, runtime: dict[str, str]
) -> None:
    """The console entry point asks the engine for the export before it asks the server,
    and hands the sockets over with its descriptors: the engine gets one image JSON and
    one export request per inspect, served or not, and the reports are the same."""
    from tests.unit.image.helpers import legacy_archive
    from tests.unit.image.test_replay import L0, L1, L2

    requests: list[bytes] = []
    engine = tmp_path / "engine.sock"
    _pretend_engine(engine, legacy_archive([L0, L1, L2]), requests)
    env = {**runtime, "DOCKER_HOST": f"unix://{engine}", "TMPDIR": str(tmp_path)}
    try:
        alone = _inspect({**env, "JETTISON_NO_SERVER": "1"}, tmp_path, "app:1")
        assert alone[0] == 0 and "3 layers" in alone[1], alone
        assert sorted(requests) == [b"GET /images/app%3A1/get HTTP/1.0",
                                    b"GET /images/app%3A1/json HTTP/1.0"]  # fmt: skip
        started = subprocess.run(
            [*JETTISON, "server", "start", "--idle-timeout", "120"], env=env, capture_output=True
        )
        assert started.returncode == 0, started.stderr
        requests.clear()
        assert _inspect(env, tmp_path, "app:1") == alone
        assert len(requests) == 2, requests  # the client's two requests, no others
        # served indeed: the client exits without having loaded the command line
        marker = tmp_path / "marker"
        client = (
            "import os, sys\n"
            "from jettison import _entry\n"
            "def leave(code, _exit=os._exit):\n"
            f"    open({str(marker)!r}, 'w').write(str('jettison.cli' in sys.modules))\n"
            "    _exit(code)\n"
            "os._exit = leave\n"
            "sys.argv = ['jettison', 'inspect', 'app:1']\n"
            "_entry.main()\n"
        )
        done = subprocess.run([*JETTISON[:1], "-c", client], env=env, cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip
        assert (done.returncode, done.stdout) == alone[:2]
        assert marker.read_text() == "False"
    finally:
        engine.unlink()
