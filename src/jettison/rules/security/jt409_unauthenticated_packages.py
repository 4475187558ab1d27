"""JT409 unauthenticated-packages: package signature checks turned off."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT409",
    "unauthenticated-packages",
    Category.SECURITY,
    Severity.ERROR,
    "package signature checks turned off",
    what="Flags `apt-get --allow-unauthenticated`/`--force-yes`, `apk --allow-untrusted`, "
    "`yum/dnf --nogpgcheck`, `rpm --nosignature/--nodigest`.",
    why="Unsigned packages can be replaced in transit or on a mirror.",
    example="RUN apt-get install -y --allow-unauthenticated foo",
    use_instead="Import the repository's key and keep signature checks on.",
    equivalents={"checkov": "CKV2_DOCKER_8"},
)
def unauthenticated(ctx: RuleContext) -> Iterator[Finding]:
    bad = {
        "--allow-unauthenticated",
        "--force-yes",
        "--allow-untrusted",
        "--nogpgcheck",
        "--nosignature",
        "--nodigest",
        "--no-gpg-checks",
    }
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            hits = [
                v for v in cmd.arg_values if v in bad or v.startswith("--allow-unauthenticated")
            ]
            if hits:
                yield ctx.report(
                    f"`{hits[0]}` turns package signature checks off",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                )
