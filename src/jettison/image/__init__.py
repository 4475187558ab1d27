"""Image inspection: sources, the layer model, waste and bloat analysis, attribution, CI gate.

from jettison.image import inspect_image
report = inspect_image("python:3.11-slim")
report.reclaimable_bytes, report.dive.efficiency
"""

from jettison.image.analysis import ImageReport, analyze, inspect_image
from jettison.image.dive import DiveResult, dive_efficiency
from jettison.image.sources import ImageData, open_image

__all__ = [
    "DiveResult",
    "ImageData",
    "ImageReport",
    "analyze",
    "dive_efficiency",
    "inspect_image",
    "open_image",
]
