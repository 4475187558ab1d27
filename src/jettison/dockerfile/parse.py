"""Build the :class:`Dockerfile` model from text.

BuildKit's own parser (through the ``dockerfile`` package) decides what the instructions are,
their arguments, JSON vs shell form and heredocs, so jettison accepts exactly what BuildKit
accepts. This module adds what that parser does not give: exact character spans, flags with
spans, comments, parser directives, stages and ARG/ENV scope.
"""

from __future__ import annotations

import re
from pathlib import Path

import dockerfile as buildkit

from jettison.dockerfile.expand import expand, references
from jettison.dockerfile.model import (
    Comment,
    Directives,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    Stage,
)
from jettison.dockerfile.rejections import instruction_error
from jettison.dockerfile.shell import MappedText
from jettison.errors import DockerfileParseError

KNOWN_INSTRUCTIONS = frozenset(
    {
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    }
)

# ARGs BuildKit defines automatically in the global scope (values for the host it runs on)
AUTOMATIC_ARGS = {
    "TARGETPLATFORM": "linux/amd64",
    "TARGETOS": "linux",
    "TARGETARCH": "amd64",
    "TARGETVARIANT": "",
    "BUILDPLATFORM": "linux/amd64",
    "BUILDOS": "linux",
    "BUILDARCH": "amd64",
    "BUILDVARIANT": "",
}

DEFAULT_SHELL = ("/bin/sh", "-c")

_DIRECTIVE = re.compile(r"^#[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(.*?)[ \t]*$")
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")


def read_dockerfile(path: str | Path) -> Dockerfile:
    """Read and parse a file; errors are :class:`DockerfileParseError` with file and line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DockerfileParseError("no such file", str(path)) from None
    except IsADirectoryError:
        raise DockerfileParseError("is a directory, not a Dockerfile", str(path)) from None
    except OSError as exc:
        raise DockerfileParseError(f"cannot read: {exc.strerror}", str(path)) from None
    return parse_dockerfile(decode_dockerfile(data, str(path)), str(path))


def decode_dockerfile(data: bytes, path: str = "<string>") -> str:
    if b"\x00" in data[:8192]:
        raise DockerfileParseError("binary data, not a Dockerfile", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DockerfileParseError("not valid UTF-8 text", path, line) from None


def parse_dockerfile(source: str, path: str = "<string>", context: str | None = None) -> Dockerfile:
    """The Dockerfile model of ``source``; ``context``: its build context directory, when it
    is not the Dockerfile's folder."""
    df = _parse(source, path)
    df.context = context
    return df


def _parse(source: str, path: str) -> Dockerfile:
    line_starts = _line_starts(source)
    directives = _parse_directives(source, line_starts)
    try:
        commands = buildkit.parse_string(source)
    except buildkit.GoParseError as exc:
        raise DockerfileParseError(
            _buildkit_message(str(exc)), path, _guess_error_line(str(exc), source)
        ) from None
    except Exception as exc:  # the Go side can raise odd errors on odd input
        raise DockerfileParseError(f"cannot parse: {exc}", path) from None

    newline = "\r\n" if "\r\n" in source[:4096] else "\n"
    builder = _Builder(source, path, line_starts, directives.escape)
    instructions: list[Instruction] = []
    for index, cmd in enumerate(commands):
        keyword = cmd.cmd.upper()
        if keyword not in KNOWN_INSTRUCTIONS:
            raise DockerfileParseError(f"unknown instruction: {cmd.cmd}", path, cmd.start_line)
        # what BuildKit's instruction layer rejects after its parser accepted the line (its
        # own messages): the parser alone takes ``USER`` or ``COPY a`` without complaint
        error = instruction_error(keyword, cmd)
        if error is not None:
            raise DockerfileParseError(error, path, cmd.start_line)
        ins = builder.instruction(cmd, keyword)
        ins.index = index
        if keyword == "ONBUILD":
            ins.sub_instruction = _trigger(ins)
        instructions.append(ins)

    comments = builder.comments(instructions, directives.end)
    _attach_comments(instructions, comments, line_starts)
    global_args, stages = _build_stages(instructions, path, directives.escape)
    return Dockerfile(
        path=path,
        source=source,
        directives=directives,
        instructions=instructions,
        global_args=global_args,
        stages=stages,
        comments=comments,
        line_starts=line_starts,
        newline=newline,
    )


def _trigger(onbuild: Instruction) -> Instruction | None:
    """The instruction an ``ONBUILD`` line runs in images built FROM this one, with spans in
    this file, so rules read (and fixes edit) ``ONBUILD RUN ...`` like any RUN."""
    body = onbuild.body
    if onbuild.heredocs or not body.text.strip():
        return None
    try:
        commands = buildkit.parse_string(body.text + "\n")
    except Exception:  # checked when a child image builds, not here
        return None
    if len(commands) != 1:
        return None
    cmd = commands[0]
    keyword = cmd.cmd.upper()
    if keyword not in KNOWN_INSTRUCTIONS or instruction_error(keyword, cmd) is not None:
        return None
    text = body.text
    i = 0
    while i < len(text) and not text[i].isspace():
        i += 1
    keyword_end = body.offsets[i]
    flags, i = _flag_spans(text, _skip_ws(text, i), len(cmd.flags), body)
    return Instruction(
        keyword=keyword,
        line=onbuild.line,
        end_line=onbuild.end_line,
        start=body.offsets[0],
        end=onbuild.end,
        keyword_end=keyword_end,
        flags=flags,
        args=list(cmd.value),
        json_form=cmd.json,
        heredocs=[],
        body=body.slice(i, len(text)),
        index=onbuild.index,
        comments_above=onbuild.comments_above,
    )


def _buildkit_message(msg: str) -> str:
    if msg == "file with no instructions":
        return "no instructions: empty, only comments, or not a Dockerfile"
    return msg


def _guess_error_line(msg: str, source: str) -> int | None:
    m = re.search(r"line (\d+)", msg)
    if m:
        return int(m.group(1))
    if "heredoc" in msg:
        # point at the last heredoc opener
        last = None
        for i, line in enumerate(source.splitlines(), 1):
            if "<<" in line:
                last = i
        return last
    return None


def _line_starts(source: str) -> list[int]:
    starts = [0]
    pos = source.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = source.find("\n", pos + 1)
    if starts[-1] == len(source) and len(starts) > 1:
        starts.pop()
    return starts


def _parse_directives(source: str, line_starts: list[int]) -> Directives:
    directives = Directives()
    seen: set[str] = set()
    end = 0
    for i, start in enumerate(line_starts):
        stop = line_starts[i + 1] if i + 1 < len(line_starts) else len(source)
        line = source[start:stop].rstrip("\r\n")
        if i == 0 and line.startswith("\ufeff"):
            line = line[1:]
        m = _DIRECTIVE.match(line)
        if not m:
            break
        key = m.group(1).lower()
        if key not in _KNOWN_DIRECTIVES or key in seen:
            break
        seen.add(key)
        value = m.group(2)
        if key == "syntax":
            directives.syntax = value
        elif key == "escape":
            if value in ("\\", "`"):
                directives.escape = value
        else:
            directives.check = value
        end = stop
    directives.end = end
    return directives


class _Builder:
    """Maps BuildKit's commands back onto the source text."""

    def __init__(self, source: str, path: str, line_starts: list[int], escape: str) -> None:
        self.source = source
        self.path = path
        self.line_starts = line_starts
        self.escape = escape
        self.covered: list[tuple[int, int]] = []

    def line_span(self, line: int) -> tuple[int, int]:
        """(start, end) offsets of a 1-based line, end excluding the line break."""
        start = self.line_starts[line - 1]
        if line < len(self.line_starts):
            end = self.line_starts[line] - 1
            if end > start and self.source[end - 1] == "\r":
                end -= 1
        else:
            end = len(self.source)
            while end > start and self.source[end - 1] in "\r\n":
                end -= 1
        return start, end

    def instruction(self, cmd: buildkit.Command, keyword: str) -> Instruction:
        src = self.source
        first_start, _ = self.line_span(cmd.start_line)
        # the keyword starts at the first non-blank character of the first line
        kw_start = first_start
        while kw_start < len(src) and src[kw_start] in " \t\ufeff":
            kw_start += 1
        chars: list[str] = []
        offsets: list[int] = []
        line = cmd.start_line
        pos = kw_start
        nlines = len(self.line_starts)
        while True:
            _, line_end = self.line_span(line)
            segment_end = line_end
            stripped_end = line_end
            while stripped_end > pos and src[stripped_end - 1] in " \t":
                stripped_end -= 1
            continued = (
                stripped_end > pos and src[stripped_end - 1] == self.escape and line < nlines
            )
            if continued:
                segment_end = stripped_end - 1
            chars.append(src[pos:segment_end])
            offsets.extend(range(pos, segment_end))
            if not continued:
                break
            # skip blank lines and comment lines inside a continuation, as BuildKit does
            line += 1
            while line <= nlines:
                ls, le = self.line_span(line)
                text = src[ls:le].strip()
                if text and not text.startswith("#"):
                    break
                if line == nlines:
                    break
                line += 1
            pos, _ = self.line_span(line)
            text = src[pos : self.line_span(line)[1]].strip()
            if not text or text.startswith("#"):
                break
        logical_end_line = line
        _, logical_end = self.line_span(logical_end_line)
        end_line = max(cmd.end_line, logical_end_line)
        heredocs: list[Heredoc] = []
        if cmd.heredocs:
            content_line = logical_end_line + 1
            for doc in cmd.heredocs:
                if content_line > nlines:
                    break
                content_start = self.line_starts[content_line - 1]
                heredocs.append(Heredoc(doc.name, doc.content, content_start, doc.file_descriptor))
                # body lines plus the terminator line
                content_line += doc.content.count("\n") + 1
                if not doc.content.endswith("\n") and doc.content:
                    content_line += 1
        _, end = self.line_span(end_line)
        end = max(end, logical_end)
        offsets.append(offsets[-1] + 1 if offsets else kw_start)
        logical = MappedText("".join(chars), tuple(offsets))

        # keyword, then flags, then the body
        text = logical.text
        i = 0
        while i < len(text) and not text[i].isspace():
            i += 1
        keyword_end = logical.offsets[i] if i < len(text) else logical.offsets[-1]
        # BuildKit's parser already split off the flags; find their spans in order
        flags, i = _flag_spans(text, _skip_ws(text, i), len(cmd.flags), logical)
        body = logical.slice(i, len(text))
        self.covered.append((kw_start, end))
        return Instruction(
            keyword=keyword,
            line=cmd.start_line,
            end_line=end_line,
            start=kw_start,
            end=end,
            keyword_end=keyword_end,
            flags=flags,
            args=list(cmd.value),
            json_form=cmd.json,
            heredocs=heredocs,
            body=body,
        )

    def comments(self, instructions: list[Instruction], directives_end: int) -> list[Comment]:
        out: list[Comment] = []
        spans = [(ins.start, ins.end) for ins in instructions]
        k = 0
        for number, start in enumerate(self.line_starts, 1):
            if start < directives_end:
                continue
            while k < len(spans) and spans[k][1] < start:
                k += 1
            if k < len(spans) and spans[k][0] <= start <= spans[k][1]:
                continue
            s, e = self.line_span(number)
            text = self.source[s:e].lstrip(" \t\ufeff")
            if text.startswith("#"):
                cs = e - len(text)
                out.append(Comment(number, text[1:].strip(), cs, e))
        return out


def _flag_spans(text: str, i: int, count: int, line: MappedText) -> tuple[list[Flag], int]:
    """The ``--flag[=value]`` words at ``i`` (at most ``count``, the flags BuildKit's parser
    split off), with their source spans; and the offset after them."""
    flags: list[Flag] = []
    for _ in range(count):
        if not text.startswith("--", i):
            break
        k = i
        while k < len(text) and not text[k].isspace():
            k += 1
        name, eq, value = text[i + 2 : k].partition("=")
        fs, fe = line.source_span(i, k)
        flags.append(Flag(name.lower(), value if eq else None, fs, fe))
        i = _skip_ws(text, k)
    return flags, i


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _attach_comments(
    instructions: list[Instruction], comments: list[Comment], line_starts: list[int]
) -> None:
    by_line = {c.line: c for c in comments}
    for ins in instructions:
        line = ins.line - 1
        above: list[Comment] = []
        while line in by_line:
            above.append(by_line[line])
            line -= 1
        ins.comments_above = list(reversed(above))


def _build_stages(
    instructions: list[Instruction], path: str, escape: str
) -> tuple[list[Instruction], list[Stage]]:
    global_args: list[Instruction] = []
    global_vars: dict[str, str] = dict(AUTOMATIC_ARGS)
    declared_globals: dict[str, str] = {}
    stages: list[Stage] = []
    stage: Stage | None = None
    scope: dict[str, str] = {}
    env_of_stage: dict[int, dict[str, str]] = {}
    shell_of_stage: dict[int, tuple[str, ...]] = {}
    shell: tuple[str, ...] = DEFAULT_SHELL
    for ins in instructions:
        if ins.keyword == "FROM":
            stage = _new_stage(ins, stages, global_vars, path, escape)
            stages.append(stage)
            # SHELL is inherited through FROM <stage>, like ENV
            shell = (
                shell_of_stage.get(stage.parent.index, DEFAULT_SHELL)
                if stage.parent
                else DEFAULT_SHELL
            )
            shell_of_stage[stage.index] = shell
            scope = dict(env_of_stage.get(stage.parent.index, {})) if stage.parent else {}
            env_of_stage[stage.index] = {}
            if stage.parent is not None:
                env_of_stage[stage.index].update(env_of_stage[stage.parent.index])
            ins.stage = stage
            ins.variables = dict(scope)
            stage.instructions.append(ins)
            continue
        if stage is None:
            if ins.keyword == "ARG":
                for name, value in _arg_pairs(ins):
                    if value is not None:
                        value = expand(value, global_vars, escape)
                    declared_globals[name] = value if value is not None else ""
                    if value is not None:
                        global_vars[name] = value
                    else:
                        global_vars.setdefault(name, "")
                global_args.append(ins)
            ins.variables = dict(global_vars)
            continue
        ins.stage = stage
        stage.instructions.append(ins)
        if ins.keyword == "SHELL" and ins.json_form and ins.args:
            shell = tuple(ins.args)
            shell_of_stage[stage.index] = shell
        ins.shell = shell
        if ins.sub_instruction is not None:
            ins.sub_instruction.stage = stage
            ins.sub_instruction.shell = shell
            ins.sub_instruction.variables = dict(scope)
        if ins.keyword == "ARG":
            for name, value in _arg_pairs(ins):
                if value is not None:
                    scope[name] = expand(value, scope, escape)
                elif name in declared_globals:
                    scope[name] = declared_globals[name]
                elif name in AUTOMATIC_ARGS:
                    scope[name] = AUTOMATIC_ARGS[name]
                else:
                    scope.setdefault(name, "")
        elif ins.keyword == "ENV":
            pairs = ins.args
            for k in range(0, len(pairs) - 1, 2):
                value = expand(pairs[k + 1], scope, escape)
                scope[pairs[k]] = value
                env_of_stage[stage.index][pairs[k]] = value
        ins.variables = dict(scope)
    if stages:
        stages[-1].is_final = True
        for s in stages[-1].lineage():
            s.in_final_image = True
    return global_args, stages


def _arg_pairs(ins: Instruction) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for word in ins.args:
        name, eq, value = word.partition("=")
        out.append((name, _strip_quotes(value) if eq else None))
    return out


def _strip_quotes(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _new_stage(
    ins: Instruction, stages: list[Stage], global_vars: dict[str, str], path: str, escape: str
) -> Stage:
    args = list(ins.args)
    if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise DockerfileParseError(
            "FROM requires either one or three arguments (FROM image [AS name])", path, ins.line
        )
    missing: set[str] = set()
    resolved = expand(args[0], global_vars, escape, missing)
    # an ARG declared without a default expands to "": the real value comes from --build-arg
    missing |= {name for name in references(args[0]) if not global_vars.get(name)}
    name = args[2].lower() if len(args) == 3 else None
    parent = None
    for earlier in stages:
        if earlier.name is not None and earlier.name == resolved.lower():
            parent = earlier
    platform_flag = ins.flag("platform")
    stage = Stage(
        index=len(stages),
        name=name,
        base=args[0],
        base_resolved=resolved,
        from_instruction=ins,
        platform=platform_flag.value if platform_flag else None,
        parent=parent,
        base_unresolved=bool(missing) or resolved.strip() == "",
    )
    return stage
