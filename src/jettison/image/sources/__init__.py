"""Where images come from: one resolver per source, chosen here from the reference.

==========  =========================================  =====================================
kind        resolver                                   chosen for
==========  =========================================  =====================================
engine      :func:`.engine.open_engine`                ``engine:``, ``docker-daemon:``, a name
archive     :func:`.archive.open_archive`              ``docker-archive:``, ``oci-archive:``,
                                                       ``archive:``, an existing file
oci         :func:`.oci.open_layout`                   ``oci:``, an existing directory
registry    :func:`.registry.open_registry`            ``registry:``, ``docker://``
==========  =========================================  =====================================

Every source ends as the same :class:`ImageData` (:mod:`.model`). ``--source`` names a kind
and skips the choice.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from jettison.image.blob import Window
from jettison.image.errors import ImageError, ImageNotFoundError
from jettison.image.sources.archive import open_archive, read_archive, scan_layers
from jettison.image.sources.engine import EngineRequest, open_engine, start_export
from jettison.image.sources.model import ImageData, LayerData, Scratch, host_platform, iter_content
from jettison.image.sources.oci import open_layout
from jettison.image.sources.registry import RegistryRef, open_registry, parse_registry_ref

__all__ = [
    "LOCAL_KINDS",
    "PREFIXES",
    "SOURCE_KINDS",
    "EngineRequest",
    "ImageData",
    "LayerData",
    "RegistryRef",
    "classify",
    "host_platform",
    "iter_content",
    "local_target",
    "open_image",
    "parse_registry_ref",
    "read_archive",
    "request_export",
    "scan_layers",
]

SOURCE_KINDS = ("auto", "engine", "archive", "oci", "registry")
# the prefixes a reference may start with, and the source each names
PREFIXES = {
    "docker-archive:": "archive",
    "oci-archive:": "archive",
    "archive:": "archive",
    "oci:": "oci",
    "registry:": "registry",
    "docker://": "registry",
    "docker-daemon:": "engine",
    "engine:": "engine",
}
LOCAL_KINDS = ("archive", "oci")  # the sources that are files or directories on this machine

_Opener = Callable[[str, str, Scratch, str | None, list[Callable[[], None]]], ImageData]
_RESOLVERS: dict[str, _Opener] = {
    "archive": open_archive,
    "oci": open_layout,
    "registry": open_registry,
    "engine": open_engine,
}


def split_prefix(reference: str) -> tuple[str | None, str]:
    """(the kind its prefix names, the rest) for a prefixed reference; else (None, it)."""
    for prefix, kind in PREFIXES.items():
        if reference.startswith(prefix):
            return kind, reference[len(prefix) :]
    return None, reference


def classify(reference: str, source: str) -> tuple[str, str]:
    """(kind, target) for ``reference``: the source's resolver and what it opens."""
    if source not in SOURCE_KINDS:
        raise ImageError(f"unknown source {source!r} (choose from {', '.join(SOURCE_KINDS)})")
    if source != "auto":
        return source, reference
    kind, target = split_prefix(reference)
    if kind is not None:
        return kind, target
    if os.path.isdir(reference):
        return "oci", reference
    if os.path.isfile(reference):
        return "archive", reference
    if reference.endswith((".tar", ".tar.gz", ".tgz")) or (
        os.sep in reference and reference.startswith((".", "/"))
    ):
        raise ImageNotFoundError("no such archive or directory", reference)
    return "engine", reference


def local_target(reference: str, source: str) -> tuple[str, str]:
    """(kind, path) as far as it can be told without reading anything or raising: a local
    prefix or an existing path gives ``archive``/``oci`` and the path; else ``source``."""
    path, kind = reference, source
    if source == "auto":
        prefixed, rest = split_prefix(reference)
        if prefixed in LOCAL_KINDS:
            path, kind = rest, prefixed
        elif os.path.exists(path):
            kind = "oci" if os.path.isdir(path) else "archive"
    return kind, path


def request_export(reference: str, source: str = "auto") -> EngineRequest | None:
    """For an engine image, send the export request now and return it; else None.

    The engine prepares the whole ``docker save`` before its first byte, so a caller that
    asks first and then imports the analysis code overlaps the two. Errors (no engine, no
    such image) are raised here, as :func:`open_image` would raise them.
    """
    kind, target = classify(reference, source)
    if kind != "engine":
        return None
    return start_export(reference, source, target)


@contextlib.contextmanager
def open_image(
    reference: str,
    source: str = "auto",
    platform: str | None = None,
    requested: EngineRequest | None = None,
    background_cleanup: bool = False,
    prepare: Callable[[Window, bool], Any] | None = None,
    side: Callable[[ImageData], Any] | None = None,
) -> Iterator[ImageData]:
    """Read ``reference`` from ``source``; temporary files live only inside the block (with
    ``background_cleanup``, until the process exits: see :meth:`Scratch.remove`).

    ``prepare(window, base)``: makes a layer's ``prepared`` when an engine's export still
    streaming in brings the layer (``base``: the export says it is the image's first); it
    takes the layer's entries in pieces as they are read (``count`` taken so far,
    ``add(more)``), in the waits for the next bytes, which are free time.
    Other sources read layers after the whole pass, with nothing to overlap, and leave
    ``prepared`` None.

    ``side(image)``: work on the read image that the caller will ask of ``image.side`` (a
    :class:`jettison.image.parallel.Deferred`): where the layers' scan would leave the other
    core idle (an archive, or an export read whole), it starts in a child before the scan,
    which the child makes again. Elsewhere ``image.side`` is None."""
    kind, target = classify(reference, source)
    tmp = Scratch()
    closers: list[Callable[[], None]] = [lambda: tmp.remove(background_cleanup)]
    if requested is not None:
        closers.append(requested.pending.close)
    try:
        if kind == "engine":
            yield open_engine(target, reference, tmp, platform, closers, requested, prepare, side)
        elif kind == "archive":
            yield open_archive(target, reference, tmp, platform, closers, side)
        else:
            yield _RESOLVERS[kind](target, reference, tmp, platform, closers)
    finally:
        for close in reversed(closers):  # the scratch directory goes last
            with contextlib.suppress(Exception):
                close()
