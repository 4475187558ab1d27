"""The buildx path with ``--progress=rawjson``, for real: Debian sid's newest buildx (which
prints it; trixie's 0.13 does not) as the client of the Docker 26 engine.

.ci/engine-docker26.sh installs that buildx into its own client configuration; the
``newest_buildx_engine`` fixture points DOCKER_CONFIG there, so jettison finds a buildx that
can print rawjson and reads the build from it. They run wherever the Docker 26 engine is
selected (``JETTISON_TEST_ENGINES`` names docker26, as CI does).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from jettison.engine import build, find_build_client, remove_image
from jettison.engine.buildkit import BuildStepError

from .conftest import Engine

pytestmark = pytest.mark.engine


def test_rawjson_steps_in_order_with_cache_and_times(
    newest_buildx_engine: Engine, tmp_path: Path
) -> None:
    client = find_build_client()
    assert client.mode == "buildx" and client.rawjson, client
    # content no earlier run built: the engine's cache outlives test runs
    (tmp_path / "a.txt").write_text(f"{secrets.token_hex(8)}\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim AS base\nCOPY a.txt /a.txt\n"
        "FROM base\nRUN cat /a.txt > /b.txt && sleep 1\nRUN wc -c /b.txt > /c.txt\n"
    )
    tag = f"jt-rawjson-{secrets.token_hex(3)}:1"
    built: list[str] = []
    try:
        first = build(tmp_path, tag=tag)
        built.append(first.image_id)
        assert "--progress=rawjson" in first.command
        # the instructions in the order the Dockerfile runs them, none cached, each timed
        assert [s.instruction.split()[0] for s in first.steps] == ["COPY", "RUN", "RUN"]
        assert (first.steps_total, first.steps_cached) == (3, 0)
        sleeping = first.steps[1]
        assert sleeping.seconds is not None and sleeping.seconds >= 1.0, sleeping
        assert first.image_id.startswith("sha256:")
        again = build(tmp_path, tag=tag)
        assert (again.steps_total, again.steps_cached) == (3, 3)
        built.append(again.image_id)
        # the same layers (the image id itself may differ: buildx's provenance attestation
        # records each build's time in the image index)
        assert again.image.layer_digests == first.image.layer_digests
    finally:
        for ref in [tag, *built]:
            remove_image(ref)


def test_rawjson_failure_names_the_step_and_its_log(
    newest_buildx_engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nRUN echo fine\n"
        f"RUN echo about to fail {secrets.token_hex(4)} && ls /nonexistent-jettison\n"
    )
    with pytest.raises(BuildStepError) as caught:
        build(tmp_path, tag=f"jt-rawjson-{secrets.token_hex(3)}:1")
    error = caught.value
    assert error.exit_code == 1 and error.line == 3, str(error)
    assert error.step is not None and error.step.index == 3
    assert "ls /nonexistent-jettison" in str(error)
    assert any("nonexistent-jettison" in line for line in error.log_tail), error.log_tail
