"""Image inspection: sources, the layer model, waste and bloat analysis, attribution, CI gate.

from jettison.image import inspect_image
report = inspect_image("python:3.11-slim")
report.reclaimable_bytes, report.dive.efficiency

The names below load their modules on first use, so ``jettison inspect`` can ask the engine
for an export before it pays for importing the analysis code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jettison.image.analysis import ImageReport, analyze, inspect_image
    from jettison.image.dive import DiveResult, dive_efficiency
    from jettison.image.sources import ImageData, open_image

_HOMES = {
    "ImageReport": "analysis",
    "analyze": "analysis",
    "inspect_image": "analysis",
    "DiveResult": "dive",
    "dive_efficiency": "dive",
    "ImageData": "sources",
    "open_image": "sources",
}

__all__ = [
    "DiveResult",
    "ImageData",
    "ImageReport",
    "analyze",
    "dive_efficiency",
    "inspect_image",
    "open_image",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
