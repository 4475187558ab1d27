"""Random-access byte sources: a file, a window of a file, or a file still being written.

Layers are read by offset (``pread``) rather than as streams because Python's ``tarfile``
stream mode is 2-4x slower than seeking past file data, and content hashing of the few
files whose sizes collide needs to go back to bytes already passed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from jettison.image.errors import CorruptImageError

CHUNK = 1 << 20
MAP_LIMIT = 256 << 20  # a complete spool up to this size is read through a memory map


class Source(Protocol):
    def pread(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``; fewer only at the end of the data."""
        ...


class FileSource:
    """A regular file opened for reading by offset."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def pread(self, offset: int, size: int) -> bytes:
        return os.pread(self.fd, size, offset)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class GrowingFile:
    """A spool file filled by a writer thread while readers already read what is there.

    Lets the engine's ``docker save`` stream be analysed while it arrives: readers block
    until the bytes they ask for are written (or the writer has finished or failed), and
    spend that wait on the tasks given to :meth:`when_idle`.
    """

    def __init__(self, path: str) -> None:
        self._out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._follow(os.open(path, os.O_RDONLY), 0, False, None)

    @classmethod
    def following(
        cls,
        fd: int,
        written: int,
        done: bool,
        error: BaseException | None,
        wrap: Callable[[BaseException], BaseException] | None = None,
    ) -> GrowingFile:
        """The reader's side of a file another writer appends to (``fd``: its descriptor,
        now this object's), told of each write by :meth:`advance` and of the end by
        :meth:`finish`; ``wrap`` turns the writer's error into the one readers raise."""
        spool = cls.__new__(cls)
        spool._out = -1
        spool._follow(fd, written, done, error, wrap)
        return spool

    def _follow(
        self,
        fd: int,
        written: int,
        done: bool,
        error: BaseException | None,
        wrap: Callable[[BaseException], BaseException] | None = None,
    ) -> None:
        self.fd = fd
        self._wrap = wrap
        self.written = written
        self.done = done
        self.error = wrap(error) if wrap is not None and error is not None else error
        self._cond = threading.Condition()
        self._idle: list[Callable[[], None]] = []
        self._mapped: Any = None  # the whole file mapped, once it is complete (or False)

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        size = len(view)
        while view:  # unbuffered: readers see each byte once this returns
            view = view[os.write(self._out, view) :]
        self.advance(size)

    def advance(self, size: int) -> None:
        """``size`` more bytes are in the file: wake the readers waiting for them."""
        with self._cond:
            self.written += size
            self._cond.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        if self._out >= 0:
            os.close(self._out)
            self._out = -1
        if error is not None and self._wrap is not None:
            error = self._wrap(error)
        with self._cond:
            self.done = True
            self.error = error
            self._cond.notify_all()

    def when_idle(self, task: Callable[[], None]) -> None:
        """Run ``task`` in a reader's next wait for bytes not written yet, if one comes: work
        that can wait (tasks run in order; those still queued at the end never run)."""
        self._idle.append(task)

    def pread(self, offset: int, size: int) -> bytes:
        mapped = self._mapped
        if mapped:  # the analysis after the stream: a slice, no system call per file
            return mapped[offset : offset + size]  # type: ignore[no-any-return]
        end = offset + size
        while True:
            with self._cond:
                if self.written >= end or self.done:
                    break
                if not self._idle:
                    while self.written < end and not self.done:
                        self._cond.wait()
                    break
                task = self._idle.pop(0)
            task()  # the bytes are not there yet: meanwhile, work that waited for a gap
        if self.error is not None:
            raise self.error
        if self.done and self._mapped is None:
            self._map()
            if self._mapped:
                return self._mapped[offset : offset + size]
        return os.pread(self.fd, size, offset)

    def complete_map(self) -> Any:
        """The whole file mapped, once the writer has finished (without error) and when it
        is small enough to map; else None."""
        if not self.done or self.error is not None:
            return None
        if self._mapped is None:
            self._map()
        return self._mapped or None

    def _map(self) -> None:
        """Map the complete file, when it is small: the thousands of small reads the
        analysis makes (file heads, contents to hash) become slices, at half the cost. (The
        pages read through a map count in the process's resident size: a large export's
        would show as hundreds of MB, though the kernel may drop them as it pleases.)"""
        import mmap

        with self._cond:
            if self._mapped is None:
                try:
                    if os.fstat(self.fd).st_size > MAP_LIMIT:
                        raise ValueError("large")
                    self._mapped = mmap.mmap(self.fd, 0, prot=mmap.PROT_READ)
                except (OSError, ValueError):  # empty, large, or not to be mapped
                    self._mapped = False

    def close(self) -> None:
        if self._out >= 0:  # a writer that never finished
            os.close(self._out)
            self._out = -1
        if self._mapped:
            self._mapped.close()
            self._mapped = False
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Window:
    """``length`` bytes of ``source`` starting at ``base``: one layer inside an archive."""

    __slots__ = ("base", "length", "source")

    def __init__(self, source: Source, base: int, length: int) -> None:
        self.source = source
        self.base = base
        self.length = length

    def pread(self, offset: int, size: int) -> bytes:
        if offset >= self.length:
            return b""
        size = min(size, self.length - offset)
        return self.source.pread(self.base + offset, size)

    def read_exact(self, offset: int, size: int, what: str) -> bytes:
        data = self.pread(offset, size)
        if len(data) != size:
            raise CorruptImageError(
                f"truncated {what}: wanted {size} bytes at offset {offset}, got {len(data)}"
            )
        return data

    def mapped(self) -> tuple[Any, int] | None:
        """(the complete spool's map, where this window starts in it), or None: for readers
        of many small pieces, which then slice it themselves (no bounds checked for them)."""
        if not isinstance(self.source, GrowingFile):
            return None
        mapped = self.source.complete_map()
        return None if mapped is None else (mapped, self.base)

    def reader(self, what: str) -> Callable[[int, int], bytes]:
        """:meth:`read_exact` for many small reads: from a complete spool's map, one slice
        each (no call through the window and its source)."""
        mapped = self.source.complete_map() if isinstance(self.source, GrowingFile) else None
        if mapped is None:
            return lambda offset, size: self.read_exact(offset, size, what)
        base, length = self.base, self.length

        def read(offset: int, size: int) -> bytes:
            data: bytes = mapped[base + offset : base + offset + size]
            if len(data) != size or offset + size > length:
                got = max(0, min(len(data), length - offset))
                raise CorruptImageError(
                    f"truncated {what}: wanted {size} bytes at offset {offset}, got {got}"
                )
            return data

        return read

    def chunks(self, offset: int, size: int) -> Iterator[bytes]:
        end = offset + size
        while offset < end:
            data = self.pread(offset, min(CHUNK, end - offset))
            if not data:
                raise CorruptImageError("truncated file content")
            yield data
            offset += len(data)
