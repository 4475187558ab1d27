"""Findings as a Markdown table (a pull-request comment, a job summary)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from jettison.errors import JettisonError
from jettison.findings import Finding
from jettison.report.output import shown_error, shown_path


def to_markdown(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> str:
    out = ["## jettison audit", ""]
    if not findings and not errors:
        out.append("No findings.")
        return "\n".join(out)
    out += ["| file | line | severity | rule | message | fix |", "|---|---:|---|---|---|---|"]
    for f in findings:
        fix = f.fix.safety.value if f.fix else ""
        msg = f.message.replace("|", "\\|")
        out.append(
            f"| `{shown_path(f.path)}` | {f.line} | {f.severity.value} | {f.code} | {msg} | {fix} |"
        )
    if errors:
        out += ["", "**Could not be checked:**", ""]
        out += [f"- {shown_error(e)}" for e in errors]
    counts = Counter(f.severity.value for f in findings)
    out += ["", ", ".join(f"{v} {k}" for k, v in counts.items()) + f" ({len(findings)} total)"]
    return "\n".join(out)
