"""Shared fixtures. Engine tests are marked ``engine`` and use the real Docker engine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"
SEEDS = REPO.parent / "shared" / "seeds"


def _docker_answers() -> bool:
    for client in ("/usr/bin/docker", shutil.which("docker")):
        if client and os.path.exists(client):
            try:
                done = subprocess.run(
                    [client, "info", "--format", "{{.ServerVersion}}"],
                    capture_output=True,
                    timeout=20,
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if done.returncode == 0:
                return True
    return False


@pytest.fixture(scope="session")
def engine_available() -> bool:
    """Engine tests need a real engine; in CI its absence is a failure, not a skip."""
    if _docker_answers():
        return True
    if os.environ.get("CI"):
        pytest.fail("no Docker engine answers; CI must run ../shared/engine/up.sh first")
    pytest.skip("no Docker engine answers (run ../shared/engine/up.sh)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "engine" in item.keywords:
            item.fixturenames.insert(
                0, "engine_available"
            ) if "engine_available" not in item.fixturenames else None
