"""The console entry point: ``jettison audit`` through a running ``jettison server`` when
there is one, else the command line as usual (and, by default, a server started in the
background for the next call).

A Python process pays for its imports before it reads a file (click, the rules, the
shell parser: a quarter of a second on a small machine), and a pre-commit hook or an
editor audits one file per process. ``jettison server`` keeps one process with all of that
loaded; this module, which imports nothing but the interpreter's own modules, hands it the
command line, the working directory, the environment and this process's own stdin, stdout
and stderr (the descriptors themselves), and exits with the code the command ends with.
Output, colours, exit codes and errors are exactly those of a normal run: the command runs
in a process forked from the server, on these descriptors.

When no server answers, the audit runs here as usual, and a server is started in the
background for the next ones, the way Gradle's and Bazel's daemons start: a double fork
whose process waits for this one to end (so that loading takes no processor from this
run) and then becomes ``python -m jettison server run``; nothing here waits for it.
``JETTISON_SERVER`` decides (:func:`server_mode`): ``auto`` (the default; no start where
the ``CI`` variable is set), ``on``, ``manual`` (use a server started with ``jettison server
start``, start none) or ``off`` (never use one; ``JETTISON_NO_SERVER=1`` says the same).

Anything unexpected (another version or installation, a server of another user, a closed
socket) falls back to the normal run.

An inspect run here runs in a child of this process, which exits with the command's code
as soon as the report is written: the clean-up and the exit of a process holding an
analysed image come after (:func:`answer_from_a_child`).
"""

from __future__ import annotations

import os
import sys
import time

# commands worth a server: the ones hooks and editors run once per file
SERVED = ("audit", "inspect")
PROTOCOL = "jettison-server-1"
NOBODY = "nobody"  # nothing listens (as against a server that declined)
# a start attempted this recently is still warming up (or failed): do not start another
START_GRACE = 30.0
# what the background server keeps of the starting client's environment (each request
# brings the caller's own environment; these are for the server's start and warm-up)
_SERVER_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
               "XDG_RUNTIME_DIR", "PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE",
               "PYTHONPYCACHEPREFIX", "PYTHONUTF8", "VIRTUAL_ENV")  # fmt: skip
_FALSE = ("", "0", "false", "no", "off")
_KEEP: list[int] = []  # the pipe end whose closing (this process ending) starts the server


def socket_path() -> str:
    """Where the server of this user listens (a directory only the user can enter)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/jettison-{os.getuid()}"
    return os.path.join(base, "jettison", "server.sock")


def identity() -> str:
    """The version and the installation (its directory): a server of another installation,
    even of the same version, may run other code."""
    from jettison import __version__

    return f"{__version__} {os.path.dirname(os.path.abspath(__file__))}"


def server_mode(env: dict[str, str] | os._Environ[str]) -> str:
    """What to do with a server: "off" (run here), "manual" (use a running one, start
    none) or "auto" (use one, and start one in the background when none answers).

    ``JETTISON_SERVER=off|manual|auto|on``; ``auto``, the default, is ``manual`` where the
    ``CI`` variable is set to a true value (a CI job starts from scratch: a server only
    costs there), ``on`` starts one even there. ``JETTISON_NO_SERVER`` (any value) is
    ``off``, and so is a platform without fork or Unix sockets (Windows)."""
    if env.get("JETTISON_NO_SERVER") or not hasattr(os, "fork") or not hasattr(os, "getuid"):
        return "off"
    setting = env.get("JETTISON_SERVER", "auto").strip().lower()
    if setting in _FALSE:
        return "off"
    if setting == "manual":
        return "manual"
    if setting == "on":
        return "auto"
    return "manual" if env.get("CI", "").strip().lower() not in _FALSE else "auto"


def encode(version: str, argv: list[str], cwd: str, env: dict[str, str]) -> bytes:
    """The request: NUL-separated fields (no JSON, whose import costs what the server
    saves): protocol, version, cwd, the argument count, the arguments, the environment."""
    fields = [PROTOCOL, version, cwd, str(len(argv)), *argv]
    fields += [f"{k}={v}" for k, v in env.items()]
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def _ask(argv: list[str], extra: tuple[int, ...] = ()) -> int | str:
    """The exit code of ``argv`` run by the server, or why it was not: NOBODY when nothing
    listens, else another word (run it here all the same). ``extra``: descriptors the
    command is given after stdin, stdout and stderr (an export already asked for)."""
    import _socket  # the C module: `socket` would import enum, selectors and more

    path = socket_path()
    try:  # only a socket of this user, in a directory only this user can enter
        own, folder = os.stat(path), os.stat(os.path.dirname(path))
    except FileNotFoundError:
        return NOBODY
    except OSError:
        return "unreadable"
    uid = os.getuid()
    if own.st_uid != uid or folder.st_uid != uid or folder.st_mode & 0o077:
        return "unsafe"
    payload = encode(identity(), argv, os.getcwd(), dict(os.environ))
    interrupted = False
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(2.0)
        try:
            sock.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return NOBODY  # a socket file its server left behind (killed)
        fds = (0, 1, 2, *extra)
        rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)
        head = len(payload).to_bytes(4, "big")
        sock.sendmsg([head + payload], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
        sock.settimeout(None)  # the command takes what it takes
        reply = b""
        while True:
            try:
                chunk = sock.recv(64)
            except KeyboardInterrupt:
                # Ctrl-C reaches this process alone: the command is told (its end of the
                # connection closes), stops as it would here and says so; a second one
                # leaves at once
                if interrupted:
                    return 130
                interrupted = True
                sock.shutdown(_socket.SHUT_WR)
                continue
            if not chunk:
                break
            reply += chunk
            if reply.endswith(b"\n"):  # the whole answer (the command may still clean up)
                break
    except OSError:
        return "failed"
    finally:
        sock.close()
    text = reply.decode("ascii", "replace").strip()
    if interrupted and not text.startswith("exit "):
        return 130  # the command ended without an answer: never run it again here
    if not text.startswith("exit "):
        return text or "failed"  # "stale" (another version or changed code), or it died
    try:
        return int(text[5:])
    except ValueError:
        return "failed"


def _via_server(argv: list[str]) -> int | None:
    """The exit code of ``argv`` run by the server, or None to run it here."""
    code = _ask(argv)
    return code if isinstance(code, int) else None


def start_in_background() -> bool:
    """Start a server for the next calls, without waiting for it; whether one was started.

    It loads once this process has ended. None is started when a start was attempted less
    than START_GRACE seconds ago (it is loading, or failed: not one start per call), or
    when the directory is not this user's alone. Of servers started at once, one runs: each
    takes a lock first (:func:`jettison.server.serve`)."""
    folder = os.path.dirname(socket_path())
    stamp = os.path.join(folder, "server.started")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return False
        try:
            if time.time() - os.stat(stamp).st_mtime < START_GRACE:
                return False
        except FileNotFoundError:
            pass
        os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        os.utime(stamp)
    except OSError:
        return False
    env = {k: v for k, v in os.environ.items() if k in _SERVER_ENV or k.startswith("LC_")}
    # the server imports this very installation, whatever the directory it starts in
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    argv = [sys.executable, "-m", "jettison", "server", "run"]
    # the server loads once this process has ended (the end of the pipe it keeps open
    # closes then): its loading never takes the processor from this call's own run
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a session of its own, whose child (not a session leader) becomes the server
        try:
            os.close(write)
            os.setsid()
            if os.fork() == 0:
                os.chdir("/")  # keeps no directory of the caller busy
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                while os.read(read, 64):  # (nothing is written: the end of file)
                    pass
                try:  # no pipe of the caller's held open (close_range: one system call)
                    top = os.sysconf("SC_OPEN_MAX")
                except (OSError, ValueError):
                    top = 1 << 16
                os.closerange(3, max(top, 3))
                os.execve(sys.executable, argv, env)
        finally:
            os._exit(0)
    os.close(read)
    os.waitpid(pid, 0)  # the first child only forks: reaped at once, the server never is
    _KEEP.append(write)  # open until this process ends (not inherited by what it runs)
    return True


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


def exported_image(argv: list[str]) -> str | None:
    """The engine image whose export ``argv`` reads (``inspect IMAGE``), when it says so
    plainly; that export is asked for before anything else: the engine prepares it (most
    of an inspect) while the command line is parsed."""
    return inspect_image_argument(argv[1:]) if argv[:1] == ["inspect"] else None


def shows_progress(argv: list[str]) -> bool:
    """Whether an inspect says what a long export is at: on a terminal's standard error,
    unless ``-q`` (as :func:`jettison.cli._common.progress_shown`, without importing it)."""
    quiet = any(a == "--quiet" or (a.startswith("-q") and a[:2] != "--") for a in argv)
    return sys.stderr.isatty() and not quiet  # ("-qo FILE": -q, then -o)


def main() -> None:
    argv = sys.argv[1:]
    image = exported_image(argv)
    mode = server_mode(os.environ) if argv[:1] and argv[0] in SERVED else "off"
    if image is not None:
        from jettison.engine import prefetch

        # asked for here, by a server's command as well (it is given the sockets): the
        # engine starts on it before the request reaches the server
        prefetch.send(image, drain=False)
    if mode != "off":
        extra = prefetch.descriptors(image) if image is not None else ()
        code = _ask(argv, extra)
        if isinstance(code, int):
            os._exit(code)  # nothing of ours to flush: the command wrote to the descriptors
        if code == NOBODY and mode == "auto":
            start_in_background()  # for the next call; this one runs here, as usual
    if argv[:1] == ["inspect"]:
        answer_from_a_child()  # (returns in the child, which runs the command)
    if image is not None:
        prefetch.drain_pending(show_progress=shows_progress(argv))
        load_yielding(_INSPECT_MODULES)
    from jettison.cli import main as cli_main

    cli_main()


# in a child of answer_from_a_child(): where its exit code goes (see answered)
_ANSWER_FD = -1
_ANSWERED = [False]  # (read by the thread watching the parent: see _stop_with)
_FORWARDED = ("SIGTERM", "SIGHUP", "SIGQUIT")  # passed on to the child (Ctrl-C reaches it)


def answer_from_a_child() -> None:
    """Run the command in a child, and exit with its code as soon as it has written its
    output (:func:`answered`), before its clean-up (Linux; elsewhere it runs here).

    What a caller waits for is then this small process: the command's own exit (its
    temporary files, a spooled export's pages to free, some 10 ms per 100 MB, and its heap
    to unmap: 8-25 ms after an inspect here) happens after, the way a served command
    answers before it cleans up. A child that dies without answering is exited for with
    its status (128 + the signal that ended it); SIGTERM, SIGHUP and SIGQUIT are passed on
    (Ctrl-C from the terminal reaches both; one sent to this process alone is ignored), and
    the child is stopped when this process is killed. ``JETTISON_NO_FORK=1`` runs it here.
    """
    if not sys.platform.startswith("linux") or os.environ.get("JETTISON_NO_FORK"):
        return
    import signal

    try:
        read_fd, write_fd = os.pipe()
        alive_read, alive_write = os.pipe()  # (held open by the parent while it lives)
    except OSError:
        return
    # a caller ignoring SIGCHLD would have the child reaped unseen; signals wait until the
    # parent's handlers are there (the child restores the mask)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    caught = {signal.SIGINT, *(getattr(signal, name) for name in _FORWARDED)}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, caught)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for fd in (read_fd, write_fd, alive_read, alive_write):
            os.close(fd)
        return
    if pid == 0:
        global _ANSWER_FD
        os.close(read_fd)
        os.close(alive_write)
        _ANSWER_FD = write_fd
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _stop_with(alive_read)
        return
    os.close(write_fd)
    os.close(alive_read)
    prefetch = sys.modules.get("jettison.engine.prefetch")
    if prefetch is not None:
        prefetch.forget()  # (the child reads what was asked for)

    def forward(sig: int, _: object) -> None:
        try:  # noqa: SIM105 - (contextlib is an import this module avoids)
            os.kill(pid, sig)
        except OSError:  # (already ended: its status comes next)
            pass

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in _FORWARDED:
        signal.signal(getattr(signal, name), forward)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os._exit(_answer_or_status(pid, read_fd))


def _stop_with(alive_read: int) -> None:
    """Stop this child (SIGTERM) if its parent ends before it has answered: a caller's
    timeout kills the parent with SIGKILL, which cannot be passed on. A thread of the
    interpreter's own kind (not counted by ``threading``, holding no lock) waits for the
    end of a pipe only the parent holds open (a parent-death signal would need ctypes,
    whose load cost 10 ms here)."""
    import _thread
    import signal

    def watch() -> None:
        try:  # noqa: SIM105 - (contextlib is an import this module avoids)
            os.read(alive_read, 1)
        except OSError:
            pass
        if not _ANSWERED[0]:
            os.kill(os.getpid(), signal.SIGTERM)

    _thread.start_new_thread(watch, ())


def _answer_or_status(pid: int, read_fd: int) -> int:
    """The code the child answers on ``read_fd``, or, when it ends without answering, its
    exit status (a process it forked may still hold the pipe open: the child's own end is
    watched too, where the system can)."""
    import select

    watched = [read_fd]
    try:  # noqa: SIM105 - (contextlib is an import this module avoids)
        watched.append(os.pidfd_open(pid))
    except (AttributeError, OSError):  # (before Linux 5.3: the pipe's end only)
        pass
    ready = select.select(watched, [], [])[0]  # (retried after a signal: PEP 475)
    if read_fd not in ready:  # the child ended: an answer it gave is in the pipe already
        os.set_blocking(read_fd, False)
    try:
        answer = os.read(read_fd, 16)  # (a write this small arrives whole)
    except BlockingIOError:
        answer = b""
    if answer.isdigit():
        return int(answer)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def forget_answer() -> None:
    """In a process forked from the command's (a pass on the other core): close the answer
    pipe it inherited, so that the waiting parent never waits for this one."""
    global _ANSWER_FD
    if _ANSWER_FD >= 0:
        os.close(_ANSWER_FD)
        _ANSWER_FD = -1


def answered(code: int) -> bool:
    """In a child of :func:`answer_from_a_child`, once the command's output is flushed:
    let go of the caller's terminal or pipes and give the waiting parent ``code`` (it exits
    with it at once); whether there was a parent to tell. The exit handlers run after."""
    global _ANSWER_FD
    if _ANSWER_FD < 0:
        return False
    fd, _ANSWER_FD = _ANSWER_FD, -1
    _ANSWERED[0] = True  # (the parent exits next: the clean-up goes on)
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):  # (a reader of the output sees its end now)
        os.dup2(null, target)
    os.close(null)
    try:  # noqa: SIM105 - (contextlib is an import this module avoids)
        os.write(fd, str(code).encode())
    except OSError:  # the parent is gone (killed): nobody to tell
        pass
    os.close(fd)
    return True


# what an inspect of an engine image runs: loaded while the engine prepares the export
_INSPECT_MODULES = ("jettison.cli", "jettison.image.analysis", "jettison.image.render")
_LOAD_NICENESS = 10


def load_yielding(modules: tuple[str, ...]) -> None:
    """Import ``modules`` in a thread of lower priority, and wait for it (Linux only).

    Docker 20.10 prepares a whole export before its first byte, on more than one core of a
    small machine; these imports (some 40 ms of processor) need only be done by that byte,
    so they give way to the engine: the first byte came about 10 ms sooner here. Failures
    are left to the imports the command then makes (same error, same place). Niceness is per
    thread on Linux only: elsewhere ``setpriority`` of the thread's id could name a process.
    """
    if not sys.platform.startswith("linux"):
        return
    import threading

    def load() -> None:
        try:  # noqa: SIM105 - (contextlib is an import this module avoids)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOAD_NICENESS)
        except OSError:  # (refused, e.g. by a sandbox: loaded all the same)
            pass
        try:
            for name in modules:
                __import__(name)
        except BaseException:  # (the command's own import reports it)
            pass

    thread = threading.Thread(target=load, name="jettison-load", daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:  # (Ctrl-C while loading: as the command itself would end)
        sys.stderr.write("jettison: interrupted\n")
        raise SystemExit(130) from None
