"""Where a report goes and how it names files: plain writes to a console or stream,
colour on a terminal, paths relative to the working directory."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import IO, TYPE_CHECKING

from jettison.errors import JettisonError

if TYPE_CHECKING:
    from rich.console import Console


def _is_console(out: object) -> bool:
    return hasattr(out, "is_terminal") and hasattr(out, "print") and hasattr(out, "file")


def _stream(out: Console | IO[str]) -> IO[str]:
    """The file behind a rich console, or the stream itself."""
    if _is_console(out):
        file: IO[str] = out.file  # type: ignore[union-attr]
        return file
    return out  # type: ignore[return-value]


def write_plain(console: Console | IO[str], text: str, end: str = "\n") -> None:
    """Machine-readable text (JSON, SARIF, Markdown, diffs) exactly as given, straight to the
    console's file: rich's ``Console.out`` expands tabs, drops carriage returns (a diff that
    no longer applies) and renders per character (minutes for a large JSON document)."""
    stream = _stream(console)
    stream.write(text + end)
    stream.flush()


def use_color(out: Console | IO[str]) -> bool:
    """Colours on a terminal, unless NO_COLOR or TERM=dumb; a rich console decides itself."""
    if _is_console(out):
        return bool(out.is_terminal and not out.no_color)  # type: ignore[union-attr]
    stream = _stream(out)
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@lru_cache(maxsize=4096)
def shown_path(path: str) -> str:
    """``path`` as every report names it: relative to the working directory when inside it,
    ``/``-separated; other paths (and ``image:NAME``) as they are."""
    if not path or path.startswith("image:") or "://" in path:
        return path
    try:
        cwd = os.getcwd()
    except OSError:
        return path
    absolute = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(absolute, cwd)
    if rel == os.curdir:
        return "."
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
        return absolute.replace(os.sep, "/") if os.path.isabs(path) else path
    return rel.replace(os.sep, "/")


def location_path(path: str) -> str:
    """The file a location points at: a context directory stands for its (missing)
    ``.dockerignore``, the file the context rules speak about."""
    shown = shown_path(path)
    if not shown.startswith("image:") and os.path.isdir(path):
        return ".dockerignore" if shown == "." else f"{shown.rstrip('/')}/.dockerignore"
    return shown


def shown_error(e: JettisonError) -> str:
    return str(JettisonError(e.message, shown_path(e.path) if e.path else None, e.line))
