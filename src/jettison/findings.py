"""The one result type every analysis produces: audit, context scan and image inspection alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    STYLE = "style"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


_RANK = {Severity.STYLE: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class FixSafety(StrEnum):
    """``safe`` fixes cannot change what the image does; ``unsafe`` ones may."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class Edit(NamedTuple):
    """Replace ``source[start:end]`` with ``text``; offsets index the decoded file text.

    ``path`` names another file (e.g. a ``.dockerignore`` to create); ``None`` means the
    file the finding is about.
    """

    start: int
    end: int
    text: str
    path: str | None = None


class Fix(NamedTuple):
    description: str
    safety: FixSafety
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "safety": self.safety.value,
            "edits": [
                {"start": e.start, "end": e.end, "text": e.text, "path": e.path} for e in self.edits
            ],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    line: int
    end_line: int
    severity: Severity
    column: int = 1
    fix: Fix | None = None
    equivalents: dict[str, str] = field(default_factory=dict)
    rule_name: str = ""
    # False for findings about files whose content must never be echoed (secrets)
    show_source: bool = True

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.rule_name,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "column": self.column,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix.to_json() if self.fix else None,
            "equivalents": dict(self.equivalents),
        }
