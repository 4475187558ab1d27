"""``jettison cache stats|prune``: the builder cache and image space."""

from __future__ import annotations

import json
import re
import sys

import click
from rich.table import Table

from jettison.cli._common import console
from jettison.engine import cache_stats, prune_cache
from jettison.errors import JettisonError
from jettison.units import human_bytes

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
    s = cache_stats(largest=top)
    if fmt == "json":
        click.echo(json.dumps(s.to_json(), indent=2))
        return
    out = console()
    table = Table(title="Build cache and images", title_justify="left")
    table.add_column("What")
    table.add_column("Count", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Reclaimable", justify="right")
    table.add_row(
        "build cache",
        str(s.build_cache_entries),
        human_bytes(s.build_cache_bytes),
        human_bytes(s.build_cache_reclaimable_bytes),
    )
    for kind, (count, size) in sorted(s.by_type.items(), key=lambda kv: -kv[1][1]):
        table.add_row(f"  {kind}", str(count), human_bytes(size), "")
    table.add_row(
        "images (unique layers)",
        str(s.images),
        human_bytes(s.images_bytes),
        human_bytes(s.images_dangling_bytes) + f" in {s.images_dangling} dangling",
    )
    table.add_row("containers", str(s.containers), "", "")
    out.print(table)
    if s.largest:
        big = Table(title="Largest build cache records", title_justify="left")
        for column in ("Type", "Size", "In use", "Uses", "Last used", "Description"):
            big.add_column(column, justify="right" if column in ("Size", "Uses") else "left")
        for e in s.largest:
            big.add_row(
                e.type,
                human_bytes(e.size_bytes),
                "yes" if e.in_use else "no",
                str(e.usage_count),
                (e.last_used or "")[:19].replace("T", " "),
                e.description[:60],
            )
        out.print(big)


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
    s = cache_stats(largest=0)
    what = "all build cache records" if all_entries else "unused build cache records"
    extra = []
    if until:
        extra.append(f"unused for {until}")
    if keep is not None:
        extra.append(f"keeping {human_bytes(keep)}")
    detail = f" ({', '.join(extra)})" if extra else ""
    out = console()
    out.print(
        f"Build cache: {human_bytes(s.build_cache_bytes)} in {s.build_cache_entries} "
        f"records, {human_bytes(s.build_cache_reclaimable_bytes)} reclaimable.",
        markup=False,
    )
    if not yes:
        if not sys.stdin.isatty():
            raise JettisonError("refusing to prune without confirmation: pass --yes")
        click.confirm(f"Remove {what}{detail}?", abort=True)
    count, freed = prune_cache(all_entries=all_entries, keep_storage=keep, until=until)
    out.print(f"Removed {count} build cache records, reclaimed {human_bytes(freed)}.", markup=False)
