"""The semantic check of safe fixes on the real engine: the original is built twice, the
fixed file once, and only what an applied fix declares may differ; on every selected
engine (the filesystems are read from containers created and never started)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from jettison.engine import build, docker_client
from jettison.fixes.semantic_check import check_fixes, judge, snapshot
from tests.engine.conftest import Engine

pytestmark = pytest.mark.engine

APT_AND_PIP = (
    "FROM python:3.11-slim\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends file\n"
    "RUN pip install six==1.16.0\n"
    'CMD ["python", "-c", "import six"]\n'
)


def test_safe_fixes_change_only_what_they_declare(each_engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(APT_AND_PIP)
    result = check_fixes(tmp_path, tmp_path / "Dockerfile")
    assert result.applied == ["JT101", "JT103"], result.to_json()
    assert result.ok, result.to_json()
    removed = {d.path for d in result.allowed if d.what == "removed"}
    assert "/root/.cache/pip" in removed
    assert any(p.startswith("/var/lib/apt/lists/") for p in removed)
    # the user's files are untouched: the check copies the context
    assert (tmp_path / "Dockerfile").read_text() == APT_AND_PIP


def test_an_undeclared_difference_is_caught_on_real_images(
    each_engine: Engine, tmp_path: Path
) -> None:
    sdk = docker_client()
    tags = [f"jettison-semantic-test-{uuid.uuid4().hex[:8]}-{n}" for n in ("a", "b")]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN echo 1 > /srv/x\n")
    (tmp_path / "b" / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nRUN echo 1 > /srv/x && chmod 600 /srv/x && touch /srv/y\n"
        "USER nobody\n"
    )
    try:
        for tag, folder in zip(tags, ("a", "b"), strict=True):
            build(tmp_path / folder, tag=tag, sdk=sdk)
        original, changed = snapshot(tags[0], sdk), snapshot(tags[1], sdk)
        assert original.files["/srv/x"].mode == 0o644
        result = judge(original, original, changed, ["JT101"])
        assert sorted(str(d) for d in result.undeclared) == [
            "config User: '' -> 'nobody'",
            "file /srv/x: changed: mode",
            "file /srv/y: added",
        ]
    finally:
        for tag in tags:
            sdk.api.remove_image(tag, force=True)
