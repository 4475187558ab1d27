"""Run an analysis pass on the other core, in a forked child.

The passes of an image analysis (dive's numbers, duplicate detection, the replay) are pure
Python over data already in memory, so threads cannot overlap them. A child made with
``fork()`` sees that data for free (copy-on-write) and sends back only its small result
through a pipe. Fork is used only where it is safe: Linux, no other Python thread alive
(a lock held by another thread would stay held in the child). Anywhere else, or with
``JETTISON_NO_FORK=1``, the pass runs inline when its result is asked for; a child that
fails also falls back to running the pass inline, so errors surface as they would without it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def usable_cores() -> int:
    """The CPUs this process may use (its affinity where the platform tells it), not the
    host's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fork_allowed() -> bool:
    return (
        sys.platform == "linux"
        and hasattr(os, "fork")
        and not os.environ.get("JETTISON_NO_FORK")
        and threading.active_count() == 1
        and usable_cores() > 1
        # the BuildKit parser's Go runtime runs threads Python does not count (and its
        # signal handlers expect them): a process that loaded it (the extension's file;
        # `jettison server` holds a stand-in that has not) never forks
        and getattr(sys.modules.get("dockerfile"), "__file__", None) is None
    )


class Deferred(Generic[T]):
    """The result of ``fn``, computed in a child process when possible."""

    def __init__(self, fn: Callable[[], T], fork: bool = True) -> None:
        """``fork=False``: the work is too small to pay for a process (about 1 ms)."""
        self.fn = fn
        self.pid = 0
        self.fd = -1
        if fork and _fork_allowed():
            self._start()

    @classmethod
    def in_child(cls, fn: Callable[[], T]) -> Deferred[T] | None:
        """``fn`` started in a child now; None where no child can be made (for work that
        only pays when it runs beside the caller's)."""
        job = cls(fn)
        return job if job.pid else None

    def _start(self) -> None:
        import pickle

        read_fd, write_fd = os.pipe()
        # the child's collector then leaves the shared pages alone (no copies); objects
        # frozen before (the CLI freezes its start-up) stay frozen; with the collector
        # off (as during an image analysis), nothing to do
        thaw = gc.isenabled() and gc.get_freeze_count() == 0
        if thaw:
            gc.freeze()
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: just run inline later
            if thaw:
                gc.unfreeze()
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: compute, send, and leave without any cleanup of the parent's
            code = 0
            try:
                gc.disable()  # short-lived: nothing to gain from collecting
                os.close(read_fd)
                # (not the command's answer pipe: see jettison._entry.answered)
                release = getattr(sys.modules.get("jettison._entry"), "forget_answer", None)
                if release is not None:
                    release()
                try:
                    payload = pickle.dumps((True, self.fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:
                    payload, code = pickle.dumps((False, None)), 1
                with os.fdopen(write_fd, "wb") as out:
                    out.write(payload)
            finally:
                os._exit(code)
        if thaw:
            gc.unfreeze()
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def __del__(self) -> None:  # never asked for (the caller failed): stop the child
        if self.pid:
            pid, self.pid = self.pid, 0
            with contextlib.suppress(Exception):  # late in interpreter shutdown: best effort
                os.close(self.fd)
                os.kill(pid, signal.SIGKILL)  # its work is no longer wanted
                os.waitpid(pid, 0)

    def result(self) -> T:
        if self.pid:
            import pickle

            chunks = []
            try:
                while True:
                    chunk = os.read(self.fd, 1 << 20)
                    if not chunk:
                        break
                    chunks.append(chunk)
            finally:
                os.close(self.fd)
                os.waitpid(self.pid, 0)
                self.pid, self.fd = 0, -1
            try:
                ok, value = pickle.loads(b"".join(chunks))
            except Exception:
                ok, value = False, None
            if ok:
                return value  # type: ignore[no-any-return]
        return self.fn()
