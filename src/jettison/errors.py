"""Errors users see: one line, with file and line where there is one, never a traceback."""

from __future__ import annotations

import re

# what a parser's message may carry after its first line: a caret or tilde under the culprit
_POINTER_LINE = re.compile(r"^[\s^~]*$")
# C0 and C1 controls (escape sequences, carriage returns ...) a message must not send to
# the terminal as they are: they come from file names and file contents
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """``text`` as one printable line: a multi-line message (YAML's, a requirement parser's
    with its caret line) joined with spaces, control characters shown escaped."""
    if "\n" in text or "\r" in text:
        parts = [p.strip() for p in text.splitlines()]
        text = " ".join(p for p in parts if p and not _POINTER_LINE.match(p))
    text = text.replace("\t", " ")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class JettisonError(Exception):
    """An error reported to the user as ``path:line: message`` with exit code 2."""

    exit_code = 2

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return one_line(f"{where}{self.message}")


class DockerfileParseError(JettisonError):
    """The file is not a Dockerfile BuildKit would accept."""


class EngineUnavailableError(JettisonError):
    """No Docker engine answers."""


class BuildFailedError(JettisonError):
    """A build through the engine failed."""

    exit_code = 1
