"""The console entry point: ``jettison audit`` through a running ``jettison server`` when
there is one, else the command line as usual.

A Python process pays for its imports before it reads a file (click, the rules, the
shell parser: a quarter of a second on a small machine), and a pre-commit hook or an
editor audits one file per process. ``jettison server start`` keeps one process with all
of that loaded; this module, which imports nothing but the interpreter's built-in
modules, hands it the command line, the working directory, the environment and this
process's own stdin, stdout and stderr (the descriptors themselves), and exits with the
code the command ends with. Output, colours, exit codes and errors are exactly those of a
normal run: the command runs in a process forked from the server, on these descriptors.

Anything unexpected (no server, another version, a server of another user, a closed
socket) falls back to the normal run; ``JETTISON_NO_SERVER=1`` always does.
"""

from __future__ import annotations

import os
import sys

# commands worth a server: the ones hooks and editors run once per file
SERVED = ("audit",)
PROTOCOL = "jettison-server-1"


def socket_path() -> str:
    """Where the server of this user listens (a directory only the user can enter)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/jettison-{os.getuid()}"
    return os.path.join(base, "jettison", "server.sock")


def encode(version: str, argv: list[str], cwd: str, env: dict[str, str]) -> bytes:
    """The request: NUL-separated fields (no JSON, whose import costs what the server
    saves): protocol, version, cwd, the argument count, the arguments, the environment."""
    fields = [PROTOCOL, version, cwd, str(len(argv)), *argv]
    fields += [f"{k}={v}" for k, v in env.items()]
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def _via_server(argv: list[str]) -> int | None:
    """The exit code of ``argv`` run by the server, or None to run it here."""
    import _socket  # the C module: `socket` would import enum, selectors and more

    path = socket_path()
    try:  # only a socket of this user, in a directory only this user can enter
        own, folder = os.stat(path), os.stat(os.path.dirname(path))
    except OSError:
        return None
    uid = os.getuid()
    if own.st_uid != uid or folder.st_uid != uid or folder.st_mode & 0o077:
        return None
    from jettison import __version__

    payload = encode(__version__, argv, os.getcwd(), dict(os.environ))
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(2.0)
        sock.connect(path)
        fds = (0, 1, 2)
        rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)
        head = len(payload).to_bytes(4, "big")
        sock.sendmsg([head + payload], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
        sock.settimeout(None)  # the command takes what it takes
        reply = b""
        while True:
            chunk = sock.recv(64)
            if not chunk:
                break
            reply += chunk
    except OSError:
        return None
    finally:
        sock.close()
    text = reply.decode("ascii", "replace").strip()
    if not text.startswith("exit "):
        return None  # "stale" (another version or changed code), or a server that died
    try:
        return int(text[5:])
    except ValueError:
        return None


# `jettison inspect` options that take a value (the image is the one other word)
_INSPECT_VALUES = ("--source", "--platform", "--dockerfile", "--format", "--output", "-o",
                   "--fail-on", "--config", "--dive-ci", "--top")  # fmt: skip
# prefixes that name another source than the engine (as jettison.image.sources reads them)
_NOT_ENGINE = ("docker-archive:", "oci-archive:", "archive:", "oci:", "registry:", "docker://",
               "docker-daemon:", "engine:")  # fmt: skip


def inspect_image_argument(args: list[str]) -> str | None:
    """The engine image ``jettison inspect ARGS`` reads, when the command line says so
    plainly (one image word, no other source, no --help); else None."""
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--help", "-h", "--"):
            return None
        if arg in _INSPECT_VALUES:
            skip = True
            if arg == "--source":
                return None  # (--source engine would work, but is rare: keep this simple)
            continue
        if arg.startswith("--source="):
            return None
        if not arg.startswith("-"):
            words.append(arg)
    if len(words) != 1:
        return None
    image = words[0]
    if image.startswith(_NOT_ENGINE) or os.path.exists(image) or not image.isprintable():
        return None
    return None if any(c.isspace() for c in image) else image


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["inspect"] and (image := inspect_image_argument(argv[1:])) is not None:
        # the engine prepares the export (most of an inspect) while the rest imports
        from jettison.engine import prefetch

        prefetch.send(image)
    if argv[:1] and argv[0] in SERVED and not os.environ.get("JETTISON_NO_SERVER"):
        code = _via_server(argv)
        if code is not None:
            os._exit(code)  # nothing of ours to flush: the command wrote to the descriptors
    from jettison.cli import main as cli_main

    cli_main()
