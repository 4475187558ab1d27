"""One list of file names for every verb: a compose file given on the command line is a
compose file for audit, fix, bench and services alike, whatever its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jettison.audit.discovery import (
    AUDIT_SKIP_DIRS,
    SKIP_DIRS,
    discover,
    is_compose_file,
    is_compose_name,
    is_dockerfile_name,
)
from tests.unit.cli_helpers import run

COMPOSE = "services:\n  web:\n    build: .\n"


@pytest.mark.parametrize(
    "name",
    ["compose.yaml", "docker-compose.yml", "docker-compose.prod.yml", "compose.override.yaml"],
)
def test_compose_names_found_in_a_walk(name: str) -> None:
    assert is_compose_name(name)
    assert is_compose_file(name)
    assert not is_dockerfile_name(name)


@pytest.mark.parametrize("name", ["stack.yml", "prod.compose.yaml", "deploy/app.yaml"])
def test_any_yaml_file_named_on_the_command_line_is_a_compose_file(name: str) -> None:
    assert is_compose_file(name)
    assert not is_compose_name(Path(name).name)  # a tree walk does not pick every YAML


def test_a_walk_skips_the_audit_list_and_keeps_other_yaml(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\n")
    (tmp_path / "stack.yml").write_text(COMPOSE)
    (tmp_path / "docker-compose.prod.yml").write_text(COMPOSE)
    for skipped in ("site-packages", ".venv", "node_modules"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "Dockerfile").write_text("FROM debian:12\n")
    found = discover([str(tmp_path)])
    assert found.dockerfiles == [str(tmp_path / "Dockerfile")]
    assert found.compose_files == [str(tmp_path / "docker-compose.prod.yml")]
    assert SKIP_DIRS | {"site-packages"} == AUDIT_SKIP_DIRS


def test_audit_of_an_explicit_compose_file_of_any_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`jettison audit stack.yml` parsed it as a Dockerfile ("unknown instruction:
    services:") while `jettison services stack.yml` read it as the compose file it is."""
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\n")
    Path("stack.yml").write_text(COMPOSE)
    code, out, err = run("audit", "--format", "json", "--no-context", "stack.yml")
    assert "unknown instruction" not in err
    assert code in (0, 1), err
    assert isinstance(json.loads(out), list)
    inputs = discover(["stack.yml"])
    assert (inputs.compose_files, inputs.dockerfiles) == (["stack.yml"], [])


def test_bench_takes_an_explicit_compose_file_of_any_name_for_compose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`jettison bench stack.yml` was taken for a Dockerfile; now it is the compose graph,
    which refuses the single-Dockerfile options it would ignore (no engine needed)."""
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text("FROM python:3.11-slim\n")
    Path("stack.yml").write_text(COMPOSE)
    code, _, err = run("bench", "stack.yml", "--repeat", "5")
    assert code == 2
    assert "unknown instruction" not in err
    assert "--repeat" in err
