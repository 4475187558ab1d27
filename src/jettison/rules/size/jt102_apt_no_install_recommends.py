"""JT102 apt-no-install-recommends: `apt-get install` without `--no-install-recommends`."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT102",
    "apt-no-install-recommends",
    Category.SIZE,
    Severity.WARNING,
    "`apt-get install` without `--no-install-recommends`",
    what="Flags `apt-get install` without `--no-install-recommends` in a stage of the final image.",
    why="""
        By default apt also installs every *recommended* package. For typical server packages
        that adds 20-40 % to the installed size (images typically get 20-40 % smaller), and
        more packages to patch for CVEs.
    """,
    example="RUN apt-get update && apt-get install -y libpq5",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends libpq5",
    fix="Unsafe: inserts `--no-install-recommends`; an app may rely on a recommended "
    "package, so verify the image (`jettison bench` runs a smoke check).",
    notes="""
        Differences from hadolint DL3015: builder stages whose files are only copied from are
        not flagged (their size never reaches the final image); `-o
        APT::Install-Recommends=false` is accepted as well.
    """,
    fix_safety=FixSafety.UNSAFE,
    equivalents={"hadolint": "DL3015"},
)
def no_install_recommends(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        for cmd in sh.apt_installs(ins):
            if cmd.has_flag("--no-install-recommends") or any(
                "install-recommends" in v.lower() for v in cmd.arg_values
            ):
                continue
            edit = sh.insert_after_word(cmd, "install", "--no-install-recommends")
            yield ctx.report(
                "`apt-get install` without `--no-install-recommends` also "
                "installs recommended packages",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
            )
