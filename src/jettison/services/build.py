"""Building the graph on BuildKit: bases first, then services, a level at a time.

With the buildx plugin the whole graph is one ``docker buildx bake`` (BuildKit schedules it
and resolves the bases through the bake file's ``contexts``). Without it (Docker 20.10's
built-in BuildKit, as on this project's machines) each target is one ``DOCKER_BUILDKIT=1
docker build`` in topological order; the targets of a level run in parallel, at most
``jobs`` at a time, and a service FROM a base uses the base image just built and tagged.

Caches: ``cache_ref`` (a registry repository) gives every target ``--cache-from
REF:TARGET``. The built-in builder cannot export a cache (``--cache-to`` needs buildx with
a container driver), so there the cache is inline: ``BUILDKIT_INLINE_CACHE=1`` embeds it
in the image and ``push_cache`` pushes the image to ``REF:TARGET``. With such a builder,
``--cache-to type=registry,ref=REF:TARGET,mode=max`` exports every layer instead.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import docker.errors

from jettison.engine import BuildClient, Step, build, docker_client, find_build_client
from jettison.errors import BuildFailedError, JettisonError
from jettison.services.graph import Graph


@dataclass
class TargetResult:
    name: str
    kind: str
    tag: str
    status: str  # built | failed | skipped
    seconds: float = 0.0
    steps_total: int = 0
    steps_cached: int = 0
    image_id: str = ""
    size_bytes: int = 0
    error: str = ""
    pushed: str = ""  # cache reference pushed to

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class GraphBuild:
    results: dict[str, TargetResult]
    seconds: float
    cache_mode: str  # none | inline | registry
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "built" for r in self.results.values())

    @property
    def steps_total(self) -> int:
        return sum(r.steps_total for r in self.results.values())

    @property
    def steps_cached(self) -> int:
        return sum(r.steps_cached for r in self.results.values())


class BuildEvents:
    """Hooks for progress display (called from worker threads)."""

    def started(self, name: str) -> None: ...

    def step(self, name: str, step: Step) -> None: ...

    def finished(self, result: TargetResult) -> None: ...


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
        return False, (
            "the current buildx builder uses the `docker` driver, which cannot export a cache; "
            "create one with `docker buildx create --use --driver docker-container`"
        )
    return True, f"buildx builder with the {driver or 'unknown'} driver exports caches"


def _push(sdk: Any, image_id: str, ref: str) -> None:
    repo, _, tag = ref.rpartition(":")
    try:
        sdk.api.tag(image_id, repo, tag)
        for event in sdk.api.push(repo, tag, stream=True, decode=True):
            if isinstance(event, dict) and event.get("error"):
                raise JettisonError(f"push of {ref} failed: {event['error']}")
    except docker.errors.APIError as exc:
        raise JettisonError(f"push of {ref} failed: {exc.explanation or exc}") from None


def build_graph(
    graph: Graph,
    *,
    jobs: int = 2,
    no_cache: bool = False,
    cache_ref: str | None = None,
    push_cache: bool = False,
    platform: str | None = None,
    labels: dict[str, str] | None = None,
    events: BuildEvents | None = None,
    client: BuildClient | None = None,
    sdk: Any | None = None,
    use_bake: bool | None = None,
) -> GraphBuild:
    """Build every target of ``graph``; a failed target fails its dependents (skipped)."""
    import time

    if jobs < 1:
        raise JettisonError("--jobs must be at least 1")
    sdk = sdk or docker_client()
    client = client or find_build_client()
    events = events or BuildEvents()
    exports, why = cache_export_support(client)
    if use_bake is None:
        use_bake = client.mode == "buildx"
    if use_bake:
        return _bake(graph, client, sdk, cache_ref, push_cache, no_cache, platform, events)
    cache_mode = "inline" if cache_ref else "none"
    notes = [why] if cache_ref and not exports else []
    results: dict[str, TargetResult] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def one(name: str) -> TargetResult:
        target = graph.targets[name]
        failed = [d for d in target.deps if results[d].status != "built"]
        if failed:
            result = TargetResult(
                name, target.kind, target.tag, "skipped", error=f"{failed[0]} did not build"
            )
            events.finished(result)
            return result
        events.started(name)
        extra: list[str] = []
        args: dict[str, str] = {}
        if cache_ref:
            args["BUILDKIT_INLINE_CACHE"] = "1"
            extra += ["--cache-from", f"{cache_ref}:{name}"]
            if exports:
                extra += ["--cache-to", f"type=registry,ref={cache_ref}:{name},mode=max"]
        if platform:
            extra += ["--platform", platform]
        try:
            done = build(
                target.context,
                target.dockerfile,
                target.tag,
                no_cache=no_cache,
                build_args=args,
                labels=labels,
                on_step=lambda step: events.step(name, step),
                client=client,
                sdk=sdk,
                extra_args=extra,
            )
        except BuildFailedError as exc:
            result = TargetResult(name, target.kind, target.tag, "failed", error=str(exc))
            events.finished(result)
            return result
        result = TargetResult(
            name,
            target.kind,
            target.tag,
            "built",
            seconds=done.seconds,
            steps_total=done.steps_total,
            steps_cached=done.steps_cached,
            image_id=done.image_id,
            size_bytes=done.image.size_bytes,
        )
        if cache_ref and push_cache and not exports:
            _push(sdk, done.image_id, f"{cache_ref}:{name}")
            result.pushed = f"{cache_ref}:{name}"
        events.finished(result)
        return result

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="jettison-build") as pool:
        for level in graph.levels:
            for result in pool.map(one, level):
                with lock:
                    results[result.name] = result
    return GraphBuild(results, time.monotonic() - started, cache_mode, notes)


def _bake(
    graph: Graph,
    client: BuildClient,
    sdk: Any,
    cache_ref: str | None,
    push_cache: bool,
    no_cache: bool,
    platform: str | None,
    events: BuildEvents,
) -> GraphBuild:
    """One ``docker buildx bake`` for the whole graph (the bake file must be generated)."""
    import time

    bake = graph.root / "docker-bake.hcl"
    if not bake.is_file():
        raise JettisonError("no docker-bake.hcl: run `jettison services --write` first", str(bake))
    argv = [client.executable, "buildx", "bake", "-f", str(bake), "--progress=plain"]
    argv.append("--push" if push_cache else "--load")
    if no_cache:
        argv.append("--no-cache")
    if platform:
        argv += ["--set", f"*.platform={platform}"]
    env = client.environ()
    if cache_ref:
        env["CACHE_REF"] = cache_ref
    for name in graph.order:
        events.started(name)
    started = time.monotonic()
    done = subprocess.run(
        argv,
        cwd=graph.root,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    results = {}
    for name in graph.order:
        target = graph.targets[name]
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["bake failed"]
            result = TargetResult(name, target.kind, target.tag, "failed", error=tail[0])
        else:
            info = sdk.api.inspect_image(target.tag) if not push_cache else {}
            result = TargetResult(
                name,
                target.kind,
                target.tag,
                "built",
                seconds=seconds,
                image_id=str(info.get("Id", "")),
                size_bytes=int(info.get("Size") or 0),
            )
        results[name] = result
        events.finished(result)
    mode = "registry" if cache_ref else "none"
    return GraphBuild(results, seconds, mode, [f"built with {' '.join(argv[:3])}"])


def remove_images(refs: Sequence[str], sdk: Any | None = None) -> None:
    """Remove images by tag or id (gone already is fine)."""
    sdk = sdk or docker_client()
    for ref in refs:
        with contextlib.suppress(docker.errors.APIError):
            sdk.api.remove_image(ref, force=True)
