"""JT131 wheels-copied-into-final: wheels copied from a build stage stay in the final image
after they are installed.
"""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules._project import pip_subcommand, resolve_path
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import workdirs


@rule(
    "JT131",
    "wheels-copied-into-final",
    Category.SIZE,
    Severity.WARNING,
    "wheels copied from a build stage stay in the final image after they are installed",
    what="""
        Flags `COPY --from=STAGE DIR DIR` in the final image followed by a `pip install`
        from that directory (`DIR/*.whl`, `--find-links DIR`), when nothing else uses DIR.
    """,
    why="""
        The COPY layer keeps every wheel even if a later `rm -rf DIR` deletes them: the
        image carries the packages twice, once installed and once as wheels. A bind mount
        of the build stage's directory lends the wheels to the install and leaves none in
        the image.
    """,
    example="COPY --from=builder /wheels /wheels\nRUN pip install --no-cache-dir /wheels/*",
    use_instead="RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \\\n"
    "    pip install --no-cache-dir /wheels/*",
    fix="""
        Unsafe: removes the COPY and adds the bind mount to the install's RUN; an `rm -rf
        DIR` at the end of that RUN goes (the mount is read-only). `RUN --mount` needs
        BuildKit, Docker's default builder since 23.0 (on Docker 20.10, build with
        `DOCKER_BUILDKIT=1`); `--verify` builds it that way. The bytes saved are the COPY
        layer's size (`jettison inspect` shows it).
    """,
    fix_safety=FixSafety.UNSAFE,
)
def wheels_copied(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        for ins in stage.instructions:
            found = installed_once(ins)
            if found is None:
                continue
            dest, run = found
            src_stage = ins.flag("from")
            assert src_stage is not None
            edits: list[Edit] = []
            if not run.heredocs:
                edits = _bind_edits(ctx, ins, run, src_stage.value or "", dest)
            yield ctx.report(
                f"the wheels copied into {dest} stay in the image after `pip install`; "
                f"bind-mount them from `{src_stage.value}` for the install instead",
                ins,
                edits=edits,
            )


def installed_once(copy: Instruction) -> tuple[str, Instruction] | None:
    """This rule's case: ``copy`` is a `COPY --from=STAGE SRC DIR` (no other flag) in a stage
    of the final image, and the only later instruction that names DIR is one RUN that
    pip-installs from it: (DIR, that RUN). JT109 leaves this case to this rule."""
    stage = copy.stage
    if stage is None or not stage.in_final_image:
        return None
    if copy.keyword != "COPY" or copy.flag("from") is None or len(copy.args) != 2:
        return None
    if len(copy.flags) != 1:
        return None  # --chown/--chmod/--link: the mount would not reproduce them
    dest = resolve_path(workdirs(stage).get(copy.index), copy.args[-1])
    if dest is None or dest in ("/", "/usr", "/usr/local", "/app"):
        return None
    at = stage.instructions.index(copy)
    users = [
        later
        for later in stage.instructions[at + 1 :]
        if dest in later.text or any(dest in a for a in later.args)
    ]
    installs = [u for u in users if u.keyword == "RUN" and _installs_from(u, dest)]
    if len(users) != 1 or len(installs) != 1:
        return None
    return dest, installs[0]


def _installs_from(run: Instruction, dest: str) -> bool:
    return any(
        pip_subcommand(c) == "install" and any(v.startswith(dest) for v in c.arg_values)
        for c in sh.commands(run)
    )


def _bind_edits(
    ctx: RuleContext, copy: Instruction, run: Instruction, stage: str, dest: str
) -> list[Edit]:
    source = ctx.dockerfile.source
    src = copy.args[0]
    cmds = sorted({(c.start, c.end): c for c in sh.commands(run)}.values(), key=lambda c: c.start)
    edits: list[Edit] = []
    for i, c in enumerate(cmds):
        if c.name == "rm" and any(v.rstrip("/*") == dest.rstrip("/") for v in c.arg_values):
            # only a trailing `&& rm -rf DIR` goes; anywhere else the RUN is left alone
            if i != len(cmds) - 1 or i == 0 or cmds[i - 1].next_operator != "&&":
                return []
            prev_end = cmds[i - 1].end
            edits.append(Edit(prev_end, c.end, ""))
        elif c.name != "rm" and dest in source[c.start : c.end] and pip_subcommand(c) != "install":
            return []  # another command reads the wheels
    line_start = source.rfind("\n", 0, copy.start) + 1
    line_end = source.find("\n", copy.end)
    line_end = len(source) if line_end == -1 else line_end + 1
    mount = f" --mount=type=bind,from={stage},source={src},target={dest}"
    edits.append(Edit(line_start, line_end, ""))
    edits.append(Edit(run.keyword_end, run.keyword_end, mount))
    return sorted(edits, key=lambda e: e.start)
