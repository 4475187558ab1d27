"""``jettison cache stats|prune``: the builder cache and image space."""

from __future__ import annotations

import re
import sys

import click

from jettison.cli._common import console
from jettison.engine import cache_stats, prune_cache
from jettison.errors import JettisonError
from jettison.report.cache import prune_question, prune_summary, pruned, render_cache_stats

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


_INT64_MAX = 2**63 - 1  # the engine reads --keep-storage as a Go int64
# a Go duration, as the engine's "until" filter parses it (time.ParseDuration), unsigned
_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+|0")


def _size(value: str | None) -> int | None:
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
    if match is None or match.group(2).lower() not in _UNITS:
        raise JettisonError(f"--keep-storage: not a size: {value!r} (e.g. 5GB, 500MB)")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size > _INT64_MAX:
        raise JettisonError(f"--keep-storage: {value!r} is more than the engine can count")
    return size


def _duration(value: str | None) -> str | None:
    """Checked here, before the engine is asked anything (it would refuse it only then)."""
    if value is not None and not _DURATION.fullmatch(value.strip()):
        raise JettisonError(f"--until: not a duration: {value!r} (e.g. 24h, 90m, 168h)")
    return value.strip() if value is not None else None


@click.group("cache")
def command() -> None:
    """Builder cache housekeeping: what it holds, and pruning it."""


@command.command("stats")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--top",
    type=click.IntRange(0, 100),
    default=10,
    show_default=True,
    help="Largest cache records to list.",
)
def stats(fmt: str, top: int) -> None:
    """Builder cache size (total, reclaimable, by type, largest records) and image space."""
    render_cache_stats(cache_stats(largest=top), fmt, console())


@command.command("prune")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (CI).")
@click.option(
    "--all",
    "all_entries",
    is_flag=True,
    help="Also remove records still referenced by images (as `docker builder prune --all`).",
)
@click.option("--keep-storage", metavar="SIZE", help="Keep this much cache (e.g. 5GB).")
@click.option(
    "--until", metavar="DURATION", help="Only records unused for this long (e.g. 24h, 168h)."
)
def prune(yes: bool, all_entries: bool, keep_storage: str | None, until: str | None) -> None:
    """Prune the builder cache (asks first unless --yes)."""
    keep = _size(keep_storage)
    until = _duration(until)
    out = console()
    out.print(prune_summary(cache_stats(largest=0)), markup=False)
    if not yes:
        if not sys.stdin.isatty():
            raise JettisonError("refusing to prune without confirmation: pass --yes")
        click.confirm(prune_question(all_entries, until, keep), abort=True)
    count, freed = prune_cache(all_entries=all_entries, keep_storage=keep, until=until)
    out.print(pruned(count, freed), markup=False)
