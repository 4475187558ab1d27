"""JT116 copy-whole-stage: `COPY --from=stage / /` copies a whole filesystem."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT116",
    "copy-whole-stage",
    Category.SIZE,
    Severity.WARNING,
    "`COPY --from=stage / /` copies a whole filesystem",
    what="Flags `COPY --from=<stage> / /` (or to any destination) in a stage of the final image.",
    why="It copies the builder's entire filesystem, compilers and caches included, "
    "defeating the multi-stage build.",
    example="COPY --from=builder / /",
    use_instead="COPY --from=builder /venv /venv",
    notes="A copy into a builder stage is not flagged: it never reaches "
    "the final image (`COPY --from=xx / /` of a cross-compilation helper into the stage that "
    "compiles).",
    equivalents={"hadolint": "DL3067"},
)
def copy_whole_stage(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    for ins in df.instructions:
        source = ins.flag("from") if ins.keyword == "COPY" else None
        if (
            source is not None
            and len(ins.args) >= 2
            and any(s.rstrip("/") in ("", ".") or s in ("/", "/.") for s in ins.args[:-1])
            and ins.stage is not None
            and ins.stage.in_final_image
        ):
            yield ctx.report(
                "copies the whole filesystem of another stage; copy only what the runtime needs",
                ins,
            )
