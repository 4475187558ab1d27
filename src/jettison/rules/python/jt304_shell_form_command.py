"""JT304 shell-form-command: shell-form CMD or ENTRYPOINT."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Dockerfile, Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.python._common import official_image
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule

# official images whose config sets no ENTRYPOINT: a CMD on them is the whole argv
_NO_ENTRYPOINT_IMAGES = frozenset(
    {
        "almalinux", "alpine", "amazonlinux", "buildpack-deps", "busybox", "centos",
        "debian", "elixir", "erlang", "fedora", "gcc", "golang", "haskell", "openjdk",
        "perl", "pypy", "python", "rockylinux", "ruby", "rust", "ubuntu",
    }
)  # fmt: skip


_BASE = "base"  # the base image's ENTRYPOINT/CMD, unknown to the rule


_Setting = Instruction | str | None  # an instruction, _BASE, or nothing set


def _image_commands(df: Dockerfile) -> list[tuple[_Setting, _Setting]]:
    """(ENTRYPOINT, CMD) of every stage's image, as the builder sets them: an ENTRYPOINT
    clears the CMD unless a CMD came before it in the same stage (one inherited through
    ``FROM stage`` is cleared too)."""
    out: list[tuple[_Setting, _Setting]] = []
    for stage in df.stages:
        entrypoint: _Setting
        cmd: _Setting
        if stage.parent is not None:
            entrypoint, cmd = out[stage.parent.index]
        else:
            known = not stage.base_unresolved and (
                official_image(stage.base_resolved) in _NO_ENTRYPOINT_IMAGES
            )
            entrypoint, cmd = (None if known else _BASE), _BASE
        cmd_set = False
        for ins in stage.instructions:
            if ins.keyword == "CMD":
                cmd, cmd_set = ins, True
            elif ins.keyword == "ENTRYPOINT":
                entrypoint = ins
                if not cmd_set:
                    cmd = None
        out.append((entrypoint, cmd))
    return out


def _is_set(setting: _Setting) -> bool:
    if isinstance(setting, Instruction):
        return not (setting.json_form and not setting.args)  # `ENTRYPOINT []` sets nothing
    return setting is not None


def _argv_changes(ins: Instruction, images: list[tuple[_Setting, _Setting]]) -> str | None:
    """Why exec form would change the argv of an image whose CMD or ENTRYPOINT ``ins`` is
    (Docker runs ENTRYPOINT + CMD; a shell-form ENTRYPOINT gets the CMD as ``$0 $@``)."""
    for entrypoint, cmd in images:
        if cmd is ins and _is_set(entrypoint):
            if isinstance(entrypoint, Instruction):
                return f"the ENTRYPOINT at line {entrypoint.line} would get other arguments"
            return "the base image may set an ENTRYPOINT, which would get other arguments"
        if entrypoint is ins and isinstance(cmd, Instruction) and _is_set(cmd):
            # (a stage's own ENTRYPOINT always clears the base image's CMD)
            return f"exec form would append the CMD at line {cmd.line} to the command"
    return None


def _exec_form(
    ins: Instruction, images: list[tuple[_Setting, _Setting]]
) -> tuple[str | None, str | None]:
    """(the exec form of a shell-form command, why it is not rewritten): the exec form only
    when the container runs the same argv with it."""
    stage = ins.stage
    if len(ins.args) != 1 or stage is None:
        return None, None
    words = sh.exec_split(ins.args[0])
    if words is None or not sh.posix_command_shell(ins.shell):
        return None, None  # expansions, operators, quotes, globs or `NAME=value` need a shell
    if ins.shell[0].endswith("bash") and "BASH_ENV" in ins.variables:
        return None, None  # bash -c reads $BASH_ENV first
    root = stage.root_image().lower()
    if any(word in root for word in ("windows", "nanoserver", "servercore")):
        return None, None  # the shell there is cmd or powershell
    why = _argv_changes(ins, images)
    if why is not None:
        return None, why
    import json  # imported here: only a command this rule can rewrite needs it

    return json.dumps(words, ensure_ascii=False), None


@rule(
    "JT304",
    "shell-form-command",
    Category.PYTHON,
    Severity.WARNING,
    "shell-form CMD or ENTRYPOINT",
    what="Flags CMD/ENTRYPOINT written in shell form (`CMD python app.py`).",
    why="""
        Shell form runs `/bin/sh -c "..."` as PID 1; `docker stop`'s SIGTERM goes to the
        shell, which does not forward it: the app is killed after the 10 s timeout instead
        of shutting down cleanly.
    """,
    example="CMD gunicorn app:app",
    use_instead='CMD ["gunicorn", "app:app"]',
    fix="""
        Safe for a CMD: rewrites to exec form only when the container then runs the same argv. The
        command must have no shell syntax (no variables, quotes, operators, globs or
        assignments), not start with a shell builtin or reserved word (`echo`, `exec`,
        `cd`...), and run under `/bin/sh -c` (or a `SHELL` such as `bash -o pipefail -c`). A
        CMD is not rewritten while an ENTRYPOINT is in effect (set in its stage or a parent
        stage, or possibly by a base image other than well-known official ones such as
        `python` or `debian` that set none): the ENTRYPOINT would get other arguments. An
        ENTRYPOINT is not rewritten while a CMD is in effect for it (before it in its stage,
        or in a stage built FROM it): exec form appends the CMD, shell form passes it as
        `$0 $@`. The finding then says why it was not rewritten. An ENTRYPOINT rewrite is
        always unsafe: `docker run IMAGE args` appends args to an exec-form ENTRYPOINT,
        while the shell form ignored them, so what such a run does changes.
    """,
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(
        config=("Cmd", "Entrypoint"), why="the shell-form command becomes its exec form"
    ),
    equivalents={"hadolint": "DL3025", "buildkit": "JSONArgsRecommended"},
    notes="Like hadolint, applies to every stage; unlike it, `HEALTHCHECK CMD` in shell form "
    "is not flagged (the check is not PID 1, so signals do not matter).",
)
def shell_form(ctx: RuleContext) -> Iterator[Finding]:
    images = _image_commands(ctx.dockerfile)
    for ins in ctx.dockerfile.instructions:
        if ins.keyword in ("CMD", "ENTRYPOINT") and not ins.json_form and ins.text.strip():
            exec_form, why_not = _exec_form(ins, images)
            edits = [Edit(ins.body.offsets[0], ins.end, exec_form)] if exec_form else []
            message = f"shell-form {ins.keyword}: signals go to /bin/sh, not the app"
            if why_not:
                message += f" (not rewritten: {why_not})"
            safety = None
            if edits and ins.keyword == "ENTRYPOINT":
                # `docker run IMAGE args` passes args to an exec-form ENTRYPOINT; the shell
                # form ignored them: the rewrite changes what such a run does
                safety = FixSafety.UNSAFE
                message += (
                    " (rewrite is unsafe: `docker run IMAGE args` would pass args to it, "
                    "which the shell form ignores)"
                )
            yield ctx.report(message, ins, edits=edits, safety=safety)
