"""JT504 multiple-cmd: several CMD or ENTRYPOINT in one stage."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT504",
    "multiple-cmd",
    Category.CORRECTNESS,
    Severity.WARNING,
    "several CMD or ENTRYPOINT in one stage",
    what="Flags a second CMD (or ENTRYPOINT, or HEALTHCHECK) in the same stage.",
    why="Only the last one takes effect; the earlier ones are dead code that misleads "
    "readers and fixers.",
    example='CMD ["python", "a.py"]\nCMD ["python", "b.py"]',
    use_instead='CMD ["python", "b.py"]',
    equivalents={"hadolint": "DL4003", "buildkit": "MultipleInstructionsDisallowed"},
)
def multiple_cmd(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        seen: dict[str, int] = {}
        for ins in stage.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
                if ins.keyword in seen:
                    yield ctx.report(
                        f"another {ins.keyword} at line {seen[ins.keyword]} in "
                        "this stage; only the last one counts",
                        ins,
                    )
                seen[ins.keyword] = ins.line
