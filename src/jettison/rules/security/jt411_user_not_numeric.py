"""JT411 user-not-numeric: the final USER is a name, not a numeric UID."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.security._common import final_users

_USERADD_UID = ("-u", "--uid")


def _created_uid(stage: Stage, name: str) -> str | None:
    """The UID a RUN of the image gave user ``name`` (``useradd -u 10001 app``,
    ``adduser -u 10001 -D app``, ``adduser --uid 10001 app``), when written as a number."""
    uid = None
    for ins in stage.all_instructions():
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            if cmd.name not in ("useradd", "adduser"):
                continue
            vals = cmd.arg_values
            if not vals or vals[-1] != name:
                continue
            for i, v in enumerate(vals[:-1]):
                if v in _USERADD_UID and vals[i + 1].isdigit():
                    uid = vals[i + 1]
                elif v.startswith("--uid=") and v[6:].isdigit():
                    uid = v[6:]
    return uid


@rule(
    "JT411",
    "user-not-numeric",
    Category.SECURITY,
    Severity.INFO,
    "the final USER is a name, not a numeric UID",
    what="Flags a final stage whose last USER is a user name (`USER app`) rather than a "
    "numeric UID (`USER 10001`). Root is JT401's; a USER whose value comes from a build "
    "argument without a default is not flagged.",
    why="""
        Kubernetes' `runAsNonRoot` can only check a numeric user: with `USER app` the pod is
        refused ("image has non-numeric user (app), cannot verify user is non-root") unless
        its manifest repeats the UID in `runAsUser`. Other admission policies check the same
        way.
    """,
    example="RUN useradd --uid 10001 app\nUSER app",
    use_instead="RUN useradd --uid 10001 app\nUSER 10001",
    fix="""
        Unsafe: when a RUN of the image created the user with a numeric UID (`useradd -u
        10001 app`), replaces the name with that UID (`USER 10001` or `USER 10001:group`).
        The engine finds the same passwd entry (home directory, primary group) from the UID,
        unless a later step changes the user's UID.
    """,
    fix_safety=FixSafety.UNSAFE,
    notes="Corresponds to hadolint DL3066 as proposed (numeric USER); trivy's and checkov's "
    "runAsNonRoot checks look at the pod spec instead.",
    equivalents={"hadolint": "DL3066"},
)
def user_not_numeric(ctx: RuleContext) -> Iterator[Finding]:
    from jettison.dockerfile.expand import expand, references

    stage, users = final_users(ctx)
    if stage is None or not users:
        return
    last = users[-1]
    if not last.args:
        return
    value = last.args[0]
    if any(not last.variables.get(n) for n in references(value)):
        return
    value = expand(value, last.variables, ctx.dockerfile.directives.escape)
    name, sep, group = value.partition(":")
    if name.isdigit() or name in ("root", "") or "$" in value:
        return
    edits = []
    uid = _created_uid(stage, name)
    if uid is not None and last.args[0] == value and not last.json_form:
        at = ctx.dockerfile.source.find(value, last.keyword_end, last.end)
        if at != -1:
            edits.append(Edit(at, at + len(name), uid))
    yield ctx.report(
        f"`USER {value}` is a name: Kubernetes' runAsNonRoot cannot verify it is not root; "
        + (f"use its UID (`USER {uid}{sep}{group}`)" if uid else "use a numeric UID"),
        last,
        edits=edits,
    )
