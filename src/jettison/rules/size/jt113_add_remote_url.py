"""JT113 add-remote-url: `ADD` of a remote URL."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import REMOTE_URL


@rule(
    "JT113",
    "add-remote-url",
    Category.SIZE,
    Severity.WARNING,
    "`ADD` of a remote URL",
    what="Flags `ADD https://...` (without `--checksum`).",
    why="""
        ADD downloads the file into its own layer and never deletes it; an archive fetched
        this way is kept compressed *and* usually extracted by a later RUN, so it is stored
        twice. There is also no integrity check unless `--checksum` is given.
    """,
    example="ADD https://example.com/tool.tar.gz /tmp/",
    use_instead="RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt",
    notes="Related to hadolint DL3020 (ADD for local files) and checkov CKV_DOCKER_4.",
)
def add_remote(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if (
            ins.keyword == "ADD"
            and any(REMOTE_URL.match(a) for a in ins.args[:-1])
            and not ins.flag("checksum")
        ):
            yield ctx.report(
                "`ADD` of a URL keeps the download in its own layer and checks "
                "no checksum; fetch, unpack and clean up in one RUN",
                ins,
            )
