"""Compressed layers (gzip, zstd) and compressed archives, decompressed into spool files."""

from __future__ import annotations

import os
from typing import IO, Any

from jettison.image.blob import CHUNK, FileSource, Window
from jettison.image.errors import CorruptImageError
from jettison.image.sources.model import Scratch


class _WindowReader:
    """A sequential file object over a :class:`Window` (for gzip/zstd readers)."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.window.length - self.pos
        data = self.window.pread(self.pos, n)
        self.pos += len(data)
        return data

    def readable(self) -> bool:
        return True


def decompress_to_spool(window: Window, tmp: Scratch, what: str) -> FileSource:
    import tempfile

    head = window.pread(0, 4)
    fd, path = tempfile.mkstemp(dir=tmp, suffix=".tar")
    with os.fdopen(fd, "wb") as out:
        decompress_stream(_WindowReader(window), head, out, what)
    return FileSource(path)


def decompress_stream(reader: Any, head: bytes, out: IO[bytes], what: str) -> None:
    import shutil

    try:
        if head[:2] == b"\x1f\x8b":
            import gzip

            with gzip.GzipFile(fileobj=reader) as gz:
                shutil.copyfileobj(gz, out, CHUNK)
        elif head[:4] == b"\x28\xb5\x2f\xfd":
            _zstd_copy(reader, out, what)
        else:
            shutil.copyfileobj(reader, out, CHUNK)
    except (OSError, EOFError, ValueError) as exc:
        raise CorruptImageError(f"cannot decompress {what}: {exc}") from None
    except Exception as exc:  # zstandard.ZstdError and friends
        if type(exc).__module__.startswith("zstandard"):
            raise CorruptImageError(f"cannot decompress {what}: {exc}") from None
        raise


def _zstd_copy(reader: Any, out: IO[bytes], what: str) -> None:
    """Decompress every zstd frame of ``reader`` into ``out``.

    zstandard's stream reader returns what it has and stops without an error when the input
    ends inside a frame, so a truncated layer would read as a shorter (often empty) one: the
    frames are decoded one by one here and a frame left open at the end is an error.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    frame = dctx.decompressobj()
    open_frame = False
    while True:
        data = reader.read(CHUNK)
        if not data:
            break
        while data:
            out.write(frame.decompress(data))
            open_frame = not frame.eof
            if open_frame:
                break
            data = frame.unused_data  # the next frame (zstd streams may hold several)
            frame = dctx.decompressobj()
    if open_frame:
        raise CorruptImageError(f"cannot decompress {what}: truncated zstd data")
