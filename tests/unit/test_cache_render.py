"""``jettison cache``'s renderers (report/cache.py) on constructed figures: the text the
command printed before they moved out of cli/cache.py, byte for byte."""

from __future__ import annotations

import io
import json

from rich.console import Console

from jettison.engine.cache import CacheEntry, CacheStats
from jettison.report.cache import prune_question, prune_summary, pruned, render_cache_stats


def _stats() -> CacheStats:
    return CacheStats(
        build_cache_bytes=3_210_000_000,
        build_cache_reclaimable_bytes=999,
        build_cache_entries=6,
        # listed by size, largest first, whatever order the engine gave
        by_type={"source.local": (2, 10_500), "regular": (3, 3_200_000_000), "internal": (1, 0)},
        largest=[
            CacheEntry(
                "a",
                "regular",
                "RUN pip install -r req.txt",
                3_100_000_000,
                True,
                False,
                12,
                "2024-05-06T07:08:09.123456789Z",
            ),
            CacheEntry(
                "b", "source.local", "local source for context", 10_500, False, False, 1, None
            ),
        ],
        images=4,
        images_bytes=1_500_000_000,
        images_dangling=1,
        images_dangling_bytes=75_000_000,
        containers=0,
    )


def _render(stats: CacheStats, fmt: str) -> str:
    # as the command's console prints when piped (cli/_common.py: console())
    out = io.StringIO()
    console = Console(
        file=out, no_color=True, soft_wrap=True, highlight=False, force_terminal=False, width=10_000
    )
    render_cache_stats(stats, fmt, console)
    return out.getvalue()


TOTALS = """\
Build cache and images
┏━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┓
┃ What                   ┃ Count ┃    Size ┃           Reclaimable ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━┩
│ build cache            │     6 │  3.2 GB │                 999 B │
│   regular              │     3 │  3.2 GB │                       │
│   source.local         │     2 │ 10.5 kB │                       │
│   internal             │     1 │     0 B │                       │
│ images (unique layers) │     4 │  1.5 GB │ 75.0 MB in 1 dangling │
│ containers             │     0 │         │                       │
└────────────────────────┴───────┴─────────┴───────────────────────┘
"""

LARGEST = """\
Largest build cache records
┏━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Type         ┃    Size ┃ In use ┃ Uses ┃ Last used           ┃ Description                ┃
┡━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ regular      │  3.1 GB │ yes    │   12 │ 2024-05-06 07:08:09 │ RUN pip install -r req.txt │
│ source.local │ 10.5 kB │ no     │    1 │                     │ local source for context   │
└──────────────┴─────────┴────────┴──────┴─────────────────────┴────────────────────────────┘
"""


def test_text_tables_of_the_totals_and_the_largest_records() -> None:
    assert _render(_stats(), "text") == TOTALS + LARGEST


def test_a_long_description_is_cut_at_60_characters() -> None:
    stats = _stats()
    stats.largest[0].description = "RUN " + "x" * 56 + "CUT HERE"
    shown = _render(stats, "text")
    assert "RUN " + "x" * 56 + " " in shown and "CUT" not in shown


def test_a_description_is_shown_as_written() -> None:
    # BuildKit names a step's stage in brackets; rich took them for markup (and "[/..." for
    # a closing tag without an opening one: a traceback)
    stats = _stats()
    stats.largest[0].description = "[stage-1 3/5] RUN pip install .[dev] [/x]"
    assert "│ [stage-1 3/5] RUN pip install .[dev] [/x] │" in _render(stats, "text")


def test_no_largest_records_no_second_table() -> None:
    stats = _stats()
    stats.largest = []
    assert _render(stats, "text") == TOTALS


def test_json_is_the_stats_document() -> None:
    text = _render(_stats(), "json")
    assert text == json.dumps(_stats().to_json(), indent=2) + "\n"
    assert json.loads(text)["build_cache"]["largest"][0]["last_used"].startswith("2024-05-06T")


def test_the_lines_of_a_prune() -> None:
    assert prune_summary(_stats()) == "Build cache: 3.2 GB in 6 records, 999 B reclaimable."
    assert prune_question(False, None, None) == "Remove unused build cache records?"
    assert (
        prune_question(True, "24h", 5_000_000_000)
        == "Remove all build cache records (unused for 24h, keeping 5.0 GB)?"
    )
    assert prune_question(False, None, 0) == "Remove unused build cache records (keeping 0 B)?"
    assert pruned(7, 1_500_000_000) == "Removed 7 build cache records, reclaimed 1.5 GB."
