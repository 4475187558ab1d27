"""What the commands of a RUN script do: package managers (apt, apk, yum/dnf, pip), how
/bin/sh runs a script, and span edits that add a command or a word to a RUN.

The public home of this knowledge for rules, fixes and services; the parser that splits a
script into simple commands is :mod:`jettison.dockerfile.shell`.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence

from jettison.dockerfile.model import Dockerfile, Instruction
from jettison.dockerfile.shell import Command, blank_inline_comments
from jettison.findings import Edit

APT = ("apt-get", "apt", "aptitude")
PIP = ("pip", "pip3", "pip2")
PYTHON = ("python", "python3", "python2")
PKG_INSTALL_WORDS = {"install", "add"}


def commands(ins: Instruction) -> list[Command]:
    script = ins.script
    return script.commands if script is not None else []


def apt_installs(ins: Instruction) -> Iterator[Command]:
    for cmd in commands(ins):
        if cmd.name in APT and cmd.subcommand() == "install":
            yield cmd


def apt_updates(ins: Instruction) -> Iterator[Command]:
    for cmd in commands(ins):
        if cmd.name in APT and cmd.subcommand() == "update":
            yield cmd


# apt subcommands that read the package lists an earlier `apt-get update` downloaded
APT_LIST_READERS = frozenset(
    {
        "install",
        "reinstall",
        "upgrade",
        "dist-upgrade",
        "full-upgrade",
        "build-dep",
        "source",
        "download",
        "satisfy",
    }
)
APT_LISTS = "/var/lib/apt/lists"


def cleans_apt_lists(cmd: Command) -> bool:
    """``rm -rf /var/lib/apt/lists/*`` (any form) or ``apt-get dist-clean`` (apt 2.7+, which
    removes the lists as well as the package cache)."""
    if cmd.name in APT and cmd.subcommand() == "dist-clean":
        return True
    return cmd.name == "rm" and any(_covers(w, APT_LISTS) for w in cmd.arg_values)


def apt_lists_first_use(ins: Instruction) -> str | None:
    """What a RUN does first with the apt lists already in the image: ``"reads"`` (installs
    from them before any update of its own), ``"replaces"`` (updates or removes them
    first), or None (does not touch them)."""
    for cmd in sorted(commands(ins), key=lambda c: c.start):
        if cmd.name in APT:
            sub = cmd.subcommand()
            if sub == "update" or cleans_apt_lists(cmd):
                return "replaces"
            if sub in APT_LIST_READERS:
                return "reads"
        elif cmd.name == "apt-cache" and cmd.subcommand() not in (None, "gencaches"):
            return "reads"
        elif cleans_apt_lists(cmd):
            return "replaces"
    return None


def _covers(word: str, path: str) -> bool:
    """True if ``rm -rf word`` deletes ``path``: the path itself, something inside it, a
    directory holding it, or a glob the shell expands to one of those
    (``/var/lib/apt/lists*``)."""
    w = word.rstrip("/")
    if w == path or w.startswith(path + "/") or path.startswith(w + "/"):
        return True
    # fnmatch's `*` also crosses `/`: `/var/lib/ap*` names /var/lib/apt, which holds the path
    return any(ch in w for ch in "*?[") and fnmatch.fnmatchcase(path, w)


# interpreter options that take a value (`python -X dev -m pip`); the others take none
_PYTHON_OPTIONS_WITH_VALUE = ("-W", "-X", "--check-hash-based-pycs")


def is_python(cmd: Command) -> bool:
    """``python``, ``python3``, ``python3.11`` and the like."""
    return cmd.name in PYTHON or cmd.name.startswith(("python3.", "python2."))


def python_module(cmd: Command) -> tuple[str, list[str]] | None:
    """(the module, its arguments) of ``python [options] -m MODULE ARGS``; None for any other
    command (``-mMODULE`` comes split into two words from the parser)."""
    if not is_python(cmd):
        return None
    vals = cmd.arg_values
    i = 0
    while i < len(vals):
        v = vals[i]
        if v == "-m":
            return (vals[i + 1], vals[i + 2 :]) if i + 1 < len(vals) else None
        if not v.startswith("-") or v == "-c" or v == "-":
            return None  # a script, a program string or stdin: no module
        i += 2 if v in _PYTHON_OPTIONS_WITH_VALUE else 1
    return None


# pip's general options that take the next word as their value (they may come before the
# subcommand: `pip --cache-dir /c install`, `python -m pip --timeout 60 install`)
_PIP_GENERAL_WITH_VALUE = frozenset(
    {"--log", "--log-file", "--proxy", "--retries", "--timeout", "--exists-action",
     "--trusted-host", "--cert", "--client-cert", "--cache-dir", "--python", "--use-feature",
     "--use-deprecated", "--keyring-provider", "--progress-bar"}
)  # fmt: skip


def _pip_subcommand(values: Sequence[str]) -> str | None:
    """The first word after pip's general options."""
    skip = False
    for v in values:
        if skip:
            skip = False
        elif v in _PIP_GENERAL_WITH_VALUE:
            skip = True
        elif not v.startswith("-"):
            return v
    return None


def is_pip_install(cmd: Command) -> bool:
    """``pip install``, ``pip3 install``, ``python -m pip install`` (general options may
    come before ``install``)."""
    if cmd.name in PIP or (cmd.name.startswith("pip3.") or cmd.name.startswith("pip2.")):
        return _pip_subcommand(cmd.arg_values) == "install"
    if cmd.name in PYTHON or cmd.name.startswith("python3."):
        vals = cmd.arg_values
        for i, v in enumerate(vals[:-2]):
            if v == "-m" and vals[i + 1] in ("pip", "pip3"):
                return _pip_subcommand(vals[i + 2 :]) == "install"
        return False
    return False


def pip_install_args(cmd: Command) -> list[str] | None:
    """The arguments of a ``pip install`` (from the ``install`` word on), None for any other
    command."""
    if not is_pip_install(cmd):
        return None
    vals = cmd.arg_values
    return vals[vals.index("install") :]


def pip_installs(ins: Instruction) -> Iterator[Command]:
    for cmd in commands(ins):
        if is_pip_install(cmd):
            yield cmd


def removes(ins: Instruction, *paths: str, after: int = -1) -> bool:
    """True if an ``rm`` in the RUN deletes one of ``paths`` (or something inside it).

    With ``after``, only an ``rm`` that starts after that source offset counts: cleaning a
    cache before the install that fills it does not help.
    """
    for cmd in commands(ins):
        if cmd.name != "rm" or cmd.start <= after:
            continue
        for word in cmd.arg_values:
            if any(_covers(word, p.rstrip("/")) for p in paths):
                return True
    return False


def installed_packages(ins: Instruction) -> Iterator[tuple[Command, str]]:
    """(command, package) for apt/apk/yum/dnf/microdnf/zypper install commands."""
    for cmd in commands(ins):
        sub = cmd.subcommand()
        if (
            (cmd.name in APT and sub == "install")
            or (cmd.name == "apk" and sub == "add")
            or (cmd.name in ("yum", "dnf", "microdnf", "zypper") and sub in ("install", "in"))
        ):
            for word in cmd.words_after(sub or ""):
                if not word.dynamic:
                    yield cmd, word.value.split("=", 1)[0].split(":", 1)[0]


def insert_after_word(cmd: Command, subcommand: str, text: str) -> Edit | None:
    """An edit inserting `` text`` right after the ``subcommand`` word (e.g. ``install``)."""
    for word in cmd.args:
        if word.value == subcommand:
            return Edit(word.end, word.end, " " + text)
    return None


def append_to_run(ins: Instruction, df: Dockerfile, text: str) -> Edit | None:
    """An edit appending ``&& text`` as the last command of a RUN, keeping its style.

    Continuation-style RUNs get the new command on its own line with the same indentation
    and the file's escape character. A heredoc RUN gets it on its last line (`` && text``
    after the last command, so a failing last command still fails the RUN) or, under
    ``set -e``, on a new line before the terminator. An exec-form RUN that runs a shell gets
    it inside its script string, when that string holds no JSON escape.
    """
    source = df.source
    escape = df.directives.escape
    script = ins.script
    if script is None or not script.commands or script.has_error:
        return None
    if ins.heredocs and script.text.offsets and ins.heredocs[0].content_start == script.start:
        return _append_to_heredoc(script.text.text, script.end, text)
    body = script.text.text.rstrip()
    clean = blank_inline_comments(body).rstrip()  # `# comment` pieces are no commands
    if not clean or clean[-1] in ";&|\\`" or "#" in clean:
        return None  # appending '&& ...' after these would change or break the script
    end = script.text.offsets[len(body) - 1] + 1
    if ins.json_form:
        start = script.text.offsets[0]
        if source[start:end] != body or '"' in text or "\\" in text:
            return None  # JSON escapes in the string: spans are not one character each
        return Edit(end, end, f" && {text}")
    last = max(script.commands, key=lambda c: c.end)
    first_line_end = source.find("\n", ins.start)
    multiline = first_line_end != -1 and first_line_end < last.end
    if multiline:
        line_start = source.rfind("\n", 0, last.start) + 1
        indent = ""
        for ch in source[line_start:]:
            if ch in " \t":
                indent += ch
            else:
                break
        if not indent:
            indent = "    "
        lead = source[line_start : line_start + len(indent) + 2]
        if lead.strip().startswith("&&"):
            return Edit(end, end, f" {escape}\n{indent}&& {text}")
        return Edit(end, end, f" && {escape}\n{indent}{text}")
    return Edit(end, end, f" && {text}")


def insert_before_command(ins: Instruction, df: Dockerfile, cmd: Command, text: str) -> Edit | None:
    """An edit running ``text`` right before ``cmd``, chained with ``&&`` (``a && text &&
    cmd``), on a line of its own where the RUN puts one command per line. Only where ``cmd``
    is a plain step of an ``&&`` list (or the RUN's first command): before a command of a
    pipeline, a condition or after ``;``/``||`` the chain would change what runs."""
    script = ins.script
    if script is None or ins.json_form or ins.heredocs or script.has_error or cmd.in_condition:
        return None
    cmds = sorted(script.commands, key=lambda c: c.start)
    before = [c for c in cmds if c.end <= cmd.start]
    if before and before[-1].next_operator != "&&":
        return None
    source = df.source
    line_start = source.rfind("\n", 0, cmd.start) + 1
    lead = source[line_start : cmd.start]
    if before and source.find("\n", before[-1].end, cmd.start) != -1:
        # one command per line: the new one gets its own line, in the file's style
        indent = lead[: len(lead) - len(lead.lstrip(" \t"))]
        escape = df.directives.escape
        if lead.strip() == "&&":
            return Edit(cmd.start, cmd.start, f"{text} {escape}\n{indent}&& ")
        if not lead.strip():
            return Edit(cmd.start, cmd.start, f"{text} && {escape}\n{indent}")
    return Edit(cmd.start, cmd.start, f"{text} && ")


def _append_to_heredoc(content: str, content_end: int, text: str) -> Edit | None:
    if _SET_E.search(content):
        return Edit(content_end, content_end, text + "\n")
    # without `set -e` the script's status is its last command's: chain the new command to
    # that one with `&&`, on its own line, so a failure still fails the RUN
    stripped = content.rstrip()
    last_line = stripped.rsplit("\n", 1)[-1]
    if not stripped or stripped[-1] in ";&|\\`" or "#" in last_line or "<<" in content:
        return None
    end = content_end - (len(content) - len(stripped))
    return Edit(end, end, f" && {text}")


_SET_E = re.compile(r"^\s*set\s+(-[a-zA-Z]*e|-o\s+errexit)", re.M)


# Shell builtins and reserved words (dash's and bash's): as the first word of an exec-form
# command they would not exist, or run another program (`echo` is a builtin of sh and the
# binary /bin/echo, which reads options differently); `env` may take assignments
_SHELL_WORDS = frozenset(
    {
        # reserved words
        "!", "{", "}", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac",
        "fi", "for", "function", "if", "in", "select", "then", "time", "until", "while",
        # POSIX and dash builtins
        ".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo",
        "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs",
        "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift",
        "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset",
        "wait",
        # bash builtins
        "bind", "builtin", "caller", "compgen", "complete", "compopt", "declare", "dirs",
        "disown", "enable", "help", "history", "let", "logout", "mapfile", "popd", "pushd",
        "readarray", "shopt", "source", "suspend", "typeset",
        "env",
    }
)  # fmt: skip

# what /bin/sh would expand, quote, redirect, glob, assign or read as an operator or comment
_SHELL_SYNTAX = re.compile(r"""[$`|&;<>(){}*?~\[\]#\\'"=!]""")
_SH_NAMES = frozenset({"sh", "bash", "dash", "ash"})
# options of a SHELL ["/bin/bash", "-o", "pipefail", "-c"] that do not change how a single
# simple command runs
_SH_OPTION = re.compile(r"^(-(?=[euo])[eu]*o?|pipefail|errexit|nounset)$")


def posix_command_shell(shell: tuple[str, ...] | list[str]) -> bool:
    """True for ``/bin/sh -c`` and shells like it (``bash -o pipefail -c``): a POSIX shell
    that runs its one argument as a script, with no option that changes how a simple command
    runs (``-x`` traces, ``-l`` reads profiles)."""
    if len(shell) < 2 or shell[-1] != "-c":
        return False
    if shell[0].rsplit("/", 1)[-1] not in _SH_NAMES:
        return False
    return all(_SH_OPTION.match(arg) for arg in shell[1:-1])


def exec_split(script: str) -> list[str] | None:
    """The argv ``/bin/sh -c script`` runs, when the shell would run exactly those words
    (no expansion, quoting, globbing, assignment, operator, builtin or reserved word); None
    when it would do anything else."""
    if _SHELL_SYNTAX.search(script):
        return None
    if any(
        ch not in " \t" and (ch.isspace() or unicodedata.category(ch).startswith("C"))
        for ch in script
    ):
        return None  # sh splits words at spaces and tabs only
    words = [w for w in re.split(r"[ \t]+", script) if w]
    if not words or words[0] in _SHELL_WORDS:
        return None
    return words


def shell_has_pipefail(shell: tuple[str, ...] | list[str]) -> bool:
    """True when a SHELL argv turns pipefail on (``["/bin/bash", "-o", "pipefail", "-c"]``)."""
    args = list(shell[1:])
    return any(
        a == "pipefail" or (a.startswith("-") and "o" in a and a.endswith("pipefail")) for a in args
    ) or any(
        a.startswith("-") and not a.startswith("--") and a.endswith("o") and nxt == "pipefail"
        for a, nxt in itertools.pairwise(args)
    )


_PIPEFAIL_SET = re.compile(r"(^|[\s;&|(])set\s+(-[a-zA-Z]*o\s*pipefail|-o\s+\w+\s+-o\s+pipefail)")


def sets_pipefail(script: str) -> bool:
    """True when a script runs ``set -o pipefail`` (or ``set -eo pipefail``)."""
    return _PIPEFAIL_SET.search(script) is not None


def pipeline_end(commands: Sequence[Command], cmd: Command) -> Command:
    """The last command of the pipeline ``cmd`` is in: the next command after each ``|``
    (commands inside an argument's `$(...)` lie within that command's span)."""
    while cmd.next_operator == "|":
        later = [c for c in commands if c.start >= cmd.end]
        if not later:
            break
        cmd = min(later, key=lambda c: c.start)
    return cmd


_FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")
_SHELLS = ("sh", "bash", "dash", "ash", "/bin/sh", "/bin/bash")


def find_exec_actions(cmd: Command) -> list[str]:
    """What each ``-exec`` of a `find` runs, by its program's name; a small `sh -c` loop
    counts as what it does to the files (``strip`` for JT139's quiet strip, ``rm`` for
    JT140's removal by magic number), other scripts as ``sh``."""
    values = cmd.arg_values
    actions: list[str] = []
    for i, value in enumerate(values):
        if value not in _FIND_EXEC or i + 1 >= len(values):
            continue
        program = values[i + 1]
        if program in _SHELLS and values[i + 2 : i + 3] == ["-c"] and i + 3 < len(values):
            script = values[i + 3]
            program = "strip" if "strip " in script else "rm" if "rm -f" in script else "sh"
        actions.append(program)
    return actions
