"""Every SARIF jettison writes (audit, inspect, deps) is valid against the SARIF 2.1.0
schema, which code scanning and the other SARIF readers check uploads against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from jettison.cli import cli
from tests.unit.image.helpers import layer, legacy_archive

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())

# safe and unsafe fixes, findings with and without a fix, in a Dockerfile and its context
DOCKERFILE = """FROM python:3.11
RUN apt-get update && apt-get install -y curl
COPY . /app
RUN pip install flask
CMD python app.py
"""


def _sarif(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--format", "sarif"])
    assert result.exit_code in (0, 1), result.output + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _valid(data: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(data)
    assert data["runs"] and data["runs"][0]["results"], "nothing was checked"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "app.py").write_text("import flask\nimport yaml\n")
    (tmp_path / "requirements.txt").write_text("flask\nrequests\n")
    return tmp_path


def test_audit_sarif_is_valid(project: Path) -> None:
    _valid(_sarif("audit", "."))


def test_inspect_sarif_is_valid(project: Path) -> None:
    blob = bytes(range(256)) * 12_000  # 3 MB: over the findings' thresholds
    waste = layer(
        [
            ("opt/big", "f", blob),
            ("opt/copy", "f", blob),
            ("usr/share/doc/x/README", "f", blob[:2_000_000]),
        ]
    )
    hides = layer([("opt/big", "w", None)])
    (project / "image.tar").write_bytes(legacy_archive([waste, hides]))
    _valid(_sarif("inspect", "image.tar"))


def test_deps_sarif_is_valid(project: Path) -> None:
    _valid(_sarif("deps", "."))


def test_the_check_can_fail(project: Path) -> None:
    data = _sarif("audit", ".")
    data["runs"][0]["results"][0]["level"] = "fatal"  # not one of SARIF's levels
    with pytest.raises(jsonschema.ValidationError):
        _valid(data)
