"""Bisection and config comparison of ``jettison fix --verify`` (engine runs: tests/engine)."""

from __future__ import annotations

from jettison.fixes.verify import Attempt, ImageReport, bisect, compare_configs


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
