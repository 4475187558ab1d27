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
    """A path in the merged filesystem."""

    __slots__ = (
        "gid",
        "hardlink",
        "implicit",
        "inode",
        "kind",
        "layer",
        "link",
        "mode",
        "mtime",
        "uid",
    )

    def __init__(
        self,
        kind: str,
        layer: int,
        mode: int = 0o755,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        inode: Inode | None = None,
        link: str = "",
        implicit: bool = False,
        hardlink: bool = False,
    ) -> None:
        self.kind = kind
        self.layer = layer
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.inode = inode
        self.link = link
        self.implicit = implicit
        self.hardlink = hardlink


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


@dataclass
class UnsafeEntry:
    layer: int
    path: str
    reason: str


@dataclass
class WasteItem:
    path: str  # where the bytes were hidden (the whiteout target, opaque dir or file)
    adder: int
    hider: int
    kind: str
    bytes: int
    files: int


@dataclass
class Replay:
    nodes: dict[str, Node]
    layers: list[LayerStats]
    waste: list[WasteItem]
    total_bytes: int
    final_bytes: int
    unsafe: list[UnsafeEntry] = field(default_factory=list)

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


class Replayer:
    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self.nodes: dict[str, Node] = {"": Node(DIR, -1, implicit=True)}
        self.children: dict[str, set[str]] = {"": set()}
        self.waste: dict[tuple[str, int, int, str], list[int]] = {}
        self.layers: list[LayerStats] = []
        self.unsafe: list[UnsafeEntry] = []
        self.total = 0

    # -- helpers -------------------------------------------------------------------------

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
        parent = path.rpartition("/")[0]
        kids = self.children.get(parent)
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
                stack.extend(self.children.pop(p, ()))
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
            self.nodes[p] = Node(DIR, layer, implicit=True)
            self.children[p] = set()
            self.children[p.rpartition("/")[0]].add(p)

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
        stats = LayerStats(index)
        opaque: list[str] = []
        whiteouts: list[str] = []
        regular: list[tuple[str, TarEntry]] = []
        for e in entries:
            stats.entries += 1
            if e.type == REG:
                stats.size_bytes += e.size
            path, reason = normalize(e.name)
            if reason is not None:
                self.unsafe.append(UnsafeEntry(index, e.name, reason))
                if not path:
                    continue
            if not path:
                continue  # the root directory itself
            base = path.rpartition("/")[2]
            if base.startswith(WHITEOUT):
                parent = path.rpartition("/")[0]
                if base == OPAQUE:
                    opaque.append(parent)
                else:
                    whiteouts.append(f"{parent}/{base[4:]}" if parent else base[4:])
                continue
            if e.type == SYMLINK and not e.linkname.startswith("/"):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), e.linkname))
                if target == ".." or target.startswith("../"):
                    self.unsafe.append(
                        UnsafeEntry(index, path, f"symlink points outside the root: {e.linkname}")
                    )
            regular.append((path, e))
        self.total += stats.size_bytes
        # opaque markers first, then whiteouts: both see only the lower layers
        for d in opaque:
            stats.opaque_dirs += 1
            node = self.nodes.get(d)
            if node is not None and node.kind == DIR:
                for child in list(self.children.get(d, ())):
                    self._remove(child, index, OPAQUE_DIR, stats)
        for target in whiteouts:
            stats.whiteouts += 1
            node = self.nodes.get(target)
            if node is None:
                stats.dangling_whiteouts += 1
                continue
            self._remove(target, index, WHITEOUT_DIR if node.kind == DIR else WHITEOUT_FILE, stats)
        layer_inodes: dict[str, Inode] = {}
        for path, e in regular:
            self._add(index, path, e, stats, layer_inodes)
        self.layers.append(stats)
        return stats

    def _add(
        self, index: int, path: str, e: TarEntry, stats: LayerStats, layer_inodes: dict[str, Inode]
    ) -> None:
        self._ensure_parents(path, index, stats)
        old = self.nodes.get(path)
        if e.type == DIR:
            if old is not None and old.kind == DIR:
                if (old.mode, old.uid, old.gid) != (e.mode, e.uid, e.gid) and not old.implicit:
                    stats.dirs_modified += 1
                old.mode, old.uid, old.gid, old.mtime = e.mode, e.uid, e.gid, e.mtime
                old.layer, old.implicit = index, False
                return
            if old is not None:
                self._remove(path, index, REPLACED, stats)
            else:
                stats.added += 1
            self.nodes[path] = Node(DIR, index, e.mode, e.uid, e.gid, e.mtime)
            self.children[path] = set()
            self.children[path.rpartition("/")[0]].add(path)
            return
        inode: Inode | None = None
        hardlink = False
        kind = e.type
        if e.type == REG:
            inode = Inode(e.size, index, e, path)
            layer_inodes[path] = inode
        elif e.type == LINK:
            target, _ = normalize(e.linkname)
            inode = layer_inodes.get(target)
            if inode is None:
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
        self.nodes[path] = Node(
            kind, index, e.mode, e.uid, e.gid, e.mtime, inode, e.linkname, hardlink=hardlink
        )
        self.children[path.rpartition("/")[0]].add(path)

    def result(self) -> Replay:
        seen: set[int] = set()
        final = 0
        for node in self.nodes.values():
            inode = node.inode
            if inode is not None and id(inode) not in seen:
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
