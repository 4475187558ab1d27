"""JT401 last-user-root: the final stage switches back to root."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.security._common import final_users


@rule(
    "JT401",
    "last-user-root",
    Category.SECURITY,
    Severity.WARNING,
    "the final stage switches back to root",
    what="Flags a final stage whose last USER instruction is `root` (or UID 0).",
    why="A process running as root in the container is root on the host if it escapes; "
    "switching back to root after setting up a user undoes that protection.",
    example="USER app\nRUN make install\nUSER root",
    use_instead="USER root\nRUN make install\nUSER app",
    notes="Same as hadolint DL3002 (last USER root); a final stage that never sets USER is JT410.",
    equivalents={"hadolint": "DL3002", "checkov": "CKV_DOCKER_8"},
)
def last_user_root(ctx: RuleContext) -> Iterator[Finding]:
    _, users = final_users(ctx)
    if users:
        last = users[-1]
        name = (last.args[0] if last.args else "").split(":", 1)[0]
        if name in ("root", "0"):
            yield ctx.report("the last USER is root", last)
