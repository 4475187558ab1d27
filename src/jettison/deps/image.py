"""Read the installed distributions of an image without running it.

The image is opened by the resolver ``jettison inspect`` uses
(:func:`jettison.image.sources.open_image`: an engine image, a ``docker save`` or OCI
archive, an OCI layout directory, a registry reference) and its layers are replayed in order,
whiteouts and opaque directories applied, by the same :func:`jettison.image.model.replay`,
so ``deps`` and ``inspect`` see one merged filesystem. Only tar headers are scanned; the only
content read is the metadata files of ``*.dist-info``/``*.egg-info`` directories, from the
layer whose copy is visible. Every other file contributes only its size. Nothing is
extracted, and no path inside a layer is trusted for anything but matching.
"""

from __future__ import annotations

import os
import re

from jettison.collector import collector_paused
from jettison.deps.metadata import META_FILES, Environment, MetaDir, build_dist
from jettison.errors import JettisonError
from jettison.image.model import Inode, replay
from jettison.image.sources import LOCAL_KINDS, ImageData, iter_content, local_target, open_image
from jettison.image.tarscan import LINK, SYMLINK

_META = re.compile(
    r"^(?P<site>.*/(?:site|dist)-packages)/(?P<dir>[^/]+\.(?:dist|egg)-info)/"
    r"(?P<file>[^/]+)$"
)
_MAX_META = 50_000_000  # a metadata file larger than this is damaged: read its start only


def _never_same(inode: Inode) -> bytes:
    """The replay's content hash, for a file overwritten by one of the same size: it only
    tells ``inspect`` whether the bytes changed. The merged tree does not depend on it, so
    every file is distinct content and nothing is read."""
    return str(id(inode)).encode()


def environment_from_layers(data: ImageData, source: str) -> Environment:
    """Distributions in the merged filesystem of ``data``'s layers."""
    merged = replay((layer.entries for layer in data.layers), _never_same)
    sizes: dict[str, int] = {}
    counted: set[int] = set()
    metas: dict[tuple[str, str], MetaDir] = {}
    for path, node in merged.nodes.items():
        name = "/" + path
        inode = node.inode
        if inode is None:
            if node.kind in (SYMLINK, LINK):  # a link (or a dangling hard link) has no bytes
                sizes[name] = 0
            continue
        # hard links share an inode: its bytes count once, at the first name still present
        # (a tar of the filesystem writes that one as the file and the others as links)
        sizes[name] = 0 if id(inode) in counted else inode.size
        counted.add(id(inode))
        match = _META.match(name)
        if match is None or match.group("file") not in META_FILES:
            continue
        key = (match.group("site"), match.group("dir"))
        meta = metas.setdefault(key, MetaDir(site=key[0], dirname=key[1], files={}))
        meta.files[match.group("file")] = _read_text(data, inode)
    dists = {}
    for key in sorted(metas):
        dist = build_dist(metas[key], sizes)
        if dist is not None and dist.name not in dists:
            dists[dist.name] = dist
    return Environment(dists, source)


def _read_text(data: ImageData, inode: Inode) -> str:
    entry = inode.entry._replace(size=min(inode.size, _MAX_META))
    content = b"".join(iter_content(data.layers[inode.layer], entry))
    return content.decode("utf-8", "replace")


def environment_from_image(reference: str) -> Environment:
    """Distributions installed in the image ``reference`` names: the same references as
    ``jettison inspect`` (an engine name or id, ``docker-archive:FILE``, ``oci:DIR``, an
    existing archive or layout, ``registry:REF``)."""
    kind, path = local_target(reference, "auto")
    local = path if kind in LOCAL_KINDS and os.path.exists(path) else None
    if kind not in LOCAL_KINDS and any(c.isspace() or not c.isprintable() for c in reference):
        raise JettisonError(
            f"not an image reference: {reference!r} (no spaces or control characters)"
        )
    try:
        with collector_paused(), open_image(reference) as data:
            return environment_from_layers(data, f"image {reference}")
    except JettisonError as exc:  # the resolver's errors (ImageError) are already one line
        if exc.path is None and local is not None:
            exc.path = local  # "truncated tar" says which file, as in inspect
        raise


# `import a.b as c, d` and `from a.b import c, d` (also indented: imports inside functions
# load modules at run time too); relative imports name no distribution
_IMPORT_LINE = re.compile(
    rb"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+\(?([^\n#)]*)"
    rb"|import[ \t]+([A-Za-z_][^\n#;]*))",
    re.M,
)
_SITE_FILE = re.compile(r"^/?(?:.*/)?(?:site|dist)-packages/(?P<rel>.+\.py)$")
_MAX_SOURCE = 4_000_000  # larger .py files are generated data, not imports


def _imported_names(text: bytes) -> set[str]:
    names: set[str] = set()
    for found in _IMPORT_LINE.finditer(text):
        module, items, plain = found.groups()
        if module is not None:
            base = module.decode("ascii", "replace")
            names.add(base)
            for item in items.decode("ascii", "replace").split(","):
                word = item.strip().split(" ", 1)[0]
                if word.isidentifier():
                    names.add(f"{base}.{word}")  # `from google.cloud import storage`
        else:
            for item in plain.decode("ascii", "replace").split(","):
                word = item.strip().split(" ", 1)[0].rstrip("\\")
                if word and all(p.isidentifier() for p in word.split(".")):
                    names.add(word)
    return names


# entry-point groups whose modules only one tool loads: a plugin module's imports count
# only while that tool stays (celery's pytest plugin imports pytest; without pytest nothing
# loads it)
PLUGIN_HOSTS = {
    "pytest11": "pytest",
    "flake8.extension": "flake8",
    "flake8.report": "flake8",
    "sphinx.html_themes": "sphinx",
    "sphinx.builders": "sphinx",
    "nose.plugins.0.10": "nose",
}

# (distribution, the tool that loads the importing module, or None: any) -> dotted imports
Imports = dict[tuple[str, str | None], frozenset[str]]


def _nearest(parts: list[str], table: dict[str, str]) -> str | None:
    """``table``'s value for the module ``parts`` names, or for its nearest package."""
    for i in range(len(parts), 0, -1):
        found = table.get(".".join(parts[:i]))
        if found is not None:
            return found
    return None


def imports_in_image(reference: str, env: Environment) -> Imports:
    """What each installed distribution's own Python files import (dotted names, read from
    the files' import statements): a package that imports one it does not declare
    (kombu's redis transport imports ``packaging``) still needs it. A module that is a
    plugin of one tool (PLUGIN_HOSTS) is kept apart, with that tool. Read from the image
    ``reference`` names, as :func:`environment_from_image` reads its metadata."""
    owner: dict[str, str] = {}  # dotted module -> the distribution whose files it is
    host_of: dict[str, str] = {}  # plugin module -> the tool that loads it
    for installed in env.dists.values():
        for module in installed.modules:
            owner.setdefault(module, installed.name)
        for group, module in installed.plugin_modules:
            if group in PLUGIN_HOSTS:
                host_of[module] = PLUGIN_HOSTS[group]
    found: dict[tuple[str, str | None], set[str]] = {}
    with collector_paused(), open_image(reference) as data:
        merged = replay((layer.entries for layer in data.layers), _never_same)
        for path, node in merged.nodes.items():
            inode = node.inode
            match = _SITE_FILE.match(path) if inode is not None else None
            if match is None or inode is None or inode.size > _MAX_SOURCE:
                continue
            parts = match.group("rel")[: -len(".py")].split("/")
            if parts[-1] == "__init__":
                parts.pop()
            # the file's module, or the nearest package holding it, names its distribution
            holder = _nearest(parts, owner)
            if holder is None:
                continue
            host = _nearest(parts, host_of)
            text = b"".join(iter_content(data.layers[inode.layer], inode.entry))
            found.setdefault((holder, host), set()).update(_imported_names(text))
    return {key: frozenset(names) for key, names in found.items()}
