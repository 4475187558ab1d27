"""The Dockerfile model: stages, instructions with exact source spans, flags, ARG/ENV scope.

Everything keeps offsets into :attr:`Dockerfile.source`, so a fix is a set of span edits
that leaves comments, blank lines and continuation style untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from jettison.dockerfile.shell import MappedText, Script, parse_script


@dataclass(frozen=True)
class Flag:
    """An instruction flag such as ``--mount=type=cache,target=/root/.cache/pip``."""

    name: str
    value: str | None
    start: int
    end: int

    def options(self) -> dict[str, str]:
        """``--mount=type=cache,target=/x`` -> ``{"type": "cache", "target": "/x"}``."""
        out: dict[str, str] = {}
        for part in (self.value or "").split(","):
            key, _, val = part.partition("=")
            out[key.strip().lower()] = val.strip()
        return out


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    content_start: int  # source offset of the first content character
    fd: int = 0


@dataclass(frozen=True)
class Comment:
    line: int
    text: str  # without the leading '#', stripped
    start: int
    end: int


@dataclass
class Instruction:
    keyword: str  # upper case: RUN, COPY ...
    line: int  # first line, 1-based
    end_line: int  # last line including heredoc bodies
    start: int  # source offset of the keyword's first character
    end: int  # source offset just past the last character (newline excluded)
    keyword_end: int
    flags: list[Flag]
    args: list[str]  # BuildKit's parsed arguments (JSON array items, or words)
    json_form: bool
    heredocs: list[Heredoc]
    body: MappedText  # argument text after keyword and flags, continuations joined
    index: int = 0
    stage: Stage | None = None  # None for ARGs before the first FROM
    variables: dict[str, str] = field(default_factory=dict)  # ARG/ENV visible here
    shell: tuple[str, ...] = ("/bin/sh", "-c")  # the SHELL in effect for RUN
    comments_above: list[Comment] = field(default_factory=list)
    sub_instruction: Instruction | None = None  # ONBUILD's trigger

    @property
    def text(self) -> str:
        return self.body.text

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def flags_named(self, name: str) -> list[Flag]:
        return [f for f in self.flags if f.name == name]

    @cached_property
    def script(self) -> Script | None:
        """The shell script of a shell-form RUN (heredoc bodies included), or of an exec-form
        RUN that runs a shell on one (``RUN ["/bin/sh", "-c", "apt-get ..."]``)."""
        if self.keyword != "RUN":
            return None
        if self.json_form:
            return self._exec_form_script()
        if not self.posix_shell:
            return None
        body = self.body
        if (
            self.heredocs
            and body.text.strip().startswith("<<")
            and _only_heredoc_markers(body.text)
        ):
            doc = self.heredocs[0]
            if doc.content.startswith("#!"):
                interpreter = doc.content[2:].split("\n", 1)[0].split()
                if interpreter and interpreter[0].endswith("/env") and len(interpreter) > 1:
                    interpreter = interpreter[1:]
                if not interpreter or not _sh_name(interpreter[0]):
                    return None  # BuildKit runs the file with its own interpreter
            n = len(doc.content)
            return parse_script(
                MappedText(doc.content, tuple(range(doc.content_start, doc.content_start + n + 1)))
            )
        return parse_script(body)

    def _exec_form_script(self) -> Script | None:
        args = self.args
        if not args or not _sh_name(args[0]):
            return None
        i = 1
        while i < len(args) and args[i] != "-c":
            if args[i] == "-o" and i + 1 < len(args):
                i += 2  # -o pipefail
            elif args[i].startswith(("-", "+")) and "c" not in args[i]:
                i += 1
            else:
                return None
        if i + 1 >= len(args):
            return None
        strings = json_strings(self.body)
        # the decoded strings must be BuildKit's own arguments, so the spans are right
        if strings is None or [m.text for m in strings] != list(args):
            return None
        return parse_script(strings[i + 1])

    @property
    def posix_shell(self) -> bool:
        """False under ``SHELL ["powershell", ...]`` or cmd: RUN is not a POSIX script then."""
        name = self.shell[0].replace("\\", "/").rsplit("/", 1)[-1].lower() if self.shell else ""
        return name.removesuffix(".exe") not in ("powershell", "pwsh", "cmd")

    @property
    def is_shell_form(self) -> bool:
        return not self.json_form

    def cache_mount_targets(self) -> list[str]:
        targets = []
        for f in self.flags_named("mount"):
            opts = f.options()
            if opts.get("type") in ("cache", "tmpfs"):
                targets.append(opts.get("target") or opts.get("dst") or opts.get("destination", ""))
        return targets

    def __repr__(self) -> str:
        return f"<Instruction {self.keyword} line {self.line}>"


_POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "zsh", "busybox"})


def _sh_name(path: str) -> bool:
    return path.replace("\\", "/").rsplit("/", 1)[-1] in _POSIX_SHELLS - {"busybox"}


_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                 "t": "\t"}  # fmt: skip


def json_strings(text: MappedText) -> list[MappedText] | None:
    """The string items of a JSON array, decoded, each character mapped to the source offset
    of what encodes it (an escape maps to its backslash); None when it is not such an array."""
    raw = text.text
    out: list[MappedText] = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch != '"':
            if ch not in " \t[],":
                return None
            i += 1
            continue
        chars: list[str] = []
        offsets: list[int] = []
        i += 1
        while True:
            if i >= n:
                return None
            ch = raw[i]
            if ch == '"':
                break
            offsets.append(text.offsets[i])
            if ch != "\\":
                chars.append(ch)
                i += 1
                continue
            code = raw[i + 1 : i + 2]
            if code in _JSON_ESCAPES:
                chars.append(_JSON_ESCAPES[code])
                i += 2
            elif code == "u" and i + 6 <= n:
                try:
                    chars.append(chr(int(raw[i + 2 : i + 6], 16)))
                except ValueError:
                    return None
                i += 6
            else:
                return None
        out.append(MappedText("".join(chars), (*offsets, text.offsets[i])))
        i += 1
    return out


def _only_heredoc_markers(text: str) -> bool:
    return all(tok.startswith("<<") for tok in text.split())


@dataclass
class Stage:
    index: int
    name: str | None  # the AS name, lower-cased as BuildKit does
    base: str  # FROM argument as written
    base_resolved: str  # after global ARG expansion
    from_instruction: Instruction
    platform: str | None = None
    instructions: list[Instruction] = field(default_factory=list)
    parent: Stage | None = None  # set when FROM names an earlier stage
    is_final: bool = False
    in_final_image: bool = False  # the final stage or an ancestor via FROM
    base_unresolved: bool = False  # FROM refers to an ARG without a default

    @property
    def label(self) -> str:
        return self.name if self.name is not None else str(self.index)

    def root_image(self) -> str:
        stage: Stage = self
        while stage.parent is not None:
            stage = stage.parent
        return stage.base_resolved

    def lineage(self) -> Iterator[Stage]:
        stage: Stage | None = self
        while stage is not None:
            yield stage
            stage = stage.parent

    def all_instructions(self) -> Iterator[Instruction]:
        """Instructions of this stage and of the stages it is built FROM, oldest first."""
        for stage in reversed(list(self.lineage())):
            yield from stage.instructions


@dataclass
class Directives:
    syntax: str | None = None
    escape: str = "\\"
    check: str | None = None
    end: int = 0  # source offset after the directive block


@dataclass
class Dockerfile:
    path: str
    source: str
    directives: Directives
    instructions: list[Instruction]
    global_args: list[Instruction]
    stages: list[Stage]
    comments: list[Comment]
    line_starts: list[int]
    newline: str = "\n"
    # the build context when it is not the Dockerfile's folder (`docker build -f
    # docker/Dockerfile .`); rules read the project's files from :attr:`context_dir`
    context: str | None = None

    @property
    def context_dir(self) -> Path:
        return Path(self.context) if self.context else Path(self.path).parent

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_named(self, name: str) -> Stage | None:
        lowered = name.lower()
        for stage in self.stages:
            if stage.name == lowered:
                return stage
        if name.isdigit() and int(name) < len(self.stages):
            return self.stages[int(name)]
        return None

    def line_of(self, offset: int) -> int:
        """1-based line number of a source offset."""
        import bisect

        return bisect.bisect_right(self.line_starts, offset)

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.source)
        return self.source[start:end].rstrip("\r\n")

    def segments(self) -> list[tuple[str, int, int]]:
        """The file cut into (kind, start, end) pieces that cover it exactly, in order.

        Kinds: ``directives``, ``instruction``, ``trivia`` (comments, blank lines, newlines).
        Rendering joins the pieces; the round-trip test checks that gives the input back.
        """
        out: list[tuple[str, int, int]] = []
        pos = 0
        if self.directives.end:
            out.append(("directives", 0, self.directives.end))
            pos = self.directives.end
        for ins in self.instructions:
            if ins.start > pos:
                out.append(("trivia", pos, ins.start))
            out.append(("instruction", ins.start, ins.end))
            pos = ins.end
        if pos < len(self.source):
            out.append(("trivia", pos, len(self.source)))
        return out

    def render(self) -> str:
        return "".join(self.source[s:e] for _, s, e in self.segments())

    @cached_property
    def uses_buildkit_features(self) -> bool:
        """True when the file already relies on BuildKit-only syntax (asked per install by
        several rules: computed once, a parsed file is not edited in place)."""
        if self.directives.syntax:
            return True
        for ins in self.instructions:
            if ins.heredocs or ins.flag("mount") or ins.flag("link") or ins.flag("chmod"):
                return True
        return False
