"""Helpers shared by rules that look inside RUN scripts (package managers, edits)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Command, Dockerfile, Instruction
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


def is_pip_install(cmd: Command) -> bool:
    """``pip install``, ``pip3 install``, ``python -m pip install``, ``uv pip install``."""
    if cmd.name in PIP or (cmd.name.startswith("pip3.") or cmd.name.startswith("pip2.")):
        return cmd.subcommand() == "install"
    if cmd.name in PYTHON or cmd.name.startswith("python3."):
        vals = cmd.arg_values
        for i, v in enumerate(vals[:-2]):
            if v == "-m" and vals[i + 1] in ("pip", "pip3"):
                return vals[i + 2] == "install"
        return False
    return False


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
            w = word.rstrip("/")
            for p in paths:
                p = p.rstrip("/")
                if w == p or w.startswith(p + "/") or w == p + "/*" or p.startswith(w + "/"):
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
    and the file's escape character; a heredoc RUN gets a new line before the terminator,
    but only under ``set -e`` (otherwise the new last line would decide the exit status and
    hide a failed install).
    """
    source = df.source
    escape = df.directives.escape
    script = ins.script
    if script is None or not script.commands:
        return None
    if ins.heredocs and script.text.offsets and ins.heredocs[0].content_start == script.start:
        if not _SET_E.search(script.text.text):
            return None
        end = script.end
        return Edit(end, end, text + "\n")
    body = script.text.text.rstrip()
    if not body or body[-1] in ";&|\\`" or "#" in body:
        return None  # appending '&& ...' after these would change or break the script
    end = script.text.offsets[len(body) - 1] + 1
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


_SET_E = re.compile(r"^\s*set\s+(-[a-zA-Z]*e|-o\s+errexit)", re.M)
