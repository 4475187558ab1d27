"""``jettison cache``'s output: the builder cache and image space (:class:`CacheStats`) as
tables or JSON, and the lines ``cache prune`` prints around its question."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from jettison.report.output import write_plain
from jettison.units import human_bytes

if TYPE_CHECKING:
    from rich.console import Console

    from jettison.engine.cache import CacheStats


def render_cache_stats(stats: CacheStats, fmt: str, out: Console) -> None:
    """``json``, or ``text``: a table of the totals, one of the largest records."""
    if fmt == "json":
        write_plain(out, json.dumps(stats.to_json(), indent=2))
        return
    table = Table(title="Build cache and images", title_justify="left")
    table.add_column("What")
    table.add_column("Count", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Reclaimable", justify="right")
    table.add_row(
        "build cache",
        str(stats.build_cache_entries),
        human_bytes(stats.build_cache_bytes),
        human_bytes(stats.build_cache_reclaimable_bytes),
    )
    for kind, (count, size) in sorted(stats.by_type.items(), key=lambda kv: -kv[1][1]):
        table.add_row(f"  {kind}", str(count), human_bytes(size), "")
    table.add_row(
        "images (unique layers)",
        str(stats.images),
        human_bytes(stats.images_bytes),
        human_bytes(stats.images_dangling_bytes) + f" in {stats.images_dangling} dangling",
    )
    table.add_row("containers", str(stats.containers), "", "")
    out.print(table)
    if not stats.largest:
        return
    big = Table(title="Largest build cache records", title_justify="left")
    for column in ("Type", "Size", "In use", "Uses", "Last used", "Description"):
        big.add_column(column, justify="right" if column in ("Size", "Uses") else "left")
    for e in stats.largest:
        big.add_row(
            e.type,
            human_bytes(e.size_bytes),
            "yes" if e.in_use else "no",
            str(e.usage_count),
            (e.last_used or "")[:19].replace("T", " "),
            # as Text: "[stage-1 3/5] RUN ..." or pip install .[dev] is no rich markup
            Text(e.description[:60]),
        )
    out.print(big)


def prune_summary(stats: CacheStats) -> str:
    """What the cache holds, before a prune."""
    return (
        f"Build cache: {human_bytes(stats.build_cache_bytes)} in {stats.build_cache_entries} "
        f"records, {human_bytes(stats.build_cache_reclaimable_bytes)} reclaimable."
    )


def prune_question(all_entries: bool, until: str | None, keep: int | None) -> str:
    """The confirmation ``cache prune`` asks for without ``--yes``."""
    what = "all build cache records" if all_entries else "unused build cache records"
    extra = []
    if until:
        extra.append(f"unused for {until}")
    if keep is not None:
        extra.append(f"keeping {human_bytes(keep)}")
    detail = f" ({', '.join(extra)})" if extra else ""
    return f"Remove {what}{detail}?"


def pruned(count: int, freed: int) -> str:
    return f"Removed {count} build cache records, reclaimed {human_bytes(freed)}."
