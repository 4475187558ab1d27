"""The two Engine API calls ``jettison inspect`` makes, over the standard library.

Importing the Docker SDK for Python costs ~170 ms (requests, urllib3 and their imports):
more than the whole analysis of a 100 MB image. Inspect needs one JSON GET
(``/images/{name}/json``) and one streamed GET (``/images/{id}/get``, the ``docker save``
tar), so it speaks HTTP to the engine itself (the export in HTTP/1.0: see
:func:`jettison.engine.prefetch.request`), found from the same variables the CLI and the
SDK read: ``DOCKER_HOST`` (``unix://`` or ``tcp://``; default the local socket),
``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``. Other transports (``ssh://``) return None
so the caller can use the SDK. Builds and everything else still go through the SDK and the
docker CLI (:mod:`jettison.engine`).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_SOCKET = "/var/run/docker.sock"


class EngineHTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _tls_context() -> Any:
    import ssl

    verify = bool(os.environ.get("DOCKER_TLS_VERIFY"))
    cert_dir = os.environ.get("DOCKER_CERT_PATH") or os.path.join(
        os.path.expanduser("~"), ".docker"
    )
    ca = os.path.join(cert_dir, "ca.pem")
    context = ssl.create_default_context(cafile=ca if verify and os.path.isfile(ca) else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert, key = os.path.join(cert_dir, "cert.pem"), os.path.join(cert_dir, "key.pem")
    if os.path.isfile(cert) and os.path.isfile(key):
        context.load_cert_chain(cert, key)
    return context


class EngineAPI:
    """A connection per request (the stream keeps its own while the JSON calls go on)."""

    def __init__(self, host: str, timeout: float = 600.0) -> None:
        self.host = host
        self.timeout = timeout

    @classmethod
    def from_env(cls, timeout: float = 600.0) -> EngineAPI | None:
        host = os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
        if host.startswith(("unix://", "tcp://", "http://", "https://")):
            return cls(host, timeout)
        return None

    def describe(self) -> str:
        return self.host

    def _connection(self) -> http.client.HTTPConnection:
        if self.host.startswith("unix://"):
            return _UnixConnection(self.host[len("unix://") :], self.timeout)
        url = urlsplit(self.host.replace("tcp://", "http://", 1))
        hostname = url.hostname or "localhost"
        tls = (
            url.scheme == "https"
            or bool(os.environ.get("DOCKER_TLS_VERIFY"))
            or bool(os.environ.get("DOCKER_CERT_PATH"))
        )
        if tls:
            return http.client.HTTPSConnection(
                hostname, url.port or 2376, timeout=self.timeout, context=_tls_context()
            )
        return http.client.HTTPConnection(hostname, url.port or 2375, timeout=self.timeout)

    def _get(self, path: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = self._connection()
        try:
            conn.request("GET", path, headers={"Host": "docker"})
            response = conn.getresponse()
        except BaseException:
            conn.close()
            raise
        if response.status >= 400:
            message = _error_message(response)
            conn.close()
            raise EngineHTTPError(response.status, message)
        return conn, response

    def get_json(self, path: str) -> Any:
        conn, response = self._get(path)
        try:
            return json.loads(response.read())
        except ValueError:  # a proxy's page or a damaged answer, not the engine's JSON
            raise EngineHTTPError(
                response.status, f"the engine's answer to {path} is not JSON"
            ) from None
        finally:
            conn.close()

    def image(self, name: str) -> dict[str, Any]:
        """``docker image inspect NAME`` (EngineHTTPError 404 when there is no such image)."""
        data = self.get_json(f"/images/{quote(name, safe='')}/json")
        if not isinstance(data, dict):
            raise EngineHTTPError(500, "unexpected answer to an image inspect")
        return data

    def save(self, image_id: str) -> PendingSave:
        """Ask for the ``docker save`` tar of one image now; read it later.

        The engine prepares the whole export before it sends the first byte (most of the
        time of a ``docker save``), so sending the request before the caller's own set-up
        overlaps that preparation with it.
        """
        from jettison.engine.prefetch import request

        conn = self._connection()
        try:  # on the socket http.client would use (unix, tcp or TLS), in HTTP/1.0
            conn.connect()
            assert conn.sock is not None
            conn.sock.sendall(request(f"/images/{quote(image_id, safe='')}/get"))
        except BaseException:
            conn.close()
            raise
        return PendingSave(sock=conn.sock)


class PendingSave:
    """An export asked for: on a connection of ours, or on a socket the console entry point
    sent the request on (:mod:`jettison.engine.prefetch`)."""

    def __init__(
        self, conn: http.client.HTTPConnection | None = None, sock: socket.socket | None = None
    ) -> None:
        self.conn = conn
        self.sock = sock

    def _response(self) -> http.client.HTTPResponse:
        if self.conn is not None:
            return self.conn.getresponse()
        assert self.sock is not None
        return _answer(self.sock)

    def chunks(self, chunk_size: int) -> Iterator[bytes | memoryview]:
        """The tar as it arrives (EngineHTTPError if the engine refuses).

        A body that runs to the close (the HTTP/1.0 answer) is read as it arrives, one
        receive at a time, into one buffer: each chunk is a view of it, valid until the
        next is asked for. A fresh ``bytes`` per read costs a megabyte's allocation and
        its page faults each time: a third of the stream's time here.
        """
        try:
            response = self._response()
            if response.status >= 400:
                raise EngineHTTPError(response.status, _error_message(response))
            if response.length is None and not response.chunked and response.fp is not None:
                buffer = memoryview(bytearray(chunk_size))
                while n := response.fp.readinto1(buffer):
                    yield buffer[:n]
                return
            while chunk := response.read(chunk_size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.sock is not None:
            self.sock.close()


def _answer(sock: socket.socket) -> http.client.HTTPResponse:
    """The engine's answer to a request already sent on ``sock``."""
    response = http.client.HTTPResponse(sock, method="GET")
    response.begin()
    return response


def _error_message(response: http.client.HTTPResponse) -> str:
    body = response.read(1 << 16)
    try:
        message = str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace").strip()
    return message or f"HTTP {response.status}"
