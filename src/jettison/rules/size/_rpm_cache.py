"""The yum/dnf/zypper cache rules (JT105, JT121, JT122) are one check with three tools: this
factory declares each, its docs filled in per tool.
"""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule
from jettison.rules.size._common import cache_mounted

_RPM_TOOLS = {
    "yum": (("yum",), "yum clean all", "/var/cache/yum"),
    "dnf": (("dnf", "microdnf"), "dnf clean all", "/var/cache/dnf"),
    "zypper": (("zypper",), "zypper clean --all", "/var/cache/zypp"),
}


def _rpm_cache(ctx: RuleContext, family: str) -> Iterator[Finding]:
    tools, clean_cmd, cache_dir = _RPM_TOOLS[family]
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        for tool in tools:
            installs = [
                c
                for c in cmds
                if c.name == tool
                and c.subcommand() in ("install", "in", "groupinstall", "update", "upgrade")
            ]
            if not installs:
                continue
            last = installs[-1].start
            cleaned = any(
                c.name == tool and c.subcommand() == "clean" and c.start > last for c in cmds
            )
            if cleaned or sh.removes(ins, cache_dir, after=last) or cache_mounted(ins, cache_dir):
                continue
            clean = clean_cmd.replace("dnf", tool, 1) if tool == "microdnf" else clean_cmd
            edit = sh.append_to_run(ins, ctx.dockerfile, clean)
            yield ctx.report(
                f"`{tool} {installs[0].subcommand()}` without `{clean}` keeps its cache in "
                "the layer",
                ins,
                edits=[edit] if edit else None,
            )


_RPM_CACHES = {"yum": ("/var/cache/yum/*", "/var/cache/dnf/*"), "dnf": ("/var/cache/dnf/*",)}


def rpm_cache_rule(code: str, family: str, dl: str) -> None:
    tools, clean, cache_dir = _RPM_TOOLS[family]
    names = "/".join(tools)

    def check(ctx: RuleContext) -> Iterator[Finding]:
        return _rpm_cache(ctx, family)

    rule(
        code,
        f"{family}-cache-kept",
        Category.SIZE,
        Severity.WARNING,
        f"`{names} install` without `{clean}` in the same RUN",
        what=f"Flags `{names} install` without `{clean}` (or removing `{cache_dir}`, or a "
        "cache mount on it) in the same RUN, in a stage of the final image.",
        why=f"{names} keeps repository metadata and downloaded packages (often 50-200 MB) in "
        f"`{cache_dir}`.",
        example=f"RUN {tools[0]} install -y httpd",
        use_instead=f"RUN {tools[0]} install -y httpd && {clean}",
        fix=f"Safe: appends `{clean}` to the same RUN.",
        notes=f"Matches hadolint {dl}, except that builder stages (whose files are only "
        "copied from) are not flagged, `update`/`upgrade` count as installs (they download "
        "packages too), and only removing the cache directory counts as cleanup (hadolint "
        "takes any `rm -rf`). Like hadolint, the clean must come after the install.",
        fix_safety=FixSafety.SAFE,
        image_changes=ImageChanges(
            removed=_RPM_CACHES.get(family, ("/var/cache/zypp/*",)), why=f"{family}'s cache"
        ),
        equivalents={"hadolint": dl},
    )(check)
