"""Bisection and config comparison of ``jettison fix --verify`` (engine runs: tests/engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jettison.fixes.verify import (
    INSTALL_RECORDS_BYTES,
    Attempt,
    CheckResult,
    ImageReport,
    bisect,
    compare_configs,
    judge,
    size_change,
)
from tests.unit.cli_helpers import one_error, run


def _attempts(broken: set[str]) -> tuple[list[frozenset[str]], object]:
    seen: list[frozenset[str]] = []

    def attempt(units: frozenset[str]) -> Attempt:
        seen.append(units)
        ok = not (units & broken)
        return Attempt(units, "", ImageReport(True), [] if ok else ["smoke failed"])

    return seen, attempt


def test_bisect_names_the_one_broken_fix_and_keeps_the_rest() -> None:
    units = ["JT101", "JT102", "JT103", "JT111", "JT204", "JT301", "MULTISTAGE"]
    _seen, attempt = _attempts({"JT111"})
    found = bisect(units, attempt)  # type: ignore[arg-type]
    assert found.culprits == ["JT111"]
    assert found.final is not None and found.final.units == frozenset(units) - {"JT111"}
    assert found.attempts <= 4  # log2(7) prefixes + the rest


def test_bisect_two_culprits() -> None:
    units = ["A", "B", "C", "D"]
    _, attempt = _attempts({"B", "D"})
    found = bisect(units, attempt)  # type: ignore[arg-type]
    assert found.culprits == ["B", "D"]
    assert found.final is not None and found.final.units == frozenset({"A", "C"})


def test_bisect_everything_broken() -> None:
    _, attempt = _attempts({"A"})
    found = bisect(["A"], attempt)  # type: ignore[arg-type]
    assert found.culprits == ["A"] and found.final is None


SHELL = {"Cmd": ["/bin/sh", "-c", "gunicorn -b 0.0.0.0:8000 app:app"], "Env": ["PATH=/usr/bin"]}


def test_exec_form_and_venv_path_are_expected_changes() -> None:
    after = {
        "Cmd": ["gunicorn", "-b", "0.0.0.0:8000", "app:app"],
        "Env": ["PATH=/opt/venv/bin:/usr/bin", "VIRTUAL_ENV=/opt/venv"],
        "User": "app",
    }
    problems, notes = compare_configs(SHELL, after)
    assert problems == []
    assert "runs as app instead of root" in notes
    assert any("PATH starts with /opt/venv/bin" in n for n in notes)


def test_meaning_changes_are_problems() -> None:
    before = {**SHELL, "ExposedPorts": {"8000/tcp": {}}, "WorkingDir": "/app", "User": "web"}
    after = {
        "Cmd": ["gunicorn", "app:app"],
        "Env": ["PATH=/usr/bin", "SECRET=1"],
        "WorkingDir": "/srv",
        "User": "root",
    }
    problems, _ = compare_configs(before, after)
    text = " ".join(problems)
    for what in ("command changed", "env SECRET added", "exposed ports", "workdir", "user"):
        assert what in text, what


# --- what --verify compares, and what it refuses ----------------------------------------


def _report(size: int, *checks: CheckResult) -> ImageReport:
    return ImageReport(True, "sha256:x", size, 3, 1.0, {}, list(checks))


def test_a_check_the_original_fails_the_same_way_is_no_regression() -> None:
    before = CheckResult("imports", False, "x fails", failure="matplotlib_inline")
    same = CheckResult("imports", False, "x fails", failure="matplotlib_inline")
    assert judge(_report(100, before), _report(90, same)) == []


def test_a_new_failure_inside_a_failing_check_is_a_regression() -> None:
    before = CheckResult("imports", False, "x fails", failure="matplotlib_inline")
    more = CheckResult("imports", False, "x and y fail", failure="matplotlib_inline,numpy")
    assert judge(_report(100, before), _report(90, more)) == ["imports: x and y fail"]
    start0 = CheckResult("start worker", False, "exit 1", failure="exit 1")
    start1 = CheckResult("start worker", False, "exit 2", failure="exit 2")
    assert judge(_report(100, start0), _report(90, start1)) == ["start worker: exit 2"]


def test_a_check_the_original_passes_must_pass() -> None:
    ok = CheckResult("smoke-cmd", True, "exited 0")
    bad = CheckResult("smoke-cmd", False, "exited 1", failure="exit 1")
    assert judge(_report(100, ok), _report(90, bad)) == ["smoke-cmd: exited 1"]


def test_a_larger_image_fails_and_says_larger() -> None:
    problems = judge(_report(100_000_000), _report(104_200_000))
    assert problems == ["image is larger: 100.0 MB -> 104.2 MB (4.2% larger)"]
    assert judge(_report(100_000_000), _report(100_000_000)) == []
    assert size_change(100_000_000, 80_000_000).endswith("(20.0% smaller)")


def test_bisection_stops_at_its_budget() -> None:
    seen, attempt = _attempts({"G"})
    found = bisect(list("ABCDEFG"), attempt, budget=2)  # type: ignore[arg-type]
    assert found.exhausted and found.final is None and len(seen) == 2


def test_diff_never_builds_and_says_what_needs_the_engine(
    no_engine: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--diff with --unsafe-fixes works without an engine: the conversion is listed on
    stderr as needing --engine or --verify; stdout is only the patch."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("psycopg2==2.9.9\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nCMD python app.py\n"
    )
    code, out, err = run("fix", "--unsafe-fixes", "--diff", "Dockerfile")
    assert code == 1, err
    assert out.startswith("--- a/Dockerfile"), out
    assert "needs the engine" not in out and "--diff never builds unless --engine" in err, err
    assert (tmp_path / "Dockerfile").read_text().startswith("FROM python:3.11\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--smoke-cmd", "true"), "need --verify"),
        (("--verify", "--diff"), "pick one"),
        (("-f", "Dockerfile", "."), "either PATHS or -f"),
        (("--verify", "--build-arg", "NOVALUE"), "KEY=VALUE"),
        (("-f", "missing/Dockerfile"), "Dockerfile not found"),
    ],
)
def test_fix_option_errors_are_one_line(
    no_engine: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    code, _out, err = run("fix", *args)
    one_error(code, err, expected)


def test_a_check_must_fail_twice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fixed image whose port answered late once is checked again before it is judged
    (bisecting on a flaky result blamed --no-cache-dir on a real project)."""
    from jettison.findings import FixSafety
    from jettison.fixes import per_file as fix_run
    from jettison.fixes.apply import AppliedFix, FixOutcome
    from jettison.fixes.verify import BuildInputs, CheckPlan

    passing = CheckResult("ports", True, "5000/tcp HTTP 302")
    late = CheckResult("ports", False, "no answer", failure="no answer")
    rounds = [[late], [passing]]
    monkeypatch.setattr(fix_run, "build_and_check", lambda *a, **k: _report(100, passing))
    monkeypatch.setattr(fix_run, "build_text", lambda *a, **k: _report(90, *rounds.pop(0)))
    monkeypatch.setattr(fix_run, "check_image", lambda *a, **k: rounds.pop(0))
    monkeypatch.setattr("jettison.engine.remove_image", lambda *a, **k: True)
    dockerfile = tmp_path / "Dockerfile"
    outcome = FixOutcome(
        str(dockerfile), "FROM a\n", "FROM b\n", [AppliedFix("JT103", 1, "x", FixSafety.SAFE)]
    )
    said: list[str] = []
    checked = fix_run.verify_file(
        "FROM a\n",
        BuildInputs.of(dockerfile),
        outcome,
        lambda units: outcome,
        CheckPlan(),
        object(),
        progress=said.append,
    )
    assert checked.ok and checked.chosen is not None and not rounds
    assert any("running the checks once more" in s for s in said)


def test_same_layers_are_not_larger_whatever_the_engine_adds_for_the_config() -> None:
    # the containerd store counts the config in Size: a LABEL made it 21 bytes "larger";
    # here 100 kB, above what pip's install records may add
    original = _report(77_788_802)
    fixed = _report(77_888_823)
    assert judge(original, fixed) == ["image is larger: 77.8 MB -> 77.9 MB (0.1% larger)"]
    original.layer_digests = fixed.layer_digests = ("sha256:aa", "sha256:bb")
    assert judge(original, fixed) == []
    fixed.layer_digests = ("sha256:aa", "sha256:cc")
    assert judge(original, fixed) != []


def test_install_records_of_a_split_install_are_not_larger() -> None:
    """evidently: JT201's dependency step marks 28 packages REQUESTED, 2,542 bytes more on
    1,064 MB; 64 kB is the most pip's records may add, one byte more is larger."""
    original = _report(1_064_062_432)
    assert judge(original, _report(1_064_064_974)) == []
    assert judge(original, _report(1_064_062_432 + INSTALL_RECORDS_BYTES)) == []
    assert judge(original, _report(1_064_062_432 + INSTALL_RECORDS_BYTES + 1)) != []


def test_each_fix_names_the_fixes_measured_with_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--each-fix: a fix whose step does not build alone is measured with the next one,
    and that one's line says so (its size change is not its own)."""
    from jettison.findings import FixSafety
    from jettison.fixes import per_file as fix_run
    from jettison.fixes.apply import AppliedFix, FixOutcome
    from jettison.fixes.verify import BuildInputs, CheckPlan

    sizes = {"FROM b\n": 80, "FROM ab\n": 0, "FROM abc\n": 60}
    monkeypatch.setattr(fix_run, "build_and_check", lambda *a, **k: _report(100))
    monkeypatch.setattr(
        fix_run,
        "build_text",
        lambda sdk, inputs, text, *a, **k: (
            _report(sizes[text]) if sizes[text] else ImageReport(False, error="x")
        ),
    )
    monkeypatch.setattr("jettison.engine.remove_image", lambda *a, **k: True)
    dockerfile = tmp_path / "Dockerfile"
    applied = [AppliedFix(c, 1, "x", FixSafety.SAFE) for c in ("JT1", "JT2", "JT3")]
    texts = {1: "FROM b\n", 2: "FROM ab\n", 3: "FROM abc\n"}
    outcome = FixOutcome(str(dockerfile), "FROM a\n", "FROM abc\n", applied)

    def variant(units: frozenset[str]) -> FixOutcome:
        return FixOutcome(str(dockerfile), "FROM a\n", texts[len(units)], applied)

    checked = fix_run.verify_file(
        "FROM a\n",
        BuildInputs.of(dockerfile),
        outcome,
        variant,
        CheckPlan(),
        object(),
        each_fix=True,
    )
    lines = [e.line() for e in checked.effects]
    assert [e.after.size_bytes for e in checked.effects] == [80, 0, 60]
    assert checked.effects[2].before.size_bytes == 80  # JT3 is measured from JT1's image
    assert "with" not in lines[0] and "not measured" in lines[1]
    assert lines[2].endswith("; with JT2 (not measured alone)"), lines


def test_each_fix_leaves_out_a_fix_that_makes_the_image_larger_on_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """healthchecks: binutils brought for JT139's strip left 69 MB of apt caches, which the
    other fixes' savings hid; --each-fix measures that step larger, and the file written
    leaves that fix out when the rest still passes and is smaller."""
    from jettison.findings import FixSafety
    from jettison.fixes import per_file as fix_run
    from jettison.fixes.apply import AppliedFix, FixOutcome
    from jettison.fixes.verify import BuildInputs, CheckPlan

    mb = 1_000_000
    # JT1 saves 50 MB, JT2 adds 69 MB, JT3 saves 40 MB: all three 79 MB from 100 MB
    sizes = {
        "FROM 1\n": 50 * mb, "FROM 12\n": 119 * mb, "FROM 123\n": 79 * mb,
        "FROM 13\n": 10 * mb,
    }  # fmt: skip
    monkeypatch.setattr(fix_run, "build_and_check", lambda *a, **k: _report(100 * mb))
    monkeypatch.setattr(
        fix_run, "build_text", lambda sdk, inputs, text, *a, **k: _report(sizes[text])
    )
    monkeypatch.setattr("jettison.engine.remove_image", lambda *a, **k: True)
    dockerfile = tmp_path / "Dockerfile"
    applied = [AppliedFix(c, 1, "x", FixSafety.UNSAFE) for c in ("JT1", "JT2", "JT3")]
    outcome = FixOutcome(str(dockerfile), "FROM a\n", "FROM 123\n", applied)

    def variant(units: frozenset[str]) -> FixOutcome:
        text = "FROM " + "".join(c[-1] for c in ("JT1", "JT2", "JT3") if c in units) + "\n"
        return FixOutcome(str(dockerfile), "FROM a\n", text, applied)

    checked = fix_run.verify_file(
        "FROM a\n",
        BuildInputs.of(dockerfile),
        outcome,
        variant,
        CheckPlan(),
        object(),
        each_fix=True,
    )
    assert checked.chosen is not None and checked.chosen.units == frozenset({"JT1", "JT3"})
    assert [e.code for e in checked.effects] == ["JT1", "JT3"]
    assert any("not written: JT2" in n for n in checked.notes), checked.notes
