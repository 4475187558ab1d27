"""Errors users see: one line, with file and line where there is one, never a traceback."""

from __future__ import annotations


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
        return f"{where}{self.message}"


class DockerfileParseError(JettisonError):
    """The file is not a Dockerfile BuildKit would accept."""


class EngineUnavailableError(JettisonError):
    """No Docker engine answers."""


class BuildFailedError(JettisonError):
    """A build through the engine failed."""

    exit_code = 1
