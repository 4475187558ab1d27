"""JT406 curl-pipe-shell: a download piped into a shell."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule

_SHELLS = {"sh", "bash", "zsh", "dash", "ash", "ksh", "python", "python3", "perl", "ruby"}


@rule(
    "JT406",
    "curl-pipe-shell",
    Category.SECURITY,
    Severity.WARNING,
    "a download piped into a shell",
    what="Flags `curl ... | sh` and `wget -O- ... | bash` (also into python/perl).",
    why="The script runs unverified: a compromised or truncated download executes whatever "
    "it contains, and builds are not reproducible.",
    example="RUN curl -fsSL https://get.example.sh | sh",
    use_instead="RUN curl -fsSLo /tmp/install.sh https://get.example.sh \\\n    && echo "
    '"<sha256>  /tmp/install.sh" | sha256sum -c - && sh /tmp/install.sh '
    "&& rm /tmp/install.sh",
)
def curl_pipe(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        cmds = sh.commands(ins)
        for a, b in itertools.pairwise(cmds):
            if (
                a.name in ("curl", "wget")
                and a.next_operator == "|"
                and b.name in _SHELLS
                and not any(v.endswith((".py", ".sh")) for v in b.arg_values)
            ):
                yield ctx.report(
                    f"`{a.name} ... | {b.name}` runs a download unverified",
                    ins,
                    start=a.start,
                    end=b.end,
                )
