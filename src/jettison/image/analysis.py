"""Image analysis: replay, reclaimable bytes by (adder, hider), duplicates, bloat, dive numbers."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from jettison.collector import collector_paused
from jettison.errors import JettisonError
from jettison.findings import Finding, Severity
from jettison.image.attribution import (
    InstructionRef,
    attribute,
    history_of,
    layer_history,
)
from jettison.image.bloat import CategoryResult, categorize, classify_file
from jettison.image.blob import CHUNK, Window
from jettison.image.dive import DiveResult, TreeBuilder, dive_efficiency
from jettison.image.model import (
    KINDS,
    METADATA_ONLY,
    OPAQUE_DIR,
    OVERWRITTEN,
    WHITEOUT_DIR,
    WHITEOUT_FILE,
    Inode,
    LayerStats,
    Node,
    Replay,
    Replayer,
    WasteItem,
)
from jettison.image.parallel import Deferred
from jettison.image.sources import EngineRequest, ImageData, LayerData, open_image
from jettison.image.tarscan import REG, TarEntry
from jettison.rules.codes import DUPLICATE_CONTENT, UNSAFE_LAYER_ENTRY
from jettison.units import human_bytes

MIN_BYTES = 1_000_000  # findings below this many bytes are noise
_HEAD = 4096  # same-size files are compared on this many first bytes before hashing
_KEY_SNIFF = 1 << 16
# below this many tar entries, the passes run inline: a fork of a process holding an
# analysis costs more than it saves (measured with dive's trees made while the export
# streamed in: 4,222 entries inline 4 ms faster, 7,037 even, 27,414 forked 25 ms faster)
_FORK_ENTRIES = 8000
# the same when the child makes the trees too (an archive, or an export read whole first):
# 7,037 entries forked 10 ms faster, 4,222 even
_FORK_ENTRIES_UNPREPARED = 5000


@dataclass
class LayerReport:
    index: int
    digest: str
    size_bytes: int
    tar_bytes: int
    compressed_bytes: int | None
    created_by: str
    created: str
    instruction: InstructionRef | None
    stats: LayerStats
    reclaimable_added: int = 0  # bytes this layer added that a later layer hid
    reclaimable_hidden: int = 0  # bytes of earlier layers this layer hid

    def label(self) -> str:
        if self.instruction is not None:
            return self.instruction.label()
        text = self.created_by.replace("\n", " ")
        if text.endswith(" # buildkit"):
            text = text[: -len(" # buildkit")]
        text = text if len(text) <= 60 else text[:59] + "…"
        return f"layer {self.index}" + (f" `{text}`" if text else "")

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "index": self.index,
            "digest": self.digest,
            "size_bytes": self.size_bytes,
            "tar_bytes": self.tar_bytes,
            "compressed_bytes": self.compressed_bytes,
            "created_by": self.created_by,
            "created": self.created,
            "instruction": self.instruction.to_json() if self.instruction else None,
            "entries": s.entries,
            "added": {"files": s.added, "bytes": s.added_bytes},
            "modified": {
                "content": s.modified_content,
                "content_bytes": s.modified_content_bytes,
                "metadata_only": s.modified_metadata,
                "metadata_only_bytes": s.modified_metadata_bytes,
                "directories": s.dirs_modified,
            },
            "removed": {
                "paths": s.removed,
                "bytes": s.removed_bytes,
                "whiteouts": s.whiteouts,
                "opaque_dirs": s.opaque_dirs,
                "dangling_whiteouts": s.dangling_whiteouts,
            },
            "reclaimable_added_bytes": self.reclaimable_added,
            "reclaimable_hidden_bytes": self.reclaimable_hidden,
        }


class DuplicateGroup(NamedTuple):
    size: int
    paths: list[str]

    @property
    def wasted(self) -> int:
        return self.size * (len(self.paths) - 1)


@dataclass
class ImageReport:
    image: str
    kind: str
    image_id: str
    platform: str | None
    layers: list[LayerReport]
    size_bytes: int
    final_bytes: int
    waste: list[WasteItem]
    duplicates: list[DuplicateGroup]
    dive: DiveResult
    categories: list[CategoryResult]
    findings: list[Finding]
    dockerfile: str | None
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)
    hashed_files: int = 0

    @property
    def reclaimable_bytes(self) -> int:
        return sum(w.bytes for w in self.waste)

    @property
    def reclaimable_percent(self) -> float:
        return 100.0 * self.reclaimable_bytes / self.size_bytes if self.size_bytes else 0.0

    @property
    def duplicate_bytes(self) -> int:
        return sum(g.wasted for g in self.duplicates)

    def pairs(self) -> list[dict[str, Any]]:
        acc: dict[tuple[int, int], dict[str, Any]] = {}
        for w in self.waste:
            slot = acc.setdefault(
                (w.adder, w.hider),
                {
                    "adder": w.adder,
                    "hider": w.hider,
                    "bytes": 0,
                    "files": 0,
                    "kinds": defaultdict(int),
                    "paths": [],
                },
            )
            slot["bytes"] += w.bytes
            slot["files"] += w.files
            slot["kinds"][w.kind] += w.bytes
            slot["paths"].append((w.bytes, w.path))
        out = []
        for slot in sorted(acc.values(), key=lambda s: (-s["bytes"], s["adder"], s["hider"])):
            paths = sorted(slot["paths"], key=lambda bp: (-bp[0], bp[1]))[:5]
            out.append(
                {
                    **slot,
                    "kinds": dict(slot["kinds"]),
                    "items": len(slot["paths"]),
                    "paths": [{"path": "/" + p, "bytes": b} for b, p in paths],
                }
            )
        return out

    def numbers(self) -> dict[str, float | None]:
        return {
            "size": float(self.size_bytes),
            "reclaimable-bytes": float(self.reclaimable_bytes),
            "reclaimable-percent": self.reclaimable_percent,
            "efficiency": self.dive.efficiency,
            "wasted-bytes": float(self.dive.wasted_bytes),
            "user-wasted-percent": self.dive.user_wasted_percent,
        }

    def to_json(self) -> dict[str, Any]:
        by_kind = dict.fromkeys(KINDS, 0)
        for w in self.waste:
            by_kind[w.kind] += w.bytes
        return {
            "image": self.image,
            "source": self.kind,
            "id": self.image_id,
            "platform": self.platform,
            "dockerfile": self.dockerfile,
            "size_bytes": self.size_bytes,
            "final_bytes": self.final_bytes,
            "reclaimable_bytes": self.reclaimable_bytes,
            "reclaimable_percent": round(self.reclaimable_percent, 4),
            "reclaimable_by_kind": by_kind,
            "reclaimable": self.pairs(),
            "top_reclaimable_paths": [
                {
                    "path": "/" + w.path,
                    "bytes": w.bytes,
                    "files": w.files,
                    "kind": w.kind,
                    "added_by": w.adder,
                    "hidden_by": w.hider,
                }
                for w in self.waste[:50]
            ],
            "duplicate_bytes": self.duplicate_bytes,
            "duplicates": [
                {
                    "size_bytes": g.size,
                    "wasted_bytes": g.wasted,
                    "copies": len(g.paths),
                    "paths": ["/" + p for p in g.paths[:20]],
                }
                for g in self.duplicates[:50]
            ],
            "layers": [layer.to_json() for layer in self.layers],
            "dive": self.dive.to_json(),
            "categories": [c.to_json() for c in self.categories],
            "findings": [f.to_json() for f in self.findings],
            "notes": self.notes,
        }


def import_late_modules() -> None:
    """Import what the analysis otherwise imports on first use (OpenSSL's hashes: 2.4 ms
    here; the spool's memory map): called while the engine prepares an export, so that
    none of it is paid after the export's last byte."""
    import hashlib  # noqa: F401
    import mmap  # noqa: F401


def _digest(window: Window, inode: Inode) -> bytes:
    import hashlib  # OpenSSL's start-up, paid only by a run that hashes

    if inode.size <= CHUNK:  # most files: one read, no generator
        data = window.read_exact(inode.entry.offset, inode.size, "file content")
        return hashlib.sha256(data).digest()
    h = hashlib.sha256()
    for chunk in window.chunks(inode.entry.offset, inode.size):
        h.update(chunk)
    return h.digest()


class _Content:
    """Reads file content of any layer by the offsets the scanner recorded."""

    def __init__(self, layers: list[LayerData]) -> None:
        self.layers = layers
        self.hashed = 0

    def digest(self, inode: Inode) -> bytes:
        if inode.digest is None:
            inode.digest = _digest(self.layers[inode.layer].window, inode)
            self.hashed += 1
        return inode.digest

    def head(self, inode: Inode, n: int) -> bytes:
        window = self.layers[inode.layer].window
        return window.pread(inode.entry.offset, min(n, inode.size))


def content_classes(layers: list[LayerData]) -> list[dict[int, int]]:
    """Files that may share their content with another, over every layer's files.

    Only files whose size collides are read, and only their first 4 KB (most same-size
    files differ there). Returns, per layer, offset of the data -> class number: negative when
    the members are certainly equal (files up to 4 KB, compared whole), positive when only
    their size and first 4 KB agree (one map per layer, keyed by offset: no tuple per
    lookup). Needs no replay, so it runs beside it; a file in no map has the same content
    as no other file of the image.
    """
    by_size: dict[int, list[tuple[int, TarEntry]]] = {}
    for i, layer in enumerate(layers):
        for e in layer.entries:
            if e.type == REG and e.size:
                files = by_size.get(e.size)
                if files is None:
                    by_size[e.size] = [(i, e)]
                else:
                    files.append((i, e))
    classes: list[dict[int, int]] = [{} for _ in layers]
    reads = [layer.window.reader("file content") for layer in layers]
    count = 0
    for size, files in by_size.items():
        if len(files) < 2:
            continue
        n = min(size, _HEAD)
        # sorted by head, equal heads end up side by side: comparing two heads stops at
        # their first difference, where a dict keyed by heads would hash each one whole
        heads = sorted((reads[i](e.offset, n), i, e.offset) for i, e in files)
        start = 0
        while start < len(heads):
            head = heads[start][0]
            end = start + 1
            while end < len(heads) and heads[end][0] == head:
                end += 1
            if end - start > 1:
                count += 1
                number = -count if size <= _HEAD else count
                for _, i, offset in heads[start:end]:
                    classes[i][offset] = number
            start = end
    return classes


def find_duplicates(
    nodes: dict[str, Node], classes: list[dict[int, int]], content: _Content
) -> list[DuplicateGroup]:
    """Same content at different paths of the final filesystem (see :func:`content_classes`);
    files over 4 KB that agree on size and first 4 KB are hashed whole to be sure."""
    by_class: dict[int, list[tuple[str, Inode]]] = {}
    seen: set[int] = set()
    for path, node in nodes.items():
        inode = node.inode
        if inode is None or not inode.size:
            continue
        number = classes[inode.layer].get(inode.entry.offset)
        if number is None:
            continue
        if inode.names > 1:  # hard links share one inode: not a duplicate
            if id(inode) in seen:
                continue
            seen.add(id(inode))
        files = by_class.get(number)
        if files is None:
            by_class[number] = [(path, inode)]
        else:
            files.append((path, inode))
    same: list[list[tuple[str, Inode]]] = []
    for number, files in by_class.items():
        if len(files) < 2:
            continue
        if number < 0:
            same.append(files)
            continue
        by_hash: dict[bytes, list[tuple[str, Inode]]] = defaultdict(list)
        for path, inode in files:
            by_hash[content.digest(inode)].append((path, inode))
        same.extend(group for group in by_hash.values() if len(group) > 1)
    groups = [DuplicateGroup(files[0][1].size, sorted(p for p, _ in files)) for files in same]
    groups.sort(key=lambda g: (-g.wasted, g.paths[0]))
    return groups


def _env(config: dict[str, Any]) -> dict[str, str]:
    inner = config.get("config") or config.get("container_config") or {}
    out: dict[str, str] = {}
    env = inner.get("Env") if isinstance(inner, dict) else None
    for item in env if isinstance(env, list) else []:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


class LayerPrep:
    """What the analysis needs of one layer alone, made in pieces while an engine's export
    still streams in (the entries read so far, in the reader's waits for the next bytes),
    so that less is left to do after its last byte: dive's tree of the layer, the bloat
    categories of its files and, for the layer the export says is the base (the first),
    its replay. The analysis completes what the stream's end left."""

    def __init__(self, window: Window | None = None, base: bool = False) -> None:
        self.window = window
        self.count = 0  # the layer's first entries, in archive order, taken so far
        # regular file path -> (the entry, its bloat categories): a path listed twice in a
        # layer counts as its last entry, which the stream's end may have left untaken
        self.hits: dict[str, tuple[TarEntry, list[tuple[str, str]]]] = {}
        self._tree = TreeBuilder()
        self._tree_count = 0
        self.hashed = 0  # files the base's replay hashed
        self.replayer: Replayer | None = None
        if base and window is not None:
            self.replayer = Replayer(self._digest)
            self.replayer.begin(0)

    def _digest(self, inode: Inode) -> bytes:
        assert self.window is not None
        self.hashed += 1
        return _digest(self.window, inode)

    def add(self, entries: list[TarEntry]) -> None:
        """Take the layer's next entries."""
        hits = self.hits
        for e in entries:
            path = e.name
            # only the paths the replay keeps as they are (others: classified after it)
            if e.type == REG and path and not ("//" in path or "/." in path or path[0] in "/."):
                hits[path] = (e, classify_file(path, e.size))
        self._tree.add(entries)
        if self.replayer is not None:
            try:
                self.replayer.feed(entries)
            except Exception:  # (a guess that failed: the analysis replays it all)
                self.replayer = None
        self.count += len(entries)
        self._tree_count = self.count

    def tree(self, entries: list[TarEntry]) -> Any:
        """dive's tree of the layer whose entries are ``entries`` (those not taken yet are
        added to the tree alone: their categories are found after the replay)."""
        if self._tree_count < len(entries):
            self._tree.add(entries[self._tree_count :])
            self._tree_count = len(entries)
        return self._tree.tree


def _replay_started(
    preps: list[LayerPrep | None], layers: list[LayerData], content: _Content
) -> tuple[Replayer, int]:
    """The replayer, and the first layer it has yet to apply: the replay the image's first
    layer began while the export streamed in, when the export named it the base (replays
    begun on layers wrongly taken for the base go unused)."""
    first = preps[0] if preps else None
    if first is not None and first.replayer is not None:
        replayer, first.replayer = first.replayer, None  # (used once)
        replayer.feed(layers[0].entries[first.count :])
        replayer.end()
        replayer.hasher = content.digest
        content.hashed += first.hashed
        return replayer, 1
    return Replayer(content.digest), 0


def _side_job(
    data: ImageData, preps: list[LayerPrep | None] | None = None
) -> tuple[DiveResult, list[dict[int, int]]]:
    """dive's numbers and the duplicate candidates: they need no replay."""
    trees = [
        p.tree(layer.entries) if p is not None else None
        for p, layer in zip(preps or _prepared(data), data.layers, strict=True)
    ]
    return (
        dive_efficiency([layer.entries for layer in data.layers], trees),
        content_classes(data.layers),
    )


def _prepared(data: ImageData) -> list[LayerPrep | None]:
    return [p if isinstance(p := layer.prepared, LayerPrep) else None for layer in data.layers]


def analyze(
    data: ImageData, dockerfile: str | Path | None = None, auto_dockerfile: bool = False
) -> ImageReport:
    content = _Content(data.layers)
    preps = _prepared(data)
    # dive's numbers and the duplicate candidates need no replay: one child computes them
    # on the other core while this process replays and categorizes (two busy processes
    # for two cores; see parallel.py), when there is enough work to pay for a process
    least = _FORK_ENTRIES if any(preps) else _FORK_ENTRIES_UNPREPARED
    fork = sum(len(layer.entries) for layer in data.layers) >= least
    side_job = data.side or Deferred(lambda: _side_job(data, preps), fork=fork)
    replayer, start = _replay_started(preps, data.layers, content)
    for i in range(start, len(data.layers)):
        replayer.apply(i, data.layers[i].entries)
    replay = replayer.result()
    history = history_of(data.config)
    per_layer = layer_history(history, len(data.layers))
    try:
        instructions, used = attribute(data.config, len(data.layers), dockerfile, auto_dockerfile)
    except JettisonError:
        if not auto_dockerfile:
            raise
        instructions, used = [None] * len(data.layers), None  # a stray ./Dockerfile
    layers = []
    for i, layer in enumerate(data.layers):
        h = per_layer[i]
        entry = history[h] if h is not None else None
        layers.append(
            LayerReport(
                i,
                layer.digest,
                replay.layers[i].size_bytes,
                layer.tar_size,
                layer.compressed_size,
                entry.created_by if entry else "(missing)",
                entry.created if entry else "",
                instructions[i],
                replay.layers[i],
            )
        )
    for w in replay.waste:
        layers[w.adder].reclaimable_added += w.bytes
        layers[w.hider].reclaimable_hidden += w.bytes

    def is_private_key(path: str, node: Node) -> bool:
        inode = node.inode
        return inode is not None and b"PRIVATE KEY" in content.head(inode, _KEY_SNIFF)

    def known(path: str, node: Node) -> list[tuple[str, str]] | None:
        prep = preps[node.layer] if node.entry is not None and node.entry.type == REG else None
        hit = prep.hits.get(path) if prep is not None else None
        return hit[1] if hit is not None and hit[0] is node.entry else None

    categories = sorted(
        (
            c
            for c in categorize(replay.nodes, is_private_key, known).values()
            if c.bytes > 0 or c.category.id == "secrets"
        ),
        key=lambda c: (-c.bytes, c.category.id),
    )
    env = _env(data.config)
    dive, classes = side_job.result()
    duplicates = find_duplicates(replay.nodes, classes, content)
    report = ImageReport(
        data.reference,
        data.kind,
        data.image_id,
        data.platform,
        layers,
        replay.total_bytes,
        replay.final_bytes,
        replay.waste,
        duplicates,
        dive,
        categories,
        [],
        used,
        env,
        list(data.notes),
        content.hashed,
    )
    if dive.aborted_layers:
        report.notes.append(
            "dive aborts its visit of layer(s) "
            + ", ".join(str(i) for i in sorted(set(dive.aborted_layers)))
            + " on a whiteout of a missing "
            "path; the dive-compatible numbers reproduce that"
        )
    report.findings = build_findings(report, replay)
    report.hashed_files = content.hashed
    return report


def inspect_image(
    reference: str,
    source: str = "auto",
    platform: str | None = None,
    dockerfile: str | Path | None = None,
    requested: EngineRequest | None = None,
    background_cleanup: bool = False,
) -> ImageReport:
    """Read and analyse an image. Without ``dockerfile``, ./Dockerfile is used if it matches.

    ``requested``: an export already asked of the engine (:func:`request_export`);
    ``background_cleanup``: temporary files are removed beside the caller's next steps, by
    the time the process exits (for a command line, which exits next: an inspect run in a
    process of its own answers before that, see :func:`jettison._entry.answered`).
    """
    auto = False
    if dockerfile is None and os.path.isfile("Dockerfile"):
        dockerfile, auto = "Dockerfile", True
    opened = open_image(
        reference, source, platform, requested, background_cleanup, LayerPrep, _side_job
    )
    with collector_paused(), opened as data:
        return analyze(data, dockerfile, auto)


# --- findings ---------------------------------------------------------------------------------

_KIND_WORDS = {
    WHITEOUT_FILE: "deleted",
    WHITEOUT_DIR: "deleted",
    OPAQUE_DIR: "deleted",
    OVERWRITTEN: "overwritten",
    METADATA_ONLY: "re-shipped for a metadata change",
    "replaced": "replaced",
}


def _where(report: ImageReport, layer: int) -> tuple[str, int, int]:
    ins = report.layers[layer].instruction if 0 <= layer < len(report.layers) else None
    if ins is not None:
        return ins.path, ins.line, ins.end_line
    return f"image:{report.image}", layer + 1, layer + 1


def build_findings(report: ImageReport, replay: Replay) -> list[Finding]:
    findings: list[Finding] = []
    for pair in report.pairs():
        if pair["bytes"] < MIN_BYTES:
            continue
        adder, hider = report.layers[pair["adder"]], report.layers[pair["hider"]]
        kind = max(pair["kinds"].items(), key=lambda kv: kv[1])[0]
        top = pair["paths"][0]["path"]
        files = f"{pair['files']:,} files"
        if pair["items"] == 1:
            where = f"in {top}" + (f" ({files})" if pair["files"] > 1 else "")
        else:
            where = f"in {files} under {pair['items']:,} paths (largest {top})"
        if kind == METADATA_ONLY:
            tail = (
                f"then {hider.label()} changed only its metadata, which re-ships the "
                "whole file (use COPY --chmod/--chown or chmod in the same RUN)"
            )
        else:
            tail = f"{_KIND_WORDS.get(kind, 'hidden')} later by {hider.label()} (still shipped)"
        path, line, end = _where(report, pair["adder"])
        findings.append(
            Finding(
                "JT109",
                f"{adder.label()} left {human_bytes(pair['bytes'])} {where}, {tail}",
                path,
                line,
                end,
                Severity.WARNING,
                rule_name="file-added-then-removed",
            )
        )
    python_env = report.env.get("PYTHONDONTWRITEBYTECODE", "") not in ("", "0")
    for cat in report.categories:
        c = cat.category
        if c.id == "secrets":
            severity = Severity.ERROR
        elif c.id in ("docs-man-locale", "large-files"):
            severity = Severity.INFO
        else:
            severity = Severity.WARNING
        if c.id != "secrets" and cat.bytes < MIN_BYTES:
            continue
        detail = ""
        if c.id == "pycache":
            stale = int(cat.extra.get("stale_bytes", 0))
            if not python_env and stale < MIN_BYTES:
                continue  # bytecode the interpreter would write anyway at first import
            detail = (
                " although the image sets PYTHONDONTWRITEBYTECODE"
                if python_env
                else f" ({human_bytes(stale)} of it stale: the source is gone)"
            )
        tops = ", ".join(f"{p} ({human_bytes(b)})" for p, b in cat.top(3))
        if c.id == "secrets":
            tops = ", ".join(p for p, _ in cat.top(5))  # names only, never content
        layer = cat.main_layer()
        path, line, end = _where(report, layer)
        by = report.layers[layer].label()
        findings.append(
            Finding(
                c.code,
                f"{c.title}: {human_bytes(cat.bytes)} in {cat.files:,} file(s){detail}, mostly "
                f"from {by}: {tops}; fix: {c.fix}",
                path,
                line,
                end,
                severity,
                rule_name=c.id,
            )
        )
    if report.duplicate_bytes >= MIN_BYTES:
        g = report.duplicates[0]
        findings.append(
            Finding(
                DUPLICATE_CONTENT,
                f"same content at different paths: {human_bytes(report.duplicate_bytes)} in "
                f"{len(report.duplicates):,} group(s); largest: {human_bytes(g.size)} "
                f"x{len(g.paths)} "
                f"({', '.join('/' + p for p in g.paths[:3])})",
                f"image:{report.image}",
                1,
                1,
                Severity.INFO,
                rule_name="duplicate-content",
            )
        )
    for u in replay.unsafe[:20]:
        path, line, end = _where(report, u.layer)
        findings.append(
            Finding(
                UNSAFE_LAYER_ENTRY,
                f"layer {u.layer}: {u.reason}: {u.path!r}",
                path,
                line,
                end,
                Severity.WARNING,
                rule_name="unsafe-layer-entry",
            )
        )
    return findings
