"""JT701 shared-base-candidate: compose services whose Dockerfiles start with the same
instructions."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Dockerfile, Instruction
from jettison.findings import Finding, Severity
from jettison.rules.compose.input import ComposeInput
from jettison.rules.registry import Category, rule


def _normal(ins: Instruction) -> str:
    return " ".join(ins.keyword.split()) + " " + " ".join(ins.text.split())


def leading_instructions(df: Dockerfile) -> list[str]:
    """The first stage's instructions up to the first COPY/ADD of the context, normalised."""
    if not df.stages:
        return []
    out = [f"FROM {df.stages[0].base_resolved}"]
    for ins in df.stages[0].instructions[1:]:
        if ins.keyword in ("COPY", "ADD") and not ins.flag("from"):
            break
        out.append(_normal(ins))
    return out


@rule(
    "JT701",
    "shared-base-candidate",
    Category.COMPOSE,
    Severity.INFO,
    "compose services whose Dockerfiles start with the same instructions",
    what="Reports groups of services in a compose file whose Dockerfiles share the base image "
    "and at least one more leading instruction (system packages, ENV, WORKDIR).",
    why="""
        Each service builds and stores those layers separately. A shared base image builds
        them once and every service reuses them from cache (one team's three services went from
        12 min to 1.5 min of builds, with 38-42 % smaller images).
    """,
    example="services api and worker both start FROM python:3.11-slim, apt-get install "
    "libpq5, ENV PYTHONUNBUFFERED=1",
    use_instead="a `Dockerfile.base-python` with the shared lines, and `FROM base-python` in "
    "each service (wired with compose `additional_contexts` or a bake file)",
    scope="compose",
)
def shared_base(ctx: ComposeInput) -> Iterator[Finding]:
    heads = {name: leading_instructions(df) for name, df in ctx.dockerfiles.items()}
    groups: dict[str, list[str]] = {}
    for name, head in heads.items():
        if head:
            groups.setdefault(head[0], []).append(name)
    lines = {s.name: s.line for s in ctx.services}
    for base, names in sorted(groups.items()):
        if len(names) < 2:
            continue
        common = 0
        first = heads[names[0]]
        while common < len(first) and all(
            len(heads[n]) > common and heads[n][common] == first[common] for n in names
        ):
            common += 1
        if common < 2:
            continue
        yield Finding(
            code=ctx.rule.code,
            rule_name=ctx.rule.name,
            severity=ctx.rule.severity,
            path=ctx.path,
            line=min(lines.get(n, 1) for n in names),
            end_line=max(lines.get(n, 1) for n in names),
            message=f"services {', '.join(sorted(names))} share their first {common} "
            f"instructions ({base}, ...): build them once as a shared base image",
        )
