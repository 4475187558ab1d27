"""Build-context rules: .dockerignore presence and coverage, secrets, context size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jettison.context.scan import ContextScan
from jettison.dockerfile import Dockerfile
from jettison.findings import Finding, Severity
from jettison.rules.registry import Rule


@dataclass
class ContextInput:
    display: str  # the context directory as shown to the user
    scan: ContextScan
    dockerfiles: list[Dockerfile]
    rule: Rule

    def report(self, message: str, path: str | None = None, line: int = 1,
               severity: Severity | None = None) -> Finding:
        return Finding(code=self.rule.code, message=message, path=path or self.display,
                       line=line, end_line=line, severity=severity or self.rule.severity,
                       equivalents=dict(self.rule.equivalents), rule_name=self.rule.name)


def _unused(ctx: ContextInput) -> Iterator[Finding]:
    yield from ()
