"""dive 0.13.1's efficiency, wasted bytes and user-wasted percent, computed exactly as dive does.

dive (``dive/filetree/efficiency.go``, ``file_tree.go``, ``file_node.go``) builds one tree per
layer from the tar headers, visits the *leaves* of each layer tree in sorted depth-first
order, and keys a counter by path (``.wh.X`` counts as ``X``). A whiteout of a former
directory costs the size of that directory in the stack of the lower layers; a whiteout
of a file costs 0. Opaque markers are dropped. ``wasted`` sums every path seen twice or
more, the surviving copy included. We keep dive's quirks on purpose (they are what its
users' thresholds were tuned against), with two of them worth knowing:

* the lower stack for a whiteout has the *implicit* directories of an upper layer overwrite
  a lower directory's header, so the whiteout of such a directory costs 0;
* a whiteout whose target is not in the lower stack aborts the visit of the rest of that
  layer and leaves a counter whose minimum is -1 (dive logs an error and goes on).

Where dive re-stacks all lower layers once per whiteout (quadratic), we keep one running
stack, brought up to date only when a layer with whiteouts needs it, which gives the same
stack in linear time. Leaves are visited in dive's sorted order only when that order can
matter (a whiteout lookup fails and the visit aborts); otherwise the counters do not depend
on the order and the sort is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from jettison.image.tarscan import DIR, TarEntry

_WH = ".wh."
_WHWH = ".wh..wh.."


class _Info:
    __slots__ = ("is_dir", "size")

    def __init__(self, size: int, is_dir: bool) -> None:
        self.size = size
        self.is_dir = is_dir


_EMPTY = _Info(0, False)


class _Node:
    __slots__ = ("children", "info", "name", "parent")

    def __init__(self, name: str, info: _Info, parent: _Node | None) -> None:
        self.name = name
        self.info = info
        self.parent = parent
        self.children: dict[str, _Node] = {}


def go_clean(path: str) -> str:
    """Go's ``path.Clean``: lexical, keeps a leading slash, resolves ``..``."""
    if (
        path
        and "//" not in path
        and "/./" not in path
        and "/../" not in path
        and not path.startswith(("./", "../"))
        and not path.endswith(("/", "/.", "/.."))
        and path not in (".", "..")
    ):
        return path  # already clean: the common case, kept cheap
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    text = "/".join(out)
    if rooted:
        return "/" + text
    return text or "."


class _Tree:
    def __init__(self) -> None:
        self.root = _Node("", _EMPTY, None)
        self.file_size = 0
        self.has_whiteouts = False  # a node named .wh.X: stacking this tree removes paths

    def child(self, node: _Node, name: str) -> _Node | None:
        """``node``'s child ``name``, made if missing; None for an opaque marker (dive
        drops those)."""
        child = node.children.get(name)
        if child is None:
            if name.startswith(_WH):
                if name.startswith(_WHWH):
                    return None
                self.has_whiteouts = True
            child = _Node(name, _EMPTY, node)
            node.children[name] = child
        return child

    def add_path(self, path: str, info: _Info) -> None:
        path = go_clean(path)
        if path == ".":
            return
        names = path.strip("/").split("/")
        node = self.root
        last = len(names) - 1
        for idx, name in enumerate(names):
            if not name:
                continue
            child = self.child(node, name)
            if child is None:
                return
            node = child
            if idx == last:
                node.info = info

    def get(self, path: str) -> _Node | None:
        node = self.root
        for name in path.strip("/").split("/"):
            if not name:
                continue
            found = node.children.get(name)
            if found is None:
                return None
            node = found
        return node

    def remove(self, path: str) -> None:
        node = self.get(path)
        if node is None or node is self.root or node.parent is None:
            return
        del node.parent.children[node.name]

    def copy(self) -> _Tree:
        new = _Tree()
        new.file_size = self.file_size
        new.has_whiteouts = self.has_whiteouts
        stack = [(self.root, new.root)]
        while stack:
            src, dst = stack.pop()
            for name, child in src.children.items():
                twin = _Node(name, child.info, dst)
                dst.children[name] = twin
                stack.append((child, twin))
        return new

    def stack(self, upper: _Tree) -> None:
        """dive's ``FileTree.Stack``: graft every node of ``upper``, children first."""
        for path, node in _child_first(upper.root, ""):
            if node.name.startswith(_WH):
                self.remove(path)
            else:
                self.add_path(path, node.info)


def _node_path(parent_path: str, name: str) -> str:
    return f"{parent_path}/{name}"


def _child_first(root: _Node, root_path: str, leaves_only: bool = False) -> list[tuple[str, _Node]]:
    """Depth-first, sorted by name, parents after their children (root not visited).

    Yields each node's dive ``Path()``: its own whiteout prefix is stripped.
    """
    out: list[tuple[str, _Node]] = []
    stack: list[tuple[_Node, str, bool]] = [(root, root_path, False)]
    while stack:
        node, path, expanded = stack.pop()
        if expanded or not node.children:
            if node is not root and (not leaves_only or not node.children):
                name = node.name[len(_WH) :] if node.name.startswith(_WH) else node.name
                out.append((path.rpartition("/")[0] + "/" + name, node))
            continue
        stack.append((node, path, True))
        for name in sorted(node.children, reverse=True):
            stack.append((node.children[name], _node_path(path, name), False))
    return [(p.replace("//", "/"), n) for p, n in out]


def _leaves(root: _Node) -> list[tuple[str, _Node]]:
    """The leaves with their dive ``Path()``, in no particular order (see the module doc)."""
    out: list[tuple[str, _Node]] = []
    stack: list[tuple[_Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        for name, child in node.children.items():
            if child.children:
                stack.append((child, f"{path}/{name}"))
            elif name.startswith(_WH):
                out.append((f"{path}/{name[len(_WH) :]}", child))
            else:
                out.append((f"{path}/{name}", child))
    return out


def _subtree_size(node: _Node) -> int:
    total = 0
    stack = [node]
    while stack:
        n = stack.pop()
        total += n.info.size
        stack.extend(n.children.values())
    return total


class DiveFile(NamedTuple):
    path: str
    copies: int  # dive's "count": how many layers have the path
    size_bytes: int


class DiveResult(NamedTuple):
    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float | None  # None where dive would divide by zero
    size_bytes: int
    user_size_bytes: int
    layer_sizes: tuple[int, ...]
    inefficient_files: tuple[DiveFile, ...]
    aborted_layers: tuple[int, ...]  # layers whose visit dive aborts on a whiteout error

    def to_json(self) -> dict[str, object]:
        return {
            "efficiency": self.efficiency,
            "wasted_bytes": self.wasted_bytes,
            "user_wasted_percent": self.user_wasted_percent,
            "size_bytes": self.size_bytes,
            "user_size_bytes": self.user_size_bytes,
            "inefficient_files": [
                {"path": f.path, "count": f.copies, "size_bytes": f.size_bytes}
                for f in self.inefficient_files[:50]
            ],
        }


class TreeBuilder:
    """dive's tree of one layer, built from its entries in archive order, in as many pieces
    as they come (an export still streaming in)."""

    def __init__(self) -> None:
        self.tree = _Tree()
        # cleaned path (no leading slash) -> node: a tar lists a directory before its
        # contents, so most entries attach to a known parent in one lookup instead of a walk
        self._index: dict[str, _Node] = {}

    def add(self, entries: Iterable[TarEntry]) -> None:
        tree, index = self.tree, self._index
        root = tree.root
        for e in entries:
            name = go_clean(e.name)
            if name == ".":
                continue
            tree.file_size += e.size
            info = _Info(e.size, e.type == DIR)
            stripped = name.strip("/")
            parent_path, _, base = stripped.rpartition("/")
            parent = index.get(parent_path) if parent_path else root
            if parent is None or not base:
                tree.add_path(name, info)
                _index_path(tree, index, stripped)
                continue
            child = tree.child(parent, base)
            if child is None:
                continue
            index[stripped] = child
            child.info = info


def build_tree(entries: Iterable[TarEntry]) -> _Tree:
    builder = TreeBuilder()
    builder.add(entries)
    return builder.tree


def _index_path(tree: _Tree, index: dict[str, _Node], stripped: str) -> None:
    """Record the nodes a slow-path ``add_path`` created along ``stripped``."""
    node = tree.root
    walked = ""
    for name in stripped.split("/"):
        if not name:
            continue
        found = node.children.get(name)
        if found is None:
            return
        node = found
        walked = f"{walked}/{name}" if walked else name
        index.setdefault(walked, node)


class _LowerStack:
    """dive's stack of the layers below the one being visited, built only when asked for.

    dive starts from a copy of tree 0 for layers 0 and 1 and stacks tree 0 onto it once more
    before layer 1; stacking a tree without whiteout nodes onto itself changes nothing, so
    then tree 0 itself serves (it is no longer visited once layer 1 is reached) and neither
    the copy nor the self-stacking is made.
    """

    def __init__(self, trees: Sequence[_Tree]) -> None:
        self.trees = trees
        self.tree: _Tree | None = None
        self.below = 0  # self.tree is the stack used to visit layer ``below``

    def at(self, idx: int) -> _Tree:
        if self.tree is None:
            first = self.trees[0]
            self.tree = first.copy() if first.has_whiteouts else first
        while self.below < idx:
            lower = self.trees[self.below]
            if self.below > 0 or lower.has_whiteouts:
                self.tree.stack(lower)
            self.below += 1
        return self.tree


def _visit_plain(
    leaves: list[tuple[str, _Node]],
    counts: dict[str, int],
    cumulative: dict[str, int],
    minimum: dict[str, int],
    order: list[str],
) -> None:
    """The visit of a layer without whiteouts, as the general loop of
    :func:`dive_efficiency` makes it: the paths no lower layer has (nearly all) are taken
    with dict operations in C, the others one by one."""
    sizes = {path: node.info.size for path, node in leaves}
    seen = sizes.keys() & counts.keys()
    before = {path: (counts[path], cumulative[path], minimum[path]) for path in seen}
    counts.update(dict.fromkeys(sizes, 1))
    cumulative.update(sizes)
    minimum.update(sizes)
    for path, (count, total, least) in before.items():
        size = sizes[path]
        counts[path] = count + 1
        cumulative[path] = total + size
        if least >= 0 and least < size:
            minimum[path] = least
        if count == 1:
            order.append(path)


def dive_efficiency(
    layers: Sequence[Iterable[TarEntry]], built: Sequence[_Tree | None] = ()
) -> DiveResult:
    """dive's numbers; ``built``: layers' trees already made by :func:`build_tree`."""
    trees = [
        (built[i] if i < len(built) else None) or build_tree(entries)
        for i, entries in enumerate(layers)
    ]
    counts: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    minimum: dict[str, int] = {}
    order: list[str] = []  # paths in the order they reached two visits
    aborted: list[int] = []
    lower = _LowerStack(trees)
    for idx, tree in enumerate(trees):
        leaves = _leaves(tree.root)
        found: dict[str, _Node | None] = {}
        if tree.has_whiteouts:
            stacked = lower.at(idx)
            for path, node in leaves:
                if node.name.startswith(_WH):
                    found[path] = stacked.get(path)
            if None in found.values():  # dive aborts the visit: its order decides where
                leaves = _child_first(tree.root, "", leaves_only=True)
        if not found:  # no whiteouts: the layer's paths are unique, their sizes final
            _visit_plain(leaves, counts, cumulative, minimum, order)
            continue
        for path, node in leaves:
            if path not in counts:
                counts[path] = 0
                cumulative[path] = 0
                minimum[path] = -1
            if node.name.startswith(_WH):
                previous = found[path]
                if previous is None:
                    aborted.append(idx)
                    break  # dive: GetNode error ends this layer's visit
                size = _subtree_size(previous) if previous.info.is_dir else 0
            else:
                size = node.info.size
            cumulative[path] += size
            if minimum[path] < 0 or size < minimum[path]:
                minimum[path] = size
            counts[path] += 1
            if counts[path] == 2:
                order.append(path)
    min_total = sum(minimum.values())
    cum_total = sum(cumulative.values())
    efficiency = 1.0 if cum_total == 0 else min_total / cum_total
    wasted = sum(cumulative[p] for p in order)
    sizes = tuple(t.file_size for t in trees)
    user = sum(sizes[1:])
    # dive divides in float64; x/0 is +Inf or NaN there, which JSON cannot carry
    user_pct = wasted / user if user else None
    files = sorted(
        (DiveFile(p, counts[p], cumulative[p]) for p in order),
        key=lambda f: (-f.size_bytes, f.path),
    )
    return DiveResult(
        efficiency, wasted, user_pct, sum(sizes), user, sizes, tuple(files), tuple(aborted)
    )
