"""The two kinds of bench unit without an engine: a Dockerfile's copy of its context and a
compose graph's copy of its project, as the loop edits and cleans them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jettison.bench.compose import GraphUnit, VariantResult
from jettison.bench.loop import BenchEvents, BenchLoop
from jettison.bench.model import VariantResult as DockerfileResult
from jettison.bench.runner import BenchOptions, DockerfileUnit, VariantSpec, _Build
from jettison.errors import JettisonError
from jettison.services.graph import load_graph

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _unit(spec: VariantSpec) -> DockerfileUnit:
    # keep_images with nothing built: cleanup has no image to remove, only the copy
    shared = _Build(
        repo="jettison-bench-x",
        run_id="ab12cd",
        options=BenchOptions(keep_images=True),
        events=BenchEvents(),
        client=None,
        sdk=None,
        preexisting=set(),
    )
    return DockerfileUnit(spec, DockerfileResult(spec.name, spec.label, ""), shared)


def test_a_dockerfile_variant_builds_in_a_copy_that_cleanup_removes(tmp_path: Path) -> None:
    project = tmp_path / "tiny"
    shutil.copytree(EXAMPLES / "bench-tiny", project)
    before = {p.name: p.read_bytes() for p in project.iterdir()}
    spec = VariantSpec("optimized", "x", "FROM scratch\n", {".dockerignore": "*.md\n"})
    with BenchLoop() as loop:
        unit = loop.add(_unit(spec))
        unit.make_workspace(project, project / "Dockerfile")
        unit.files = {"code": "app.py", "deps": None}
        unit.edit("code", "jettison bench ab12cd: code change 1")
        assert unit.dockerfile.read_text() == "FROM scratch\n"
        assert unit.patterns == ["*.md"]  # the variant's own .dockerignore
        assert (
            (unit.context / "app.py")
            .read_text()
            .endswith("# jettison bench ab12cd: code change 1\n")
        )
        root = unit.root
        assert root is not None and root.is_dir()
    assert not root.exists()
    assert {p.name: p.read_bytes() for p in project.iterdir()} == before


def test_a_fixer_file_outside_the_copy_is_refused_and_the_copy_removed(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    spec = VariantSpec("optimized", "x", "FROM scratch\n", {"../../evil": "x"})
    with pytest.raises(JettisonError, match="outside the build context"), BenchLoop() as loop:
        unit = loop.add(_unit(spec))
        unit.make_workspace(tmp_path / "ctx", tmp_path / "ctx" / "Dockerfile")
    assert unit.root is not None and not unit.root.exists()


def _graph_unit(root: Path) -> GraphUnit:
    graph = load_graph(root / "docker-compose.yml")
    return GraphUnit("before", graph, VariantResult("before"), 2, False, None, None, None, None)


def test_a_graph_variant_changes_one_source_file_per_service(tmp_path: Path) -> None:
    root = tmp_path / "trio"
    shutil.copytree(EXAMPLES / "compose-trio", root)
    unit = _graph_unit(root)
    unit.edit("code", "jettison bench ab12cd: code change 1")
    changed = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if p.read_text().endswith("# jettison bench ab12cd: code change 1\n")
    )
    assert changed == ["api/api.py", "reporter/report.py", "worker/worker.py"]
    for service in ("api", "worker"):
        (root / service / f"{service}.py").unlink()
    with pytest.raises(JettisonError, match="service api: no source file to change"):
        _graph_unit(root).edit("code", "m")
