"""Building the graph on BuildKit: bases first, then services, a level at a time.

With the buildx plugin the whole graph is one ``docker buildx bake`` (BuildKit schedules it
and resolves the bases through the bake definition's ``contexts``, generated from the graph;
images are loaded, never pushed; with a registry cache, one bake per target, see ``_bake``),
unless a registry cache is asked of a builder that cannot
export one. Without it (Docker 20.10's
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

import dataclasses
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from jettison.engine import BuildClient, Step, build, docker_client, find_build_client
from jettison.engine.buildkit import run_streamed
from jettison.engine.client import cache_export_support
from jettison.engine.images import image_attrs, push_image
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
        # bake's cache-to fails outright on a builder that cannot export; per target, the
        # cache is inline there
        use_bake = client.mode == "buildx" and (exports or not cache_ref)
    if use_bake:
        return _bake(graph, client, sdk, cache_ref, no_cache, platform, labels, events)
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
            push_image(sdk, done.image_id, f"{cache_ref}:{name}")
            result.pushed = f"{cache_ref}:{name}"
        events.finished(result)
        return result

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="jettison-build") as pool:
        for level in graph.levels:
            for result in pool.map(one, level):
                with lock:
                    results[result.name] = result
    return GraphBuild(results, time.monotonic() - started, cache_mode, notes)


def _bake_target(name: str, targets: Sequence[str]) -> tuple[str, str] | None:
    """``[api 2/4] RUN ...`` -> (``api``, ``[2/4] RUN ...``): bake prefixes each vertex with
    its target; without the prefix the name reads as in a single build."""
    if not name.startswith("["):
        return None
    close = name.find("]")
    if close < 0:
        return None
    first, _, rest = name[1:close].partition(" ")
    if first not in targets:
        return None
    tail = name[close + 1 :].lstrip()
    return first, f"[{rest}] {tail}" if rest else tail


def _bake(
    graph: Graph,
    client: BuildClient,
    sdk: Any,
    cache_ref: str | None,
    no_cache: bool,
    platform: str | None,
    labels: dict[str, str] | None,
    events: BuildEvents,
) -> GraphBuild:
    """The graph through ``docker buildx bake``.

    The bake definition is generated from the graph itself (as ``jettison services
    --write`` writes it), so a project without a docker-bake.hcl builds the same way. Images
    are loaded into the engine, never pushed: with ``cache_ref`` the registry gets the cache
    (``cache-to``), not images under their unqualified compose names.

    Without a registry cache the whole graph is one bake. With one, each target is a bake
    of its own, bases first: in one bake BuildKit solves a step the targets share once, for
    one of them, and leaves it out of the others' exported caches, so the next build from
    the registry misses steps at random (seen with BuildKit 0.12: 10 to 14 of 15 steps).
    """
    import tempfile
    import time

    from jettison.services.render import bake_file

    names = list(graph.order)
    fd, bake = tempfile.mkstemp(prefix="jettison-bake-", suffix=".hcl")
    with open(fd, "w", encoding="utf-8") as out:
        out.write(bake_file(graph, [platform] if platform else ["linux/amd64"]))
    argv = [*client.buildx(), "bake", "-f", bake, "--progress=plain", "--load"]
    if no_cache:
        argv.append("--no-cache")
    if platform:
        argv += ["--set", f"*.platform={platform}"]
    for key, value in (labels or {}).items():
        argv += ["--set", f"*.labels.{key}={value}"]
    env = client.environ()
    env["CACHE_REF"] = cache_ref or ""
    runs = [[name] for name in names] if cache_ref else [names]
    results: dict[str, TargetResult] = {}
    started = time.monotonic()
    try:
        for run in runs:
            blocked = [
                (n, d)
                for n in run
                for d in graph.targets[n].deps
                if d in results and results[d].status != "built"
            ]
            if blocked:
                for name, dep in blocked:
                    target = graph.targets[name]
                    results[name] = TargetResult(
                        name, target.kind, target.tag, "skipped", error=f"{dep} did not build"
                    )
                    events.finished(results[name])
                continue
            results.update(_bake_run(graph, argv + run, run, env, sdk, events))
    finally:
        os.unlink(bake)
    seconds = time.monotonic() - started
    mode = "registry" if cache_ref else "none"
    note = f"built with {' '.join(argv[: argv.index('bake') + 1])}"
    if cache_ref:
        note += ", one target at a time"
    return GraphBuild(results, seconds, mode, [note])


# the instructions BuildKit numbers within a stage (`[api 3/5]`): the FROM and these
_NUMBERED = ("FROM", "RUN", "COPY", "ADD", "WORKDIR")


@dataclass(frozen=True)
class _Steps:
    """A target's Dockerfile as BuildKit numbers its steps."""

    texts: set[str]  # every instruction (continuation lines joined, spaces collapsed)
    chain: list[str]  # a single-stage file's numbered steps in order, FROM first; else empty
    slots: set[tuple[int, int, str]]  # (position, the stage's count, text); FROM = 1


def _instructions(path: Any) -> _Steps:
    """``path`` read as BuildKit names its steps; empty when it cannot be read."""
    from jettison.dockerfile import parse_dockerfile

    try:
        df = parse_dockerfile(path.read_text(encoding="utf-8"), str(path))
    except (OSError, JettisonError):
        return _Steps(set(), [], set())
    texts = {_normal(df.source[i.start : i.end]) for s in df.stages for i in s.instructions}
    slots: set[tuple[int, int, str]] = set()
    chains = []
    for stage in df.stages:
        numbered = [
            _normal(df.source[i.start : i.end])
            for i in stage.instructions
            if i.keyword in _NUMBERED
        ]
        chains.append(numbered)
        slots.update((at, len(numbered), text) for at, text in enumerate(numbered, 1))
    return _Steps(texts, chains[0] if len(chains) == 1 else [], slots)


def _normal(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def _settled_owners(
    graph: Graph, names: list[str], steps: list[tuple[str, Step]]
) -> list[tuple[str, Step]]:
    """The targets each step of a bake is counted for.

    BuildKit solves a step the targets share once. buildx prefixes its name with whichever
    target's build reported it first, while the numbers come from the Dockerfile that
    defined it first: ``[reporter 2/5] COPY requirements*.txt ./`` is api's third step (api
    numbers 5 steps, reporter 6), and the base target's steps show under a service's name
    (``[reporter stage-0 2/3]``). So the numbers decide: a step goes to the target whose
    Dockerfile has its instruction at that position of a stage with that many steps (one
    less where the FROM names another target or stage, which BuildKit does not number),
    the named target first, each place of a target filled once. A step no Dockerfile
    numbers so goes to the named target when its Dockerfile has the instruction, else to a
    base target that has it.

    A step that several targets solve alike (the same base and the same steps up to it,
    none reading the build context: ``WORKDIR /app`` right after the base) counts for each
    of them."""
    read = {name: _instructions(graph.targets[name].dockerfile) for name in names}

    def bases(name: str) -> list[str]:
        out: list[str] = []
        todo = list(graph.targets[name].deps)
        while todo:
            dep = todo.pop(0)
            if dep in read and dep not in out:
                out.append(dep)
                todo.extend(graph.targets[dep].deps)
        return out

    def places(name: str, step: Step, text: str) -> list[tuple[int, int, str]]:
        if step.index is None or step.total is None:
            return []
        return [
            (at, step.total, text)
            for at in (step.index, step.index + 1)
            if (at, step.total, text) in read[name].slots
        ]

    filled: set[tuple[str, tuple[int, int, str]]] = set()
    settled: list[tuple[str, Step]] = []
    for name, step in steps:
        text = _normal(step.instruction)
        if step.kind != "step" or not text:
            settled.append((name, step))
            continue
        fits = [(n, p) for n in [name, *names] for p in places(n, step, text)]
        if fits:
            owner, place = next(((n, p) for n, p in fits if (n, p) not in filled), fits[0])
            filled.add((owner, place))
        elif text in read[name].texts:
            owner = name
        else:
            owner = next((b for b in bases(name) if text in read[b].texts), name)
        settled.append((owner, step))
    for owner, step in list(settled):
        chain = read[owner].chain if owner in read else []
        text = _normal(step.instruction)
        if step.kind != "step" or step.stage is not None or text not in chain:
            continue
        prefix = chain[: chain.index(text) + 1]
        if any(t.split(" ", 1)[0] in ("COPY", "ADD") for t in prefix[1:]):
            continue
        settled.extend(
            (n, step) for n in names if n != owner and read[n].chain[: len(prefix)] == prefix
        )
    unique: dict[tuple[str, int], tuple[str, Step]] = {}
    for owner, step in settled:
        unique.setdefault((owner, id(step)), (owner, step))
    return list(unique.values())


def _twins(graph: Graph, names: list[str]) -> list[list[str]]:
    """Groups of two or more targets whose builds are the same graph of steps: the same
    context, Dockerfile and images taken from other targets."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for name in names:
        target = graph.targets[name]
        key = (str(target.context.resolve()), str(target.dockerfile.resolve()), tuple(target.deps))
        groups.setdefault(key, []).append(name)
    return [group for group in groups.values() if len(group) > 1]


def _bake_run(
    graph: Graph,
    argv: list[str],
    names: list[str],
    env: dict[str, str],
    sdk: Any,
    events: BuildEvents,
) -> dict[str, TargetResult]:
    """One ``docker buildx bake`` of ``names``: their results, steps told to ``events``."""
    import time

    from jettison.engine.progress import PlainProgressParser, classify, error_summary

    for name in names:
        events.started(name)
    parser = PlainProgressParser()
    mine: dict[str, tuple[str, Step]] = {}  # vertex -> (target, the step as that target's)
    started = time.monotonic()

    # every target a vertex is named after: a step two targets solve alike shows once per
    # target under one vertex number (`#16 [api 1/5] WORKDIR /app`, later `#16 [reporter
    # 1/5] WORKDIR /app`)
    named: dict[str, set[str]] = {}

    def on_line(line: str) -> None:
        vertex, _, rest = line.partition(" ")
        if vertex.startswith("#") and rest.startswith("["):
            also = _bake_target(rest, names)
            if also is not None:
                named.setdefault(vertex, set()).add(also[0])
        step = parser.feed(line)
        if step is None:
            return
        if step.vertex not in mine:
            owner = _bake_target(step.name, names)
            if owner is None and len(names) == 1 and step.name.startswith("["):
                # a bake of one target may name its steps without the target
                owner = (names[0], step.name)
            if owner is None:
                return
            own = dataclasses.replace(step, name=owner[1], log=[])
            classify(own)
            mine[step.vertex] = (owner[0], own)
        target_name, own = mine[step.vertex]
        own.cached, own.seconds = step.cached, step.seconds
        own.error, own.canceled, own.log = step.error, step.canceled, step.log
        events.step(target_name, own)

    code = run_streamed(argv, graph.root, env, on_line)
    seconds = time.monotonic() - started
    per_target: dict[str, list[Step]] = {name: [] for name in names}
    named_steps = [
        (name, own)
        for vertex, (first, own) in mine.items()
        for name in [first, *sorted(named.get(vertex, set()) - {first})]
    ]
    for target_name, own in _settled_owners(graph, names, named_steps):
        per_target[target_name].append(own)
    # targets built from the same Dockerfile and context (compose's `api` and `worker` with
    # one `build: .`) share every step: BuildKit solves each once and names it after one
    # of them, a different one from run to run, so each twin counts the steps of all
    for group in _twins(graph, names):
        shared = list({id(step): step for name in group for step in per_target[name]}.values())
        for name in group:
            per_target[name] = shared
    first_error = ""
    if code != 0:
        what, tail = error_summary(parser.result)
        last = next((t.strip() for t in reversed(tail) if t.strip()), "")
        first_error = f"build failed at {what}" + (f" (last output: {last})" if last else "")
    results = {}
    for name in names:
        target = graph.targets[name]
        steps = [s for s in per_target[name] if s.counts]
        failed = next((s for s in per_target[name] if s.error is not None), None)
        if code != 0:
            if failed is not None:
                result = TargetResult(
                    name,
                    target.kind,
                    target.tag,
                    "failed",
                    error=f"build failed at {failed.name}: {failed.error}",
                )
            else:
                result = TargetResult(
                    name, target.kind, target.tag, "skipped", error=first_error or "bake failed"
                )
        else:
            info = image_attrs(target.tag, sdk)
            result = TargetResult(
                name,
                target.kind,
                target.tag,
                "built",
                seconds=seconds,
                steps_total=len(steps),
                steps_cached=sum(1 for s in steps if s.cached),
                image_id=str(info.get("Id", "")),
                size_bytes=int(info.get("Size") or 0),
            )
        results[name] = result
        events.finished(result)
    return results
