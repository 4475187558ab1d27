"""JT508 pipe-without-pipefail: a pipe in a RUN without `set -o pipefail`."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Command
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule

# commands whose failure in front of a pipe means nothing (`yes | apt-get ...` even dies of
# SIGPIPE by design, which pipefail would turn into a failed build)
_HARMLESS_PIPE_SOURCES = {"echo", "printf", "yes", "true", "cat"}


# official images built on Debian or Ubuntu (bash is essential there) unless the tag says
# alpine; their /bin/sh is dash, which refuses `set -o pipefail` (dash 0.5.12, bookworm)
_DEBIAN_FAMILY = {
    "debian", "ubuntu", "python", "node", "buildpack-deps", "ruby", "golang", "rust",
    "openjdk", "php", "perl", "nginx", "httpd", "postgres", "redis", "gcc", "pypy",
}  # fmt: skip


def _base_shell(root: str) -> str | None:
    """``"ash"`` for Alpine images (busybox sh knows pipefail), ``"dash"`` for images of the
    Debian family (bash is there too), None when unknown."""
    from jettison.rules.python._common import official_image

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
        if sh.shell_has_pipefail(shell):
            continue
        pipe = next(
            (
                c
                for c in script.commands
                if c.next_operator == "|"
                and c.name not in _HARMLESS_PIPE_SOURCES
                and not _checks_its_input(sh.pipeline_end(script.commands, c))
            ),
            None,
        )
        if pipe is None:
            continue
        before = script.text.text[: max(0, _index_of(script.text.offsets, pipe.start))]
        if sh.sets_pipefail(before):
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


def _checks_its_input(cmd: Command) -> bool:
    """`sha256sum -c` and its kin fail on empty or short input ('no properly formatted
    checksum lines'): a producer that fails and prints nothing fails the pipeline anyway."""
    return cmd.name in _CHECKSUM_TOOLS and cmd.has_flag("-c", "--check")


def _index_of(offsets: tuple[int, ...], source_offset: int) -> int:
    import bisect

    return bisect.bisect_left(offsets, source_offset)
