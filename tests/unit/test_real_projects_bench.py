"""benchmarks/real_projects/run.py without the engine: project.toml checks and report maths."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "real_projects" / "run.py"


@pytest.fixture(scope="module")
def rp() -> Any:
    spec = importlib.util.spec_from_file_location("real_projects_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_projects_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


GOOD = """\
slug = "demo"
repo = "owner/demo"
commit = "0123456789abcdef0123456789abcdef01234567"
category = "web"
installer = "poetry"
dockerfile = "docker/Dockerfile"
context = "."
build_args = { PY = "3.11" }
code_change = "app/main.py"
deps_manifest = "pyproject.toml"
hand_optimized = true

[[smoke]]
name = "http"
cmd = "docker run --rm --network none {image} true"
timeout = 30
"""


def write(tmp_path: Path, text: str, slug: str = "demo") -> Path:
    folder = tmp_path / slug
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "project.toml"
    path.write_text(text)
    return path


def test_good_project_loads(rp: Any, tmp_path: Path) -> None:
    project = rp.load_project(write(tmp_path, GOOD))
    assert project.slug == "demo"
    assert project.build_args == {"PY": "3.11"}
    assert project.target == "" and project.compose == ""
    assert project.hand_optimized is True
    assert [s.name for s in project.smoke] == ["http"]
    assert project.smoke[0].timeout == 30.0


def test_every_shipped_project_loads(rp: Any) -> None:
    projects = rp.load_projects()
    assert projects, "no project.toml under benchmarks/real_projects/projects"
    assert len({p.slug for p in projects}) == len(projects)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("hand_optimized = true", 'hand_optimized = true\nbuild = "x"'),
            r"project\.toml:12: unknown key 'build'",
        ),
        (('category = "web"', 'category = "website"'), r"project\.toml:4: category must be one"),
        (
            ('commit = "0123456789abcdef0123456789abcdef01234567"', 'commit = "abc"'),
            r"project\.toml:3: commit must be a full",
        ),
        (('slug = "demo"', 'slug = "other"'), r"project\.toml:1: slug 'other' differs"),
        (
            ('dockerfile = "docker/Dockerfile"', 'dockerfile = "../Dockerfile"'),
            r"project\.toml:6: dockerfile must be a path inside",
        ),
        (
            ("timeout = 30", "timeout = 30\nretries = 2"),
            r"project\.toml:17: unknown key 'retries' in smoke check 1",
        ),
        (
            ("timeout = 30", 'timeout = "30"'),
            r"project\.toml:16: smoke check 1: timeout must be a number",
        ),
        (
            ("{image} true", "demo true"),
            r"project\.toml:15: smoke check 1: cmd lacks the \{image\} placeholder",
        ),
        (
            ('build_args = { PY = "3.11" }', "build_args = { PY = 3 }"),
            r"project\.toml:8: build_args\.PY must be a string",
        ),
        (('installer = "poetry"\n', ""), r"missing required key 'installer'"),
        (('name = "http"', 'name = "http" oops'), r"project\.toml:14: invalid TOML"),
    ],
)
def test_bad_project_is_one_line_naming_the_file(
    rp: Any, tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(rp.InputError) as info:
        rp.load_project(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    import re

    assert re.search(expected, message), message


def test_cli_reports_a_bad_toml_in_one_line(rp: Any, tmp_path: Path, capsys: Any) -> None:
    write(tmp_path, GOOD.replace('category = "web"', "category = 3"))
    code = rp.main(["--projects-dir", str(tmp_path), "--print-clone-commands"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "project.toml:4: category must be a string" in err


def test_clone_commands_come_from_the_tomls(rp: Any, tmp_path: Path, capsys: Any) -> None:
    write(tmp_path, GOOD)
    code = rp.main(["--projects-dir", str(tmp_path), "--print-clone-commands", "--src", "/s"])
    out = capsys.readouterr().out
    assert code == 0
    assert (
        'git clone https://github.com/owner/demo "$SRC/demo" && git -C "$SRC/demo" checkout '
        "--quiet 0123456789abcdef0123456789abcdef01234567"
    ) in out
    assert out.startswith("SRC=/s\n")


def test_fix_argv_is_what_a_user_types(rp: Any, tmp_path: Path) -> None:
    project = rp.load_project(
        write(tmp_path, GOOD.replace('context = "."', 'context = "."\ntarget = "runtime"'))
    )
    help_text = "  -f, --file FILE\n  --context DIR\n  --target T\n  --build-arg KV\n"
    argv, missing = rp.fix_argv(Path("/v/jettison"), project, help_text)
    assert argv == [
        "/v/jettison",
        "fix",
        "--unsafe-fixes",
        "--verify",
        "-f",
        "docker/Dockerfile",
        "--context",
        ".",
        "--target",
        "runtime",
        "--build-arg",
        "PY=3.11",
        "--smoke-cmd",
        "docker run --rm --network none {image} true",
    ]
    assert missing == ["--smoke-cmd"]  # --smoke-timeout is only passed when documented


def test_fix_output_parsing(rp: Any) -> None:
    out = (
        "Dockerfile: verified: 500.0 MB -> 200.0 MB (60.0% smaller), layers 9 -> 7; checks: ok\n"
        "Dockerfile: applied 3 fix(es) (JT301, MULTISTAGE, JT601) and wrote .dockerignore\n"
    )
    parsed = rp.parse_fix_output(out, 0)
    assert parsed["verdict"] == "verified"
    assert parsed["applied"] == ["JT301", "JT601", "MULTISTAGE"]
    assert parsed["applied_count"] == 3
    assert parsed["extra_files_reported"] == [".dockerignore"]
    rejected = "Dockerfile: left untouched: no verified subset of the fixes\n"
    assert rp.parse_fix_output(rejected, 1)["verdict"] == "rejected"
    assert rp.parse_fix_output("Error: No such option: --smoke-cmd\n", 2)["verdict"] == "error"
    assert rp.parse_fix_output("", None)["verdict"] == "timed out"


def test_comment_syntax_follows_the_file(rp: Any, tmp_path: Path) -> None:
    py = tmp_path / "a.py"
    py.write_text("x = 1")  # no final newline: the comment goes on its own line
    rp.append_comment(py)
    lines = py.read_text().splitlines()
    assert lines[0] == "x = 1" and lines[1].startswith("# jettison benchmark edit ")
    js = tmp_path / "a.js"
    js.write_text("let x;\n")
    rp.append_comment(js)
    assert js.read_text().splitlines()[1].startswith("/* jettison benchmark edit ")
    before = py.read_text()
    rp.append_comment(py)
    assert py.read_text() != before and py.read_text().startswith(before)


def result(
    slug: str,
    sizes: dict[str, int],
    cold: dict[str, float],
    code: dict[str, float],
    smoke: dict[str, bool],
    wrote: bool = True,
) -> dict[str, Any]:
    variants = {}
    for name, size in sizes.items():
        variants[name] = {
            "size_bytes": size,
            "layers": 5,
            "seconds": {"cold": cold[name], "code_change": code[name], "deps_change": cold[name]},
            "smoke": [{"name": "s", "ok": smoke[name]}],
        }
    return {
        "schema": 1,
        "slug": slug,
        "status": "done",
        "variants": variants,
        "jettison_fix": {
            "exit_code": 0,
            "seconds": 60.0,
            "applied": ["JT301"],
            "verdict": "verified",
            "wrote": wrote,
        },
        "meta": {
            "jettison_commit": "abc1234",
            "date": "2026-12-05T10:00:00Z",
            "engine_version": "20.10.24",
        },
    }


def test_medians_over_projects(rp: Any) -> None:
    results = [
        result(
            "a",
            {"original": 1000, "jettison": 900, "expert": 500},
            {"original": 100.0, "jettison": 90.0, "expert": 80.0},
            {"original": 50.0, "jettison": 40.0, "expert": 2.0},
            {"original": True, "jettison": True, "expert": True},
        ),
        result(
            "b",
            {"original": 2000, "jettison": 2100, "expert": 1000},
            {"original": 10.0, "jettison": 10.0, "expert": 12.0},
            {"original": 8.0, "jettison": 8.0, "expert": 1.0},
            {"original": True, "jettison": True, "expert": True},
        ),
        result(
            "c",
            {"original": 400, "jettison": 300, "expert": 200},
            {"original": 40.0, "jettison": 40.0, "expert": 20.0},
            {"original": 20.0, "jettison": 4.0, "expert": 4.0},
            {"original": False, "jettison": False, "expert": True},
        ),
        {"schema": 1, "slug": "d", "status": "skipped", "reason": "no checkout", "variants": {}},
    ]
    s = rp.summarize(results)
    assert s["projects"] == 3
    # jettison size changes: -10 %, +5 %, -25 % -> median -10 %
    assert s["jettison"]["size_change_pct"] == -10.0
    # expert: -50 %, -50 %, -50 %
    assert s["expert"]["size_change_pct"] == -50.0
    assert s["original"]["size_change_pct"] == 0.0
    # code change as % of the original cold build: jettison 40, 80, 10 -> 40
    assert s["jettison"]["code_change_pct_of_orig_cold"] == 40.0
    assert s["original"]["code_change_pct_of_orig_cold"] == 50.0  # 50, 80, 50
    assert s["expert"]["smoke_pass"] == 3 and s["jettison"]["smoke_pass"] == 2
    # b grew: the target (passes and not larger where the original passes) misses it
    assert s["jettison_target"] == {
        "original_passes": 2,
        "jettison_passes_not_larger": 1,
        "missed": ["b"],
        "why": {"b": "+100 bytes"},
    }
    text = rp.render_text(results, s)
    assert "| a | 0.0 / 0.0 / 0.0 | -10.0% / -50.0% |" in text
    assert "| d | skipped: no checkout |" in text
    assert "| size change vs original | +0.0% | -10.0% | -50.0% |" in text
    assert "1/2; missed: b (+100 bytes)" in text


def test_median_helpers(rp: Any) -> None:
    assert rp.median([None, 3.0, 1.0]) == 2.0
    assert rp.median([None]) is None
    assert rp.pct_change(90, 100) == -10.0
    assert rp.pct_change(1, 0) is None
    assert rp.pct_of(25, 100) == 25.0


def test_report_only_reads_stored_results(rp: Any, tmp_path: Path, capsys: Any) -> None:
    write(tmp_path / "projects", GOOD)
    res = tmp_path / "results"
    res.mkdir()
    one = result(
        "demo",
        {"original": 10**8, "jettison": 9 * 10**7, "expert": 5 * 10**7},
        {"original": 60.0, "jettison": 60.0, "expert": 30.0},
        {"original": 55.0, "jettison": 55.0, "expert": 3.0},
        {"original": True, "jettison": True, "expert": True},
    )
    (res / "demo.json").write_text(json.dumps(one))
    code = rp.main(
        [
            "--report-only",
            "--projects-dir",
            str(tmp_path / "projects"),
            "--results-dir",
            str(res),
            "--format",
            "json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["summary"]["expert"]["size_change_pct"] == -50.0
    # another script's file beside them (byte_code.py's) is not a project's result
    (res / "byte_code.json").write_text(json.dumps({"schema": 2, "projects": []}))
    argv = [
        "--report-only",
        "--projects-dir",
        str(tmp_path / "projects"),
        "--results-dir",
        str(res),
    ]
    assert rp.main(argv) == 0
    capsys.readouterr()
    (res / "demo.json").write_text("{")
    code = rp.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "demo.json: not a results file" in err


def test_smoke_command_gets_the_image_and_is_killed_after_its_timeout(rp: Any) -> None:
    ok = rp.run_smoke(rp.Smoke("echo", "echo image={image}", 10), "sha256:abc")
    assert ok["ok"] and ok["tail"] == ["image=sha256:abc"]
    failing = rp.run_smoke(rp.Smoke("false", "echo {image}; exit 3", 10), "x")
    assert not failing["ok"] and failing["exit_code"] == 3 and not failing["timed_out"]
    hung = rp.run_smoke(rp.Smoke("hang", "echo {image}; sleep 30; echo late", 0.5), "x")
    assert hung["timed_out"] and not hung["ok"] and hung["seconds"] < 10
    assert hung["tail"] == ["x"]


def test_run_command_echoes_lines_as_progress(rp: Any, capsys: Any) -> None:
    code, out, _ = rp.run_command("echo one; echo two", shell=True, echo="demo")
    assert (code, out) == (0, "one\ntwo\n")
    err = capsys.readouterr().err
    assert "demo: one" in err and "demo: two" in err


def test_a_few_bytes_larger_is_shown_not_rounded_away(rp: Any) -> None:
    one = result(
        "tiny",
        {"original": 191325855, "jettison": 191325980, "expert": 179233276},
        {"original": 10.0, "jettison": 10.0, "expert": 10.0},
        {"original": 1.0, "jettison": 1.0, "expert": 1.0},
        {"original": True, "jettison": True, "expert": True},
    )
    text = rp.render_text([one], rp.summarize([one]))
    assert "| +125 B / -6.3% |" in text
    assert "missed: tiny (+125 bytes)" in text


def test_each_fix_lines_are_recorded(rp: Any) -> None:
    out = (
        "Dockerfile: each fix, applied one after another (image size; the checks' time, "
        "start-up included):\n"
        "Dockerfile:   JT103: -12.5 kB (168.8 MB -> 168.8 MB (0.0% smaller)); "
        "checks 1.9 s -> 4.0 s\n"
        "Dockerfile:   JT206: not measured (with the fixes before it, it does not build)\n"
        "Dockerfile:   MULTISTAGE: -19.9 MB (168.8 MB -> 148.9 MB (11.8% smaller)); "
        "checks 4.0 s -> 1.7 s; with JT206 (not measured alone)\n"
    )
    assert rp.parse_fix_output(out, 0)["effects"] == [
        {"code": "JT103", "bytes": -12500, "checks_s": [1.9, 4.0]},
        {"code": "MULTISTAGE", "bytes": -19900000, "checks_s": [4.0, 1.7], "with": ["JT206"]},
    ]
