"""An engine export asked for before the command line is parsed.

Docker 20.10 prepares a whole ``docker save`` before it sends the first byte (about 0.3 s
for a 100 MB image here), Docker 26 sends at once, and a Python command line spends its
first 0.1 s importing click and the analysis code. ``jettison inspect IMAGE`` therefore
sends its two requests (the image's JSON and its export) from the console entry point, on
plain sockets and with nothing but built-in modules imported; a thread reads the export
into a spool from its first byte (:class:`Drain`), and the inspect command later reads
the JSON (:func:`answer`) and follows the spool. Both requests are what
:class:`jettison.engine.api.EngineAPI` sends (HTTP/1.0: each answer ends with its
connection); only the local socket (``unix://``, the default) is used this way.

Anything unexpected (no socket, a refused connection) leaves nothing behind: the command
then asks the engine itself, and reports errors as usual.
"""

from __future__ import annotations

import os
import time  # (built into the interpreter: no file to load)

TYPE_CHECKING = False  # typing's constant without importing typing (see jettison.engine)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_SOCKET = "/var/run/docker.sock"
# reference -> (socket the JSON answer arrives on, socket the export arrives on)
_PENDING: dict[str, tuple[Any, Any]] = {}
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(text: str) -> str:
    """``urllib.parse.quote(text, safe="")`` (that module's import is what this avoids)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def local_socket() -> str | None:
    """The engine's socket path when DOCKER_HOST names a local one (or is unset)."""
    host = os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
    return host[len("unix://") :] if host.startswith("unix://") else None


def request(path: str) -> bytes:
    """A GET of ``path`` in HTTP/1.0: the engine then sends the body as it is and closes the
    connection at its end, instead of cutting a ``docker save`` into some 4,000 chunks of
    32 KB that the reader must parse one by one (half again the stream's time here)."""
    return f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode("ascii")


def send(reference: str, drain: bool = True) -> None:
    """Ask the engine for ``reference``'s JSON and export now, and keep the export drained
    into a spool (:class:`Drain`); read them with :func:`take`. ``drain=False``: not yet
    (the sockets may go to a server's command, :func:`descriptors`; else
    :func:`drain_pending`)."""
    import _socket  # the C module: `socket` would import enum, selectors and more

    path = local_socket()
    if path is None or reference in _PENDING:
        return
    opened: list[Any] = []
    try:
        for what in ("json", "get"):
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            opened.append(sock)
            sock.settimeout(5.0)
            sock.connect(path)
            sock.sendall(request(f"/images/{quote(reference)}/{what}"))
        export = Drain(opened[1]) if drain else opened[1]
    except OSError:
        for sock in opened:
            sock.close()
        return
    _PENDING[reference] = (opened[0], export)


def descriptors(reference: str) -> tuple[int, ...]:
    """The JSON's and the export's sockets :func:`send` opened for ``reference`` without a
    drain (empty when there are none): what a server's command adopts (:func:`adopt`)."""
    sent = _PENDING.get(reference)
    if sent is None or isinstance(sent[1], Drain):
        return ()
    return sent[0].fileno(), sent[1].fileno()


def drain_pending(show_progress: bool = False) -> None:
    """Start draining the exports sent without a drain (the command runs here after all);
    one whose spool cannot be made (an unusable TMPDIR) is dropped: the command then asks
    the engine itself and reports what goes wrong as usual. ``show_progress``: say on
    standard error what an export that takes long is at (:class:`Drain`)."""
    for reference, (json_sock, export) in list(_PENDING.items()):
        if not isinstance(export, Drain):
            try:
                label = reference if show_progress else None
                _PENDING[reference] = (json_sock, Drain(export, label=label))
            except OSError:
                del _PENDING[reference]
                json_sock.close()
                export.close()


def adopt(reference: str, json_fd: int, export_fd: int, show_progress: bool = False) -> None:
    """Take over the sockets another process asked ``reference``'s JSON and export on (the
    console entry point, for the server's command): the export is drained from now on
    (``show_progress``: as :func:`drain_pending`, on this process's standard error, which
    is then the client's)."""
    import _socket

    sockets = [_socket.socket(fileno=fd) for fd in (json_fd, export_fd)]
    label = reference if show_progress else None
    _PENDING[reference] = (sockets[0], Drain(sockets[1], label=label))


# an export still arriving after this long says so on standard error (with a label), and
# again every _SHOW_EVERY seconds, on one line it rewrites
_SHOW_AFTER = 1.0
_SHOW_EVERY = 0.25

# received bytes gathered for one write to the spool: a write costs some 20 us whatever its
# size, and Docker 26 sends a save in pieces of about 32 KB (78 MB here: 2,200 writes took
# 48 ms of processor, taken from the engine, against 23 ms in writes of 256 KB); Docker
# 20.10's pieces of about 200 KB go as they come
_BATCH = 128 << 10


class Drain:
    """The export's answer, read from the moment it is asked for into a spool file.

    Docker 26's engine (the containerd image store) sends the first bytes of a ``docker
    save`` at once and waits whenever nobody reads them: without a reader until the command
    has imported its analysis code (a tenth of a second or more), the whole export arrived
    that much later. A thread of its own (only built-in modules: this runs before the
    imports) reads the answer into an unlinked file, keeping the status line apart, and
    goes on after :meth:`hand_over` gives the spool to a reader that follows its writes.

    ``label`` (an image's name, for a terminal): once the export has taken a second, a line
    on standard error says what it is at (the engine preparing it, or the megabytes
    received), rewritten as it goes and erased at the end. Docker 20.10 prepares a 1 GB
    image's export for some 5 s before its first byte.
    """

    def __init__(self, sock: Any, timeout: float = 600.0, label: str | None = None) -> None:
        import _thread

        directory = os.environ.get("TMPDIR") or "/tmp"
        name = os.path.join(directory, f"jettison-export-{os.getpid()}-{os.urandom(6).hex()}")
        self.fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(name)  # freed when the last descriptor closes, however the process ends
        # the thread writes through a descriptor of its own: the reader may close its own
        # (and the number be reused) while a last batch is still being written
        self._out = os.dup(self.fd)
        self.sock = sock
        self.status = 0  # the HTTP status, once the head has arrived
        self.written = 0  # body bytes in the spool
        self.started = 0.0  # time.monotonic() when the head was complete
        self.received = 0  # bytes received so far (written or not yet), head included
        self.finished = False
        self.error: OSError | None = None
        self.follower: Any = None  # what hand_over returned: told of each write
        self._head = bytearray()
        self._signalled = False
        self._lock = _thread.allocate_lock()  # writes and the hand-over, one at a time
        self._headed = _thread.allocate_lock()  # held until the head (or the end) is there
        self._headed.acquire()
        self._running = _thread.allocate_lock()  # held while the thread reads
        self._running.acquire()
        self._label = "".join(c for c in label if c.isprintable()) if label else None
        self._shown = False  # a progress line is on the terminal
        self._timeout = timeout
        # with a label, receives wake up to update the line (the timeout is then kept here)
        sock.settimeout(_SHOW_EVERY if self._label else timeout)
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        buffer = memoryview(bytearray(_BATCH + (1 << 20)))
        fill = 0  # bytes received and not yet written
        error: OSError | None = None
        label = self._label
        started = time.monotonic()
        deadline, show_at = started + self._timeout, started + _SHOW_AFTER
        try:
            while True:
                try:
                    n = self.sock.recv_into(buffer[fill:])
                except TimeoutError:
                    if label is None or time.monotonic() > deadline:
                        raise
                    n = -1  # (no byte for a while: the line is updated all the same)
                if not n:
                    break
                if n > 0:
                    deadline = time.monotonic() + self._timeout  # (the timeout is per wait)
                    fill += n
                    self.received += n
                    if fill >= _BATCH or not self.status:  # (the head is read at once)
                        data, fill = buffer[:fill], 0
                        self._take(data)
                if label is not None and (now := time.monotonic()) >= show_at:
                    self._show(label, now - started)
                    show_at = now + _SHOW_EVERY
        except OSError as exc:  # a reset, a timeout, or a discard closing the socket
            error = exc
        if self._shown:
            self._write_status("\r\x1b[K")  # (the report comes next on the same terminal)
        if fill:  # what came before the end (or the error) goes to the spool first
            try:
                self._take(buffer[:fill])
            except OSError as exc:
                error = error or exc
        os.close(self._out)
        with self._lock:
            self.finished, self.error = True, error
            if self.follower is not None:
                self.follower.finish(error)
        self._signal_head()
        self.sock.close()
        self._running.release()

    def _show(self, label: str, seconds: float) -> None:
        if self.received:
            what = f"{self.received / 1e6:,.0f} MB of the export received"
        else:
            what = "waiting for the engine to prepare the export"
        line = f"jettison inspect: {label}: {what} ({seconds:.0f} s)"
        try:  # one screen row (a wrapped line is not rewritten in place), when it is known
            columns = os.get_terminal_size(2).columns
        except OSError:
            columns = 0
        if columns > 20:
            line = line[: columns - 1]
        self._write_status(f"\r\x1b[K{line}")
        self._shown = True

    @staticmethod
    def _write_status(text: str) -> None:
        try:  # noqa: SIM105 - (contextlib is an import this module avoids)
            os.write(2, text.encode("utf-8", "replace"))
        except OSError:  # (a terminal gone: the export goes on)
            pass

    def join(self, timeout: float) -> bool:
        """Wait for the end of the answer (the thread's end); whether it came in time."""
        if not self._running.acquire(timeout=timeout):
            return False
        self._running.release()
        return True

    def _take(self, data: memoryview) -> None:
        if not self.status:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            try:  # "HTTP/1.0 200 OK"
                self.status = int(self._head.split(b" ", 2)[1])
            except (IndexError, ValueError):
                self.status = 502  # not an HTTP answer: the reader reports it
            data = memoryview(self._head)[end + 4 :]
            self.started = time.monotonic()
            self._signal_head()
        size = len(data)
        while data:  # appended with plain writes: readers use pread
            data = data[os.write(self._out, data) :]
        with self._lock:
            self.written += size
            if self.follower is not None:
                self.follower.advance(size)

    def _signal_head(self) -> None:
        if not self._signalled:  # (only this thread releases, once)
            self._signalled = True
            self._headed.release()

    def hand_over(self, follow: Any) -> tuple[int, Any]:
        """(HTTP status, the spool) once the answer's head is there: ``follow(fd, written,
        finished, error)`` makes the reader's view of the spool, which is then told of each
        later write (``advance(n)``) and of the end (``finish(error)``)."""
        self._headed.acquire()
        self._headed.release()
        with self._lock:
            self.follower = follow(self.fd, self.written, self.finished, self.error)
        return self.status, self.follower

    def close(self) -> None:
        """Stop reading (a command that did not use the export); the spool goes too."""
        with self._lock:
            if self.follower is None and self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
        try:  # noqa: SIM105 - (contextlib is an import this module avoids)
            self.sock.shutdown(2)  # SHUT_RDWR: wakes the thread's receive, a close would not
        except OSError:
            pass
        if self._label is not None:  # its progress line erased before an error is printed
            self.join(1.0)
        self.sock.close()


def take(reference: str) -> tuple[Any, Drain] | None:
    """The JSON request's socket (read it with :func:`answer`) and the export's
    :class:`Drain` that :func:`send` opened for ``reference``; None when nothing was sent."""
    return _PENDING.pop(reference, None)


def answer(sock: Any, timeout: float = 600.0) -> tuple[int, bytes]:
    """(status, body) of the HTTP/1.0 answer on ``sock``, read to its close (then closed)."""
    try:
        sock.settimeout(timeout)
        parts = []
        while data := sock.recv(1 << 16):
            parts.append(data)
    finally:
        sock.close()
    head, _, body = b"".join(parts).partition(b"\r\n\r\n")
    try:  # "HTTP/1.0 200 OK"
        return int(head.split(b" ", 2)[1]), body
    except (IndexError, ValueError):
        return 502, body  # not an HTTP answer


def forget() -> None:
    """Close this process's descriptors of what was sent, without ending the requests (a
    child that inherited them reads the answers): no shutdown, unlike :func:`discard`."""
    while _PENDING:
        _, (json_sock, export) = _PENDING.popitem()
        json_sock.close()
        if isinstance(export, Drain):  # (not expected: drains start after the fork)
            os.close(export.fd)
        else:
            export.close()


def discard() -> None:
    """Close what was sent and never taken."""
    while _PENDING:
        _, (json_sock, drain) = _PENDING.popitem()
        json_sock.close()
        drain.close()
