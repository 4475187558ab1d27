"""--write/--diff/--in-place, Dockerfile facts and the CLI (images: test_image_sources.py)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from jettison.cli import cli
from jettison.deps import analyze, collect
from jettison.deps.fix import apply, plan_writes
from jettison.deps.metadata import environment_from_sites
from jettison.deps.usage import dockerfile_facts
from jettison.dockerfile import parse_dockerfile

from .conftest import make_dist, write

REQS = "flask\n# keep this comment\nmatplotlib==3.9 \\\n    --hash=sha256:abc\nrequests\n"


def _project(tmp_path: Path, site: Path) -> Path:
    make_dist(site, "flask", {"flask/__init__.py": 10})
    make_dist(site, "matplotlib", {"matplotlib/__init__.py": 10})
    make_dist(site, "requests", {"requests/__init__.py": 10})
    make_dist(site, "redis", {"redis/__init__.py": 10})
    return write(
        tmp_path / "p",
        {
            "requirements.txt": REQS,
            "Dockerfile": "FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt"
            " \\\n    redis \\\n    requests\n",
            "app.py": "import flask\n",
        },
    )


def test_write_prunes_requirements_and_dockerfile(tmp_path: Path, site: Path) -> None:
    root = _project(tmp_path, site)
    env = environment_from_sites([site], "t")
    report = analyze(collect(root), env)
    plan = plan_writes(report.items)
    targets = {e.target.name: e.new for e in plan.edits}
    assert targets["requirements.pruned.txt"] == "flask\n# keep this comment\n"
    assert (
        targets["Dockerfile.pruned"]
        == "FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt\n"
    )
    apply(plan)
    assert (root / "requirements.txt").read_text() == REQS  # original untouched
    assert (root / "requirements.pruned.txt").is_file()
    in_place = plan_writes(report.items, in_place=True)
    assert {e.target for e in in_place.edits} == {root / "requirements.txt", root / "Dockerfile"}


def test_only_package_of_pip_command_is_left_for_a_human(tmp_path: Path, site: Path) -> None:
    make_dist(site, "redis", {"redis/__init__.py": 10})
    root = write(
        tmp_path / "p",
        {"Dockerfile": "FROM python:3.11\nRUN pip install redis\n", "app.py": "print(1)\n"},
    )
    plan = plan_writes(analyze(collect(root), environment_from_sites([site], "t")).items)
    assert plan.edits == [] and "only package" in plan.manual[0]


def test_dockerfile_facts(tmp_path: Path) -> None:
    write(tmp_path, {"requirements/prod.txt": "celery\n"})
    df = parse_dockerfile(
        "FROM python:3.11 AS build\n"
        "RUN pip install --no-cache-dir -r requirements/prod.txt 'uvicorn[standard]' && "
        "apt-get install -y supervisor\n"
        "FROM python:3.11-slim\n"
        "ENV BROKER=amqp://guest@rabbit//\n"
        'ENTRYPOINT ["sh", "-c", "alembic upgrade head && exec hypercorn -k uvloop x:app"]\n',
        str(tmp_path / "Dockerfile"),
    )
    facts = dockerfile_facts(df, tmp_path)
    assert {d.name for d in facts.declared} == {"celery", "uvicorn"}
    assert "supervisor" in facts.system_packages
    targets = {(u.kind, u.target) for u in facts.uses}
    assert {
        ("script", "alembic"),
        ("script", "hypercorn"),
        ("module", "uvloop"),
        ("module", "amqp"),
    } <= targets


def test_cli_json_and_exit_codes(tmp_path: Path, site: Path) -> None:
    root = _project(tmp_path, site)
    venv = site.parents[2]
    result = CliRunner().invoke(cli, ["deps", str(root), "--venv", str(venv), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert {u["name"] for u in data["unused"]} == {"matplotlib", "requests", "redis"}
    assert all({"name", "size_bytes", "reason"} <= set(u) for u in data["unused"])
    assert data["missing"] == []


def test_cli_diff_writes_nothing_and_write_in_place(tmp_path: Path, site: Path) -> None:
    root = _project(tmp_path, site)
    venv = site.parents[2]
    runner = CliRunner()
    diff = runner.invoke(cli, ["deps", str(root), "--venv", str(venv), "--diff"])
    # exit 1 with something to change, as `jettison fix --diff` and ruff
    assert diff.exit_code == 1 and "-matplotlib==3.9" in diff.output
    assert not (root / "requirements.pruned.txt").exists()
    done = runner.invoke(cli, ["deps", str(root), "--venv", str(venv), "--write", "--in-place"])
    assert done.exit_code == 1
    assert (root / "requirements.txt").read_text() == "flask\n# keep this comment\n"
    again = runner.invoke(cli, ["deps", str(root), "--venv", str(venv), "--format", "json"])
    assert again.exit_code == 0, again.output  # nothing left to prune
    diff = runner.invoke(cli, ["deps", str(root), "--venv", str(venv), "--diff"])
    assert diff.exit_code == 0 and diff.stdout == ""


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    root = write(tmp_path / "p", {"requirements.txt": "ok\nnot valid (\n", "a.py": "import ok\n"})
    result = CliRunner().invoke(cli, ["deps", str(root)])
    assert result.exit_code == 2
    assert "requirements.txt:2: malformed requirement" in result.output
    missing = CliRunner().invoke(cli, ["deps", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
