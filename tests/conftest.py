"""Shared fixtures. Engine tests are marked ``engine`` and use the real Docker engine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"
SEEDS = REPO.parent / "shared" / "seeds"

# `jettison audit` run as a process (the tests', pre-commit's) neither uses the user's
# `jettison server` nor starts one in the background: the tests of the server set their
# own mode, with a socket directory of their own (tests/unit/test_server.py)
os.environ["JETTISON_SERVER"] = "off"


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
        pytest.fail("no Docker engine answers; CI must run bash .ci/engine-docker20.sh first")
    pytest.skip("no Docker engine answers (bash .ci/engine-docker20.sh)")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engines",
        default=None,
        help="engines the engine tests marked for several engines run on, comma-separated: "
        "default (DOCKER_HOST as set) and docker26 (.ci/engine-docker26.sh); "
        "default: $JETTISON_TEST_ENGINES or 'default'",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "engine" in item.keywords:
            item.fixturenames.insert(
                0, "engine_available"
            ) if "engine_available" not in item.fixturenames else None


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[int]:
    """Debian's docker-registry serving on a free 127.0.0.1 port; yields the port.

    scripts/test-prereqs.sh installs it; without it a test using this fails, not skips.
    """
    binary = shutil.which("docker-registry")
    assert binary is not None, "docker-registry is not installed (apt-get install docker-registry)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path}/registry\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
