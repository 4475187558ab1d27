"""Correctness rules that matter to a fixer: things that break builds or make edits unsafe."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _shell as sh
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT501",
    "unknown-copy-from",
    Category.CORRECTNESS,
    Severity.WARNING,
    "`COPY --from` names neither an earlier stage nor an image",
    what="Flags `COPY --from=x` where `x` is not the name or index of an earlier stage and "
    "does not look like an image reference (no `/`, `:` or `.`).",
    why="BuildKit then tries to pull an image called `x`, which fails, or silently uses an "
    "unrelated image.",
    example="FROM python:3.11 AS build\nFROM python:3.11-slim\nCOPY --from=buidl /venv /venv",
    use_instead="COPY --from=build /venv /venv",
    notes="Like hadolint DL3022, but `--from=$ARG` is resolved through the ARG's value "
    "(hadolint #933).",
    equivalents={"hadolint": "DL3022"},
)
def unknown_from(ctx: RuleContext) -> Iterator[Finding]:
    from jettison.dockerfile.expand import expand

    for stage in ctx.stages:
        for ins in stage.instructions:
            flag = ins.flag("from")
            if ins.keyword != "COPY" or flag is None or not flag.value:
                continue
            value = expand(flag.value, ins.variables, ctx.dockerfile.directives.escape)
            if not value or ("$" in flag.value and not value):
                continue
            earlier = ctx.stages[: stage.index]
            if value.isdigit() and int(value) < stage.index:
                continue
            if any(s.name == value.lower() for s in earlier):
                continue
            if any(ch in value for ch in "/:.@"):
                continue
            yield ctx.report(
                f"`--from={flag.value}` is not an earlier stage",
                ins,
                start=flag.start,
                end=flag.end,
            )


@rule(
    "JT502",
    "duplicate-stage-name",
    Category.CORRECTNESS,
    Severity.ERROR,
    "two stages with the same name",
    what="Flags a stage name used twice.",
    why="BuildKit rejects the file (`duplicate stage name`).",
    example="FROM python:3.11 AS app\nFROM python:3.11-slim AS app",
    use_instead="FROM python:3.11 AS build\nFROM python:3.11-slim AS app",
    equivalents={
        "hadolint": "DL3024",
        "buildkit": "DuplicateStageName",
        "checkov": "CKV_DOCKER_11",
    },
)
def duplicate_stage(ctx: RuleContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for stage in ctx.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            yield ctx.report(f"stage name `{stage.name}` is used twice", stage.from_instruction)
        seen.add(stage.name)


@rule(
    "JT503",
    "relative-workdir",
    Category.CORRECTNESS,
    Severity.WARNING,
    "WORKDIR with a relative path",
    what="Flags `WORKDIR` with a relative path (not starting with `/` or a variable).",
    why="A relative WORKDIR depends on every earlier WORKDIR, including the base image's; "
    "moving instructions (as a fixer does) changes where it points.",
    example="WORKDIR app",
    use_instead="WORKDIR /app",
    equivalents={
        "hadolint": "DL3000",
        "buildkit": "WorkdirRelativePath",
        "checkov": "CKV_DOCKER_10",
    },
)
def relative_workdir(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "WORKDIR" or not ins.args:
            continue
        path = ins.args[0].strip("\"'")
        if path.startswith(("/", "$")) or re.match(r"^[A-Za-z]:[\\/]", path):
            continue
        yield ctx.report(f"`WORKDIR {path}` is relative; use an absolute path", ins)


@rule(
    "JT504",
    "multiple-cmd",
    Category.CORRECTNESS,
    Severity.WARNING,
    "several CMD or ENTRYPOINT in one stage",
    what="Flags a second CMD (or ENTRYPOINT, or HEALTHCHECK) in the same stage.",
    why="Only the last one takes effect; the earlier ones are dead code that misleads "
    "readers and fixers.",
    example='CMD ["python", "a.py"]\nCMD ["python", "b.py"]',
    use_instead='CMD ["python", "b.py"]',
    equivalents={"hadolint": "DL4003", "buildkit": "MultipleInstructionsDisallowed"},
)
def multiple_cmd(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        seen: dict[str, int] = {}
        for ins in stage.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
                if ins.keyword in seen:
                    yield ctx.report(
                        f"another {ins.keyword} at line {seen[ins.keyword]} in "
                        "this stage; only the last one counts",
                        ins,
                    )
                seen[ins.keyword] = ins.line


@rule(
    "JT505",
    "apt-get-without-y",
    Category.CORRECTNESS,
    Severity.WARNING,
    "`apt-get install` without `-y`",
    what="Flags `apt-get install` (also yum/dnf/zypper install) without `-y`/`--yes`/"
    "`--assume-yes`/`-qq`.",
    why="Without it the build waits for a confirmation that never comes and fails.",
    example="RUN apt-get update && apt-get install curl",
    use_instead="RUN apt-get update && apt-get install -y curl",
    fix="Safe: inserts `-y` after `install`.",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3014"},
)
def apt_without_y(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        cmds = sh.commands(ins)
        for i, cmd in enumerate(cmds):
            if cmd.name not in ("apt-get", "yum", "dnf", "zypper") or cmd.subcommand() != "install":
                continue
            if i and cmds[i - 1].name == "yes" and cmds[i - 1].next_operator == "|":
                continue  # `yes | apt-get install` answers the prompts
            if cmd.has_flag(
                "-y", "--yes", "--assume-yes", "-q", "--quiet", "--non-interactive", "-n"
            ) or any(v.startswith("-qq") for v in cmd.arg_values):
                continue
            if cmd.name == "apt-get" and "APT::Get::Assume-Yes" in " ".join(cmd.arg_values):
                continue
            edit = sh.insert_after_word(cmd, "install", "-y")
            yield ctx.report(
                f"`{cmd.name} install` without `-y` waits for confirmation",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
            )


@rule(
    "JT506",
    "instruction-before-from",
    Category.CORRECTNESS,
    Severity.ERROR,
    "an instruction other than ARG before the first FROM",
    what="Flags instructions other than ARG (and comments/directives) before the first FROM.",
    why="BuildKit rejects the file: there is no stage to run them in.",
    example="RUN echo hi\nFROM debian:bookworm",
    use_instead="FROM debian:bookworm\nRUN echo hi",
    equivalents={"hadolint": "DL3061"},
)
def before_from(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword == "FROM":
            return
        if ins.keyword != "ARG":
            yield ctx.report(f"{ins.keyword} before the first FROM", ins)


@rule(
    "JT507",
    "maintainer-deprecated",
    Category.CORRECTNESS,
    Severity.STYLE,
    "MAINTAINER is deprecated",
    what="Flags the MAINTAINER instruction.",
    why="Deprecated since Docker 1.13; a label is machine-readable.",
    example="MAINTAINER jane@example.com",
    use_instead='LABEL org.opencontainers.image.authors="jane@example.com"',
    fix="Safe: rewrites to the OCI authors label (same metadata, standard key): the label "
    "value is exactly what MAINTAINER set as the image's author (quoted for the file's escape "
    "character, so `$`, quotes and the escape character stay literal; non-ASCII text is kept "
    "as is).",
    fix_safety=FixSafety.SAFE,
    equivalents={
        "hadolint": "DL4000",
        "buildkit": "MaintainerDeprecated",
        "checkov": "CKV_DOCKER_6",
    },
)
def maintainer(ctx: RuleContext) -> Iterator[Finding]:
    escape = ctx.dockerfile.directives.escape
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "MAINTAINER":
            continue
        edits: list[Edit] = []
        # BuildKit sets the author to the rest of the instruction as written (continuation
        # lines joined), never expanded
        if len(ins.args) == 1:
            value = label_value(ins.args[0], escape)
            text = f"LABEL org.opencontainers.image.authors={value}"
            edits.append(Edit(ins.start, ins.end, text))
        yield ctx.report("MAINTAINER is deprecated; use a LABEL", ins, edits=edits)


def label_value(value: str, escape: str) -> str:
    """``value`` as a double-quoted LABEL/ENV value that BuildKit reads back as exactly
    ``value``: inside double quotes it expands ``$`` and takes the escape character before
    ``"``, ``$`` or itself as an escape, and nothing else."""
    out = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in value)
    return f'"{out}"'
