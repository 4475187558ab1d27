"""BuildKit-style variable expansion for ARG/ENV values in Dockerfile instructions.

Supports ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``,
``${VAR+alt}`` and the escape character, which is what BuildKit's shell lexer does for
non-RUN instructions. Unknown variables expand to the empty string (as in BuildKit) and
are reported through ``missing`` so rules can tell a resolved value from a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def expand(
    word: str, variables: Mapping[str, str], escape: str = "\\", missing: set[str] | None = None
) -> str:
    out: list[str] = []
    i = 0
    n = len(word)
    while i < n:
        ch = word[i]
        if ch == escape and i + 1 < n:
            nxt = word[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            out.append(ch)
            i += 1
            continue
        if ch == "'":
            # single quotes suppress expansion in BuildKit's lexer too
            end = word.find("'", i + 1)
            if end == -1:
                out.append(word[i:])
                break
            out.append(word[i + 1 : end])
            i = end + 1
            continue
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = word[i + 1]
        if nxt == "{":
            close = _matching_brace(word, i + 2)
            if close == -1:
                out.append(word[i:])
                break
            out.append(_expand_braced(word[i + 2 : close], variables, escape, missing))
            i = close + 1
            continue
        m = _NAME.match(word, i + 1)
        if m is None:
            out.append("$")
            i += 1
            continue
        name = m.group(0)
        if name in variables:
            out.append(variables[name])
        elif missing is not None:
            missing.add(name)
        i = m.end()
    return "".join(out)


def _matching_brace(word: str, start: int) -> int:
    depth = 1
    for j in range(start, len(word)):
        if word[j] == "{":
            depth += 1
        elif word[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _expand_braced(
    inner: str, variables: Mapping[str, str], escape: str, missing: set[str] | None
) -> str:
    m = _NAME.match(inner)
    if m is None:
        return ""
    name = m.group(0)
    rest = inner[m.end() :]
    value = variables.get(name)
    if not rest:
        if value is None and missing is not None:
            missing.add(name)
        return value or ""
    for op in (":-", ":+", "-", "+"):
        if rest.startswith(op):
            arg = expand(rest[len(op) :], variables, escape, missing)
            if op == ":-":
                return value if value else arg
            if op == "-":
                return value if value is not None else arg
            if op == ":+":
                return arg if value else ""
            return arg if value is not None else ""
    # ${VAR%suffix} and friends: BuildKit >= 0.10 only; keep the plain value
    if value is None and missing is not None:
        missing.add(name)
    return value or ""


def references(word: str) -> set[str]:
    """Names of the variables a word refers to."""
    names: set[str] = set()
    expand(word, {}, missing=names)
    return names
