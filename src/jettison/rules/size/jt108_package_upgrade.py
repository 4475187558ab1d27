"""JT108 package-upgrade: `apt-get upgrade`/`dist-upgrade` in the Dockerfile."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT108",
    "package-upgrade",
    Category.SIZE,
    Severity.INFO,
    "`apt-get upgrade`/`dist-upgrade` in the Dockerfile",
    what="Flags `apt-get upgrade`, `dist-upgrade`, `full-upgrade`, and `apk upgrade`.",
    why="""
        Upgrading every package duplicates much of the base image in a new layer (tens to
        hundreds of MB) and makes builds unreproducible. Use a newer base image tag instead,
        and upgrade only what a security fix needs.
    """,
    example="RUN apt-get update && apt-get upgrade -y",
    use_instead="FROM python:3.11-slim  # rebuilt regularly; pin a recent patch tag",
    notes="Corresponds to Trivy DS-0024 and hadolint's removed DL3005.",
)
def package_upgrade(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        for cmd in sh.commands(ins):
            sub = cmd.subcommand()
            if (cmd.name in sh.APT and sub in ("upgrade", "dist-upgrade", "full-upgrade")) or (
                cmd.name == "apk" and sub == "upgrade"
            ):
                yield ctx.report(
                    f"`{cmd.name} {sub}` rewrites base-image files into a new "
                    "layer; use a newer base image instead",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                )
