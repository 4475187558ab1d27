"""JT133 git-for-pip-only: git installed for a `pip install git+...` and kept in the image."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Command, Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import final_installs

_VCS_USERS = re.compile(r"^\s*(gitpython|pygit2|dulwich|pre-commit|setuptools-scm)\b", re.I | re.M)


@rule(
    "JT133",
    "git-for-pip-only",
    Category.SIZE,
    Severity.WARNING,
    "git installed for a `pip install git+...` and kept in the image",
    what="""
        Flags git installed by apt in the final image when its only use is a pip install of
        a `git+` requirement (on the command line or in a requirements file): no later
        command, no ENTRYPOINT/CMD and no listed distribution that drives git
        (GitPython, pygit2, dulwich) uses it.
    """,
    why="""
        pip needs git only while it clones; git then stays with its dependencies (perl,
        curl's libraries, about 40 MB on Debian bookworm, ~90 MB with recommends).
    """,
    example="RUN apt-get update && apt-get install -y git \\\n"
    "    && pip install git+https://github.com/org/lib",
    use_instead="RUN apt-get update && apt-get install -y git \\\n"
    "    && pip install git+https://github.com/org/lib \\\n"
    "    && apt-get purge -y --auto-remove git",
    fix="""
        Unsafe: when git is installed in the RUN of the pip install, appends
        `apt-get purge -y --auto-remove git` to it. In separate RUNs only the finding is
        given: the multi-stage conversion (`fix --unsafe-fixes`) moves git into its builder.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def git_for_pip_only(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    context = df.context_dir
    installs = [(i, c, w) for i, c, w in final_installs(ctx) if w.value.split("=")[0] == "git"]
    if not installs:
        return
    ins, _cmd, word = installs[0]
    final = df.final_stage
    assert final is not None
    pip_uses: list[tuple[Instruction, Command]] = []
    for later in final.all_instructions():
        if later.index < ins.index and later is not ins:
            continue
        if later.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK") and any(
            "git" in a.split() or "/git" in a for a in later.args
        ):
            return
        if later.keyword != "RUN":
            continue
        for cmd in sh.commands(later):
            if cmd.name == "git":
                return
            if not sh.is_pip_install(cmd):
                continue
            values = cmd.arg_values
            texts = [v for v in values if v.startswith("git+")]
            for i, v in enumerate(values):
                if v in ("-r", "--requirement") and i + 1 < len(values):
                    path = context / values[i + 1].lstrip("/")
                    try:
                        content = path.read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        continue
                    if _VCS_USERS.search(content):
                        return  # a distribution that runs git at run time
                    if "git+" in content:
                        texts.append(values[i + 1])
            if texts:
                pip_uses.append((later, cmd))
    if not pip_uses:
        return
    run, cmd = pip_uses[-1]
    edits: list[Edit] = []
    if run is ins and len(pip_uses) == 1:
        edit = sh.append_to_run(run, df, "apt-get purge -y --auto-remove git")
        if edit is not None:
            edits.append(edit)
    yield ctx.report(
        f"git is only used by `pip install` of a git+ requirement (line {run.line}) and "
        "stays in the image (about 40 MB with its dependencies): purge it in the same RUN, "
        "or install in a builder stage",
        ins,
        start=word.start,
        end=word.end,
        edits=edits,
    )
