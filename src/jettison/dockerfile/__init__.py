"""The Dockerfile model: parse exactly as BuildKit does, keep every span for in-place edits."""

from jettison.dockerfile.model import (
    Comment,
    Directives,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    Stage,
)
from jettison.dockerfile.parse import parse_dockerfile, read_dockerfile
from jettison.dockerfile.shell import Command, MappedText, Script, Word

__all__ = [
    "Command",
    "Comment",
    "Directives",
    "Dockerfile",
    "Flag",
    "Heredoc",
    "Instruction",
    "MappedText",
    "Script",
    "Stage",
    "Word",
    "parse_dockerfile",
    "read_dockerfile",
]
