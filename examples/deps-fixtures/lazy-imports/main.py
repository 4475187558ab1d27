"""Imports that are not at the top of the module."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # never executed at run time
    from typing_extensions import Self  # noqa: UP035 (the fixture needs a typing-only dependency)

try:
    import orjson  # optional speed-up, not declared: its absence is handled
except ImportError:
    orjson = None


class Host:
    def __init__(self, name: str) -> None:
        self.name = name

    def copy(self) -> Self:
        return type(self)(self.name)

    def ascii(self) -> bytes:
        import idna  # lazy import inside a method

        return idna.encode(self.name)


def py2_compat() -> object:
    return importlib.import_module("six")


def read_config(text: str) -> dict[str, object]:
    tomli = __import__("tomli")
    return dict(tomli.loads(text))
