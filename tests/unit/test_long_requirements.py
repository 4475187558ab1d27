"""A requirements line over 255 bytes (a long environment marker) is a requirement, never a
file name: audit, fix and deps read it; an unreadable one is one finding or error with its
file and line, and the rest of the project is still analysed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli_helpers import run

MARKER = " and ".join(f'platform_machine != "arm{i}"' for i in range(10))
LONG = f"requests>=2 ; {MARKER}"
DOCKERFILE = (
    "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    'COPY app.py .\nCMD ["python", "app.py"]\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert len(LONG.encode()) > 300
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text(f"flask==3.0.0\n{LONG}\nnumpy\n")
    (tmp_path / "app.py").write_text("import flask\nimport requests\n")
    return tmp_path


def test_audit_reads_a_300_byte_marker_line(project: Path) -> None:
    code, out, err = run("audit", "--format", "json", str(project))
    assert "File name too long" not in out + err and "Traceback" not in err
    findings = json.loads(out)
    unused = [f for f in findings if f["code"] == "JT605"]
    # numpy is declared and never imported; requests (the long line) is used: not reported
    assert [(Path(f["path"]).name, f["line"]) for f in unused] == [("requirements.txt", 3)]
    assert code in (0, 1)


def test_deps_reads_a_300_byte_marker_line(project: Path) -> None:
    code, out, err = run("deps", "--format", "json", str(project))
    assert "File name too long" not in out + err and "Traceback" not in err
    assert code in (0, 1), err
    report = json.loads(out)
    assert [u["name"] for u in report["unused"]] == ["numpy"]
    assert report["missing"] == []  # requests, the long line, is declared


def test_fix_reads_a_300_byte_marker_line(project: Path) -> None:
    code, out, err = run("fix", "--diff", str(project / "Dockerfile"))
    assert code == 1, err  # 1: there are changes
    assert "File name too long" not in out + err and "cannot read" not in err
    assert "--no-cache-dir" in out  # the Dockerfile's own fixes still come


def test_an_unreadable_long_requirement_is_one_finding_with_file_and_line(
    project: Path,
) -> None:
    bad = f'requests>=2 ; platform_machine != "{"x" * 300}" and !!'
    (project / "requirements.txt").write_text(f"flask==3.0.0\n{bad}\nnumpy\n")
    code, out, err = run("audit", "--format", "json", str(project))
    assert "Traceback" not in err
    jt605 = [f for f in json.loads(out) if f["code"] == "JT605"]
    problems = [f for f in jt605 if "not analysed" in f["message"]]
    assert [(Path(f["path"]).name, f["line"]) for f in problems] == [("requirements.txt", 2)]
    assert len(problems[0]["message"]) < 250  # the line is shortened in the message
    # the rest of the project is still analysed
    assert any(f["line"] == 3 and "numpy" in f["message"] for f in jt605)
    assert code == 1
    code, out, err = run("deps", str(project))
    assert code == 2
    assert "requirements.txt:2: malformed requirement" in out + err
    assert "numpy" in out


def test_a_long_include_line_is_an_error_not_a_crash(project: Path) -> None:
    (project / "requirements.txt").write_text(f"flask\n-r {'x' * 300}.txt\n")
    code, out, err = run("deps", str(project))
    assert code == 2 and "Traceback" not in err
    assert "requirements.txt:2: included file not found" in out + err
