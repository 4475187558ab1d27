"""Read the installed distributions of a built image through the engine, without running it.

``docker create`` makes a container that is never started; its filesystem is streamed with
``export`` (the merged view, so whiteouts are already applied) and read as a tar stream: only
the metadata files of ``*.dist-info``/``*.egg-info`` directories are read into memory, every
other member contributes only its size. Nothing is extracted to disk and no path inside the
tar is trusted for anything but matching.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tarfile
from collections.abc import Iterator
from typing import Any

from jettison.deps.metadata import META_FILES, Environment, MetaDir, build_dist
from jettison.errors import EngineUnavailableError, JettisonError

_META = re.compile(
    r"^(?P<site>.*/(?:site|dist)-packages)/(?P<dir>[^/]+\.(?:dist|egg)-info)/"
    r"(?P<file>[^/]+)$"
)


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (the export stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def environment_from_tar_stream(
    stream: io.RawIOBase | io.BufferedIOBase,
    source: str,
) -> Environment:
    """Distributions in a filesystem tar stream (an export, or any rootfs tar)."""
    sizes: dict[str, int] = {}
    metas: dict[tuple[str, str], MetaDir] = {}
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            name = "/" + posixpath.normpath(member.name.removeprefix("./").lstrip("/"))
            if member.isfile():
                sizes[name] = member.size
            elif member.issym() or member.islnk():
                sizes[name] = 0
            match = _META.match(name)
            if match is None or not member.isfile() or match.group("file") not in META_FILES:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            text = handle.read(50_000_000).decode("utf-8", "replace")
            key = (match.group("site"), match.group("dir"))
            meta = metas.setdefault(key, MetaDir(site=key[0], dirname=key[1], files={}))
            meta.files[match.group("file")] = text
    dists = {}
    for key in sorted(metas):
        dist = build_dist(metas[key], sizes)
        if dist is not None and dist.name not in dists:
            dists[dist.name] = dist
    return Environment(dists, source)


_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst")
_LOAD_FIRST = "--image takes the name or id of an image in the Docker engine"


def _not_a_file(image: str) -> None:
    """A file (a ``docker save`` archive) or a path is no engine image: say so, rather than
    what the engine answers for a name like that. (A bare name that is also a directory here
    stays an image name: projects and their images are often named alike.)"""
    if os.path.isfile(image) or image.startswith(("/", "./", "../")):
        raise JettisonError(
            f"{_LOAD_FIRST}, not a file or path (load an archive first: docker load -i FILE)",
            image,
        )


def environment_from_image(image: str) -> Environment:
    """Distributions installed in ``image`` (a local image name or id)."""
    from jettison.engine.export import (
        EngineCallFailed,
        NoEngine,
        NoSuchImage,
        container_filesystem,
    )

    _not_a_file(image)
    try:
        with container_filesystem(image, labels={"jettison": "deps"}) as chunks:
            reader = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
            return environment_from_tar_stream(reader, f"image {image}")
    except NoEngine as exc:
        raise EngineUnavailableError(f"no Docker engine answers: {exc.original}") from None
    except NoSuchImage:
        if image.endswith(_ARCHIVE_SUFFIXES):
            raise JettisonError(f"no such image in the engine ({_LOAD_FIRST})", image) from None
        raise JettisonError(f"no such image: {image} (build it first)") from None
    except EngineCallFailed as exc:
        raise JettisonError(f"cannot read image {image}: {exc.explanation}") from None
    except tarfile.TarError as exc:
        raise JettisonError(f"cannot read the filesystem of image {image}: {exc}") from None
