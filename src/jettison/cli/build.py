"""``jettison build``: the build graph of a compose project or Dockerfile set, bases first."""

from __future__ import annotations

import threading

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from jettison.cli._common import (
    builder_option,
    check_platforms,
    console,
    graph_inputs,
    open_paths,
    quiet_option,
)
from jettison.engine import Step, docker_client, find_build_client
from jettison.engine.client import cache_export_support
from jettison.errors import JettisonError
from jettison.services.graph import load_graph
from jettison.services.graph_builder import BuildEvents, TargetResult, build_graph
from jettison.services.multiarch import unbuildable
from jettison.services.report import build_json, print_build


class _Live(BuildEvents):
    """A bar per target on a terminal (steps done / steps seen), unless ``-q``; nothing
    elsewhere (the report lists every target)."""

    def __init__(self, err: Console, names: list[str], quiet: bool) -> None:
        self.err = err
        self.live = err.is_terminal and not quiet
        self.lock = threading.Lock()
        self.progress = Progress(
            TextColumn("{task.fields[label]:<20}"),
            BarColumn(bar_width=24),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err,
            disable=not self.live,
        )
        self.tasks: dict[str, TaskID] = {
            n: self.progress.add_task("waiting", total=None, label=n, start=False) for n in names
        }
        self.steps: dict[str, set[str]] = {n: set() for n in names}
        self.done: dict[str, set[str]] = {n: set() for n in names}

    def __enter__(self) -> _Live:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def started(self, name: str) -> None:
        with self.lock:
            self.progress.start_task(self.tasks[name])
            self.progress.update(self.tasks[name], description="starting")

    def step(self, name: str, step: Step) -> None:
        if not step.counts:
            return
        with self.lock:
            key = step.instruction
            self.steps[name].add(key)
            if step.finished:
                self.done[name].add(key)
            text = step.instruction if len(step.instruction) < 50 else step.instruction[:47] + "..."
            self.progress.update(
                self.tasks[name],
                total=len(self.steps[name]),
                completed=len(self.done[name]),
                description=text,
            )

    def finished(self, result: TargetResult) -> None:
        with self.lock:
            if result.status == "built":
                what = f"{result.seconds:.1f}s, {result.steps_cached}/{result.steps_total} cached"
            else:
                what = f"{result.status}: {result.error}"
            task = self.tasks[result.name]
            self.progress.update(task, total=1, completed=1, description=what)


@click.command("build")
@graph_inputs
@click.option("--service", "services", multiple=True, help="Only these services (and bases).")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True,
    help="Targets built at the same time (per graph level).",
)  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Build every target without the builder cache.")
@click.option(
    "--cache-ref",
    metavar="REPO",
    help="Registry repository for the cache: --cache-from REPO:TARGET (and with a builder "
    "that exports caches, --cache-to type=registry,mode=max; otherwise inline cache).",
)
@click.option(
    "--push-cache",
    is_flag=True,
    help="Push each target's cache to --cache-ref (inline: the image).",
)
@click.option("--platform", help="Target platform (os/arch) for every target.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@quiet_option
@builder_option
def command(
    paths: tuple[str, ...],
    contexts: tuple[str, ...],
    services: tuple[str, ...],
    jobs: int,
    no_cache: bool,
    cache_ref: str | None,
    push_cache: bool,
    platform: str | None,
    fmt: str,
    quiet: bool,
) -> None:
    """Build the graph of a compose project (or of a set of Dockerfiles, as `jettison
    services` reads them): the shared bases (bases/*/Dockerfile from `jettison services
    --write`) first, then the services, each level in parallel. With the
    buildx plugin this is one `docker buildx bake`; with the engine's built-in BuildKit, one
    `docker build` per target in topological order.

    Exit code: 0 when every target builds, 1 when one fails, 2 on bad input (a cycle, a
    missing context) or without an engine.
    """
    if push_cache and not cache_ref:
        raise JettisonError("--push-cache needs --cache-ref")
    if platform is not None:
        check_platforms((platform,))
    graph = load_graph(open_paths(paths, contexts), only=list(services) or None)
    if services:
        missing = sorted(set(services) - set(graph.targets))
        if missing:
            raise JettisonError(f"no built service named {', '.join(missing)}", str(graph.source))
    if not graph.targets:
        raise JettisonError("no service is built from a Dockerfile here", str(graph.source))
    if platform:
        for plat, why in unbuildable([platform]):
            raise JettisonError(f"the local engine cannot build {plat}: {why}")
    docker_client()
    client = find_build_client()
    err = console(stderr=True)
    for name, reason in graph.skipped:
        err.print(f"jettison build: {name}: left alone: {reason}", markup=False)
    if cache_ref:
        exports, why = cache_export_support(client)
        err.print(f"jettison build: cache: {'registry' if exports else 'inline'} ({why})",
                  markup=False)  # fmt: skip
    with _Live(err, graph.order, quiet) as live:
        done = build_graph(
            graph,
            jobs=jobs,
            no_cache=no_cache,
            cache_ref=cache_ref,
            push_cache=push_cache,
            platform=platform,
            events=live,
            client=client,
        )
    if fmt == "json":
        click.echo(build_json(graph, done))
    else:
        print_build(console(), graph, done)
    raise SystemExit(0 if done.ok else 1)
