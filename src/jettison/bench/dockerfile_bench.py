"""``jettison bench`` on one Dockerfile, from the command's inputs: the files the change
scenarios edit checked to be inside the build context, the two variants made
(:func:`jettison.bench.variants.build_variants`), the engine found, then
:func:`jettison.bench.runner.run_bench`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from jettison.bench.loop import BenchEvents
from jettison.bench.model import BenchReport
from jettison.bench.runner import BenchOptions, run_bench
from jettison.bench.variants import build_variants
from jettison.config import Config
from jettison.engine import docker_client, find_build_client
from jettison.errors import JettisonError


def in_context(value: str | None, ctx: Path, option: str) -> str | None:
    """``value`` as a path relative to the build context, which it must be inside once
    symlinks are followed: the benchmark edits that file in its copies of the context, and
    a path outside (absolute, ``..``, or a link out) would edit the user's own file."""
    if value is None:
        return None
    if not value.strip():
        raise JettisonError(f"{option}: no file name given")
    root = ctx.resolve()
    given = Path(value)
    real = (given if given.is_absolute() else root / given).resolve()
    try:
        rel = real.relative_to(root)
    except ValueError:
        raise JettisonError(
            f"not inside the build context {ctx} ({option}): the benchmark only edits its "
            "copies of the context's files",
            value,
        ) from None
    if not real.is_file():
        raise JettisonError(f"no such file in the build context ({option})", value)
    return rel.as_posix()


def bench_dockerfile(
    dockerfile: Path,
    context: Path,
    options: BenchOptions,
    config: Config,
    *,
    against: Path | None = None,
    unsafe: bool = False,
    each_fix: bool = False,
    events: BenchEvents | None = None,
) -> BenchReport:
    """The Dockerfile as it is against ``against``, or against what ``jettison fix`` (safe
    fixes, or also the unsafe ones; the rules ``config`` selects) makes of it; ``each_fix``:
    also each fix on top of the ones before it.
    ``options.touch`` and ``options.deps_file`` may be absolute or context-relative."""
    options = replace(
        options,
        touch=in_context(options.touch, context, "--touch"),
        deps_file=in_context(options.deps_file, context, "--deps-file"),
    )
    variants = build_variants(dockerfile, config, against=against, unsafe=unsafe, each_fix=each_fix)
    docker_client()  # "no engine" before any copying
    client = find_build_client()
    return run_bench(dockerfile, context, variants, options, events=events, client=client)
