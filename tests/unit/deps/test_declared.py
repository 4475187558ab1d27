"""Manifests: requirements files, pyproject (PEP 621, Poetry, PDM, uv), setup.cfg, Pipfile."""

from __future__ import annotations

from pathlib import Path

from jettison.deps.declared import (
    DEV,
    OPTIONAL,
    RUNTIME,
    find_manifests,
    parse_requirements_file,
    pip_install_packages,
)

from .conftest import write


def test_requirements_features(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": """
            # comment
            --index-url https://example.invalid/simple
            -r base.txt
            -c constraints.txt
            Flask[async]>=2 ; python_version >= "3.8"   # trailing comment
            requests==2.31.0 \\
                --hash=sha256:aaaa \\
                --hash=sha256:bbbb
            -e git+https://github.com/org/repo.git#egg=mylib
            pkg @ https://example.invalid/pkg-1.0.tar.gz
            https://example.invalid/wheels/other_pkg-2.0-py3-none-any.whl
        """,
            "base.txt": "PyYAML\n",
            "constraints.txt": "urllib3<2\n",
        },
    )
    m = parse_requirements_file(tmp_path / "requirements.txt")
    names = {d.name: d for d in m.declared}
    assert set(names) == {"pyyaml", "flask", "requests", "mylib", "pkg", "other-pkg"}
    assert names["flask"].extras == frozenset({"async"})
    assert names["flask"].line == 5
    assert names["requests"].line == 6  # the first line of the continued requirement
    assert names["mylib"].editable
    assert names["pyyaml"].path.endswith("base.txt")
    assert not m.errors


def test_malformed_requirement_reports_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "flask\nthis is not ( valid\nyaml\n"})
    m = parse_requirements_file(tmp_path / "requirements.txt")
    assert [d.name for d in m.declared] == ["flask", "yaml"]
    assert len(m.errors) == 1
    assert m.errors[0].line == 2 and "malformed requirement" in m.errors[0].message


def test_dev_requirement_files_by_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "flask\n",
            "requirements-dev.txt": "pytest\n",
            "requirements/test.txt": "hypothesis\n",
            "requirements/base.txt": "gunicorn\n",
        },
    )
    groups = {d.name: d.group for d in find_manifests(tmp_path).declared}
    assert groups == {"flask": RUNTIME, "pytest": DEV, "hypothesis": DEV, "gunicorn": RUNTIME}


def test_pyproject_all_flavours(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": """
        [project]
        name = "myapp"
        dependencies = ["httpx>=0.27", "myapp[extra]"]
        [project.optional-dependencies]
        postgres = ["psycopg[binary]"]
        test = ["pytest"]
        [dependency-groups]
        dev = ["ruff", {include-group = "lint"}]
        lint = ["mypy"]
        [tool.poetry.dependencies]
        python = "^3.11"
        pendulum = {version = "^3", extras = ["test"]}
        [tool.poetry.group.docs.dependencies]
        mkdocs = "*"
        [tool.pdm.dev-dependencies]
        lint = ["black"]
        [tool.uv]
        dev-dependencies = ["coverage"]
    """
        },
    )
    m = find_manifests(tmp_path)
    groups = {d.name: d.group for d in m.declared}
    assert groups == {
        "httpx": RUNTIME,
        "psycopg": OPTIONAL,
        "pytest": DEV,
        "ruff": DEV,
        "mypy": DEV,
        "pendulum": RUNTIME,
        "mkdocs": DEV,
        "black": DEV,
        "coverage": DEV,
    }
    lines = {d.name: d.line for d in m.declared}
    assert lines["httpx"] == 3
    assert "myapp" in m.project_names


def test_setup_cfg_and_pipfile(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "setup.cfg": """
            [metadata]
            name = thing
            [options]
            install_requires =
                click>=8
                attrs
            [options.extras_require]
            testing = pytest
        """,
            "Pipfile": """
            [packages]
            django = "*"
            [dev-packages]
            black = "*"
        """,
        },
    )
    groups = {d.name: d.group for d in find_manifests(tmp_path).declared}
    assert groups == {
        "click": RUNTIME,
        "attrs": RUNTIME,
        "pytest": DEV,
        "django": RUNTIME,
        "black": DEV,
    }


def test_pip_install_argv_forms() -> None:
    pk, opts = pip_install_packages(
        [
            "pip",
            "install",
            "--no-cache-dir",
            "-r",
            "r.txt",
            "-i",
            "https://x",
            "flask",
            "gunicorn==21",
        ]
    ) or ([], [])
    assert pk == [7, 8] and opts == [("-r", "r.txt")]
    found = pip_install_packages(["python3", "-m", "pip", "install", "-U", "uvicorn[standard]"])
    assert found is not None and found[0] == [5]
    assert pip_install_packages(["uv", "pip", "install", "--system", "x"]) == ([4], [])
    assert pip_install_packages(["pip", "download", "x"]) is None
    assert pip_install_packages(["python", "app.py"]) is None
