"""The layer model on synthetic archives with exact expected numbers."""

from __future__ import annotations

import random
import tarfile

import pytest

from jettison.image.analysis import analyze
from jettison.image.blob import Window
from jettison.image.errors import CorruptImageError
from jettison.image.model import replay
from jettison.image.sources import open_image
from jettison.image.tarscan import DIR, LINK, REG, SYMLINK, TarEntry, scan
from tests.unit.image.helpers import Spec, layer, legacy_archive


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def pread(self, offset: int, size: int) -> bytes:
        return self.data[offset : offset + size]


def entries(data: bytes) -> list:
    return list(scan(Window(_Bytes(data), 0, len(data))))


L0 = layer(
    [
        ("etc", "d", None),
        ("etc/a", "f", b"a" * 100),
        ("opt", "d", None),
        ("opt/keep", "d", None),
        ("opt/keep/k", "f", b"k" * 50),
        ("opt/dir", "d", None),
        ("opt/dir/sub", "d", None),
        ("opt/dir/sub/x", "f", b"x" * 30),
        ("opt/dir/y", "f", b"y" * 20),
        ("opt/big", "f", b"B" * 1000),
        ("opt/m1", "f", b"1" * 10),
        ("opt/m2", "f", b"2" * 10),
        ("opt/hl", "h", "opt/big"),
    ]
)
L1 = layer(
    [
        ("opt/dir", "w", None),
        ("opt/m1", "w", None),
        ("opt/keep", "o", None),
        ("opt/keep", "d", None),
        ("opt/keep/new", "f", b"n" * 5),
        ("etc/a", "f", (b"a" * 100, 0o600)),
        ("opt/dup", "f", b"B" * 1000),
        ("opt/big", "w", None),
    ]
)
L2 = layer(
    [
        ("opt/hl", "w", None),
        ("etc/b", "f", b"b" * 7),
        ("opt/m2", "w", None),
        ("opt/m2", "f", b"3" * 3),
        ("srv", "d", None),
        ("srv/c1", "f", b"same-content"),
        ("srv/c2", "f", b"same-content"),
        ("srv/c3", "f", b"diff-content"),
    ]
)


def _report(tmp_path, layers):
    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive(layers))
    with open_image(str(path)) as data:
        return analyze(data)


def test_scanner_reads_types_long_names_and_offsets() -> None:
    long = "d/" + "n" * 150
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        data = layer(
            [("d", "d", None), (long, "f", b"hello"), ("d/s", "l", "../etc"), ("d/h", "h", long)],
            fmt=fmt,
        )
        got = entries(data)
        assert [(e.name.rstrip("/"), e.type) for e in got] == [
            ("d", DIR),
            (long, REG),
            ("d/s", SYMLINK),
            ("d/h", LINK),
        ]
        assert data[got[1].offset : got[1].offset + got[1].size] == b"hello"
        assert got[3].linkname == long


def test_scanner_rejects_corrupt_and_truncated_tars() -> None:
    data = bytearray(layer([("a", "f", b"x" * 600)]))
    data[10] ^= 0xFF
    with pytest.raises(CorruptImageError, match="checksum"):
        entries(bytes(data))
    with pytest.raises(CorruptImageError, match="truncated"):
        entries(layer([("a", "f", b"x" * 2000)])[:900])


def test_scanner_checks_headers_whose_byte_sum_passes_65521() -> None:
    """The checksum is verified through adler32 (a sum modulo 65521): a header of
    high bytes sums past the modulus, and both a good and a damaged one must come out right."""
    name = "\u00ff" * 77 + "/" + "\u00ff" * 49  # 252 UTF-8 bytes: ustar prefix + name
    spec = [(name, "l", "\u00ff" * 50)]
    data = bytearray(layer(spec, fmt=tarfile.USTAR_FORMAT))
    assert sum(data[:512]) > 65521
    assert [e.name for e in entries(bytes(data))] == [name]
    data[400] ^= 0x01  # one bit of the prefix field
    with pytest.raises(CorruptImageError, match="checksum"):
        entries(bytes(data))


def _with_fields(data: bytes, fields: dict[int, bytes]) -> bytes:
    """The first header of ``data`` with raw bytes put at these offsets, its checksum
    recomputed (as a writer of such fields would store it)."""
    header = bytearray(data[:512])
    for at, raw in fields.items():
        header[at : at + len(raw)] = raw
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data[512:]


def test_scanner_reads_numbers_ended_by_spaces_or_nuls_and_in_base_256() -> None:
    """Octal numbers padded with NULs or spaces, and GNU base-256 ones, whose bytes may be
    NUL (0x00) or space (0x20): they must not be read as padding."""
    data = layer([("a", "f", b"x" * 600)], fmt=tarfile.USTAR_FORMAT)
    spaced = _with_fields(data, {100: b"  644 \0\0", 108: b"0001750 ", 136: b"15255366400 "})
    [e] = entries(spaced)
    assert (e.mode, e.uid, e.size, e.mtime) == (0o644, 0o1750, 600, 0o15255366400)
    # uid 0x2000 and size 600 in base 256: bytes 0x00 and 0x20 inside the number
    binary = _with_fields(
        data,
        {
            108: b"\x80\x00\x00\x00\x00\x00\x20\x00",
            124: b"\x80" + (600).to_bytes(11, "big"),
        },
    )
    [e] = entries(binary)
    assert (e.uid, e.size) == (0x2000, 600)
    blank = _with_fields(data, {116: b"\0" * 8})  # an empty gid field is 0
    assert entries(blank)[0].gid == 0
    with pytest.raises(CorruptImageError, match="bad uid"):
        entries(_with_fields(data, {108: b"12x4567\0"}))


def test_scanner_reads_a_complete_spool_through_its_map_as_through_reads(tmp_path) -> None:
    """Headers sliced from a finished spool's memory map (no readahead) give the entries
    read through the window, for a layer inside a larger file; a layer cut short inside
    the map is still an error."""
    from jettison.image.blob import GrowingFile

    spec: Spec = [(f"d/{i}", "f", b"y" * (i * 97 % 3000)) for i in range(200)]
    long = "d/" + "n" * 150
    spec += [(long, "f", b"z"), ("d/ln", "l", long)]
    data = layer(spec, fmt=tarfile.GNU_FORMAT)
    spool = GrowingFile(str(tmp_path / "spool"))
    spool.write(b"\0" * 1024 + data + b"\0" * 4096)
    spool.finish()
    window = Window(spool, 1024, len(data))
    assert window.mapped() is not None
    reads: list[int] = []
    read = spool.pread
    spool.pread = lambda offset, size: (reads.append(size), read(offset, size))[1]  # type: ignore[method-assign]
    assert list(scan(window)) == entries(data)
    # the GNU records of the long name and link target only (NUL-ended): no header read
    assert reads == [len(long) + 1] * 2
    inside = entries(data)[100]  # the window ends inside this member's data
    assert inside.size > 1
    short = Window(spool, 1024, inside.offset + 1)
    with pytest.raises(CorruptImageError, match="truncated"):
        list(scan(short))
    spool.close()


def test_replay_exact_bytes_whiteouts_opaque_hardlinks(tmp_path) -> None:
    r = _report(tmp_path, [L0, L1, L2])
    assert [lay.size_bytes for lay in r.layers] == [1220, 1105, 46]
    assert r.size_bytes == 2371
    assert r.final_bytes == 1151
    assert r.reclaimable_bytes == 1220 == r.size_bytes - r.final_bytes
    got = {(w.path, w.adder, w.hider, w.kind): w.bytes for w in r.waste}
    assert got == {
        ("opt/dir", 0, 1, "dir-whiteout"): 50,
        ("opt/m1", 0, 1, "whiteout"): 10,
        ("opt/keep/k", 0, 1, "opaque"): 50,
        ("etc/a", 0, 1, "metadata-only"): 100,
        # the hard link kept opt/big's bytes alive until layer 2 removed the last name
        ("opt/hl", 0, 2, "whiteout"): 1000,
        # a whiteout hides only lower layers, never the same layer's new opt/m2
        ("opt/m2", 0, 2, "whiteout"): 10,
    }
    assert r.layers[1].stats.modified_metadata == 1
    assert r.layers[1].stats.opaque_dirs == 1
    assert r.duplicate_bytes == 12
    assert [g.paths for g in r.duplicates] == [["srv/c1", "srv/c2"]]
    # only the chmod'ed pair is hashed (by the replay); the three 12-byte files, the only
    # size collision, are compared byte for byte
    assert r.hashed_files == 2


def test_overwrite_with_new_content_is_content_change() -> None:
    a = layer([("f", "f", b"one")])
    b = layer([("f", "f", b"two")])
    result = replay(
        [entries(a), entries(b)], hasher=lambda inode: inode.path.encode() + bytes([inode.layer])
    )
    assert [(w.kind, w.bytes) for w in result.waste] == [("overwritten", 3)]
    assert result.layers[1].modified_content == 1


def test_directory_replaced_by_file_and_linear_big_whiteout() -> None:
    many = [("big", "d", None)] + [(f"big/f{i}", "f", b"z") for i in range(5000)]
    a = layer(many)
    b = layer([("big", "w", None), ("big", "f", b"now a file")])
    result = replay([entries(a), entries(b)], hasher=lambda inode: b"")
    assert result.reclaimable_bytes == 5000
    assert result.final_bytes == 10
    assert set(result.nodes) == {"big"}


def test_unsafe_members_become_findings_not_files(tmp_path) -> None:
    bad = layer(
        [("../escape", "f", b"x"), ("/abs", "f", b"y"), ("d/link", "l", "../../../etc/shadow")]
    )
    r = _report(tmp_path, [bad])
    reasons = sorted(f.message for f in r.findings if f.code == "JI002")
    assert len(reasons) == 3
    assert any("escapes the root" in m for m in reasons)
    assert any("absolute path" in m for m in reasons)
    assert any("symlink points outside" in m for m in reasons)
    assert "../escape" not in str(sorted(r.layers[0].to_json()))


def test_duplicates_beyond_the_head(tmp_path) -> None:
    """Same-size files are compared on their first 4 KB; files up to 4 KB are
    then compared byte for byte, larger ones hashed whole (streamed over 256 KB)."""
    head = bytes(range(256)) * 16  # 4 KB shared by every 10 KB file below
    ten_a, ten_b = head + b"a" * 6000, head + b"b" * 6000  # same size, same head
    big = bytes(range(251)) * 1500  # 376,500 bytes
    spec = [
        ("x", "d", None),
        ("x/t1", "f", ten_a),
        ("x/t2", "f", ten_b),
        ("x/t3", "f", ten_a),
        ("x/u1", "f", b"u" * 10096),  # same size, different head: never hashed
        ("x/b1", "f", big),
        ("x/b2", "f", big),
        ("x/s1", "f", b"s" * 7),
        ("x/s2", "f", b"s" * 7),
    ]
    r = _report(tmp_path, [layer(spec)])
    assert [g.paths for g in r.duplicates] == [["x/b1", "x/b2"], ["x/t1", "x/t3"], ["x/s1", "x/s2"]]
    assert r.duplicate_bytes == 376_500 + 10_096 + 7
    assert r.hashed_files == 5  # t1-t3, b1, b2: not u1 (other head), not s1, s2 (compared)


def test_duplicates_match_a_brute_force_oracle(tmp_path) -> None:
    """Random files over two layers (many the same size, some equal, some equal only in
    their first 4 KB, hard links, overwrites, deletions, big and small neighbours):
    the duplicate groups equal grouping the final files' inodes by their whole content."""
    rng = random.Random(7)
    blobs = [rng.randbytes(n) for n in (1, 5, 5, 300, 300, 4096, 4096)]
    blobs += [blobs[5] + b"x" * 20_000, blobs[5] + b"y" * 20_000]  # same head, other tail
    blobs += [rng.randbytes(40_000)]
    final: dict[str, tuple[int, bytes]] = {}  # path -> (inode number, content)
    specs: list[Spec] = []
    inode = 0
    for layer_no in range(2):
        spec: Spec = [("d", "d", None)] if layer_no == 0 else []
        for i in range(120):
            path = f"d/f{rng.randrange(90)}"
            if any(name == path for name, _, _ in spec):
                continue  # one entry per path and layer
            if layer_no and rng.random() < 0.15 and path in final:
                spec.append((path, "w", None))
                del final[path]
                continue
            data = rng.choice(blobs) if rng.random() < 0.8 else rng.randbytes(300)
            inode += 1
            spec.append((path, "f", data))
            final[path] = (inode, data)
            if i % 17 == 0 and f"d/h{i}" not in final:
                spec.append((f"d/h{i}", "h", path))  # another name of the same inode
                final[f"d/h{i}"] = (inode, data)
        specs.append(spec)
    r = _report(tmp_path, [layer(s) for s in specs])
    inodes_by_content: dict[bytes, set[int]] = {}
    for number, data in final.values():
        if data:
            inodes_by_content.setdefault(data, set()).add(number)
    expected = {frozenset(n) for n in inodes_by_content.values() if len(n) > 1}
    got = [frozenset(final[p][0] for p in g.paths) for g in r.duplicates]
    assert all(len(g) == len(paths.paths) for g, paths in zip(got, r.duplicates, strict=True))
    assert set(got) == expected
    assert len(expected) >= 5


def test_collector_paused_during_analysis_and_restored(tmp_path, monkeypatch) -> None:
    import gc

    from jettison.image import analysis
    from jettison.image.sources import archive

    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive([L0]))
    seen: list[bool] = []
    real = analysis.analyze
    monkeypatch.setattr(analysis, "analyze", lambda *a: (seen.append(gc.isenabled()), real(*a))[1])
    real_scan = archive.scan_layers  # reading the layers is paused too
    monkeypatch.setattr(
        archive, "scan_layers", lambda *a: (seen.append(gc.isenabled()), real_scan(*a))[1]
    )
    was = gc.isenabled()
    try:
        for before in (True, False):
            (gc.enable if before else gc.disable)()
            assert analysis.inspect_image(str(path)).size_bytes == 1220
            assert gc.isenabled() is before
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False, False, False]


def _reference_replay(layers: list[list]) -> tuple[dict[str, str], int]:
    """The OCI rules applied the slow, obvious way: final path -> kind, and final bytes."""
    fs: dict[str, tuple[str, list[int] | None]] = {}  # path -> (kind, [size] shared by links)

    def drop(prefix: str) -> None:
        for p in [p for p in fs if p == prefix or p.startswith(prefix + "/")]:
            del fs[p]

    for entries_ in layers:
        names = [(e.name.rstrip("/"), e) for e in entries_]
        for path, _ in names:
            if path.endswith("/.wh..wh..opq"):
                d = path[: -len("/.wh..wh..opq")]
                for p in [p for p in fs if p.startswith(d + "/")]:
                    del fs[p]
        for path, _ in names:
            base = path.rpartition("/")[2]
            if base.startswith(".wh.") and base != ".wh..wh..opq":
                drop(path.rpartition("/")[0] + "/" + base[4:] if "/" in path else base[4:])
        for path, e in names:
            if path.rpartition("/")[2].startswith(".wh."):
                continue
            parts = path.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent in fs and fs[parent][0] != DIR:
                    drop(parent)
                fs.setdefault(parent, (DIR, None))
            kind = e.type
            # a hard link shares the content at its target when the entry is reached
            target = fs.get(e.linkname) if kind == LINK else None
            shared = target[1] if target else None
            if path in fs and (fs[path][0] == DIR) != (kind == DIR):
                drop(path)
            if kind == DIR:
                fs[path] = (DIR, None)
            elif kind == REG:
                fs[path] = (REG, [e.size])
            elif kind == LINK:
                fs[path] = (REG, shared) if shared is not None else (LINK, None)
            else:
                fs[path] = (kind, None)
    seen: set[int] = set()
    final = 0
    for _, size in fs.values():
        if size is not None and id(size) not in seen:
            seen.add(id(size))
            final += size[0]
    return {p: kind for p, (kind, _) in fs.items()}, final


def test_replay_equals_a_reference_on_random_layer_stacks() -> None:
    """Random stacks of files, directories, links, whiteouts and opaque markers over a
    small tree (so that paths collide often): the final filesystem and its bytes equal a
    slow, obvious application of the OCI rules, and every byte is final or reclaimable."""
    rng = random.Random(11)
    names = ["a", "b", "a/x", "a/y", "a/x/z", "b/q", "c/r/s", "a/x/"]
    markers = ["a/.wh.x", ".wh.b", "a/.wh..wh..opq", "b/.wh..wh..opq", ".wh.a", "c/.wh.r"]
    for _ in range(3000):
        layers = []
        for _ in range(rng.randrange(1, 5)):
            entries_ = []
            for _ in range(rng.randrange(8)):
                kind = rng.choice([REG, REG, DIR, LINK, SYMLINK, "w"])
                name = rng.choice(markers if kind == "w" else names)
                if name.endswith("/") and kind == REG:
                    kind = DIR  # what the scanner makes of an old tar's directory
                link = rng.choice(names).rstrip("/") if kind == LINK else "t"
                entries_.append(
                    TarEntry(
                        name,
                        REG if kind == "w" else kind,
                        rng.choice([1, 5, 100]) if kind == REG else 0,
                        0o644,
                        0,
                        0,
                        0,
                        link,
                        rng.randrange(100),
                    )
                )
            layers.append(entries_)
        got = replay(layers, hasher=lambda inode: bytes([inode.size % 7]))
        want_nodes, want_final = _reference_replay(layers)
        assert {p: n.kind for p, n in got.nodes.items()} == want_nodes, layers
        assert got.final_bytes == want_final, layers
        assert got.total_bytes - got.final_bytes == got.reclaimable_bytes, layers


def test_deleted_copies_are_never_hashed_nor_duplicates(tmp_path) -> None:
    """Size and first 4 KB are compared over every layer's files (beside the replay), but
    only final files are hashed whole: a big file deleted later costs no hashing."""
    big = bytes(range(256)) * 400  # 102,400 bytes
    first = layer([("m", "d", None), ("m/a.bin", "f", big), ("m/b.bin", "f", big)])
    second = layer([("m/b.bin", "w", None), ("m/c.bin", "f", b"z" * 100)])
    r = _report(tmp_path, [first, second])
    assert r.duplicates == [] and r.hashed_files == 0
    third = layer([("n", "d", None), ("n/a2.bin", "f", big)])  # a final copy again
    r = _report(tmp_path, [first, second, third])
    assert [g.paths for g in r.duplicates] == [["m/a.bin", "n/a2.bin"]]
    assert r.hashed_files == 2


def test_a_whiteout_of_no_name_is_unsafe_not_a_crash(tmp_path) -> None:
    """``.wh.`` alone would white out the root itself: reported, then ignored."""
    first = layer([("a", "f", b"x" * 10)])
    second = layer([(".wh.", "f", b""), ("b", "f", b"y")])
    r = _report(tmp_path, [first, second])
    assert r.final_bytes == 11
    assert any(f.code == "JI002" and "whiteout of no name" in f.message for f in r.findings)


@pytest.mark.parametrize("cut", [0, 1, 5, 12, 13])
def test_the_base_layer_fed_in_pieces_replays_as_in_one_pass(cut: int) -> None:
    """The base layer's entries go on the filesystem as they come (an export still
    streaming in); in two pieces, cut anywhere, the replay is the one-pass replay."""
    from jettison.image.model import Inode, Replayer

    def no_hash(inode: Inode) -> bytes:  # (the same for both: equal sizes, equal content)
        return bytes([inode.size % 251])

    layers = [entries(L0), entries(L1), entries(L2)]
    pieces = Replayer(no_hash)
    pieces.begin(0)
    pieces.feed(layers[0][:cut])
    pieces.feed(layers[0][cut:])
    pieces.end()
    for i, layer_entries in enumerate(layers[1:], 1):
        pieces.apply(i, layer_entries)
    ours, once = pieces.result(), replay(layers, no_hash)
    assert ours.layers == once.layers
    assert sorted(ours.nodes) == sorted(once.nodes)
    assert ours.waste == once.waste and ours.final_bytes == once.final_bytes
