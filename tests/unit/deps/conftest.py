"""Fixture builders: small projects and fake site-packages with real-format metadata."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def make_dist(
    site: Path,
    name: str,
    files: dict[str, int],
    *,
    requires: tuple[str, ...] = (),
    entry_points: str = "",
    top_level: str | None = None,
    record: bool = True,
    version: str = "1.0",
) -> None:
    """A .dist-info directory plus the files it lists (each filled with ``size`` bytes)."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n\n")
    rows = []
    for rel, size in files.items():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x" * size)
        rows.append(f"{rel},sha256=abc,{size}")
    if record:
        # RECORD lists the metadata too (sized from disk); leaving it out keeps sizes exact
        (info / "RECORD").write_text("\n".join(rows) + "\n")
    if entry_points:
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level)


@pytest.fixture
def project(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    def build(files: dict[str, str]) -> Path:
        return write(tmp_path / "proj", files)

    return build


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    path.mkdir(parents=True)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return path
