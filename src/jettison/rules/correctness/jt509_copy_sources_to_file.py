"""JT509 copy-sources-to-file: COPY/ADD of several sources to a destination without a trailing
`/`.
"""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule


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
