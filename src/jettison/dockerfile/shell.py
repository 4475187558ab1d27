"""RUN scripts split into simple commands by a real shell parser (tree-sitter-bash).

A script is a :class:`MappedText`: the logical shell text that BuildKit hands to ``/bin/sh -c``
(continuations joined, comment lines inside continuations dropped) plus, for every character,
its offset in the Dockerfile. Commands and words therefore carry exact source spans, which the
fixer edits in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter

# tree-sitter-bash's grammar, loaded without the package's __init__ (see the module)
from jettison.dockerfile.bash_grammar import language as bash_language


@dataclass(frozen=True)
class MappedText:
    """Text plus the source offset of each character (``offsets[len(text)]`` = end offset)."""

    text: str
    offsets: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        if start >= end:
            pos = self.offsets[start]
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1

    def slice(self, start: int, end: int) -> MappedText:
        return MappedText(
            self.text[start:end],
            (
                *self.offsets[start:end],
                self.offsets[end] if end < len(self.offsets) else self.offsets[-1],
            ),
        )


@dataclass(frozen=True)
class Word:
    """One argument of a simple command: its unquoted value and its source span."""

    value: str
    raw: str
    start: int
    end: int
    dynamic: bool = False  # contains expansions or command substitutions


@dataclass(frozen=True)
class Command:
    """A simple command such as ``apt-get install -y gcc`` found anywhere in a script."""

    name: str
    args: tuple[Word, ...]
    start: int
    end: int
    name_word: Word
    assignments: tuple[str, ...] = ()
    # the operator joining this command to the next one in its list (``&&``, ``;``, ``|`` ...)
    next_operator: str | None = None
    in_condition: bool = False  # inside if/while tests or after ``||``: may not run
    redirects: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        return [self.name, *(w.value for w in self.args)]

    @property
    def arg_values(self) -> list[str]:
        return [w.value for w in self.args]

    def has_flag(self, *flags: str) -> bool:
        """True if any of ``flags`` is given, long (``--x``, ``--x=v``) or in a short cluster."""
        for word in self.args:
            v = word.value
            for flag in flags:
                if v == flag or (flag.startswith("--") and v.startswith(flag + "=")):
                    return True
                if (
                    len(flag) == 2
                    and flag[0] == "-"
                    and flag[1] != "-"
                    and v.startswith("-")
                    and not v.startswith("--")
                    and flag[1] in v[1:]
                ):
                    return True
        return False

    def words_after(self, *subcommands: str) -> list[Word]:
        """Non-option words after the first of ``subcommands`` (e.g. packages after install)."""
        seen = False
        out: list[Word] = []
        for word in self.args:
            if not seen:
                if word.value in subcommands:
                    seen = True
                continue
            if not word.value.startswith("-"):
                out.append(word)
        return out

    def subcommand(self) -> str | None:
        """The first non-option word (``install`` in ``apt-get -o X=1 -y install``)."""
        skip = False
        for word in self.args:
            if skip:
                skip = False
                continue
            if word.value in _OPTIONS_WITH_VALUE:
                skip = True
                continue
            if not word.value.startswith("-"):
                return word.value
        return None


# options of package managers that take the next word as their value
_OPTIONS_WITH_VALUE = frozenset(
    {
        "-o",
        "-c",
        "-t",
        "--option",
        "--config-file",
        "--target-release",
        "--default-release",
        "-X",
        "--repository",
    }
)


@dataclass
class Script:
    text: MappedText
    commands: list[Command] = field(default_factory=list)
    has_error: bool = False

    @property
    def start(self) -> int:
        return self.text.offsets[0] if self.text.text else self.text.offsets[-1]

    @property
    def end(self) -> int:
        return self.text.offsets[-1]


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(bash_language()))


_WRAPPER_OPTIONS_WITH_VALUE = frozenset(
    {"-u", "-g", "-U", "-C", "-D", "-p", "-r", "-t", "-h", "--user", "--group", "--chdir", "-n"}
)

_REDIRECTS = ("file_redirect", "heredoc_redirect", "herestring_redirect")

# wrappers whose first non-option argument is the real command
_WRAPPERS = {"sudo", "env", "nohup", "time", "exec", "command", "nice", "xargs", "gosu", "su-exec"}


def blank_inline_comments(text: str) -> str:
    """``text`` with each inline comment written as an empty command substitution
    (`` `# install tools` ``, a common way to comment a continued RUN line) turned into
    blanks of the same length. In a one-line script a shell parser would read the ``#`` as
    a comment running to the end of the line, past the closing backquote, and lose every
    command after it; /bin/sh ends the comment at the backquote."""
    if "`" not in text or "#" not in text:
        return text
    out = list(text)
    quote = ""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "'" and not quote:
            quote = "'"
        elif ch == '"':
            quote = "" if quote == '"' else '"'
        elif ch == "`":
            end = text.find("`", i + 1)
            inner = text[i + 1 : end] if end != -1 else ""
            if end != -1 and inner.lstrip(" \t").startswith("#") and "\n" not in inner:
                for k in range(i, end + 1):
                    out[k] = " "
                i = end + 1
                continue
        i += 1
    return "".join(out)


def parse_script(text: MappedText) -> Script:
    clean = blank_inline_comments(text.text)
    raw = clean.encode("utf-8")
    script = Script(text=text)
    if not raw.strip():
        return script
    tree = _parser().parse(raw)
    script.has_error = tree.root_node.has_error
    ascii_only = len(raw) == len(clean)
    if ascii_only:

        def char_at(b: int) -> int:
            return b
    else:
        byte_to_char = _byte_to_char(clean)

        def char_at(b: int) -> int:
            return byte_to_char[b]

    def word_of(node: tree_sitter.Node) -> Word:
        s, e = char_at(node.start_byte), char_at(node.end_byte)
        src_s, src_e = text.source_span(s, e)
        raw_text = text.text[s:e]
        return Word(_unquote(node, raw), raw_text, src_s, src_e, _is_dynamic(node))

    def redirect_texts(node: tree_sitter.Node) -> list[str]:
        """``> file``, ``2>&1``, ``<<< word``; of a heredoc only the redirects on its first
        line (``cat <<EOF > file``), not its body."""
        if node.type == "heredoc_redirect":
            inner = [c for c in node.children if c.type == "file_redirect"]
            return [r for c in inner for r in redirect_texts(c)]
        if node.type in _REDIRECTS:
            return [raw[node.start_byte : node.end_byte].decode("utf-8", "replace")]
        return []

    def visit(node: tree_sitter.Node, conditional: bool) -> None:
        t = node.type
        if t in ("declaration_command", "unset_command"):
            # export/declare/local/readonly/unset: builtins that change the shell's state
            _collect_builtin(node, conditional)
            return
        if t == "command":
            _collect_command(node, conditional)
            # command substitutions inside arguments hold commands too
            for child in node.children:
                if child.type != "command_name":
                    _visit_substitutions(child, conditional)
            return
        if t in ("if_statement", "while_statement", "elif_clause"):
            for child in node.children:
                # the condition part (before ``then``/``do``) may not run its body
                visit(child, True)
            return
        if t == "list":
            children = node.children
            after_or = False
            for child in children:
                if child.type == "||":
                    after_or = True
                    continue
                if child.type in ("&&", ";"):
                    continue
                visit(child, conditional or after_or)
            _link_operators(node)
            return
        if t == "pipeline":
            for child in node.children:
                if child.is_named:
                    visit(child, conditional)
            _link_operators(node)
            return
        if t == "redirected_statement":
            # `cmd > file`: tree-sitter hangs the redirects on the statement, not on the
            # command; every command inside (a group or subshell too) gets them
            found = [r for c in node.children for r in redirect_texts(c)]
            if found:
                outer_redirects.append((node.start_byte, node.end_byte, found))
            for child in node.children:
                visit(child, conditional)
            return
        for child in node.children:
            if child.is_named:
                visit(child, conditional)

    def _visit_substitutions(node: tree_sitter.Node, conditional: bool) -> None:
        if node.type in ("command_substitution", "process_substitution"):
            for child in node.children:
                visit(child, conditional)
            return
        for child in node.children:
            _visit_substitutions(child, conditional)

    operators: dict[int, str] = {}
    # (start byte, end byte, redirect texts) of each redirected statement seen so far
    outer_redirects: list[tuple[int, int, list[str]]] = []

    def _link_operators(node: tree_sitter.Node) -> None:
        kids = node.children
        for i, child in enumerate(kids[:-1]):
            op = kids[i + 1]
            if op.type in ("&&", "||", ";", "|", "&"):
                last = _last_command(child)
                if last is not None:
                    operators[last.start_byte] = op.type

    def _collect_command(node: tree_sitter.Node, conditional: bool) -> None:
        name_node = None
        args: list[Word] = []
        assigns: list[str] = []
        redirects: list[str] = []
        for child in node.children:
            if child.type == "command_name":
                name_node = child
            elif child.type == "variable_assignment":
                assigns.append(raw[child.start_byte : child.end_byte].decode("utf-8", "replace"))
            elif child.type in _REDIRECTS:
                redirects.extend(redirect_texts(child))
            elif child.is_named and child.type not in ("comment",):
                args.append(word_of(child))
        if name_node is None:
            return
        for start, end, found in outer_redirects:
            if start <= node.start_byte < end:
                redirects.extend(found)
        name_word = word_of(name_node)
        # unwrap sudo/env/... so rules see the real command
        words = [name_word, *args]
        while words and _basename(words[0].value) in _WRAPPERS and len(words) > 1:
            rest = words[1:]
            while rest and (rest[0].value.startswith("-") or "=" in rest[0].value):
                # `sudo -u root cmd`, `env -C dir cmd`: the option's value is not the command
                takes_value = rest[0].value in _WRAPPER_OPTIONS_WITH_VALUE
                rest = rest[2:] if takes_value else rest[1:]
            if not rest:
                break
            words = rest
        if _PYTHON_NAME.match(_basename(words[0].value)):
            words = [words[0], *_split_module_option(words[1:])]
        s, e = char_at(node.start_byte), char_at(node.end_byte)
        src_s, src_e = text.source_span(s, e)
        pending.append(
            (
                node.start_byte,
                Command(
                    name=_basename(words[0].value),
                    args=tuple(words[1:]),
                    start=src_s,
                    end=src_e,
                    name_word=words[0],
                    assignments=tuple(assigns),
                    in_condition=conditional,
                    redirects=tuple(redirects),
                ),
            )
        )
        if words[0] is not name_word:
            # also record the wrapper itself (``sudo`` is a finding of its own)
            pending.append(
                (
                    node.start_byte - 1,
                    Command(
                        name=_basename(name_word.value),
                        args=tuple(args),
                        start=src_s,
                        end=src_e,
                        name_word=name_word,
                        assignments=tuple(assigns),
                        in_condition=conditional,
                    ),
                )
            )

    def _collect_builtin(node: tree_sitter.Node, conditional: bool) -> None:
        if not node.children:
            return
        name_word = word_of(node.children[0])
        args = tuple(word_of(c) for c in node.children[1:] if c.is_named)
        s, e = char_at(node.start_byte), char_at(node.end_byte)
        src_s, src_e = text.source_span(s, e)
        pending.append(
            (
                node.start_byte,
                Command(
                    name=name_word.value,
                    args=args,
                    start=src_s,
                    end=src_e,
                    name_word=name_word,
                    in_condition=conditional,
                ),
            )
        )

    pending: list[tuple[int, Command]] = []
    try:
        visit(tree.root_node, False)
    except RecursionError:
        # pathologically nested scripts: keep what was found, mark the script unreliable
        script.has_error = True
    pending.sort(key=lambda item: item[0])
    for key, cmd in pending:
        op = operators.get(key)
        if op is not None:
            cmd = Command(
                cmd.name,
                cmd.args,
                cmd.start,
                cmd.end,
                cmd.name_word,
                cmd.assignments,
                op,
                cmd.in_condition,
                cmd.redirects,
            )
        script.commands.append(cmd)
    return script


_PYTHON_NAME = re.compile(r"python(\d(\.\d+)?)?$")


def _split_module_option(args: list[Word]) -> list[Word]:
    """``python -mvenv /venv`` as ``python -m venv /venv``: the interpreter takes the module
    attached to ``-m`` too, and every reader of a command looks for the two words."""
    out: list[Word] = []
    for i, word in enumerate(args):
        v = word.value
        if v == "-m" or v == "-c":
            return out + args[i:]  # what follows belongs to the module or the program
        plain = word.raw == v and word.end - word.start == len(v) and not word.dynamic
        if v.startswith("-m") and len(v) > 2 and plain:
            module = Word(v[2:], v[2:], word.start + 2, word.end, False)
            return [
                *out,
                Word("-m", "-m", word.start, word.start + 2, False),
                module,
                *args[i + 1 :],
            ]
        if not v.startswith("-"):
            break  # a script: its own arguments are not the interpreter's
        out.append(word)
    return args


def _last_command(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type in ("command", "declaration_command", "unset_command"):
        return node
    for child in reversed(node.children):
        found = _last_command(child)
        if found is not None:
            return found
    return None


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1] if "/" in name else name


def _is_dynamic(node: tree_sitter.Node) -> bool:
    if node.type in (
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "arithmetic_expansion",
    ):
        return True
    return any(_is_dynamic(c) for c in node.children)


def _unquote(node: tree_sitter.Node, raw: bytes) -> str:
    t = node.type
    text = raw[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if t == "raw_string" and len(text) >= 2:
        return text[1:-1]
    if t == "string":
        return (
            "".join(_unquote(c, raw) if c.type != '"' else "" for c in node.children)
            if node.children
            else text.strip('"')
        )
    if t == "string_content":
        return text.replace('\\"', '"').replace("\\\\", "\\")
    if t == "concatenation":
        return "".join(_unquote(c, raw) for c in node.children)
    if t == "word":
        return _unescape_word(text)
    if t == "command_name":
        return "".join(_unquote(c, raw) for c in node.children)
    return text


def _unescape_word(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _byte_to_char(text: str) -> list[int]:
    table: list[int] = []
    for index, ch in enumerate(text):
        table.extend([index] * len(ch.encode("utf-8")))
    table.append(len(text))
    return table
