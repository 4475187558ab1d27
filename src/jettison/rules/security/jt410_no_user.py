"""JT410 no-user: the final stage never sets a non-root USER."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.security._common import final_users


@rule(
    "JT410",
    "no-user",
    Category.SECURITY,
    Severity.WARNING,
    "the final stage never sets a non-root USER",
    what="Flags a final stage (and the stages it is built FROM) that never sets USER, so the "
    "container runs as root.",
    why="Most services need no privileges; running as root turns any code-execution bug into "
    "root in the container and widens the blast radius of an escape.",
    example='FROM python:3.11-slim\nCMD ["python", "app.py"]',
    use_instead="RUN useradd --create-home --uid 10001 app\nUSER app",
    fix="`jettison fix --unsafe-fixes` adds a user in its multi-stage conversion.",
    notes="Corresponds to checkov CKV_DOCKER_3; hadolint has no such rule (DL3002 needs an "
    "explicit `USER root`). Images built FROM a stage that set USER inherit it, and so do "
    "images built FROM a base that runs as a non-root user itself: distroless and Chainguard "
    "`nonroot` tags, .NET's `-chiseled` and `-distroless` images (user `app`) and Windows "
    "Nano Server (`ContainerUser`).",
    equivalents={"checkov": "CKV_DOCKER_3"},
)
def no_user(ctx: RuleContext) -> Iterator[Finding]:
    stage, users = final_users(ctx)
    if stage is not None and not users and not _non_root_base(stage.root_image()):
        yield ctx.report(
            "the final stage never sets USER: the container runs as root",
            stage.from_instruction,
        )


# bases that set a non-root USER themselves: distroless/chainguard `nonroot` tags, .NET's
# chiseled and distroless images (USER app, uid 1654), Windows Nano Server (ContainerUser)
_NON_ROOT_BASE = re.compile(
    r"nonroot|^mcr\.microsoft\.com/dotnet/[^:]+:.*-(chiseled|distroless)|"
    r"^mcr\.microsoft\.com/windows/nanoserver(:|$)|:.*\bnanoserver\b",
    re.IGNORECASE,
)


def _non_root_base(image: str) -> bool:
    return bool(_NON_ROOT_BASE.search(image))
