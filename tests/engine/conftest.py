"""Engines the tests can run on: the one DOCKER_HOST names ("default") and the second engine
.ci/engine-docker26.sh runs beside it ("docker26": Docker 26 with buildx and the containerd
image store). ``--engines`` or ``JETTISON_TEST_ENGINES`` selects them (default: default).

A test taking ``each_engine`` runs once per selected engine (``module_engine``: the same,
for a whole module that builds its images once per engine); one taking ``buildx_engine``
once per selected engine whose client has the buildx plugin (bake, cache export); one taking
``newest_buildx_engine`` on the Docker 26 engine through Debian sid's newest buildx (which
prints ``--progress=rawjson``), where docker26 is selected. Inside, the environment points
docker, the SDK and jettison at that engine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jettison.engine.client import find_build_client

ENGINE26_ROOT = Path(os.environ.get("ENGINE26_ROOT", "/opt/docker26"))
# .ci/engine-docker26.sh installs sid's newest buildx into this client configuration of its own
NEWEST_BUILDX_CONFIG = ENGINE26_ROOT / "newest-buildx" / "config"
KNOWN = ("default", "docker26")


@dataclass(frozen=True)
class Engine:
    name: str
    env: dict[str, str] = field(default_factory=dict)  # set while a test runs on it

    def docker(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        """Run the engine's own client (the 20.10 one for the default engine)."""
        on26 = self.name.startswith("docker26")
        client = str(ENGINE26_ROOT / "bin" / "docker") if on26 else DEFAULT_CLI
        done = subprocess.run(
            [client, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "DOCKER_BUILDKIT": "1", **self.env},
            stdin=subprocess.DEVNULL,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()[-800:]}")
        return done.stdout

    @property
    def containerd_store(self) -> bool:
        return "io.containerd.snapshotter" in self.docker("info", "--format", "{{.DriverStatus}}")


DEFAULT_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"


def selected(config: pytest.Config) -> list[str]:
    raw = config.getoption("--engines") or os.environ.get("JETTISON_TEST_ENGINES") or "default"
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise pytest.UsageError(f"unknown engine(s) {unknown}: choose from {', '.join(KNOWN)}")
    return names


def _engine(name: str) -> Engine:
    if name == "default":
        return Engine(name)
    return Engine(
        name,
        {
            "DOCKER_HOST": "unix:///run/docker26.sock",
            "DOCKER_CONFIG": str(ENGINE26_ROOT / "config"),
            "PATH": f"{ENGINE26_ROOT / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        },
    )


def _has_buildx(name: str) -> bool:
    # the default engine's clients on these machines have no buildx; one that does counts
    if name == "docker26":
        return True
    done = subprocess.run(
        ["docker", "buildx", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return done.returncode == 0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "each_engine" in metafunc.fixturenames:
        metafunc.parametrize("each_engine", selected(metafunc.config), indirect=True)
    if "module_engine" in metafunc.fixturenames:
        names = selected(metafunc.config)
        metafunc.parametrize("module_engine", names, indirect=True, scope="module")
    if "newest_buildx_engine" in metafunc.fixturenames:
        # the same daemon as docker26, another client: only where docker26 is selected
        names = ["docker26-newest-buildx"] if "docker26" in selected(metafunc.config) else []
        metafunc.parametrize("newest_buildx_engine", names, indirect=True)
    if "buildx_engine" in metafunc.fixturenames:
        names = [n for n in selected(metafunc.config) if _has_buildx(n)]
        # none selected: pytest reports the test as skipped (empty parameter set), never passed
        metafunc.parametrize("buildx_engine", names, indirect=True)


def _use(engine: Engine) -> Iterator[Engine]:
    if engine.name != "default":
        try:
            engine.docker("version", timeout=30)
        except (AssertionError, OSError, subprocess.TimeoutExpired) as exc:
            pytest.fail(f"engine {engine.name} was selected but does not answer "
                        f"(bash .ci/engine-docker26.sh): {exc}")  # fmt: skip
    saved = {k: os.environ.get(k) for k in engine.env}
    os.environ.update(engine.env)
    find_build_client.cache_clear()
    try:
        yield engine
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        find_build_client.cache_clear()


@pytest.fixture
def each_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from _use(_engine(request.param))


@pytest.fixture(scope="module")
def module_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from _use(_engine(request.param))


@pytest.fixture
def buildx_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from _use(_engine(request.param))


@pytest.fixture
def newest_buildx_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if not (NEWEST_BUILDX_CONFIG / "cli-plugins" / "docker-buildx").is_file():
        pytest.fail(
            f"no buildx in {NEWEST_BUILDX_CONFIG} (bash .ci/engine-docker26.sh installs it)"
        )
    engine = _engine("docker26")
    yield from _use(
        Engine(request.param, {**engine.env, "DOCKER_CONFIG": str(NEWEST_BUILDX_CONFIG)})
    )
