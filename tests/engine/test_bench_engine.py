"""`jettison bench` on the real engine: scenarios, numbers, cleanup, reports."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from jettison.bench import BenchOptions, build_variants, run_bench
from jettison.bench.runner import BENCH_LABEL
from jettison.config import Config

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "examples" / "bench-tiny"


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _images() -> set[str]:
    # only images a bench built: other work on the same engine may build at the same time
    return {i.id for i in docker.from_env().images.list(all=True, filters={"label": BENCH_LABEL})}


def test_code_change_reruns_only_steps_after_the_source_copy(tmp_path: Path) -> None:
    project = tmp_path / "tiny"
    shutil.copytree(TINY, project)
    before_files = _digest(project)
    before_images = _images()
    variants = build_variants(
        project / "Dockerfile", Config(), against=project / "Dockerfile.optimized"
    )
    report = run_bench(
        project / "Dockerfile", project, variants, BenchOptions(repeat=1, keep_images=True)
    )
    sdk = docker.from_env()
    try:
        assert report.changed_files == {"code_change": "app.py", "deps_change": "requirements.txt"}
        orig, opt = report.variants["original"], report.variants["optimized"]
        for variant in (orig, opt):
            assert variant.build_error is None
            assert variant.verified is True, variant.verification
            # the report's figures are the engine's own
            attrs = sdk.api.inspect_image(variant.image_id)
            assert variant.image_size_bytes == attrs["Size"]
            assert variant.layers == len(attrs["RootFS"]["Layers"])
            assert variant.scenarios["warm"].steps_cached == variant.scenarios["warm"].steps_total
            # --no-cache re-runs every RUN and COPY (BuildKit 0.8 still calls WORKDIR cached)
            cold = variant.scenarios["cold"].runs[0]
            assert not [
                s for s in cold.steps if s.cached and not s.instruction.startswith("WORKDIR")
            ]
        code = opt.scenarios["code_change"].runs[0]
        rerun = [s.instruction for s in code.steps if not s.cached]
        assert rerun == ["COPY app.py ."]
        assert any(s.instruction.startswith("RUN pip") and s.cached for s in code.steps)
        orig_code = orig.scenarios["code_change"].runs[0]
        assert [s.instruction.split()[0] for s in orig_code.steps if not s.cached] == [
            "COPY",
            "RUN",
        ]
        # the pip step sleeps 2 s: re-running it shows in the wall clock
        assert (
            opt.scenarios["code_change"].seconds_median
            < orig.scenarios["code_change"].seconds_median
        )
        deps = opt.scenarios["deps_change"].runs[0]
        assert [s.instruction.split()[0] for s in deps.steps if not s.cached] == [
            "COPY",
            "RUN",
            "COPY",
        ]
        data = report.to_json()
        for name in ("original", "optimized"):
            v = data["variants"][name]
            assert {"image_size_bytes", "layers", "verified", "scenarios"} <= v.keys()
            for scenario in ("cold", "warm", "code_change", "deps_change"):
                s = v["scenarios"][scenario]
                assert s["seconds_min"] <= s["seconds_median"]
                assert {"steps_total", "steps_cached"} <= s.keys()
    finally:
        for variant in report.variants.values():
            if variant.image_id:
                sdk.images.remove(variant.image_id, force=True)
    assert _digest(project) == before_files
    assert _images() - before_images == set()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_cli_json_html_and_cleanup(tmp_path: Path) -> None:
    project = tmp_path / "tiny"
    shutil.copytree(TINY, project)
    before_images = _images()
    html = tmp_path / "report.html"
    env = dict(os.environ, NO_COLOR="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jettison",
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
            "--html",
            str(html),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == "jettison.bench/1"
    assert set(data["variants"]) == {"original", "optimized"}
    assert set(data["variants"]["optimized"]["scenarios"]) == {"cold", "code_change"}
    assert _images() - before_images == set()
    page = html.read_text()
    # opens offline: nothing is loaded from elsewhere
    for loader in ("<script src", "<link", 'src="http', 'href="http', "@import", "url("):
        assert loader not in page
    for chart in ("chart-size", "chart-time", "chart-cache"):
        assert f'id="{chart}"' in page
    size = data["variants"]["optimized"]["image_size_bytes"]
    assert f'data-value="{float(size)}"' in page
    chromium = _chromium()
    # scripts/test-prereqs.sh installs it
    assert chromium is not None, "chromium is needed for the HTML report test"
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1000,1400",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    # rendered by a browser, the page still has the bars and the JSON's numbers
    assert dom.count('class="bar ') >= 6
    assert str(data["variants"]["original"]["image_size_bytes"]) in dom


def test_no_engine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/nothing.sock")
    done = subprocess.run(
        [sys.executable, "-m", "jettison", "bench", str(TINY), "-n", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Docker engine answers" in lines[0] and "start" in lines[0]


def test_failing_original_exits_1_with_step_and_tail(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    (project / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nCOPY . /src\nRUN echo broken-step-output && exit 4\n"
    )
    (project / "main.py").write_text("print('x')\n")
    before = _images()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jettison",
            "bench",
            str(project),
            "--against",
            str(project / "Dockerfile"),
            "-n",
            "1",
            "--scenario",
            "cold",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "broken-step-output" in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("jettison: error: ") and "Dockerfile:3:" in last
    assert _images() - before == set()
    assert sorted(p.name for p in project.iterdir()) == ["Dockerfile", "main.py"]


def test_each_fix_is_benched_on_top_of_the_ones_before_it(tmp_path: Path) -> None:
    """--each-fix: one variant per fix, each with the fixes before it; the report gives
    each fix's change in size and in each scenario's build time. On the tiny project the
    reordering (JT201) is the fix that makes the code-change rebuild skip the install."""
    project = tmp_path / "tiny"
    shutil.copytree(TINY, project)
    before_images = _images()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jettison",
            "bench",
            str(project),
            "--unsafe-fixes",
            "--each-fix",
            "-n",
            "1",
            "--scenario",
            "code_change",
            "--no-verify",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    steps = data["each_fix"]
    fixes = [s["fix"] for s in steps]
    assert "JT201" in fixes, fixes
    assert len(data["variants"]) == len(steps) + 1  # the original, then one per fix
    # each step starts where the one before it ended, and the last ends at the optimized
    for earlier, later in itertools.pairwise(steps):
        assert later["size_bytes_before"] == earlier["size_bytes_after"]
    assert steps[0]["size_bytes_before"] == data["variants"]["original"]["image_size_bytes"]
    assert steps[-1]["size_bytes_after"] == data["variants"]["optimized"]["image_size_bytes"]
    at = next(i for i, s in enumerate(steps) if s["fix"] == "JT201")
    reorder = steps[at]["scenarios"]["code_change"]
    # the install (and the example's 2 s sleep) no longer rerun after a source edit: more of
    # the build comes from the cache, and it is faster
    before = data["variants"][steps[at - 1]["variant"] if at else "original"]
    after = data["variants"][steps[at]["variant"]]
    cached = [v["scenarios"]["code_change"]["steps_cached"] for v in (before, after)]
    assert cached[1] > cached[0], cached
    assert reorder["seconds_median_after"] < reorder["seconds_median_before"], reorder
    assert _images() - before_images == set()
