"""The paths users' engines take, on every selected engine (see tests/engine/conftest.py):
build, inspect from the engine and of its `docker save` (an OCI layout on the containerd
image store), bench with verification; and where the client has buildx: BuildKit syntax
without a `# syntax=` line, `jettison build` through bake, and a registry cache exported
with `--cache-to type=registry` and read back after the builder cache is gone."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tarfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.bench.runner import BENCH_LABEL
from jettison.cli import cli
from jettison.engine import build, find_build_client, verify
from jettison.image import inspect_image
from jettison.services.graph import load_graph
from jettison.services.plan import make_plan
from jettison.services.render import render_plan
from tests.engine.conftest import Engine
from tests.engine.test_inspect import DOCKERFILE, EXPECTED_KINDS

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
PREFIX = f"jt26-{os.getpid()}"


def _rmi(engine: Engine, *refs: str) -> None:
    if refs:
        engine.docker("rmi", "-f", *refs, check=False)


def test_build_inspect_and_saved_layout(each_engine: Engine, tmp_path: Path) -> None:
    """The image with known waste reads the same from the engine and from its `docker
    save`, whatever layout the engine writes."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    tag = f"{PREFIX}-inspect:1"
    try:
        done = build(tmp_path, tag=tag)
        assert done.progress.buildkit and done.steps_total == 7
        if each_engine.name == "docker26":
            assert find_build_client().mode == "buildx"
        report = inspect_image(tag, "engine", dockerfile=tmp_path / "Dockerfile").to_json()
        assert report["reclaimable_bytes"] == 7_500_000
        expected = dict(EXPECTED_KINDS)
        if each_engine.containerd_store:
            # containerd's differ writes `rm -rf dir && mkdir dir` as one whiteout per
            # removed file, not as an opaque directory: same bytes, another kind
            expected["whiteout"] += expected["opaque"]
            expected["opaque"] = 0
        assert report["reclaimable_by_kind"] == expected
        archive = tmp_path / "saved.tar"
        each_engine.docker("save", tag, "-o", str(archive))
        with tarfile.open(archive) as tar:
            names = set(tar.getnames())
        oci = "index.json" in names
        assert oci == each_engine.containerd_store
        if oci:  # the containerd store's layout: blobs by digest, gzip layers
            assert "oci-layout" in names and any(n.startswith("blobs/sha256/") for n in names)
        saved = inspect_image(str(archive)).to_json()
        assert saved["source"] == ("oci-archive" if oci else "docker-archive")
        for key in ("size_bytes", "final_bytes", "reclaimable_bytes", "reclaimable", "dive"):
            assert saved[key] == report[key], key
        assert [x["digest"] for x in saved["layers"]] == [x["digest"] for x in report["layers"]]
    finally:
        _rmi(each_engine, tag)


def test_bench_builds_measures_verifies_and_cleans(each_engine: Engine, tmp_path: Path) -> None:
    project = tmp_path / "tiny"
    shutil.copytree(REPO / "examples" / "bench-tiny", project)

    def benched() -> set[str]:
        out = each_engine.docker("images", "-q", "--no-trunc", "--filter", f"label={BENCH_LABEL}")
        return set(out.split())

    before = benched()
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            str(project),
            "--against",
            str(project / "Dockerfile.optimized"),
            "-n",
            "1",
            "--scenario",
            "cold",
            "--scenario",
            "code_change",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    optimized = data["variants"]["optimized"]
    assert optimized["verified"] is True
    changed = optimized["scenarios"]["code_change"]
    # the optimized file installs before copying the code: a code change reuses that step
    assert 0 < changed["steps_cached"] < changed["steps_total"]
    assert (
        data["variants"]["original"]["scenarios"]["code_change"]["steps_cached"]
        < (changed["steps_cached"])
    )
    assert benched() - before == set()


def test_buildkit_syntax_without_syntax_line(buildx_engine: Engine, tmp_path: Path) -> None:
    """Heredocs, COPY --link and RUN --network through `docker buildx build`, with the
    engine's own frontend (no `# syntax=` image to pull)."""
    # content no earlier run built: the engine's cache outlives test runs
    nonce = secrets.token_hex(8)
    (tmp_path / "a.txt").write_text(f"{nonce}\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n"
        "COPY --link a.txt /srv/a.txt\n"
        "RUN --network=none <<EOF\nset -e\necho heredoc > /srv/b.txt\n"
        "cat /srv/a.txt >> /srv/b.txt\nEOF\n"
    )
    tag = f"{PREFIX}-syntax:1"
    try:
        client = find_build_client()
        assert client.mode == "buildx"
        first = build(tmp_path, tag=tag)
        assert first.command[:3] == [client.executable, "buildx", "build"]
        assert (first.steps_total, first.steps_cached) == (2, 0)
        again = build(tmp_path, tag=tag)
        assert (again.steps_total, again.steps_cached) == (2, 2)
        out = buildx_engine.docker("run", "--rm", tag, "cat", "/srv/b.txt")
        assert out == f"heredoc\n{nonce}\n"
    finally:
        _rmi(buildx_engine, tag)


def _trio(tmp_path: Path, name: str) -> Path:
    root = tmp_path / f"{PREFIX}-{name}"
    shutil.copytree(REPO / "examples" / "compose-trio", root)
    render_plan(make_plan(root)).write()
    return root


def _build_json(root: Path, *extra: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["build", str(root), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_bake_builds_the_graph(buildx_engine: Engine, tmp_path: Path) -> None:
    root = _trio(tmp_path, "bake")
    (root / "docker-bake.hcl").unlink()  # bake needs no file on disk: the graph is the input
    graph = load_graph(root)
    tags = [t.tag for t in graph.targets.values()]
    try:
        data = _build_json(root)
        assert any("buildx bake" in note for note in data["notes"])  # type: ignore[attr-defined]
        targets = data["targets"]
        assert isinstance(targets, list)
        assert [t["name"] for t in targets] == graph.order
        assert all(t["status"] == "built" and t["image_id"] for t in targets)
        # each target counts its own Dockerfile's steps, whichever target BuildKit names a
        # step the base or another service shares with it after
        totals = {t["name"]: t["steps_total"] for t in targets}
        assert totals == {"base-python": 2, "api": 4, "reporter": 5, "worker": 5}, totals
        for name in ("api", "reporter", "worker"):
            checked = verify(graph.targets[name].tag)
            assert checked.ok, (name, checked.summary())
        # bake loads the images; nothing is pushed under the unqualified compose names
        listed = buildx_engine.docker("images", "--format", "{{.Repository}}")
        assert all(tag.split(":")[0] in listed for tag in tags)
    finally:
        _rmi(buildx_engine, *tags)


def test_registry_cache_export_and_import(
    buildx_engine: Engine, tmp_path: Path, local_registry: int
) -> None:
    if not buildx_engine.containerd_store:
        pytest.skip("the docker driver exports caches only on the containerd image store")
    if buildx_engine.name != "docker26":
        pytest.skip("the builder cache is pruned whole: only on the tests' own engine")
    root = _trio(tmp_path, "cache")
    graph = load_graph(root)
    tags = [t.tag for t in graph.targets.values()]
    ref = f"127.0.0.1:{local_registry}/jettison-test/cache"
    try:
        first = _build_json(root, "--cache-ref", ref)
        assert first["cache"] == "registry"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{local_registry}/v2/jettison-test/cache/tags/list", timeout=10
        ) as answer:
            pushed = json.load(answer)["tags"]
        assert sorted(pushed) == sorted(graph.order)
        # nothing local is left to reuse: images and the whole builder cache go
        _rmi(buildx_engine, *tags)
        buildx_engine.docker("builder", "prune", "-af")
        again = _build_json(root, "--cache-ref", ref)
        targets = again["targets"]
        assert isinstance(targets, list)
        total = sum(t["steps_total"] for t in targets)
        cached = sum(t["steps_cached"] for t in targets)
        # per target: which one missed the imported cache (a rare miss seen on 2026-12-05)
        per_target = [(t["name"], t["steps_total"], t["steps_cached"]) for t in targets]
        assert total >= 10 and cached == total, per_target
    finally:
        _rmi(buildx_engine, *tags)


@pytest.fixture
def named_builder(buildx_engine: Engine) -> Iterator[str]:
    """A buildx builder of its own name: a docker context on the same engine (the docker
    driver; a docker-container builder would need the moby/buildkit image, not offline)."""
    from jettison.engine import use_builder

    name = f"jettison-test-{os.getpid()}"
    host = buildx_engine.env.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    buildx_engine.docker("context", "create", name, "--docker", f"host={host}")
    try:
        yield name
    finally:
        use_builder(None)
        buildx_engine.docker("context", "rm", "-f", name, check=False)


def test_every_verb_that_builds_takes_a_named_builder(
    buildx_engine: Engine, named_builder: str, tmp_path: Path
) -> None:
    root = _trio(tmp_path, "builder")
    graph = load_graph(root)
    tags = [t.tag for t in graph.targets.values()]
    try:
        data = _build_json(root, "--builder", named_builder)
        assert any(f"--context {named_builder} buildx bake" in n for n in data["notes"])  # type: ignore[attr-defined]
        assert all(t["status"] == "built" for t in data["targets"])  # type: ignore[attr-defined]
    finally:
        _rmi(buildx_engine, *tags)
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "Dockerfile").write_text(
        'FROM debian:bookworm-slim\nMAINTAINER someone\nCMD ["true"]\n'
    )
    done = CliRunner().invoke(
        cli, ["fix", "--verify", "--builder", named_builder, str(tmp_path / "one" / "Dockerfile")]
    )
    assert done.exit_code == 0, done.output
    assert "LABEL org.opencontainers.image.authors" in (tmp_path / "one" / "Dockerfile").read_text()
    missing = CliRunner().invoke(cli, ["build", str(root), "--builder", "no-such-builder"])
    assert missing.exit_code == 2
    assert "--builder no-such-builder: no such buildx builder" in missing.output
