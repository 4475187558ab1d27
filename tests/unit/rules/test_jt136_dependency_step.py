"""JT136 on what JT201's rewrite writes: the dependency step installs what the manifests its
extraction command reads list; the project installed --no-deps after the source brings in
nothing else (markitdown: the trim went to the wrong RUN, 60 MB of pandas tests stayed)."""

from __future__ import annotations

from pathlib import Path

from jettison.audit.checks import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.apply import fix_source

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"
dependencies = ["requests"]
[project.optional-dependencies]
data = ["pandas"]
"""


def _jt136_lines(text: str, path: Path) -> list[int]:
    df = parse_dockerfile(text, str(path))
    return [f.line for f in check_dockerfile(df, Config(select=["JT136"]))]


def test_dependency_step_gets_the_trim_and_the_no_deps_install_does_not(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    dockerfile = tmp_path / "Dockerfile"
    original = (
        'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir ".[data]"\n'
    )
    rewritten = fix_source(original, str(dockerfile), Config(select=["JT201"]), unsafe=True).text
    lines = rewritten.splitlines()
    deps_step = next(n for n, line in enumerate(lines, 1) if line.startswith("RUN python3 -c"))
    project = next(n for n, line in enumerate(lines, 1) if "--no-deps" in line)
    assert _jt136_lines(rewritten, dockerfile) == [deps_step], rewritten
    assert project > deps_step


def test_no_deps_install_of_a_local_project_brings_in_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    text = 'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install --no-deps ".[data]"\n'
    assert _jt136_lines(text, tmp_path / "Dockerfile") == []
    text = 'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install ".[data]"\n'
    assert _jt136_lines(text, tmp_path / "Dockerfile") == [4]
