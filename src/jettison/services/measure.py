"""Unique bytes across images: every layer counted once, as the engine stores them.

Layers are read with the inspect machinery (:func:`jettison.image.open_image`): a layer is
identified by its digest (the diff id of its uncompressed tar) and measured by the size of
its tar stream, so two services built FROM the same base share those layers and pay once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from jettison.image import open_image


@dataclass
class UniqueBytes:
    total: int  # bytes of the distinct layers of all images
    per_image: dict[str, int] = field(default_factory=dict)  # each image alone
    layers: int = 0  # distinct layers

    @property
    def naive_total(self) -> int:
        """The sum of image sizes, shared layers counted once per image."""
        return sum(self.per_image.values())


def unique_bytes(references: Sequence[str], source: str = "engine") -> UniqueBytes:
    seen: dict[str, int] = {}
    per_image: dict[str, int] = {}
    for ref in references:
        with open_image(ref, source) as data:
            size = 0
            for layer in data.layers:
                size += layer.tar_size
                seen.setdefault(layer.digest, layer.tar_size)
            per_image[ref] = size
    return UniqueBytes(sum(seen.values()), per_image, len(seen))
