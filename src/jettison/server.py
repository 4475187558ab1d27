"""``jettison server``: one process with jettison loaded, serving ``jettison audit`` to the
console entry point (:mod:`jettison._entry`), for hooks and editors that run it once per
file.

Each request is run in a process forked from the server, on the client's own stdin,
stdout and stderr (passed over the socket), in its working directory and environment: the
command cannot tell it from a normal run, and nothing one run changes reaches the next.
The fork shares the server's memory (its modules, the rule registry, compiled patterns,
the shell parser) until written, which is what makes a run fast. It is made before the
request comes (a spare, waiting on the socket: the fork and the loading of BuildKit's
parser, which the server itself must not load, cost the request nothing), and replaced as
soon as it takes one.

The server listens on a socket in a directory only its user can enter, answers only that
user (the peer's credentials are checked), refuses a client of another version or
installation, stops when its own code changed on disk (an upgrade: the client then runs the
command itself), after ``idle`` seconds without a request, and when its socket is gone or
another's. It holds a lock beside the socket for its whole life: of servers started at once
(two clients starting one each), one runs and the others exit.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import importlib
import os
import select
import signal
import socket
import struct
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from jettison._entry import PROTOCOL, SERVED, exported_image, identity, shows_progress, socket_path
from jettison.errors import JettisonError

_MAX_REQUEST = 4 << 20  # the command line and the environment; more is not a client
_SEND_SECONDS = 5.0  # a client that has not sent its whole request by then is not served
_CHECK_EVERY = 60.0  # seconds between looks at whether the socket is still this server's


def _code_paths() -> list[str]:
    """jettison's own modules, and their folders (a module added or removed, as an upgrade
    does, changes its folder's time)."""
    files = [str(path) for path in Path(__file__).parent.rglob("*.py")]
    return sorted({os.path.dirname(file) for file in files}) + files


def _code_stamp(paths: list[str]) -> tuple[int, ...]:
    """The modification times of ``paths`` (-1 for one gone): a stat each, half a
    millisecond for them all, on the way of every request."""
    stamp = []
    for path in paths:
        try:
            stamp.append(os.stat(path).st_mtime_ns)
        except OSError:
            stamp.append(-1)
    return tuple(stamp)


class _OnFirstUse(types.ModuleType):
    """Stands in the server for the ``dockerfile`` package (BuildKit's parser, written in
    Go): importing it starts the Go runtime and its threads, which a fork of the server
    would not have (its first parse would wait for them forever). The fork waiting for
    the next request imports the real package (3 ms) before that request comes."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):  # the import system's questions (__spec__, __path__)
            raise AttributeError(name)
        del sys.modules[self.__name__]
        try:
            real = importlib.import_module(self.__name__)
        except BaseException:
            sys.modules[self.__name__] = self
            raise
        self.__dict__.update(real.__dict__)  # the next uses go straight to it
        return getattr(real, name)


_NOT_IN_THE_SERVER = ("dockerfile",)


def _audit_once() -> None:
    """Run one audit of a small project, its output discarded."""
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
        (Path(tmp) / ".dockerignore").write_text(".git\n*.pyc\n")
        with (
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.suppress(SystemExit),
        ):
            cli.main(["audit", str(dockerfile)], prog_name="jettison", standalone_mode=False)


def _inspect_once() -> None:
    """Run one inspect of a small image archive (one layer, one file), its output
    discarded: the image reading, analysis and rendering code, loaded."""
    import hashlib
    import io
    import json
    import tarfile
    import tempfile

    from jettison.cli import cli

    def tar_of(files: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return out.getvalue()

    layer = tar_of({"app/main.py": b"print('hello')\n"})
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["python", "/app/main.py"]},
            "rootfs": {
                "type": "layers",
                "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"],
            },
            "history": [{"created_by": "COPY main.py /app/ # buildkit"}],
        }
    ).encode()
    manifest = [{"Config": "config.json", "RepoTags": ["warm-up:1"], "Layers": ["l/layer.tar"]}]
    archive = tar_of(
        {
            "l/layer.tar": layer,
            "config.json": config,
            "manifest.json": json.dumps(manifest).encode(),
        }
    )
    with tempfile.TemporaryDirectory(prefix="jettison-server-") as tmp:
        path = Path(tmp) / "image.tar"
        path.write_bytes(archive)
        with (
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.suppress(SystemExit),
        ):
            cli.main(["inspect", str(path)], prog_name="jettison", standalone_mode=False)


def _warm_up() -> None:
    """Load what an audit loads, so the forks find it all in memory.

    The audit itself runs in a fork (it starts BuildKit's parser, whose threads no later
    fork would have), which names the modules it loaded; this process imports them, the
    parser's package excepted (:class:`_OnFirstUse`)."""
    for name in _NOT_IN_THE_SERVER:
        if name not in sys.modules:
            sys.modules[name] = _OnFirstUse(name)
    from jettison.cli import cli

    for command in SERVED:
        cli.get_command(None, command)  # type: ignore[arg-type]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            _audit_once()
            _inspect_once()
            with os.fdopen(write, "wb") as out:
                out.write("\n".join(sys.modules).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        names = pipe.read().decode().split("\n")
    os.waitpid(pid, 0)
    for name in [*names, "jettison.engine.prefetch"]:
        if name in sys.modules or name.startswith("__") or name in _NOT_IN_THE_SERVER:
            continue
        with contextlib.suppress(Exception):  # (a name a module gave itself, say)
            importlib.import_module(name)
    from jettison.image.render import prepare_terminal_view

    prepare_terminal_view()  # rich's tables and styles, loaded on first use


def _threads() -> int:
    """This process's threads (1 where /proc does not say)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


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
    head, fds, _flags, _addr = socket.recv_fds(conn, 4 + 65536, 5)
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


def _run(
    argv: list[str], cwd: str, env: dict[str, str], fds: list[int], conn: socket.socket
) -> None:
    """Become the client's command (this process is a fork of the server, serving one
    connection), run it and tell the client its exit code once the output is flushed; then
    run the exit handlers (temporary files removed, a spooled export's pages freed), on
    the client's time no more."""
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    if "tempfile" in sys.modules:  # its directory, found once in the server: the client's
        sys.modules["tempfile"].tempdir = None  # type: ignore[attr-defined]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = ["jettison", *argv]
    from jettison.cli import flush_output, run

    replied: list[int] = []
    try:
        _interrupt_when_gone(conn, replied)
        _take_export(argv, fds)
        code = run()
    except KeyboardInterrupt:  # (before the command's own handling began)
        code = 130
    except BaseException:  # never back into the server's loop from a fork
        code = 2
    try:
        code = flush_output(code if isinstance(code, int) else 0 if code is None else 1)
    except KeyboardInterrupt:  # the client left while the output was still being written
        code = 130
    replied.append(code)
    with contextlib.suppress(OSError):  # (a client already gone: the cleanup still runs)
        conn.sendall(f"exit {code}\n".encode())
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):  # the client's terminal or pipes, released with it
        os.dup2(null, target)
    for fd in fds:  # (the descriptors as received)
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()
    atexit._run_exitfuncs()


def _take_export(argv: list[str], fds: list[int]) -> None:
    """The export an inspect reads: the sockets the client asked for it on (descriptors 4
    and 5, taken out of ``fds``), else asked for here."""
    image = exported_image(argv)  # (in the client's directory: an archive there is no image)
    extra = [fds.pop(3), fds.pop(3)] if len(fds) == 5 else []
    if image is None:
        for fd in extra:
            os.close(fd)
        return
    from jettison.engine import prefetch

    if extra:  # (standard error is the client's by now: its progress line goes there)
        prefetch.adopt(image, extra[0], extra[1], show_progress=shows_progress(argv))
    else:
        prefetch.send(image)


def _interrupt_when_gone(conn: socket.socket, replied: list[int]) -> None:
    """Interrupt this command (KeyboardInterrupt, as Ctrl-C would) when its client closes
    the connection before the reply: the client was interrupted, or killed. The socket
    signals (SIGIO) when it has something to read, its end among it: no thread, which
    would keep the analysis from forking. ``replied`` is given the exit code before the
    reply goes: the client's close is expected then. A close before this was armed (Ctrl-C
    while the request waited) is looked for once here: no signal would tell of it."""

    def gone(_signum: int, _frame: object) -> None:
        if replied:
            return
        try:
            if conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                return  # (the client sends nothing more: not its end)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        raise KeyboardInterrupt

    signal.signal(signal.SIGIO, gone)
    fcntl.fcntl(conn.fileno(), fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(
        conn.fileno(), fcntl.F_SETFL, fcntl.fcntl(conn.fileno(), fcntl.F_GETFL) | os.O_ASYNC
    )
    gone(signal.SIGIO, None)


def _handle(
    conn: socket.socket,
    request: tuple[str, str, str, list[str], dict[str, str]] | None,
    fds: list[int],
    paths: list[str],
    stamp: tuple[int, ...],
) -> None:
    """Serve one connection's ``request`` (in a fork of the server)."""
    try:
        if request is None or not _peer_is_me(conn):
            conn.sendall(b"refused\n")
            return
        _, version, cwd, argv, env = request
        if version != identity() or _code_stamp(paths) != stamp:
            conn.sendall(b"stale\n")
            return
        if not argv or argv[0] not in SERVED or len(fds) not in (3, 5):  # (5: an export's)
            conn.sendall(b"refused\n")
            return
        _run(argv, cwd, env, fds, conn)
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _files(path: str) -> tuple[Path, Path, Path]:
    """The pid file, the lock and the stamp of the last start in the background, beside
    the socket ``path``."""
    sock = Path(path)
    return sock.with_suffix(".pid"), sock.with_suffix(".lock"), sock.with_suffix(".started")


def _lock(lock_file: Path) -> int | None:
    """The descriptor holding the server's lock, or None when another server holds it."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: another server lives
        os.close(fd)
        return None
    return fd


def serve(
    idle: float = 900.0, path: str | None = None, ready: Callable[[], None] | None = None
) -> bool:
    """Listen until ``idle`` seconds pass without a request (or the code changes, or the
    socket is removed); False at once when another server holds the lock. ``ready`` is
    called once the socket listens."""
    path = path or socket_path()
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.stat(directory).st_uid != os.getuid() or os.stat(directory).st_mode & 0o077:
        raise JettisonError("the server's directory is not private to this user", directory)
    pid_file, lock_file, _ = _files(path)
    lock = _lock(lock_file)  # kept (never closed, the file never removed) while serving
    if lock is None:
        return False
    os.chdir("/")  # each request runs in its caller's directory; none is kept busy here
    pid_file.write_text(f"{os.getpid()}\n")  # `jettison server stop` finds it warming up
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # the socket of a server that died (this one holds the lock)
    try:
        paths = _code_paths()
        stamp = _code_stamp(paths)  # (before loading: a change meanwhile is one)
        _warm_up()
        if _threads() > 1:  # a fork has only the thread that forked: never serve with more
            raise JettisonError("the server started threads while loading; not serving")
        gc.collect()
        gc.freeze()  # what the forks share stays shared: the collector never writes to it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o600)
        inode = os.stat(path).st_ino
        listener.listen(64)
        if ready is not None:
            ready()
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the handlers reap themselves
        try:
            _serve_loop(listener, lock, idle, path, inode, paths, stamp)
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    os.unlink(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        os.close(lock)
    return True


def _spare(
    listener: socket.socket,
    watch: int,
    took: int,
    paths: list[str],
    stamp: tuple[int, ...],
    parser: bool,
) -> None:
    """The next request's handler (a fork of the server, made before the request): it loads
    BuildKit's parser (``parser``: the last request was an audit), waits for a connection
    (or the server's end), reads the request, tells the server it took one and whether it
    is an audit, and serves it. Fork and parser cost the request nothing: they came before
    it. An inspect is better served without the parser: a process that loaded it never
    forks, and the analysis of a large image forks to use a second core."""
    if parser:
        with contextlib.suppress(Exception):
            getattr(sys.modules.get("dockerfile"), "parse_string", None)  # loads the real one
    while True:
        ready, _, _ = select.select([listener.fileno(), watch], [], [])
        if watch in ready:
            return  # the server ended
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue
        break
    listener.close()
    conn.settimeout(_SEND_SECONDS)  # a client sends its request at once
    try:
        data, fds = _receive(conn)
    except OSError:
        data, fds = b"", []
    conn.settimeout(None)
    request = _decode(data) if data else None
    os.write(took, b"a" if request is not None and request[3][:1] == ["audit"] else b"o")
    os.close(took)
    try:
        _handle(conn, request, fds, paths, stamp)
    finally:
        conn.close()


def _serve_loop(
    listener: socket.socket,
    lock: int,
    idle: float,
    path: str,
    inode: int,
    paths: list[str],
    stamp: tuple[int, ...],
) -> None:
    """Keep one spare handler waiting for the next connection, until ``idle`` seconds pass
    without one, the code changes or the socket is no longer this server's."""
    listener.setblocking(False)  # (only the spare accepts, after select says one is there)
    watch, alive = os.pipe()  # the spare's end of file: this server has ended
    parser = True  # hooks and editors: audits, one after another
    last = time.monotonic()
    failures = 0
    try:
        while failures < 5:  # spares that end without a connection: something is wrong
            took_read, took = os.pipe()
            spare = os.fork()
            if spare == 0:
                try:
                    for fd in (took_read, alive, lock):
                        os.close(fd)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its command may wait
                    _spare(listener, watch, took, paths, stamp, parser)
                finally:
                    os._exit(0)
            os.close(took)
            try:
                while True:
                    ready, _, _ = select.select([took_read], [], [], min(idle, _CHECK_EVERY))
                    if ready:
                        break
                    try:  # removed (its directory too, a test's), or another's now
                        gone = os.stat(path).st_ino != inode
                    except OSError:
                        gone = True
                    if gone or time.monotonic() - last >= idle:
                        with contextlib.suppress(OSError):
                            os.kill(spare, signal.SIGTERM)
                        return
                taken = os.read(took_read, 1)
                if not taken:
                    failures += 1
                    time.sleep(0.1 * failures)
                    continue
                parser = taken == b"a"  # the next spare loads the parser for an audit
            finally:
                os.close(took_read)
            failures = 0
            last = time.monotonic()
            # a stale request: the handler said so to the client; stop here too
            if _code_stamp(paths) != stamp:
                return
    finally:
        os.close(alive)
        os.close(watch)


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
    read, write = os.pipe()  # closed once the server listens; why not, when it cannot
    pid = os.fork()
    if pid == 0:  # the daemon: its own session, no terminal, no inherited output
        try:
            os.close(read)
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            if os.fork() == 0:
                try:
                    serve(idle, ready=lambda: os.close(write))
                except Exception as exc:  # (the client says it; nobody would read a log)
                    os.write(write, str(exc).encode()[:4000])
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        failed = pipe.read().decode(errors="replace")
    if failed:
        raise JettisonError(f"the server did not start: {failed}")
    deadline = time.monotonic() + 30
    while not running():  # another server was starting: it warms up first
        if time.monotonic() > deadline:
            raise JettisonError("the server did not start within 30 s")
        time.sleep(0.05)
    pid_file = _files(socket_path())[0]
    with contextlib.suppress(OSError, ValueError):
        return int(pid_file.read_text().strip())
    return 0


def stop(path: str | None = None) -> bool:
    """Stop the server (one still warming up as well); whether one was running."""
    path = path or socket_path()
    pid_file, lock_file, started = _files(path)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    was = running(path)
    if pid > 0 and lock_file.exists() and (free := _lock(lock_file)) is not None:
        os.close(free)  # no server holds the lock: the pid file is a dead one's (or reused)
        pid = 0
    if pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
            was = True
    for leftover in (path, pid_file, started):  # the next call may start one at once
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)
    return was
