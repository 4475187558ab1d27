"""JT112 debug-tools-in-final-stage: editors and debugging tools installed in the final image."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size.word_removal import remove_words

EDITORS_AND_DEBUG = {
    "vim",
    "vim-tiny",
    "nano",
    "emacs",
    "emacs-nox",
    "less",
    "htop",
    "strace",
    "gdb",
    "tcpdump",
    "telnet",
    "nmap",
    "openssh-server",
    "man-db",
    "manpages",
    "lsof",
    "tmux",
    "screen",
    "mc",
    "iotop",
    "valgrind",
}


@rule(
    "JT112",
    "debug-tools-in-final-stage",
    Category.SIZE,
    Severity.INFO,
    "editors and debugging tools installed in the final image",
    what="Flags vim, nano, emacs, htop, strace, gdb, tcpdump, ssh, man pages and similar "
    "interactive tools installed in a stage of the final image.",
    why="""
        They add megabytes and attack surface and are never used by an automated service
        (`vim` in a simulation image, for one). Debug with `docker exec` into a
        debug sidecar or a separate debug target instead.
    """,
    example="RUN apt-get update && apt-get install -y vim curl",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends curl",
    fix="Unsafe: removes the package names from the install command. A name that ends a "
    "continued RUN goes with the continuation before it (`curl \\` + `vim` becomes `curl`), "
    "so BuildKit does not join the next line into the RUN.",
    fix_safety=FixSafety.UNSAFE,
    notes="Related to hadolint DL3001 (running such commands); this rule looks at what is "
    "installed. Network clients that scripts and services run unattended (openssh-client "
    "for git over ssh, net-tools, iputils-ping, dnsutils, traceroute) are not flagged.",
)
def debug_tools(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        for cmd in sh.commands(ins):
            if cmd.name not in (*sh.APT, "apk", "yum", "dnf", "microdnf"):
                continue
            sub = cmd.subcommand()
            if sub not in ("install", "add"):
                continue
            found = [w for w in cmd.words_after(sub) if w.value in EDITORS_AND_DEBUG]
            if not found:
                continue
            remaining = [w for w in cmd.words_after(sub) if w.value not in EDITORS_AND_DEBUG]
            edits: list[Edit] = []
            if remaining:  # never leave an install with no package
                edits = remove_words(
                    ctx.dockerfile.source, ins, found, ctx.dockerfile.directives.escape
                )
            names = ", ".join(w.value for w in found)
            yield ctx.report(
                f"interactive tools in the final image: {names}",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=edits,
            )
