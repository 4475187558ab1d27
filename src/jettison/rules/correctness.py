"""Correctness rules that matter to a fixer: things that break builds or make edits unsafe."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

from jettison.dockerfile import Command, Instruction
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


# commands whose failure in front of a pipe means nothing (`yes | apt-get ...` even dies of
# SIGPIPE by design, which pipefail would turn into a failed build)
_HARMLESS_PIPE_SOURCES = {"echo", "printf", "yes", "true", "cat"}
_PIPEFAIL_SET = re.compile(r"(^|[\s;&|(])set\s+(-[a-zA-Z]*o\s*pipefail|-o\s+\w+\s+-o\s+pipefail)")
# official images built on Debian or Ubuntu (bash is essential there) unless the tag says
# alpine; their /bin/sh is dash, which refuses `set -o pipefail` (dash 0.5.12, bookworm)
_DEBIAN_FAMILY = {
    "debian", "ubuntu", "python", "node", "buildpack-deps", "ruby", "golang", "rust",
    "openjdk", "php", "perl", "nginx", "httpd", "postgres", "redis", "gcc", "pypy",
}  # fmt: skip


def _shell_has_pipefail(shell: tuple[str, ...] | list[str]) -> bool:
    args = list(shell[1:])
    return any(
        a == "pipefail" or (a.startswith("-") and "o" in a and a.endswith("pipefail")) for a in args
    ) or any(
        a.startswith("-") and not a.startswith("--") and a.endswith("o") and nxt == "pipefail"
        for a, nxt in itertools.pairwise(args)
    )


def _base_shell(root: str) -> str | None:
    """``"ash"`` for Alpine images (busybox sh knows pipefail), ``"dash"`` for images of the
    Debian family (bash is there too), None when unknown."""
    from jettison.rules.python import official_image

    name = official_image(root)
    tag = root.split("@", 1)[0].rsplit(":", 1)[-1] if ":" in root.rsplit("/", 1)[-1] else ""
    if name == "alpine" or "alpine" in tag:
        return "ash"
    if name in _DEBIAN_FAMILY:
        return "dash"
    return None


@rule(
    "JT508",
    "pipe-without-pipefail",
    Category.CORRECTNESS,
    Severity.WARNING,
    "a pipe in a RUN without `set -o pipefail`",
    what="""
        Flags a RUN whose script pipes one command into another (`curl ... | tar -x`) when
        neither the SHELL in effect (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`) nor the
        script itself (`set -o pipefail` before the pipe) turns `pipefail` on. A pipe fed by
        `echo`, `printf`, `yes`, `true` or `cat` is not flagged.
    """,
    why="""
        A pipeline's status is its last command's: when `curl` fails (a 404, a network
        error), `tar` reads nothing, and the RUN still succeeds. The build goes on with a
        missing file and fails later, or ships a broken image.
    """,
    example="RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt",
    use_instead="""
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt
    """,
    fix="""
        Unsafe (a build whose piped command fails, or dies of SIGPIPE as in `cmd | head -1`,
        then fails where it passed): on an Alpine image, or under a bash SHELL, prepends
        `set -o pipefail && ` to the script; on images of the Debian family, whose `/bin/sh`
        (dash 0.5.12 on bookworm) refuses `set -o pipefail`, adds
        `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before the stage's first such RUN
        (later RUNs of the stage then run under bash too). No fix on other images, whose
        shell is unknown.
    """,
    fix_safety=FixSafety.UNSAFE,
    notes="""
        Like hadolint DL4006, a SHELL with `-o pipefail` or a non-POSIX shell (PowerShell,
        cmd) is compliant; unlike it, `set -o pipefail` in the RUN itself counts too, and a
        pipe fed by `echo`, `printf`, `yes`, `true` or `cat` is not flagged (`yes |
        apt-get ...` would even fail under pipefail), nor one that ends in a checksum check
        (`grep ... | sha256sum -c -`), which fails on its own when the producer prints
        nothing.
    """,
    equivalents={"hadolint": "DL4006"},
)
def pipefail(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    shell_added: set[int] = set()
    for ins in ctx.runs():
        script = ins.script
        if script is None:
            continue
        shell = tuple(ins.args[: ins.args.index("-c")]) if ins.json_form else ins.shell
        if _shell_has_pipefail(shell):
            continue
        pipe = next(
            (
                c
                for c in script.commands
                if c.next_operator == "|"
                and c.name not in _HARMLESS_PIPE_SOURCES
                and not _checks_its_input(_pipeline_end(script.commands, c))
            ),
            None,
        )
        if pipe is None:
            continue
        before = script.text.text[: max(0, _index_of(script.text.offsets, pipe.start))]
        if _PIPEFAIL_SET.search(before):
            continue
        edits: list[Edit] = []
        stage = ins.stage
        base = _base_shell(stage.root_image()) if stage is not None else None
        shell_name = shell[0].rsplit("/", 1)[-1] if shell else ""
        sub = ins.stage is not None and ins not in ins.stage.instructions  # ONBUILD
        if not sub and not ins.heredocs and not ins.json_form:
            if shell_name == "bash" or (base == "ash" and shell_name == "sh"):
                edits = [Edit(script.start, script.start, "set -o pipefail && ")]
            elif (
                base == "dash"
                and tuple(ins.shell) == ("/bin/sh", "-c")
                and stage is not None
                and stage.index not in shell_added
                and not any(i.keyword == "SHELL" for i in stage.all_instructions())
            ):
                shell_added.add(stage.index)
                at = ins.comments_above[0].start if ins.comments_above else ins.start
                at = df.source.rfind("\n", 0, at) + 1
                line = '["/bin/bash", "-o", "pipefail", "-c"]'
                edits = [Edit(at, at, f"SHELL {line}{df.newline}")]
        yield ctx.report(
            f"`{pipe.name} ... | ...`: the RUN succeeds even when `{pipe.name}` fails; "
            "set `-o pipefail`",
            ins,
            start=pipe.start,
            end=pipe.end,
            edits=edits,
        )


_CHECKSUM_TOOLS = frozenset(
    {"md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "shasum"}
)


def _pipeline_end(commands: Sequence[Command], cmd: Command) -> Command:
    """The last command of the pipeline ``cmd`` is in: the next command after each ``|``
    (commands inside an argument's `$(...)` lie within that command's span)."""
    while cmd.next_operator == "|":
        later = [c for c in commands if c.start >= cmd.end]
        if not later:
            break
        cmd = min(later, key=lambda c: c.start)
    return cmd


def _checks_its_input(cmd: Command) -> bool:
    """`sha256sum -c` and its kin fail on empty or short input ('no properly formatted
    checksum lines'): a producer that fails and prints nothing fails the pipeline anyway."""
    return cmd.name in _CHECKSUM_TOOLS and cmd.has_flag("-c", "--check")


def _index_of(offsets: tuple[int, ...], source_offset: int) -> int:
    import bisect

    return bisect.bisect_left(offsets, source_offset)


@rule(
    "JT509",
    "copy-sources-to-file",
    Category.CORRECTNESS,
    Severity.ERROR,
    "COPY/ADD of several sources to a destination without a trailing `/`",
    what="Flags COPY and ADD with more than one source whose destination does not end with "
    "`/` (or `.`).",
    why="""
        The classic builder refuses the instruction ("When using COPY with more than one
        source file, the destination must be a directory and end with a /"). BuildKit
        accepts it, and when the destination does not exist yet it copies every source to
        that one path, each over the previous: only the last source is left, as a file.
    """,
    example="COPY requirements.txt setup.py /app",
    use_instead="COPY requirements.txt setup.py /app/",
    fix="""
        Adds the trailing `/`. Safe when the destination is the WORKDIR in effect (a
        directory: the files land in it either way); unsafe otherwise, since the image then
        holds a directory of every source where BuildKit left one file.
    """,
    fix_safety=FixSafety.UNSAFE,
    notes="Same as hadolint DL3021; it is a warning, not an error, when the destination is "
    "the WORKDIR (BuildKit then builds it as meant; only the classic builder refuses).",
    equivalents={"hadolint": "DL3021"},
)
def copy_sources_to_file(ctx: RuleContext) -> Iterator[Finding]:
    from jettison.dockerfile.expand import expand, references

    escape = ctx.dockerfile.directives.escape
    for stage in ctx.stages:
        workdir = ""
        for ins in stage.all_instructions():
            if ins.keyword == "WORKDIR" and ins.args:
                workdir = _join_dir(workdir, expand(ins.args[0], ins.variables, escape))
                continue
            if ins.stage is not stage or ins.keyword not in ("COPY", "ADD"):
                continue
            if len(ins.args) < 3:
                continue
            dest = ins.args[-1]
            if any(not ins.variables.get(n) for n in references(dest)):
                continue  # its value comes from --build-arg
            value = expand(dest, ins.variables, escape)
            if value.endswith(("/", "/.")) or value == ".":
                continue
            is_workdir = bool(workdir) and _join_dir(workdir, value) == workdir.rstrip("/")
            end = _dest_end(ctx.dockerfile.source, ins, dest)
            edits = [Edit(end, end, "/")] if end is not None else []
            yield ctx.report(
                f"{len(ins.args) - 1} sources copied to `{dest}`, which does not end with `/`"
                + (
                    ": the classic builder refuses it"
                    if is_workdir
                    else ": BuildKit keeps only the last source there, as a file"
                ),
                ins,
                edits=edits,
                safety=FixSafety.SAFE if is_workdir else FixSafety.UNSAFE,
                severity=Severity.WARNING if is_workdir else None,
            )


def _join_dir(base: str, path: str) -> str:
    if path.startswith("/"):
        joined = path
    else:
        joined = (base.rstrip("/") or "") + "/" + path.removeprefix("./")
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def _dest_end(source: str, ins: Instruction, dest: str) -> int | None:
    """The source offset right after the destination as written (shell form only)."""
    if ins.json_form or ins.heredocs:
        return None
    text = ins.body.text.rstrip()
    if not text.endswith(dest):
        return None
    return ins.body.offsets[len(text) - 1] + 1
