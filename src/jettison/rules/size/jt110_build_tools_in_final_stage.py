"""JT110 build-tools-in-final-stage: compilers, headers or git installed in the final image."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size.build_tools import BUILD_TOOLS, _temporary_installs


def _is_build_package(pkg: str) -> bool:
    return (
        pkg in BUILD_TOOLS
        or pkg.endswith(("-dev", "-devel"))
        or re.match(r"^(gcc|g\+\+|clang|llvm)-\d+$", pkg) is not None
    )


@rule(
    "JT110",
    "build-tools-in-final-stage",
    Category.SIZE,
    Severity.WARNING,
    "compilers, headers or git installed in the final image",
    what="""
        Flags build toolchains (gcc, g++, make, build-essential, cmake, `*-dev` headers, git,
        ...) installed by apt/apk/yum/dnf in a stage of the final image and not purged in the
        same RUN. Builder stages are free to keep them.
    """,
    why="""
        `build-essential` alone is about 200 MB on Debian; `*-dev` packages pull headers and
        static libraries. A runtime needs the shared libraries only. A multi-stage build
        compiles in a builder stage and copies the result (typically 30-50 % smaller).
    """,
    example="""
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y gcc libpq-dev && pip install psycopg2
    """,
    use_instead="""
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
        RUN python -m venv /venv && /venv/bin/pip install psycopg2
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
            && rm -rf /var/lib/apt/lists/*
        COPY --from=builder /venv /venv
    """,
    fix="Unsafe: `jettison fix --unsafe-fixes` converts Python apps to a multi-stage build.",
)
def build_tools(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        temporary = set(_temporary_installs(ins))
        tools = sorted(
            {
                pkg
                for cmd, pkg in sh.installed_packages(ins)
                if _is_build_package(pkg) and (cmd, pkg) not in temporary
            }
        )
        if tools:
            yield ctx.report(
                f"build tools in the final image: {', '.join(tools)}; build in a "
                "builder stage and copy the result",
                ins,
            )
