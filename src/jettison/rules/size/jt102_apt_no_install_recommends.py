"""JT102 apt-no-install-recommends: `apt-get install` without `--no-install-recommends`."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import stages_in_image


@rule(
    "JT102",
    "apt-no-install-recommends",
    Category.SIZE,
    Severity.WARNING,
    "`apt-get install` without `--no-install-recommends`",
    what="""
        Flags `apt-get install` without `--no-install-recommends` in a stage of the final
        image, and (as info) in a builder stage the final image copies files from.
    """,
    why="""
        By default apt also installs every *recommended* package. For typical server packages
        that adds 20-40 % to the installed size (images typically get 20-40 % smaller), and
        more packages to patch for CVEs. In a builder, recommended packages are more
        downloads for every build, and they hand the build optional libraries and headers to
        link against: a program built there then needs those libraries in the final image
        too (a uWSGI built where recommends brought libxml2's headers links libxml2, and the
        final image must carry libxml2 and libicu, about 36 MB).
    """,
    example="RUN apt-get update && apt-get install -y libpq5",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends libpq5",
    fix="Unsafe: inserts `--no-install-recommends`; an app may rely on a recommended "
    "package, so verify the image (`jettison bench` runs a smoke check).",
    notes="""
        Differences from hadolint DL3015: builder stages nothing in the final image comes
        from are not flagged, and a builder stage it copies from is reported as info (its
        own size never reaches the final image, what it builds does); `-o
        APT::Install-Recommends=false` is accepted as well.
    """,
    fix_safety=FixSafety.UNSAFE,
    equivalents={"hadolint": "DL3015"},
)
def no_install_recommends(ctx: RuleContext) -> Iterator[Finding]:
    builders = {
        stage.index for stage in stages_in_image(ctx.dockerfile) if not stage.in_final_image
    }
    for ins in ctx.runs():
        stage = ins.stage
        builder = stage is not None and stage.index in builders
        if stage is not None and not stage.in_final_image and not builder:
            continue
        for cmd in sh.apt_installs(ins):
            if cmd.has_flag("--no-install-recommends") or any(
                "install-recommends" in v.lower() for v in cmd.arg_values
            ):
                continue
            edit = sh.insert_after_word(cmd, "install", "--no-install-recommends")
            message = (
                "`apt-get install` without `--no-install-recommends` in a builder stage the "
                "final image copies from: recommended packages give the build optional "
                "libraries to link against, which the final image must then carry"
                if builder
                else "`apt-get install` without `--no-install-recommends` also installs "
                "recommended packages"
            )
            yield ctx.report(
                message,
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
                severity=Severity.INFO if builder else None,
            )
