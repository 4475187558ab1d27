"""JT119 dev-files-in-runtime: tests, docs or notebooks copied into the runtime image."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule

_DEV_DIRS = re.compile(
    r"(^|/)(tests?|docs?|notebooks?|examples?|benchmarks?|\.github)"
    r"(/|$)|\.ipynb$|(^|/)(test_[^/]*\.py|conftest\.py)$"
)


@rule(
    "JT119",
    "dev-files-in-runtime",
    Category.SIZE,
    Severity.INFO,
    "tests, docs or notebooks copied into the runtime image",
    what="Flags COPY/ADD of `tests/`, `docs/`, `notebooks/`, `examples/`, `*.ipynb` into a "
    "stage of the final image.",
    why="They are never used at run time; notebooks with outputs can be large.",
    example="COPY tests/ /app/tests/",
    use_instead="Copy only the application package; exclude tests/docs/notebooks in .dockerignore.",
)
def dev_files(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if not stage.in_final_image:
            continue
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and not ins.flag("from"):
                hits = [s for s in ins.args[:-1] if _DEV_DIRS.search(s.strip("./") or ".")]
                if hits:
                    yield ctx.report(
                        f"development files copied into the runtime image: {', '.join(hits)}", ins
                    )
