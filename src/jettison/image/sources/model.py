"""What every image source produces: :class:`ImageData`, one :class:`LayerData` per layer.

Each layer is its scanned tar headers plus a random-access window onto the uncompressed tar.
Nothing is ever extracted: uncompressed layers are read in place, compressed ones are
decompressed into a spool file inside a private temporary directory (:class:`Scratch`) that
is always removed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jettison.image.blob import Window
from jettison.image.tarscan import TarEntry


@dataclass
class LayerData:
    """One layer: its tar headers and where to read file content from."""

    digest: str
    media_type: str
    tar_size: int
    entries: list[TarEntry]
    window: Window
    compressed_size: int | None = None
    # what the reader's ``prepare`` computed from this layer alone while the rest of a
    # streamed export still arrived (see jettison.image.analysis.LayerPrep)
    prepared: Any = None


@dataclass
class ImageData:
    reference: str
    kind: str  # engine | docker-archive | oci-archive | oci-layout | registry
    config: dict[str, Any]
    layers: list[LayerData]
    image_id: str = ""
    platform: str | None = None
    notes: list[str] = field(default_factory=list)
    # the reader's ``side(image)``, already running in a child the reader forked before
    # scanning (see read_archive); None when it was not started
    side: Any = None


def host_platform() -> str:
    import platform

    machine = platform.machine().lower()
    arch = {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm/v7",
        "armv6l": "arm/v6",
        "i386": "386",
        "i686": "386",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)
    return f"linux/{arch}"


class Scratch(os.PathLike[str]):
    """A private temporary directory made on first use (a plain archive needs none), and the
    temporary files kept elsewhere that go with it (:meth:`also_remove`)."""

    def __init__(self) -> None:
        self.path: str | None = None
        self._closers: list[Callable[[], None]] = []

    def __fspath__(self) -> str:
        if self.path is None:
            import tempfile

            self.path = tempfile.mkdtemp(prefix="jettison-inspect-")
        return self.path

    def also_remove(self, close: Callable[[], None]) -> None:
        """Run ``close`` (e.g. the last descriptor of an unlinked spool) with the removal."""
        self._closers.append(close)

    def remove(self, background: bool = False) -> None:
        """Remove the directory; ``background``: in a thread the exit handlers wait for, so
        that freeing a spooled export (~10 ms per 100 MB) overlaps the report's rendering
        and nothing is left behind."""
        tasks, self._closers = self._closers, []
        if self.path is not None:
            import shutil

            path, self.path = self.path, None
            tasks.append(lambda: shutil.rmtree(path, ignore_errors=True))
        if not tasks:
            return

        def run() -> None:
            for task in tasks:
                with contextlib.suppress(Exception):
                    task()

        if not background:
            run()
            return
        import atexit
        import threading

        worker = threading.Thread(target=run, name="jettison-scratch-removal")
        worker.start()
        atexit.register(worker.join)


def iter_content(layer: LayerData, entry: TarEntry) -> Iterable[bytes]:
    return layer.window.chunks(entry.offset, entry.size)
