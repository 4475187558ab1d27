"""JT305 no-healthcheck: a service image without HEALTHCHECK."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT305",
    "no-healthcheck",
    Category.PYTHON,
    Severity.INFO,
    "a service image without HEALTHCHECK",
    what="Notes a final stage that EXPOSEs a port but has no HEALTHCHECK.",
    why="Without a health check the engine (and compose `depends_on: service_healthy`) "
    "cannot tell a hung service from a working one.",
    example='EXPOSE 8000\nCMD ["gunicorn", "app:app"]',
    use_instead='HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.'
    "request; urllib.request.urlopen('http://127.0.0.1:8000/health')\"",
    equivalents={"checkov": "CKV_DOCKER_2"},
)
def no_healthcheck(ctx: RuleContext) -> Iterator[Finding]:
    stage = ctx.dockerfile.final_stage
    if stage is None:
        return
    instrs = list(stage.all_instructions())
    expose = [i for i in instrs if i.keyword == "EXPOSE"]
    if expose and not any(i.keyword == "HEALTHCHECK" for i in instrs):
        yield ctx.report("service image (EXPOSE) without HEALTHCHECK", expose[-1])
