"""Docker's own ``.dockerignore`` matcher, without importing the Docker SDK.

``PatternMatcher`` lives in the SDK's ``docker/utils/build.py``, a pure-Python module (its
only imports are the standard library, ``docker/constants.py``, ``docker/version.py`` and
``docker/utils/fnmatch.py``). Importing it the usual way runs ``docker/__init__.py`` first,
which loads the whole API client with requests and urllib3: ~85 ms of a 0.3 s single-file
audit, for a matcher. So the SDK's own files are loaded here under a private package name
that points at the SDK's directory: the same code and semantics (BuildKit's: ``**``, ``!``
exceptions, a leading ``/`` trimmed), none of the client. A later ``import docker`` is not
affected: it loads its own copies under its own name. Should the SDK's layout ever change,
the usual import is the fallback.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import TYPE_CHECKING, Any

__all__ = ["PatternMatcher"]

_PRIVATE = "jettison._docker_sdk"


def _load_build_module() -> Any:
    spec = importlib.util.find_spec("docker")  # locates the package without running it
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ImportError("docker SDK not found")
    root = locations[0]
    wanted = ("constants.py", "version.py", os.path.join("utils", "build.py"))
    if not all(os.path.isfile(os.path.join(root, name)) for name in wanted):
        raise ImportError("unexpected docker SDK layout")
    for name, path in ((_PRIVATE, root), (f"{_PRIVATE}.utils", os.path.join(root, "utils"))):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [path]
            package.__package__ = name
            sys.modules[name] = package
    return importlib.import_module(f"{_PRIVATE}.utils.build")


_sdk_class: Any = None


def _matcher_class() -> Any:
    global _sdk_class
    if _sdk_class is None:
        try:
            _sdk_class = _load_build_module().PatternMatcher
        except ImportError:  # a future SDK layout: the usual, slower import
            from docker.utils.build import PatternMatcher as sdk_class

            _sdk_class = sdk_class
    return _sdk_class


if TYPE_CHECKING:
    from docker.utils.build import PatternMatcher as PatternMatcher
else:

    class PatternMatcher:
        """The SDK's class, loaded on first use (an audit with --no-context never needs it,
        nor tarfile and tempfile, which the SDK's module imports)."""

        def __new__(cls, patterns: list[str]) -> Any:
            return _matcher_class()(patterns)
