"""tree-sitter-bash's grammar, without running its package's ``__init__``.

``tree_sitter_bash/__init__.py`` imports ``importlib.resources`` (and with it tempfile,
shutil, random, bz2 and lzma: ~5 ms of a one-file audit) for its highlight queries, which
jettison does not use. The grammar is the package's compiled ``_binding`` module alone, so it
is loaded here from the package's directory: the same extension, the same language. Should
the package's layout change, or the package be imported already, the usual import is used.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from functools import cache
from typing import Any

_PACKAGE = "tree_sitter_bash"


def language() -> object:
    """The grammar, as ``tree_sitter_bash.language()`` returns it (for ``tree_sitter.Language``)."""
    return _binding().language()


@cache
def _binding() -> Any:
    if _PACKAGE not in sys.modules:
        try:
            return _load_binding()
        except ImportError:
            pass
    import tree_sitter_bash  # a future layout: the usual, slower import

    return tree_sitter_bash


def _load_binding() -> Any:
    spec = importlib.util.find_spec(_PACKAGE)  # locates the package without running it
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ImportError(f"{_PACKAGE} not found")
    finder = importlib.machinery.FileFinder(
        locations[0],
        (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
    )
    binding = finder.find_spec(f"{_PACKAGE}._binding")
    if binding is None or binding.loader is None:
        raise ImportError(f"unexpected {_PACKAGE} layout")
    module = importlib.util.module_from_spec(binding)
    binding.loader.exec_module(module)
    if not callable(getattr(module, "language", None)):
        raise ImportError(f"unexpected {_PACKAGE} layout")
    return module
