"""``jettison server``: one process with jettison loaded, serving ``jettison audit`` to the
console entry point (:mod:`jettison._entry`), for hooks and editors that run it once per
file.

Each request is run in a process forked from the server, on the client's own stdin,
stdout and stderr (passed over the socket), in its working directory and environment: the
command cannot tell it from a normal run, and nothing one run changes reaches the next.
The fork shares the server's memory (its modules, the rule registry, compiled patterns,
the shell parser) until written, which is what makes a run fast.

The server listens on a socket in a directory only its user can enter, answers only that
user (the peer's credentials are checked), refuses a client of another version, stops
when its own code changed on disk (an upgrade: the client then runs the command itself)
and after ``idle`` seconds without a request.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import struct
import sys
import time
from pathlib import Path

from jettison import __version__
from jettison._entry import PROTOCOL, SERVED, socket_path
from jettison.errors import JettisonError

_MAX_REQUEST = 4 << 20  # the command line and the environment; more is not a client


def _code_stamp() -> tuple[int, int]:
    """(files, newest mtime) of jettison's own modules: an upgrade changes it."""
    root = Path(__file__).parent
    count = newest = 0
    for path in root.rglob("*.py"):
        with contextlib.suppress(OSError):
            newest = max(newest, path.stat().st_mtime_ns)
            count += 1
    return count, newest


def _warm_up() -> None:
    """Load what an audit loads, and run one, so the forks find it all in memory."""
    import tempfile

    from jettison.cli import cli

    with tempfile.TemporaryDirectory(prefix="jettison-server-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(
            "FROM python:3.11-slim\nCOPY requirements.txt .\n"
            'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n'
        )
        (Path(tmp) / "requirements.txt").write_text("six\n")
        (Path(tmp) / "app.py").write_text("import six\n")
        for name in SERVED:
            cli.get_command(None, name)  # type: ignore[arg-type]
        with (
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.suppress(SystemExit),
        ):
            cli.main(["audit", str(dockerfile)], prog_name="jettison", standalone_mode=False)


def _decode(data: bytes) -> tuple[str, str, str, list[str], dict[str, str]] | None:
    fields = data.decode("utf-8", "surrogateescape").split("\0")
    if len(fields) < 4 or fields[0] != PROTOCOL:
        return None
    version, cwd = fields[1], fields[2]
    try:
        argc = int(fields[3])
    except ValueError:
        return None
    argv, rest = fields[4 : 4 + argc], fields[4 + argc :]
    if len(argv) != argc:
        return None
    env = dict(f.split("=", 1) for f in rest if "=" in f)
    return PROTOCOL, version, cwd, argv, env


def _receive(conn: socket.socket) -> tuple[bytes, list[int]]:
    head, fds, _flags, _addr = socket.recv_fds(conn, 4 + 65536, 3)
    if len(head) < 4:
        return b"", fds
    size = int.from_bytes(head[:4], "big")
    data = head[4:]
    if size > _MAX_REQUEST:
        return b"", fds
    while len(data) < size:
        chunk = conn.recv(min(1 << 20, size - len(data)))
        if not chunk:
            break
        data += chunk
    return data, fds


def _peer_is_me(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def _run(argv: list[str], cwd: str, env: dict[str, str], fds: list[int]) -> int:
    """Become the client's command (this process is a fork of the server, serving one
    connection) and run it; its exit code, the output flushed."""
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = ["jettison", *argv]
    from jettison.cli import finish, run

    try:
        code = run()
    except BaseException:  # never back into the server's loop from a fork
        code = 2
    return finish(code if isinstance(code, int) else 0 if code is None else 1)


def _handle(conn: socket.socket, stamp: tuple[int, int]) -> None:
    """Serve one connection (in a fork of the server)."""
    data, fds = _receive(conn)
    try:
        request = _decode(data) if data else None
        if request is None or not _peer_is_me(conn):
            conn.sendall(b"refused\n")
            return
        _, version, cwd, argv, env = request
        if version != __version__ or _code_stamp() != stamp:
            conn.sendall(b"stale\n")
            return
        if not argv or argv[0] not in SERVED or len(fds) != 3:
            conn.sendall(b"refused\n")
            return
        code = _run(argv, cwd, env, fds)
        conn.sendall(f"exit {code}\n".encode())
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def serve(idle: float = 900.0, path: str | None = None) -> None:
    """Listen until ``idle`` seconds pass without a request (or the code changes)."""
    path = path or socket_path()
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.stat(directory).st_uid != os.getuid() or os.stat(directory).st_mode & 0o077:
        raise JettisonError("the server's directory is not private to this user", directory)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    _warm_up()
    stamp = _code_stamp()
    gc.collect()
    gc.freeze()  # what the forks share stays shared: the collector never writes to it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    pid_file = Path(path).with_suffix(".pid")
    pid_file.write_text(f"{os.getpid()}\n")
    listener.listen(64)
    listener.settimeout(idle)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the handlers' forks reap themselves
    stop = False
    try:
        while not stop:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break  # idle
            pid = os.fork()
            if pid == 0:  # the handler: the server goes on accepting meanwhile
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its command may wait for some
                try:
                    _handle(conn, stamp)
                finally:
                    conn.close()
                    os._exit(0)
            conn.close()
            # a stale request: the handler said so to the client; stop here too
            stop = _code_stamp() != stamp
    finally:
        listener.close()
        for leftover in (path, str(pid_file)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


def running(path: str | None = None) -> bool:
    """Whether a server answers on ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path or socket_path())
        return True
    except OSError:
        return False
    finally:
        probe.close()


def start(idle: float = 900.0) -> int:
    """Start a server in the background (a daemon process); its pid."""
    if running():
        raise JettisonError(f"a server already answers on {socket_path()}")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the daemon: its own session, no terminal, no inherited output
        os.close(read)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            if os.fork() != 0:
                os._exit(0)
            os.write(write, f"{os.getpid()}\n".encode())
            os.close(write)
            serve(idle)
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        daemon = int(pipe.readline().strip() or 0)
    deadline = time.monotonic() + 30
    while not running():  # the warm-up runs first
        if time.monotonic() > deadline:
            raise JettisonError("the server did not start within 30 s")
        time.sleep(0.05)
    return daemon


def stop(path: str | None = None) -> bool:
    """Stop the server; whether one was running."""
    path = path or socket_path()
    pid_file = Path(path).with_suffix(".pid")
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    was = running(path)
    if pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    for leftover in (path, str(pid_file)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)
    return was
