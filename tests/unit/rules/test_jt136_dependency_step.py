"""JT136 on what JT201's rewrite writes: the dependency step installs what the manifests its
extraction command reads list; the project installed --no-deps after the source brings in
nothing else (markitdown: the trim went to the wrong RUN, 60 MB of pandas tests stayed)."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_strip_before_the_compilers_removal_stays_before_it_on_the_dependency_step(
    tmp_path: Path,
) -> None:
    # evidently's shape: compilers installed, the project installed, compilers purged, all in
    # one RUN; JT139's strip runs before the purge, and JT201's split keeps that order
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["scipy", "pandas"]\n'
    )
    (tmp_path / "src" / "demo").mkdir(parents=True)
    (tmp_path / "src" / "demo" / "__init__.py").write_text("")
    original = (
        "FROM python:3.11-slim\nWORKDIR /src\nCOPY pyproject.toml .\nCOPY src ./src\n"
        "RUN apt-get update \\\n    && apt-get install -y build-essential \\\n"
        "    && pip install --no-cache-dir . \\\n"
        "    && apt-get remove -y --purge build-essential \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
    config = Config(select=["JT136", "JT139", "JT201"])
    fixed = fix_source(original, str(tmp_path / "Dockerfile"), config, unsafe=True).text
    lines = fixed.splitlines()
    strip = next(n for n, line in enumerate(lines) if "strip --strip-unneeded" in line)
    purge = next(n for n, line in enumerate(lines) if "--purge build-essential" in line)
    trim = next(n for n, line in enumerate(lines) if "-name tests" in line)
    source = lines.index("COPY src ./src")
    assert strip < purge < trim < source, fixed
    assert "--no-deps" in lines[source + 1], fixed


@pytest.mark.parametrize("clean", ["", "apt-get clean && "])
def test_strip_with_binutils_for_it_moves_whole_to_the_dependency_step(
    tmp_path: Path, clean: str
) -> None:
    # a slim image: binutils come for the strip and leave (with apt's caches cleared, as
    # JT139 now writes it); the split moves all of it, or the strip would run where no
    # strip is installed and every code change would install and purge binutils again
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["scipy"]\n'
    )
    (tmp_path / "src").mkdir()
    sandwich = (
        "apt-get update && apt-get install -y --no-install-recommends binutils && "
        "find / -xdev -type f -name '*.so' -path '*/site-packages/*' "
        "-exec strip --strip-unneeded {} ';' && apt-get purge -y --auto-remove binutils && "
        f"{clean}rm -rf /var/lib/apt/lists/*"
    )
    original = (
        "FROM python:3.11-slim\nWORKDIR /src\nCOPY pyproject.toml .\nCOPY src ./src\n"
        f"RUN pip install --no-cache-dir . && {sandwich}\n"
    )
    config = Config(select=["JT201"])
    fixed = fix_source(original, str(tmp_path / "Dockerfile"), config, unsafe=True).text
    deps, project = fixed.split("COPY src ./src\n")
    for command in (
        "apt-get update",
        "apt-get install -y --no-install-recommends binutils",
        "-exec strip --strip-unneeded",
        "apt-get purge -y --auto-remove binutils",
        "rm -rf /var/lib/apt/lists/*",
    ):
        assert command in deps, fixed
    assert project.strip() == "RUN pip install --no-deps --no-cache-dir .", fixed
