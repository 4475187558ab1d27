"""An engine export asked for before the command line is parsed.

The engine prepares a whole ``docker save`` before it sends the first byte (about a second
for a 100 MB image on these engines), while a Python command line spends its first 0.1 s
importing click, http.client and the analysis code. ``jettison inspect IMAGE`` therefore
sends its two requests (the image's JSON and its export) from the console entry point, on
plain sockets and with nothing but built-in modules imported, and the inspect command
later reads the answers with :mod:`http.client` (:func:`jettison.engine.api.adopt`). What
is sent is exactly what :class:`jettison.engine.api.EngineAPI` sends; only the local
socket (``unix://``, the default) is used this way.

Anything unexpected (no socket, a refused connection) leaves nothing behind: the command
then asks the engine itself, and reports errors as usual.
"""

from __future__ import annotations

import os

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


def send(reference: str) -> None:
    """Ask the engine for ``reference``'s JSON and export now; read them with :func:`take`."""
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
    except OSError:
        for sock in opened:
            sock.close()
        return
    _PENDING[reference] = (opened[0], opened[1])


def take(reference: str) -> tuple[Any, Any] | None:
    """The (JSON, export) sockets :func:`send` opened for ``reference``, as
    :class:`socket.socket` objects; None when nothing was sent for it."""
    found = _PENDING.pop(reference, None)
    if found is None:
        return None
    import socket

    return tuple(  # type: ignore[return-value]
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=s.detach()) for s in found
    )


def discard() -> None:
    """Close what was sent and never taken."""
    while _PENDING:
        _, socks = _PENDING.popitem()
        for sock in socks:
            sock.close()
