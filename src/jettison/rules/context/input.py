"""What the build-context rules read: one context, its scan and its .dockerignore."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jettison.findings import Edit, Finding, Fix, FixSafety, Severity

if TYPE_CHECKING:
    # types only: the audit pipeline runs the analysis (rules sit below deps), and the rules
    # are imported by every audit, also those that scan no context
    from jettison.build_context.scan import ContextScan
    from jettison.deps import DepsReport
    from jettison.dockerfile import Dockerfile
    from jettison.rules.registry import Rule


@dataclass
class ContextInput:
    display: str  # the context directory as shown to the user
    scan: ContextScan
    dockerfiles: list[Dockerfile]
    rule: Rule
    # the `jettison deps` analysis of a Python project, run by the audit pipeline when JT605
    # is selected (None otherwise)
    deps_report: DepsReport | None = None

    def report(
        self,
        message: str,
        path: str | None = None,
        line: int = 1,
        severity: Severity | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        return Finding(
            code=self.rule.code,
            message=message,
            path=path or self.display,
            line=line,
            end_line=line,
            severity=severity or self.rule.severity,
            equivalents=dict(self.rule.equivalents),
            rule_name=self.rule.name,
            fix=fix,
            show_source=False,
        )

    @property
    def ignore_display(self) -> str:
        scan = self.scan
        if scan.dockerignore is None:
            return self.display
        return f"{self.display.rstrip('/')}/{scan.dockerignore.name}"

    def ignore_fix(self, title: str, safety: FixSafety, entries: list[str]) -> Fix | None:
        """A fix that appends ``entries`` to the context's .dockerignore (None: it has none)."""
        ignore = self.scan.dockerignore
        if ignore is None:
            return None
        text = ignore.read_text(encoding="utf-8", errors="replace")
        sep = "" if text.endswith("\n") or not text else "\n"
        content = text + sep + "\n".join(entries) + "\n"
        return Fix(title, safety, (Edit(0, 0, content, ignore.name),))
