"""Finding the engine: a docker client that really builds with BuildKit, and the SDK client.

The Docker SDK for Python always uses the legacy builder, so builds go through the docker
CLI. Which CLI can BuildKit-build is detected, never assumed: a client with the buildx plugin
(``docker buildx build``) is preferred; otherwise a client whose classic ``docker build``
runs BuildKit when ``DOCKER_BUILDKIT=1`` is set. A recent client without buildx fails with
"buildx component is missing" there (and without the variable it silently falls back to the
legacy builder, which lacks ``RUN --mount`` and reports no cache hits), so such a client is
skipped in favour of another ``docker`` further down ``PATH``.

``JETTISON_DOCKER`` names a client to use first. :func:`use_builder` (``--builder NAME``)
sends every buildx build and bake of the process to a named buildx builder (a remote
buildkitd, a Kubernetes or cloud builder, another engine's context): ``docker buildx
--builder NAME``, or ``docker --context NAME buildx`` for a builder of the docker driver
(a docker context).
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from typing import Any, Literal

import docker
import docker.errors

from jettison.errors import EngineUnavailableError, JettisonError

START_HINT = (
    "start the Docker daemon (e.g. `sudo systemctl start docker`, or run `dockerd` "
    "as root) or point DOCKER_HOST at one, then retry"
)


@dataclass(frozen=True)
class BuildClient:
    executable: str
    mode: Literal["buildx", "buildkit"]  # `docker buildx build` / DOCKER_BUILDKIT=1 docker build
    rawjson: bool = False  # buildx can print --progress=rawjson

    def build_prefix(self) -> list[str]:
        if self.mode == "buildx":
            return [*self.buildx(), "build", "--load"]
        return [self.executable, "build"]

    def buildx(self) -> list[str]:
        """``docker buildx``, on the builder :func:`use_builder` chose: a builder of the
        docker driver is a docker context (``docker --context NAME buildx``, as buildx
        itself asks); any other is ``--builder NAME``."""
        if _chosen is None:
            return [self.executable, "buildx"]
        name, driver = _chosen
        if driver == "docker":
            return [self.executable, "--context", name, "buildx"]
        return [self.executable, "buildx", "--builder", name]

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_BUILDKIT"] = "1"
        env.pop("BUILDKIT_PROGRESS", None)  # our --progress flag decides
        return env

    @property
    def progress(self) -> str:
        return "rawjson" if self.rawjson else "plain"

    def describe(self) -> str:
        how = "docker buildx build" if self.mode == "buildx" else "DOCKER_BUILDKIT=1 docker build"
        on = f" on builder {_chosen[0]}" if _chosen and self.mode == "buildx" else ""
        return f"{how} ({self.executable}){on}"


_chosen: tuple[str, str] | None = None  # (builder, driver) chosen by use_builder


def use_builder(name: str | None) -> BuildClient:
    """Build on the buildx builder ``name`` from now on (``--builder NAME``; None: the
    client's default builder again); the client.

    The builder must exist (``docker buildx ls`` lists them) and the client must have buildx:
    a classic ``docker build`` cannot choose a builder. Images still load into the engine the
    SDK talks to when the builder can load there (``--load``).
    """
    global _chosen
    if name is None:
        _chosen = None
        return find_build_client()
    if not name.strip() or any(c.isspace() for c in name):
        raise JettisonError(f"--builder {name!r}: expected a builder name without spaces")
    client = find_build_client()
    if client.mode != "buildx":
        raise JettisonError(
            f"--builder {name}: choosing a builder needs the buildx plugin, and the docker "
            f"client found ({client.executable}) builds with DOCKER_BUILDKIT=1 docker build; "
            "install docker-buildx or set JETTISON_DOCKER to a client that has it"
        )
    code, out = _run([client.executable, "buildx", "inspect", name], env=client.environ())
    if code != 0:
        reason = next((ln.strip() for ln in out.splitlines() if ln.strip()), "not found")
        raise JettisonError(
            f"--builder {name}: no such buildx builder ({reason}); `docker buildx ls` lists them"
        )
    driver = next(
        (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Driver:")), ""
    )
    _chosen = (name, driver)
    return client


def _candidates() -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    explicit = os.environ.get("JETTISON_DOCKER")
    paths = [explicit] if explicit else []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if directory:
            paths.append(os.path.join(directory, "docker"))
    for path in paths:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        found.append(path)
    return found


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return 1, ""
    return done.returncode, done.stdout + done.stderr


def _probe(executable: str) -> BuildClient | None:
    code, out = _run([executable, "buildx", "version"])
    if code == 0 and "buildx" in out:
        _, help_text = _run([executable, "buildx", "build", "--help"])
        return BuildClient(executable, "buildx", rawjson="rawjson" in help_text)
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    code, out = _run([executable, "build", "--help"], env=env)
    # a client that would need buildx for BuildKit says so (with exit code 0) instead of help
    if code == 0 and "--progress" in out and "buildx component is missing" not in out:
        return BuildClient(executable, "buildkit")
    return None


@functools.lru_cache(maxsize=1)
def find_build_client() -> BuildClient:
    """The first client that can BuildKit-build: buildx anywhere on PATH, else classic."""
    probes = [(path, _probe(path)) for path in _candidates()]
    for wanted in ("buildx", "buildkit"):
        for _path, client in probes:
            if client is not None and client.mode == wanted:
                return client
    if not probes:
        raise EngineUnavailableError(
            "no `docker` client on PATH: install the docker CLI "
            "(with the buildx plugin) and " + START_HINT
        )
    raise EngineUnavailableError(
        "no docker client on PATH can build with BuildKit (tried "
        + ", ".join(p for p, _ in probes)
        + "): install the buildx plugin (`docker-buildx`), or set JETTISON_DOCKER to a client "
        "whose `DOCKER_BUILDKIT=1 docker build` uses BuildKit"
    )


def docker_client() -> Any:
    """The Docker SDK client (images, containers, runs), checked to answer."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if len(reason) > 160:
            reason = reason[:157] + "..."
        raise EngineUnavailableError(
            f"no Docker engine answers at {host} ({reason}); " + START_HINT
        ) from None
    return client


def require_engine() -> tuple[BuildClient, Any]:
    """Both halves of the engine, or one clear error."""
    sdk = docker_client()
    return find_build_client(), sdk


def cache_export_support(client: BuildClient) -> tuple[bool, str]:
    """Can this builder export a registry cache (``--cache-to type=registry``)? And why not."""
    if client.mode != "buildx":
        return False, (
            f"{client.describe()} is the engine's built-in BuildKit without the buildx plugin: "
            "it has no --cache-to; the cache is inline (BUILDKIT_INLINE_CACHE=1, pushed with "
            "the image) and read back with --cache-from"
        )
    try:
        done = subprocess.run(
            [client.executable, "buildx", "inspect"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False, "`docker buildx inspect` did not answer"
    driver = ""
    for line in done.stdout.splitlines():
        if line.strip().lower().startswith("driver:"):
            driver = line.split(":", 1)[1].strip()
            break
    if driver == "docker":
        # the engine's own BuildKit exports caches once images live in containerd
        if _containerd_store(client):
            return True, (
                "buildx builder with the docker driver on the containerd image store exports caches"
            )
        return False, (
            "the current buildx builder uses the `docker` driver, which cannot export a cache "
            "on the classic image store; create one with `docker buildx create --use --driver "
            "docker-container`, or turn on the containerd image store"
        )
    return True, f"buildx builder with the {driver or 'unknown'} driver exports caches"


def _containerd_store(client: BuildClient) -> bool:
    """Does the engine keep images in containerd (``containerd-snapshotter``)?"""
    try:
        done = subprocess.run(
            [client.executable, "info", "--format", "{{json .DriverStatus}}"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "io.containerd.snapshotter" in done.stdout
