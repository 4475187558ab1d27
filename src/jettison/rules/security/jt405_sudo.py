"""JT405 sudo: `sudo` in a RUN."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT405",
    "sudo",
    Category.SECURITY,
    Severity.WARNING,
    "`sudo` in a RUN",
    what="Flags `sudo` in RUN instructions.",
    why="sudo adds a setuid binary and unpredictable TTY/environment behaviour; RUN already "
    "runs as the current USER: switch USER around privileged steps instead.",
    example="RUN sudo apt-get install -y curl",
    use_instead="USER root\nRUN apt-get install -y curl\nUSER app",
    equivalents={"hadolint": "DL3004", "checkov": "CKV2_DOCKER_1"},
)
def sudo(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            if cmd.name == "sudo":
                yield ctx.report(
                    "do not use sudo in a Dockerfile; switch USER instead",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                )
                break
