"""Atomic file writes: temp file in the same directory, fsync, rename; the original mode (and,
where allowed, owner) is kept.

A symlink is followed: its target gets the new content and the link stays a link. A path that
is not a regular file (``/dev/null``, a FIFO, ``/dev/fd/N`` of a process substitution) is
written in place, never replaced. Several files are written all or nothing
(:func:`write_files_atomic`). A failure is a :class:`JettisonError` naming the file, and no
temporary file is left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from jettison.errors import JettisonError

_SUFFIX = ".jettison-tmp"


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never half."""
    write_files_atomic({Path(path): text}, encoding)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    write_files_atomic({Path(path): data})


def write_files_atomic(
    files: Mapping[Path, str | bytes], encoding: str = "utf-8", make_dirs: bool = False
) -> list[Path]:
    """Write every file or none: all are staged next to their targets first, then renamed;
    when a rename fails, the files already replaced get their old content back (and files
    created are removed). With ``make_dirs``, missing parent directories are created (and
    removed again on failure). Returns the paths written."""
    data = {Path(p): c.encode(encoding) if isinstance(c, str) else c for p, c in files.items()}
    staged: list[tuple[Path, Path, str]] = []  # (path as given, real target, temp file)
    made: list[Path] = []  # directories created, deepest first
    done: list[Path] = []  # targets replaced so far
    originals: dict[Path, bytes | None] = {}
    current = Path()
    try:
        for current, content in data.items():
            if _special_file(current):
                staged.append((current, current, ""))  # written in place when committing
                continue
            target = _real_target(current)
            if make_dirs:
                _make_parents(target.parent, made)
            staged.append((current, target, str(_stage(target, content))))
        if len(staged) > 1:
            originals = _originals(staged)
        for current, target, tmp in staged:
            if not tmp:
                with open(current, "wb") as handle:
                    handle.write(data[current])
                continue
            os.replace(tmp, target)
            done.append(target)
    except BaseException as exc:
        _restore(done, originals)
        _discard(staged, made)
        if isinstance(exc, OSError):
            raise JettisonError(f"cannot write: {exc.strerror or exc}", str(current)) from None
        raise
    _sync_dirs({target.parent for _, target, tmp in staged if tmp})
    return [given for given, _, _ in staged]


def _special_file(path: Path) -> bool:
    """An existing path that is not a regular file: written to as it is."""
    if str(path) in ("", "."):
        raise JettisonError("no file name given")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise JettisonError(f"cannot write: {exc.strerror}", str(path)) from None
    if stat.S_ISDIR(mode):
        raise JettisonError("is a directory, not a file", str(path))
    return not stat.S_ISREG(mode)


def _real_target(path: Path) -> Path:
    real = Path(os.path.realpath(path))
    if real.is_symlink():  # realpath gives up on a loop
        raise JettisonError("cannot write: too many levels of symbolic links", str(path))
    return real


def _make_parents(directory: Path, made: list[Path]) -> None:
    """Create ``directory`` and its missing parents; each one created goes first in ``made``."""
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir()
        made.insert(0, d)


def _stage(target: Path, data: bytes) -> Path:
    import tempfile  # only writers pay for it

    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.chown(tmp, st.st_uid, st.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _originals(staged: list[tuple[Path, Path, str]]) -> dict[Path, bytes | None]:
    out: dict[Path, bytes | None] = {}
    for _, target, tmp in staged:
        if not tmp:
            continue
        try:
            out[target] = target.read_bytes()
        except FileNotFoundError:
            out[target] = None
    return out


def _restore(done: list[Path], originals: dict[Path, bytes | None]) -> None:
    for target in reversed(done):  # best effort: put back what was there
        with contextlib.suppress(OSError):
            old = originals.get(target)
            if old is None:
                target.unlink()
            else:
                os.replace(_stage(target, old), target)


def _discard(staged: list[tuple[Path, Path, str]], made: list[Path]) -> None:
    for _, _, tmp in staged:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    for d in made:  # deepest first
        with contextlib.suppress(OSError):
            d.rmdir()


def _sync_dirs(directories: set[Path]) -> None:
    for directory in directories:  # the renames themselves survive a crash
        with contextlib.suppress(OSError):
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
