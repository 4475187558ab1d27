"""JT603 secrets-in-context: private keys, .env files or credentials in the build context."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.context.input import ContextInput
from jettison.rules.registry import Category, rule


@rule(
    "JT603",
    "secrets-in-context",
    Category.CONTEXT,
    Severity.ERROR,
    "private keys, .env files or credentials in the build context",
    what="Flags files that look like secrets (private keys, `.env`, `.netrc`, `.pypirc`, "
    "npm tokens, cloud credentials, Docker auth) that `.dockerignore` does not exclude. "
    "Their content is never printed. Environment-file templates meant to be committed "
    "(`.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `example.env` ...) are "
    "not flagged, nor names that only start with `.env` (`.envoy.yaml`).",
    why="They are sent to the builder, and `COPY . .` bakes them into a layer that anyone "
    "who can pull the image can read, even if a later layer deletes them.",
    example="(a context with .env and deploy/id_rsa, no .dockerignore)",
    use_instead="Add them to .dockerignore; pass build secrets with `RUN --mount=type=secret`.",
    scope="context",
)
def secrets_in_context(ctx: ContextInput) -> Iterator[Finding]:
    for rel, kind in ctx.scan.secrets:
        yield ctx.report(
            f"{rel}: {kind} in the build context and not ignored",
            path=f"{ctx.display.rstrip('/')}/{rel}",
        )
