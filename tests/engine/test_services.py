"""Shared bases on the real engine: the rewritten compose-trio builds, passes its smoke
checks and stores fewer unique bytes; a registry cache survives a builder-cache prune."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.cli import cli
from jettison.engine import docker_client, prune_cache, verify
from jettison.engine.images import remove_images
from jettison.services.graph import Graph, load_graph
from jettison.services.graph_builder import build_graph
from jettison.services.measure import unique_bytes
from jettison.services.plan import make_plan
from jettison.services.render import render_plan

TRIO = Path(__file__).resolve().parents[2] / "examples" / "compose-trio"
LABELS = {"jettison.test": "services"}


def _copy(tmp: Path, name: str) -> Path:
    dest = tmp / f"jt{os.getpid()}-{name}"
    shutil.copytree(TRIO, dest)
    return dest


def _tags(graph: Graph) -> list[str]:
    return [t.tag for t in graph.targets.values()]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    created: list[str] = []
    yield tmp_path
    for compose in tmp_path.glob("*/docker-compose.yml"):
        created += _tags(load_graph(compose))
    remove_images(created)


@pytest.mark.engine
def test_rewritten_graph_builds_smaller_and_passes(workdir: Path) -> None:
    before = load_graph(_copy(workdir, "before"))
    after_root = _copy(workdir, "after")
    render_plan(make_plan(after_root)).write()
    after = load_graph(after_root)
    assert after.levels == [["base-python"], ["api", "reporter", "worker"]]

    built_before = build_graph(before, labels=LABELS)
    assert built_before.ok, built_before.results
    # the CLI: bases first, then the services, per-target summary as JSON
    result = CliRunner().invoke(cli, ["build", str(after_root), "--format", "json", "-j", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["targets"]] == after.order
    assert all(t["status"] == "built" for t in data["targets"])

    services = ["api", "reporter", "worker"]
    for name in services:
        checked = verify(after.targets[name].tag)
        assert checked.ok, (name, checked.summary())
    sizes_before = unique_bytes([before.targets[n].tag for n in services])
    sizes_after = unique_bytes([after.targets[n].tag for n in services])
    # the services share the base's layers: three images, one copy of the dependencies
    assert sizes_after.total < sizes_before.total
    assert sizes_after.total < sizes_after.naive_total


@pytest.mark.engine
def test_registry_cache_survives_prune(workdir: Path, local_registry: int) -> None:
    root = _copy(workdir, "cache")
    render_plan(make_plan(root)).write()
    graph = load_graph(root)
    port = local_registry
    ref = f"127.0.0.1:{port}/jettison-test/services-cache"
    pushed = [f"{ref}:{name}" for name in graph.order]
    sdk = docker_client()
    try:
        first = build_graph(graph, cache_ref=ref, push_cache=True, labels=LABELS, sdk=sdk)
        assert first.ok, first.results
        assert first.cache_mode == "inline"  # the built-in builder has no --cache-to
        assert [first.results[n].pushed for n in graph.order] == pushed
        # forget everything local: our images, the pushed tags, the builder cache
        remove_images([*_tags(graph), *pushed], sdk)
        prune_cache(sdk, all_entries=True)
        second = build_graph(graph, cache_ref=ref, labels=LABELS, sdk=sdk)
        assert second.ok, second.results
        for name in graph.order:
            r = second.results[name]
            assert r.steps_total > 0
            assert r.steps_cached == r.steps_total, (name, r.steps_cached, r.steps_total)
        assert verify(graph.targets["api"].tag, sdk=sdk).ok
    finally:
        remove_images(pushed, sdk)
