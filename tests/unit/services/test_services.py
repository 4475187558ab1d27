"""Shared base detection, rewriting, the build graph, multi-arch, CI: no engine needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jettison.cli import cli
from jettison.dockerfile import parse_dockerfile
from jettison.engine import BuildClient
from jettison.engine.client import cache_export_support
from jettison.errors import JettisonError
from jettison.services.ci import github_workflow, render_workflow
from jettison.services.graph import Graph, load_graph
from jettison.services.graph_builder import TargetResult
from jettison.services.multiarch import arch_steps, unbuildable
from jettison.services.plan import make_plan, project_name, read_requirements
from jettison.services.render import render_plan

TRIO = Path(__file__).resolve().parents[3] / "examples" / "compose-trio"


@pytest.fixture
def trio(tmp_path: Path) -> Path:
    dest = tmp_path / "compose-trio"
    shutil.copytree(TRIO, dest)
    return dest


def _project(root: Path, compose: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "docker-compose.yml").write_text(compose)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "docker-compose.yml"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_trio_plan(trio: Path) -> None:
    plan = make_plan(trio)
    assert plan.project == "compose-trio"
    assert plan.skipped == []
    [base] = plan.bases
    assert base.name == "base-python" and base.tag == "compose-trio-base-python"
    assert base.from_image == "python:3.11-slim" and base.slim_from == "python:3.11"
    assert sorted(base.services) == ["api", "reporter", "worker"]
    assert base.requirements == [
        "flask==3.0.0",
        "gunicorn==21.2.0",
        "requests==2.31.0",
        "pydantic==2.6.1",
        "pyyaml==6.0.1",
    ]
    assert make_plan(trio, slim=False).bases[0].from_image == "python:3.11"


def test_trio_rewrite_files_and_graph(trio: Path) -> None:
    before = _snapshot(trio)
    rewrite = render_plan(make_plan(trio))
    assert _snapshot(trio) == before  # rendering writes nothing
    rel = {str(p.relative_to(trio.resolve())): t for p, t in rewrite.files.items()}
    assert set(rel) == {
        "bases/base-python/Dockerfile",
        "bases/base-python/requirements.txt",
        "api/Dockerfile",
        "worker/Dockerfile",
        "reporter/Dockerfile",
        "docker-bake.hcl",
    }
    api = parse_dockerfile(rel["api/Dockerfile"])
    assert api.stages[0].base == "compose-trio-base-python"
    keywords = [i.keyword for i in api.stages[0].instructions]
    # the install now comes before the code copy (JT201), so a code change skips it
    assert keywords.index("RUN") < max(i for i, k in enumerate(keywords) if k == "COPY")
    base = parse_dockerfile(rel["bases/base-python/Dockerfile"])
    assert base.stages[0].base == "python:3.11-slim"
    assert "--mount=type=cache,target=/root/.cache/pip" in rel["bases/base-python/Dockerfile"]
    bake = rel["docker-bake.hcl"]
    assert 'contexts   = { "compose-trio-base-python" = "target:base-python" }' in bake
    assert 'targets = ["base-python", "api", "reporter", "worker"]' in bake
    assert "mode=max" in bake
    assert rewrite.graph.levels == [["base-python"], ["api", "reporter", "worker"]]
    diff = rewrite.diff()
    assert "-FROM python:3.11\n+FROM compose-trio-base-python\n" in diff
    assert "+++ b/bases/base-python/Dockerfile" in diff


def test_write_then_idempotent(trio: Path) -> None:
    render_plan(make_plan(trio)).write()
    graph = load_graph(trio)
    assert graph.levels == [["base-python"], ["api", "reporter", "worker"]]
    assert graph.targets["api"].deps == ["base-python"]
    again = make_plan(trio)
    assert again.bases == []
    assert {n for n, _ in again.skipped} == {"api", "reporter", "worker"}
    assert all("already builds FROM the shared base" in r for _, r in again.skipped)
    with pytest.raises(JettisonError, match="nothing to share"):
        render_plan(again)


def test_services_left_alone(tmp_path: Path) -> None:
    compose = _project(
        tmp_path / "p",
        "services:\n"
        "  db:\n    image: postgres:16\n"
        "  remote:\n    build: https://github.com/x/y.git\n"
        "  nodf:\n    build: ./nodf\n"
        "  a:\n    build: ./a\n"
        "  b:\n    build: ./b\n",
        {
            "nodf/x.txt": "",
            "a/Dockerfile": "FROM python:3.11-slim\nENV A=1\nCOPY . .\n"
            "RUN pip install -r requirements.txt\n",
            "a/requirements.txt": "flask==3.0.0\nnumpy==1.26.4\n",
            "b/Dockerfile": "FROM python:3.11-slim\nENV A=1\nCOPY . .\n"
            "RUN pip install -r requirements.txt\n",
            "b/requirements.txt": "flask==2.3.0\nnumpy==1.26.4\n",
        },
    )
    plan = make_plan(compose)
    reasons = dict(plan.skipped)
    assert reasons["db"] == "uses an image only"
    assert reasons["remote"].startswith("remote build context")
    assert reasons["nodf"].startswith("no Dockerfile at")
    [base] = plan.bases
    assert base.from_image == "python:3.11-slim" and base.slim_from is None
    assert base.instructions == ["ENV A=1"]  # the shared leading instruction moves
    assert base.requirements == ["numpy==1.26.4"]  # differing pins of flask stay
    rewrite = render_plan(plan)
    a = rewrite.files[(tmp_path / "p/a/Dockerfile").resolve()]
    assert "ENV A=1" not in a and a.startswith("FROM p-base-python\n")


def test_ml_base(tmp_path: Path) -> None:
    df = "FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt\n"
    compose = _project(
        tmp_path / "ml",
        "services:\n  web:\n    build: ./web\n  train:\n    build: ./train\n"
        "  embed:\n    build: ./embed\n",
        {
            "web/Dockerfile": df,
            "web/requirements.txt": "requests==2.31.0\n",
            "train/Dockerfile": df,
            "train/requirements.txt": "requests==2.31.0\nnumpy==1.26.4\ntorch==2.2.0\n",
            "embed/Dockerfile": df,
            "embed/requirements.txt": "requests==2.31.0\nnumpy==1.26.4\ntorch==2.2.0\n",
        },
    )
    plan = make_plan(compose)
    python, ml = plan.bases
    assert python.requirements == ["requests==2.31.0"]
    assert ml.name == "base-ml" and ml.from_image == "ml-base-python"
    assert ml.parent == "base-python" and sorted(ml.services) == ["embed", "train"]
    assert ml.requirements == ["numpy==1.26.4", "torch==2.2.0"]
    graph = render_plan(plan).graph
    assert graph.levels == [["base-python"], ["base-ml", "web"], ["embed", "train"]]


def test_prefix_install_keeps_requirements(tmp_path: Path) -> None:
    df = "FROM python:3.11\nCOPY . .\nRUN pip install --prefix=/install -r requirements.txt\n"
    compose = _project(
        tmp_path / "pre",
        "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
        {"a/Dockerfile": df, "a/requirements.txt": "flask\n", "b/Dockerfile": df,
         "b/requirements.txt": "flask\n"},
    )  # fmt: skip
    plan = make_plan(compose)
    assert plan.bases[0].requirements == []
    assert any("--prefix" in n for n in plan.notes)


def test_cycle_and_missing_context(tmp_path: Path) -> None:
    compose = _project(
        tmp_path / "cyc",
        "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
        {"a/Dockerfile": "FROM cyc-b\n", "b/Dockerfile": "FROM cyc-a\n"},
    )
    with pytest.raises(JettisonError, match=r"build graph has a cycle: a -> b -> a"):
        load_graph(compose)
    missing = _project(tmp_path / "mis", "services:\n  a:\n    build: ./nowhere\n", {})
    with pytest.raises(JettisonError, match="does not exist"):
        make_plan(missing)


def test_requirements_with_options_are_not_shared(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("# c\nflask==3.0.0  # web\n\n")
    assert read_requirements(path) == ["flask==3.0.0"]
    path.write_text("-r base.txt\nflask\n")
    assert read_requirements(path) is None
    assert project_name(Path("/x/My Project!/docker-compose.yml")) == "myproject"


def test_arch_steps() -> None:
    df = parse_dockerfile(
        "FROM debian:bookworm\n"
        "RUN curl -fsSL https://x.example/tool-linux-amd64.tar.gz | tar xz\n"
        'RUN if [ "$(uname -m)" = x86_64 ]; then echo a; fi\n'
        "RUN pip install --platform manylinux2014_x86_64 --only-binary=:all: numpy\n"
        "ARG TARGETARCH\n"
        "RUN curl -fsSL https://x.example/tool-linux-${TARGETARCH}.tar.gz | tar xz\n"
        "RUN echo amd64\n"
    )
    found = arch_steps(df)
    assert [s.line for s in found] == [2, 3, 4]
    assert "amd64" in found[0].reason and "uname -m" in found[1].reason
    assert "wheel" in found[2].reason
    assert unbuildable(["linux/s390x"])[0][0] == "linux/s390x"


def test_cache_export_detection() -> None:
    ok, why = cache_export_support(BuildClient("/usr/bin/docker", "buildkit"))
    assert not ok and "no --cache-to" in why and "inline" in why


def test_github_workflow(trio: Path) -> None:
    plain = github_workflow(load_graph(trio), platforms=["linux/amd64"], cwd=trio.parent)
    uses = [s.get("uses") for s in plain["jobs"]["build"]["steps"]]
    assert (
        "docker/setup-buildx-action@v3" in uses and uses.count("docker/build-push-action@v6") == 3
    )
    render_plan(make_plan(trio)).write()
    graph = load_graph(trio)
    text = render_workflow(
        github_workflow(graph, platforms=["linux/amd64", "linux/arm64"], cwd=trio.parent)
    )
    data = yaml.safe_load(text)
    assert set(data) == {"name", "on", "permissions", "jobs"}
    steps = data["jobs"]["build"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses[:3] == ["actions/checkout@v4", "docker/setup-qemu-action@v3",
                        "docker/setup-buildx-action@v3"]  # fmt: skip
    bake = next(s for s in steps if s.get("uses") == "docker/bake-action@v5")
    assert bake["with"]["files"] == "docker-bake.hcl" and bake["with"]["workdir"] == "compose-trio"
    assert '/compose-trio-cache"' in next(s["run"] for s in steps if "run" in s)
    assert bake["env"]["PLATFORMS"] == "linux/amd64,linux/arm64"
    # the bake file reads the same variables
    hcl = (trio / "docker-bake.hcl").read_text()
    assert 'variable "CACHE_REF"' in hcl and 'variable "PLATFORMS"' in hcl


def test_cli_services(trio: Path) -> None:
    runner = CliRunner()
    before = _snapshot(trio)
    shown = runner.invoke(cli, ["services", str(trio)])
    assert shown.exit_code == 0, shown.output
    assert "build graph: [base-python] -> [api, reporter, worker]" in shown.output
    diff = runner.invoke(cli, ["services", str(trio), "--diff"])
    assert diff.exit_code == 1 and "+FROM compose-trio-base-python" in diff.output
    assert _snapshot(trio) == before  # nothing written without --write
    wrote = runner.invoke(cli, ["services", str(trio), "--write"])
    assert wrote.exit_code == 0, wrote.output
    assert (trio / "bases/base-python/Dockerfile").is_file()
    again = runner.invoke(cli, ["services", str(trio), "--diff"])
    assert again.exit_code == 0 and "nothing to share" in again.output


def test_cli_bad_input_one_line(tmp_path: Path) -> None:
    compose = _project(
        tmp_path / "cyc",
        "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
        {"a/Dockerfile": "FROM cyc-b\n", "b/Dockerfile": "FROM cyc-a\n"},
    )
    for argv in (["build", str(compose)], ["ci", "github", str(compose)]):
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 2
        assert result.output.strip().count("\n") == 0
        assert "build graph has a cycle" in result.output
    result = CliRunner().invoke(cli, ["services", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such file or directory" in result.output


def _replayed_bake(
    graph: Graph, progress: list[str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, TargetResult]:
    """The targets' results of one bake of every target in ``graph``, its plain progress
    replayed from ``progress`` (no engine)."""
    from jettison.services import graph_builder

    def fake_run(argv: list[str], cwd: Path, env: dict[str, str], on_line: object) -> int:
        for line in progress:
            on_line(line)  # type: ignore[operator]
        return 0

    monkeypatch.setattr(graph_builder, "run_streamed", fake_run)
    monkeypatch.setattr(graph_builder, "image_attrs", lambda tag, sdk: {"Id": "sha256:1"})
    names = list(graph.order)
    return graph_builder._bake_run(
        graph, ["bake", *names], names, {}, None, graph_builder.BuildEvents()
    )


def test_bake_counts_shared_steps_for_every_twin_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose's `api` and `worker` built from one Dockerfile: BuildKit solves each step once
    and names it after one of them (here the first two after api, the last after worker);
    both targets count both of their steps (the FROM is not one), whichever name BuildKit
    chose."""
    compose = _project(
        tmp_path / "twins",
        "services:\n  api:\n    build: .\n  worker:\n    build: .\n    command: celery\n",
        {"Dockerfile": "FROM python:3.11-slim\nRUN pip install flask\nCOPY . /app\n"},
    )
    graph = load_graph(compose)
    progress = [
        "#5 [api 1/3] FROM docker.io/library/python:3.11-slim",
        "#5 CACHED",
        "#6 [api 2/3] RUN pip install flask",
        "#6 CACHED",
        "#7 [worker 3/3] COPY . /app",
        "#7 DONE 0.1s",
    ]
    results = _replayed_bake(graph, progress, monkeypatch)
    assert {n: (r.steps_total, r.steps_cached) for n, r in results.items()} == {
        "api": (2, 1),
        "worker": (2, 1),
    }


@pytest.mark.parametrize(
    "recording",
    [
        "bake-trio-docker26.txt",
        "bake-trio-docker26-cached.txt",
        "bake-trio-docker26-cached-2.txt",
        "bake-trio-docker26-numbers-swapped.txt",
    ],
)
def test_bake_counts_each_targets_own_steps_from_a_recorded_bake(
    trio: Path, monkeypatch: pytest.MonkeyPatch, recording: str
) -> None:
    """The example trio's bake on Docker 26 (buildx 0.13, recorded 2026-12-05), cold and
    cached: the shared base's steps show as `[api stage-0 2/3]` and `[worker stage-0 3/3]`,
    api's own `RUN pip install` as `[reporter 3/5]`, and the `WORKDIR /app` api and reporter
    share as `[reporter 1/5]`, under one vertex number as both `[api 1/5]` and `[reporter
    1/5]`, or as reporter's alone (`[reporter 1/6]`). In the last recording (2026-12-06, a
    cold build) the name and the numbers disagree: api's `COPY requirements*.txt ./` shows
    as `[reporter 2/5]` (api numbers 5 steps, reporter 6) and the shared `WORKDIR /app` as
    `[api 1/6]`. Each target still counts exactly its own Dockerfile's steps."""
    render_plan(make_plan(trio)).write()
    graph = load_graph(trio)
    recorded = (Path(__file__).resolve().parents[1] / "engine" / "data" / recording).read_text()
    results = _replayed_bake(graph, recorded.splitlines(), monkeypatch)
    totals = {n: r.steps_total for n, r in results.items()}
    # base: COPY, RUN; api: WORKDIR, COPY, RUN, COPY; reporter: the same and compileall;
    # worker: RUN apt-get, WORKDIR, COPY, RUN, COPY
    assert totals == {"base-python": 2, "api": 4, "reporter": 5, "worker": 5}, totals
