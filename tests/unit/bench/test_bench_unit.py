"""Bench logic without an engine: file choice, changes, figures, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.bench.edits import change_file, choose_code_file, choose_deps_file
from jettison.bench.model import BenchReport, Run, ScenarioResult, StepTime, VariantResult
from jettison.bench.report import render_html, render_markdown, tables
from jettison.cli import cli
from jettison.engine.progress import parse_plain
from jettison.errors import JettisonError

DATA = Path(__file__).parents[1] / "engine" / "data"


def test_code_file_prefers_the_module_cmd_names(tmp_path: Path) -> None:
    for rel in ("app.py", "util.py", "tests/test_app.py", "pkg/zz.py", "setup.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    df = "FROM python\nCOPY . .\nCMD gunicorn --bind 0.0.0.0:5000 util:wsgi\n"
    assert choose_code_file(tmp_path, df, [[]]) == "util.py"
    # a file one variant's .dockerignore excludes would not change that variant's build
    assert choose_code_file(tmp_path, df, [[], ["util.py"]]) == "app.py"
    assert choose_code_file(tmp_path, "FROM x\n", [["*.py", "pkg"]]) is None


def test_deps_file_is_the_manifest_the_dockerfile_copies(tmp_path: Path) -> None:
    for name in ("requirements.txt", "requirements-prod.txt", "package.json"):
        (tmp_path / name).write_text("\n")
    df = "FROM python\nCOPY requirements-prod.txt .\nRUN pip install -r requirements-prod.txt\n"
    assert choose_deps_file(tmp_path, df, [[]]) == "requirements-prod.txt"
    assert choose_deps_file(tmp_path, "FROM python\nCOPY . .\n", [[]]) == "requirements.txt"
    assert choose_deps_file(tmp_path / "nowhere", "FROM x\n", [[]]) is None


def test_changes_keep_meaning_and_differ_per_marker(tmp_path: Path) -> None:
    py = tmp_path / "a.py"
    py.write_text("x = 1")  # no trailing newline
    change_file(py, "m1")
    assert py.read_text() == "x = 1\n# m1\n"
    pkg = tmp_path / "package.json"
    pkg.write_text('{"name": "x"}\n')
    change_file(pkg, "run-a")
    first = pkg.read_text()
    assert json.loads(first) == {"name": "x"}
    pkg.write_text('{"name": "x"}\n')
    change_file(pkg, "run-b")
    assert json.loads(pkg.read_text()) == {"name": "x"} and pkg.read_text() != first
    js = tmp_path / "i.js"
    js.write_text("let a = 1;\n")
    change_file(js, "m")
    assert js.read_text().endswith("// m\n")


def test_symlinked_files_are_never_chosen_or_edited(tmp_path: Path) -> None:
    """The bench's copy of the context keeps symlinks: appending a code change through one
    edited the user's real file outside the project."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "app.py").write_text("print('real')\n")
    (outside / "requirements.txt").write_text("flask\n")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "app.py").symlink_to(outside / "app.py")
    (ctx / "requirements.txt").symlink_to(outside / "requirements.txt")
    df = 'FROM python\nCOPY requirements.txt .\nCOPY . .\nCMD ["python", "app.py"]\n'
    assert choose_code_file(ctx, df, [[]]) is None
    assert choose_deps_file(ctx, df, [[]]) is None
    (ctx / "main.py").write_text("print('own')\n")
    assert choose_code_file(ctx, df, [[]]) == "main.py"
    with pytest.raises(JettisonError, match="symbolic link"):
        change_file(ctx / "app.py", "m")
    assert (outside / "app.py").read_text() == "print('real')\n"


def _run(name: str, scenario: str, seconds: float) -> Run:
    p = parse_plain((DATA / name).read_text())
    return Run(
        scenario,
        0,
        seconds,
        p.steps_total,
        p.steps_cached,
        "sha256:x",
        [StepTime(s.stage, s.instruction, s.seconds, s.cached) for s in p.instructions],
    )


def _report() -> BenchReport:
    report = BenchReport(
        "flask-app", "examples/flask-app/Dockerfile", "examples/flask-app", 2, "test", "20.10"
    )
    for name, size, factor in (("original", 942_000_000, 1.0), ("optimized", 300_000_000, 0.5)):
        v = VariantResult(
            name,
            name,
            "FROM python:3.11\n",
            image_size_bytes=size,
            layers=9,
            verification={"ok": True, "checks": []},
        )
        v.scenarios["cold"] = ScenarioResult(
            "cold",
            [
                _run("plain-flask-cold.txt", "cold", 20 * factor),
                _run("plain-flask-cold.txt", "cold", 24 * factor),
            ],
        )
        v.scenarios["code_change"] = ScenarioResult(
            "code_change", [_run("plain-flask-code-change.txt", "code_change", 6 * factor)]
        )
        v.scenarios["deps_change"] = ScenarioResult("deps_change", skipped="no manifest")
        report.variants[name] = v
    return report


def test_figures_from_recorded_runs() -> None:
    report = _report()
    cold = report.variants["original"].scenarios["cold"]
    assert (cold.seconds_min, cold.seconds_median) == (20, 22)
    code = report.variants["original"].scenarios["code_change"]
    assert (code.steps_cached, code.steps_total) == (3, 5) and code.cache_hit_rate == 0.6
    slow = report.variants["original"].slow_steps()
    assert slow[0].instruction == "RUN pip install -r requirements.txt"
    assert slow[0].seconds_median == 4.7 and slow[0].runs == 2
    comp = report.comparison()
    assert comp["image_size_change_pct"] == pytest.approx(-68.2, abs=0.05)
    assert comp["scenarios"]["cold"]["seconds_median_change_pct"] == -50.0
    # optimized code change (3 s) against the original's cold median (22 s)
    assert comp["optimized_code_change_vs_original_cold_pct"] == pytest.approx(-86.4, abs=0.05)
    data = report.to_json()
    assert data["variants"]["optimized"]["scenarios"]["deps_change"]["skipped"] == "no manifest"


def test_markdown_and_html_carry_the_tables_and_charts() -> None:
    report = _report()
    md = render_markdown(report)
    assert "| Image size | 942.0 MB | 300.0 MB | 68 % smaller |" in md
    assert "| cold | 22.0s (20.0s-24.0s) | 11.0s (10.0s-12.0s) | 50 % faster |" in md
    # like with like: cold against cold, code change against code change
    assert "A cold build: 22.0s -> 11.0s (50 % faster)." in md
    assert "A code-change rebuild: 6.00s -> 3.00s (50 % faster), one run each" in md
    page = render_html(report)
    assert page.count("<svg") == 3 and 'data-value="942000000.0"' in page
    embedded = page.split('id="jettison-bench-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded)["variants"]["original"]["image_size_bytes"] == 942_000_000
    titles = [t for t, _, _ in tables(report)]
    assert titles[0] == "Image" and titles[-1] == "Verification (smoke check)"


def test_bench_cli_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["bench", str(tmp_path / "missing")])
    assert done.exit_code == 2 and "no such file or directory" in done.output
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done = runner.invoke(cli, ["bench", str(tmp_path), "--against", str(tmp_path / "nope")])
    assert done.exit_code == 2 and "not found" in done.output
    done = runner.invoke(cli, ["cache", "prune", "--keep-storage", "lots"])
    assert done.exit_code == 2 and "not a size" in done.output


def test_a_larger_image_is_called_larger() -> None:
    from jettison.bench.report import pct

    assert pct(4.2) == "4 % larger"
    assert pct(-10.0) == "10 % smaller"
    assert pct(12.0, faster=True) == "12 % slower"


def test_overlapping_runs_are_marked_as_noise() -> None:
    from jettison.bench.model import within_noise

    def scenario(*secs: float) -> ScenarioResult:
        return ScenarioResult("cold", [_run("plain-flask-cold.txt", "cold", x) for x in secs])

    assert within_noise(scenario(10, 12), scenario(11, 13)) is True
    assert within_noise(scenario(10, 12), scenario(5, 6)) is False
    assert within_noise(scenario(10), scenario(5)) is None
    report = _report()
    report.variants["optimized"].scenarios["cold"] = scenario(21, 23)
    md = render_markdown(report)
    assert "within the noise" in md and "(within noise)" in md


def test_compose_bench_refuses_what_it_would_ignore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.cli_helpers import one_error, run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker-compose.prod.yml").write_text("services:\n  web:\n    build: .\n")
    code, _out, err = run("bench", "docker-compose.prod.yml", "--html", "x.html", "-n", "5")
    one_error(code, err, "--repeat", "--html", "not available for a compose file")


def test_each_fix_steps_are_measured_against_the_step_before() -> None:
    """--each-fix: each step against the last one that built (a step that does not build
    with the fixes before it is reported, and the next is measured against the one before)."""
    report = _report()
    optimized = report.variants.pop("optimized")
    for name, size, fix, error in (
        ("step1", 900_000_000, "JT301", None),
        ("step2", None, "JT201", "build failed at [3/5]"),
    ):
        step = VariantResult(name, name, "FROM python:3.11\n", image_size_bytes=size)
        step.step_fix, step.build_error = fix, error
        step.scenarios["cold"] = report.variants["original"].scenarios["cold"]
        report.variants[name] = step
    optimized.step_fix = "JT136"
    report.variants["optimized"] = optimized
    steps = report.each_fix()
    assert [s["fix"] for s in steps] == ["JT301", "JT201", "JT136"]
    assert (steps[0]["size_bytes_before"], steps[0]["size_bytes_after"]) == (
        942_000_000,
        900_000_000,
    )
    assert steps[2]["size_bytes_before"] == 900_000_000  # past the step that did not build
    assert steps[2]["scenarios"]["cold"] == {
        "seconds_median_before": 22.0,
        "seconds_median_after": 11.0,
        "within_noise": False,
    }
    md = render_markdown(report)
    assert "| JT301 | -42.0 MB | 22.0s -> 22.0s (within noise) |" in md, md
    assert "| JT201 | does not build with the fixes before it |" in md
    assert report.to_json()["each_fix"] == steps


def test_each_fix_refuses_a_given_dockerfile_to_compare_against(tmp_path: Path) -> None:
    from tests.unit.cli_helpers import one_error, run

    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "other").write_text("FROM scratch\n")
    code, _out, err = run(
        "bench", str(tmp_path), "--against", str(tmp_path / "other"), "--each-fix"
    )
    one_error(code, err, "--each-fix", "--against")
