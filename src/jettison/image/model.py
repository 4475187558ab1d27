"""The layer model: replay layers in order, as the OCI image spec says, in linear time.

For each layer the opaque markers (``D/.wh..wh..opq``) are applied first, then the
whiteouts (``D/.wh.NAME``), both against the lower layers only (a whiteout never hides its
own layer), then the layer's entries. Every byte a layer ships is either in the final
filesystem or *reclaimable*; each reclaimable byte is attributed to the pair (layer that
added it, layer that hid it) and to the path at which it was hidden. A directory whiteout
costs the size of the removed subtree (each node is removed at most once), so the whole
replay is linear in the number of entries.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from jettison.image.tarscan import DIR, LINK, REG, SYMLINK, TarEntry

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

# why bytes became reclaimable
OVERWRITTEN = "overwritten"  # a later layer wrote different content at the same path
METADATA_ONLY = "metadata-only"  # same bytes shipped again for a chmod/chown/touch
WHITEOUT_FILE = "whiteout"  # deleted with `rm FILE`
WHITEOUT_DIR = "dir-whiteout"  # deleted with its directory (`rm -rf DIR`)
OPAQUE_DIR = "opaque"  # hidden by an opaque directory (dir deleted and re-created)
REPLACED = "replaced"  # a directory replaced by a file or the reverse
KINDS = (OVERWRITTEN, METADATA_ONLY, WHITEOUT_FILE, WHITEOUT_DIR, OPAQUE_DIR, REPLACED)


class Inode:
    """File content; hard links share one, so its bytes count once and die with the last name."""

    __slots__ = ("digest", "entry", "layer", "names", "path", "size")

    def __init__(self, size: int, layer: int, entry: TarEntry, path: str) -> None:
        self.size = size
        self.layer = layer
        self.entry = entry
        self.path = path
        self.names = 1
        self.digest: bytes | None = None


class Node:
    """A path in the merged filesystem.

    ``entry`` is the tar member that made it (its mode and owners), None for a directory
    that exists only because a deeper path needs it.
    """

    __slots__ = ("entry", "hardlink", "inode", "kind", "layer")

    def __init__(
        self,
        kind: str,
        layer: int,
        entry: TarEntry | None,
        inode: Inode | None = None,
        hardlink: bool = False,
    ) -> None:
        self.kind = kind
        self.layer = layer
        self.entry = entry
        self.inode = inode
        self.hardlink = hardlink

    @property
    def implicit(self) -> bool:
        return self.entry is None


@dataclass
class LayerStats:
    index: int
    entries: int = 0
    size_bytes: int = 0  # sum of regular-file sizes in the layer's tar (dive's layer size)
    added: int = 0
    added_bytes: int = 0
    modified_content: int = 0
    modified_content_bytes: int = 0
    modified_metadata: int = 0  # same content, new mode/owner/mtime (whole file re-shipped)
    modified_metadata_bytes: int = 0
    dirs_modified: int = 0
    removed: int = 0  # paths of lower layers this layer hid
    removed_bytes: int = 0
    whiteouts: int = 0
    opaque_dirs: int = 0
    dangling_whiteouts: int = 0


class UnsafeEntry(NamedTuple):
    layer: int
    path: str
    reason: str


class WasteItem(NamedTuple):
    path: str  # where the bytes were hidden (the whiteout target, opaque dir or file)
    adder: int
    hider: int
    kind: str
    bytes: int
    files: int


class Replay(NamedTuple):
    nodes: dict[str, Node]
    layers: list[LayerStats]
    waste: list[WasteItem]
    total_bytes: int
    final_bytes: int
    unsafe: list[UnsafeEntry]

    @property
    def reclaimable_bytes(self) -> int:
        return sum(w.bytes for w in self.waste)


def normalize(name: str) -> tuple[str, str | None]:
    """Layer member name -> (path without leading slash, reason it is unsafe or None)."""
    clean = name[:-1] if name.endswith("/") else name
    if (
        clean
        and "//" not in clean
        and "/." not in clean
        and not clean.startswith(("/", "."))
        and not clean.endswith("/")
    ):
        return clean, None  # already normal: the common case, kept cheap
    reason = None
    if name.startswith("/"):
        reason = "absolute path in layer"
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            return "", "path escapes the root with '..'"
        parts.append(part)
    return "/".join(parts), reason


Hasher = Callable[[Inode], bytes]


@dataclass
class _Pending:
    """The layer :class:`Replayer` is being fed."""

    index: int
    stats: LayerStats
    over_nothing: bool  # nothing below it: its entries go on the filesystem as they come
    opaque: list[str] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    regular: list[tuple[str, TarEntry]] = field(default_factory=list)


class Replayer:
    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self.nodes: dict[str, Node] = {"": Node(DIR, -1, None)}
        # directory -> its children's paths: built on the first directory removal (many
        # images have none), kept up to date from then on
        self.children: dict[str, set[str]] | None = None
        self.waste: dict[tuple[str, int, int, str], list[int]] = {}
        self.layers: list[LayerStats] = []
        self.unsafe: list[UnsafeEntry] = []
        self.total = 0

    # -- helpers -------------------------------------------------------------------------

    def _index(self) -> dict[str, set[str]]:
        if self.children is None:
            children: dict[str, set[str]] = {}
            for p, node in self.nodes.items():
                if node.kind == DIR:
                    children.setdefault(p, set())
                if p:
                    parent = p.rpartition("/")[0]
                    kids = children.get(parent)
                    if kids is None:
                        children[parent] = {p}
                    else:
                        kids.add(p)
            self.children = children
        return self.children

    def _link(self, path: str, is_dir: bool) -> None:
        """Record a new node in the children index, if there is one yet."""
        children = self.children
        if children is not None:
            if is_dir:
                children[path] = set()
            children[path.rpartition("/")[0]].add(path)

    def _reclaim(self, inode: Inode, hider: int, kind: str, root: str) -> None:
        key = (root, inode.layer, hider, kind)
        slot = self.waste.get(key)
        if slot is None:
            self.waste[key] = [inode.size, 1]
        else:
            slot[0] += inode.size
            slot[1] += 1

    def _remove(self, path: str, hider: int, kind: str, stats: LayerStats) -> None:
        """Remove ``path`` and its subtree from the merged view (each node once)."""
        node = self.nodes.get(path)
        if node is None:
            return
        if node.kind == DIR or self.children is not None:
            children = self._index()
            kids = children.get(path.rpartition("/")[0])
            if kids is not None:
                kids.discard(path)
        stack = [path]
        while stack:
            p = stack.pop()
            node = self.nodes.pop(p, None)
            if node is None:
                continue
            stats.removed += 1
            if node.kind == DIR:
                stack.extend(self._index().pop(p, ()))
            inode = node.inode
            if inode is not None:
                inode.names -= 1
                if inode.names == 0:
                    stats.removed_bytes += inode.size
                    self._reclaim(inode, hider, kind, path)

    def _ensure_parents(self, path: str, layer: int, stats: LayerStats) -> None:
        parent = path.rpartition("/")[0]
        missing = []
        while parent and parent not in self.nodes:
            missing.append(parent)
            parent = parent.rpartition("/")[0]
        if parent and self.nodes[parent].kind != DIR:
            # a file where a directory must be: the later layer wins, as in overlayfs
            self._remove(parent, layer, REPLACED, stats)
            missing.append(parent)
        for p in reversed(missing):
            self.nodes[p] = Node(DIR, layer, None)
            self._link(p, True)

    def _same_content(self, old: Inode, new: Inode) -> bool:
        if old.size != new.size:
            return False
        if old.size == 0:
            return True
        if old.digest is None:
            old.digest = self.hasher(old)
        if new.digest is None:
            new.digest = self.hasher(new)
        return old.digest == new.digest

    # -- one layer ---------------------------------------------------------------------------

    def apply(self, index: int, entries: Iterable[TarEntry]) -> LayerStats:
        self.begin(index)
        self.feed(entries)
        return self.end()

    def begin(self, index: int) -> None:
        """Start layer ``index``; :meth:`feed` its entries (in one go or in pieces, in archive
        order), then :meth:`end` it. Over an empty filesystem (the base layer) each piece is
        applied as it comes; otherwise at the end, after the layer's whiteouts."""
        self._layer = _Pending(index, LayerStats(index), len(self.nodes) == 1)

    def feed(self, entries: Iterable[TarEntry]) -> None:
        pending = self._layer
        index, stats = pending.index, pending.stats
        opaque, whiteouts = pending.opaque, pending.whiteouts
        regular: list[tuple[str, TarEntry]] = []
        count = size_bytes = 0
        for e in entries:
            count += 1
            if e.type == REG:
                size_bytes += e.size
            path = e.name
            if path.endswith("/"):
                path = path[:-1]
            if (
                not path
                or "//" in path
                or "/." in path
                or path.startswith(("/", "."))
                or path.endswith("/")
            ):
                path, reason = normalize(e.name)  # rare: the slow, checking path
                if reason is not None:
                    self.unsafe.append(UnsafeEntry(index, e.name, reason))
                if not path:
                    continue  # the root directory itself, or a path that escapes it
            parent, _, base = path.rpartition("/")
            if base.startswith(WHITEOUT):
                if base == OPAQUE:
                    opaque.append(parent)
                elif base == WHITEOUT:  # names nothing (at the root: the root itself)
                    self.unsafe.append(UnsafeEntry(index, e.name, "whiteout of no name"))
                else:
                    whiteouts.append(f"{parent}/{base[4:]}" if parent else base[4:])
                continue
            if e.type == SYMLINK and not e.linkname.startswith("/"):
                target = posixpath.normpath(posixpath.join(parent, e.linkname))
                if target == ".." or target.startswith("../"):
                    self.unsafe.append(
                        UnsafeEntry(index, path, f"symlink points outside the root: {e.linkname}")
                    )
            regular.append((path, e))
        stats.entries += count
        stats.size_bytes += size_bytes
        self.total += size_bytes
        if pending.over_nothing:  # whiteouts and opaque markers have nothing to hide
            self._place(index, regular, stats)
        else:
            pending.regular.extend(regular)

    def end(self) -> LayerStats:
        pending = self._layer
        index, stats = pending.index, pending.stats
        # opaque markers first, then whiteouts: both see only the lower layers
        for d in pending.opaque:
            stats.opaque_dirs += 1
            node = None if pending.over_nothing else self.nodes.get(d)
            if node is not None and node.kind == DIR:
                for child in list(self._index().get(d, ())):
                    self._remove(child, index, OPAQUE_DIR, stats)
        for target in pending.whiteouts:
            stats.whiteouts += 1
            node = None if pending.over_nothing else self.nodes.get(target)
            if node is None:
                stats.dangling_whiteouts += 1
                continue
            self._remove(target, index, WHITEOUT_DIR if node.kind == DIR else WHITEOUT_FILE, stats)
        self._place(index, pending.regular, stats)
        self.layers.append(stats)
        return stats

    def _place(self, index: int, regular: list[tuple[str, TarEntry]], stats: LayerStats) -> None:
        """Put a layer's entries (whiteouts and opaque markers apart) on the filesystem."""
        nodes = self.nodes
        for path, e in regular:
            parent = path.rpartition("/")[0]
            up = nodes.get(parent)
            if up is None or up.kind != DIR:
                self._ensure_parents(path, index, stats)
            old = nodes.get(path)
            if e.type == REG and old is None:  # the common case: a new file
                inode = Inode(e.size, index, e, path)
                stats.added += 1
                stats.added_bytes += e.size
                nodes[path] = Node(REG, index, e, inode)
                if self.children is not None:
                    self.children[parent].add(path)
            else:
                self._add(index, path, e, old, stats)

    def _add(
        self,
        index: int,
        path: str,
        e: TarEntry,
        old: Node | None,
        stats: LayerStats,
    ) -> None:
        if e.type == DIR:
            if old is not None and old.kind == DIR:
                was = old.entry
                if was is not None and (was.mode, was.uid, was.gid) != (e.mode, e.uid, e.gid):
                    stats.dirs_modified += 1
                old.entry, old.layer = e, index
                return
            if old is not None:
                self._remove(path, index, REPLACED, stats)
            else:
                stats.added += 1
            self.nodes[path] = Node(DIR, index, e)
            self._link(path, True)
            return
        inode: Inode | None = None
        hardlink = False
        kind = e.type
        if e.type == REG:
            inode = Inode(e.size, index, e, path)
        elif e.type == LINK:
            # the content now at the target path, as extracting the tar would link it
            target, _ = normalize(e.linkname)
            tnode = self.nodes.get(target)
            inode = tnode.inode if tnode is not None else None
            if inode is not None:
                inode.names += 1
                hardlink = True
                kind = REG
            else:
                kind = LINK  # dangling hard link: no content to count
        if old is not None:
            if old.kind == DIR:
                self._remove(path, index, REPLACED, stats)
                stats.added += 1
                stats.added_bytes += e.size if e.type == REG else 0
            else:
                why = OVERWRITTEN
                if (
                    old.inode is not None
                    and inode is not None
                    and not hardlink
                    and not old.hardlink
                    and self._same_content(old.inode, inode)
                ):
                    why = METADATA_ONLY
                    stats.modified_metadata += 1
                    stats.modified_metadata_bytes += inode.size
                else:
                    stats.modified_content += 1
                    stats.modified_content_bytes += e.size if e.type == REG else 0
                self._remove(path, index, why, stats)
                stats.removed -= 1  # a replaced path is a modification, not a removal
        else:
            stats.added += 1
            stats.added_bytes += e.size if e.type == REG else 0
        self.nodes[path] = Node(kind, index, e, inode, hardlink)
        self._link(path, False)

    def result(self) -> Replay:
        seen: set[int] = set()
        final = 0
        for node in self.nodes.values():
            inode = node.inode
            if inode is not None:
                if inode.names > 1:  # hard links share one inode: count it once
                    if id(inode) in seen:
                        continue
                    seen.add(id(inode))
                final += inode.size
        waste = [
            WasteItem(k[0], k[1], k[2], k[3], v[0], v[1]) for k, v in self.waste.items() if v[0] > 0
        ]
        waste.sort(key=lambda w: (-w.bytes, w.path))
        nodes = dict(self.nodes)
        nodes.pop("", None)
        return Replay(nodes, self.layers, waste, self.total, final, self.unsafe)


def replay(layers: Iterable[Iterable[TarEntry]], hasher: Hasher) -> Replay:
    r = Replayer(hasher)
    for i, entries in enumerate(layers):
        r.apply(i, entries)
    return r.result()
