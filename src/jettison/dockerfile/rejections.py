"""What BuildKit's instruction parser refuses, with its own words: wrong argument counts,
flags without values or unknown to the instruction, bad values (durations, stage names).

The ``dockerfile`` package parses what BuildKit's lexer accepts; these checks are the ones
BuildKit makes later, when it turns the parsed commands into instructions, so that a file
jettison calls valid is one BuildKit builds.
"""

from __future__ import annotations

import re

import dockerfile as buildkit

_AT_LEAST_ONE = {"ARG", "ENV", "EXPOSE", "LABEL", "HEALTHCHECK", "SHELL", "VOLUME", "ONBUILD"}
_EXACTLY_ONE = {"USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"}


def _arity_error(keyword: str, values: tuple[str, ...], json_form: bool) -> str | None:
    if not values:
        if keyword in _AT_LEAST_ONE:
            return f"{keyword} requires at least one argument"
        if keyword in _EXACTLY_ONE:
            return f"{keyword} requires exactly one argument"
    if keyword in ("COPY", "ADD") and len(values) < 2:
        return (
            f"{keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    if keyword == "HEALTHCHECK" and values and values[0].upper() == "CMD" and len(values) < 2:
        return "Missing command after HEALTHCHECK CMD"
    if keyword == "SHELL" and not json_form:
        return "SHELL requires the arguments to be in JSON form"
    return None


# The flags BuildKit's instruction layer accepts (frontend/dockerfile/instructions/parse.go):
# name -> kind ("string", "bool" or "strings", the last one repeatable). An instruction not
# listed takes no flag at all; ARG and STOPSIGNAL never read theirs.
_FLAGS: dict[str, dict[str, str]] = {
    "ADD": {
        "chown": "string",
        "chmod": "string",
        "link": "bool",
        "keep-git-dir": "bool",
        "checksum": "string",
        "unpack": "bool",
        "exclude": "strings",
    },
    "COPY": {
        "chown": "string",
        "from": "string",
        "chmod": "string",
        "link": "bool",
        "exclude": "strings",
        "parents": "bool",
    },
    "FROM": {"platform": "string"},
    "RUN": {"mount": "strings", "network": "string", "security": "string", "device": "strings"},
    "HEALTHCHECK": {
        "interval": "string",
        "timeout": "string",
        "start-period": "string",
        "start-interval": "string",
        "retries": "string",
    },
}
# instructions whose argument count BuildKit checks before their flags
_ARITY_FIRST = {
    "ADD", "COPY", "MAINTAINER", "WORKDIR", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK", "ONBUILD",
    "ARG", "STOPSIGNAL",
}  # fmt: skip
_UNCHECKED_FLAGS = {"ARG", "STOPSIGNAL"}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")


def _flag_error(keyword: str, words: tuple[str, ...], values: tuple[str, ...]) -> str | None:
    """BuildKit's BFlags.Parse: unknown, duplicate, valueless or non-boolean flags, with its
    messages (``missing a value on flag: --from`` for ``COPY --from build ...``)."""
    if keyword in _UNCHECKED_FLAGS:
        return None
    if keyword == "HEALTHCHECK" and values and values[0].upper() == "NONE":
        return None  # HEALTHCHECK NONE never reads its flags
    known = _FLAGS.get(keyword, {})
    used: set[str] = set()
    for word in words:
        if word == "--":
            return None  # the end of the flags
        if not word.startswith("--"):
            return f"arg should start with -- : {word}"
        flag_name, eq, value = word.partition("=")
        name = flag_name[2:]
        kind = known.get(name)
        if kind is None:
            import difflib  # only on the error path: it is slow to import

            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean --{close[0]}?)" if close else ""
            return f"unknown flag: {flag_name}{hint}"
        if name in used and kind != "strings":
            return f"duplicate flag specified: {flag_name}"
        used.add(name)
        if kind == "bool":
            if eq and not value:
                return f"missing a value on flag: {flag_name}"
            if value.lower() not in ("true", "false", ""):
                return f"expecting boolean value for flag {flag_name}, not: {value}"
        elif not eq:
            return f"missing a value on flag: {flag_name}"
    return None


def _flag_values(words: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for word in words:
        if word == "--":
            break
        name, _, value = word[2:].partition("=")
        out.setdefault(name, []).append(value)
    return out


def _go_duration_error(value: str) -> str | None:
    """Go's time.ParseDuration errors for a HEALTHCHECK interval, or ``too short`` under
    BuildKit's 1 ms floor (negative values included)."""
    if value in ("", "0"):
        return None
    quoted = '"' + value + '"'
    body = value[1:] if value[:1] in "+-" else value
    parts = re.findall(r"(\d+\.?\d*|\.\d+)([^\d.]*)", body)
    if not body or "".join(n + u for n, u in parts) != body:
        return f"time: invalid duration {quoted}"
    total = 0.0
    for number, unit in parts:
        if not unit:
            return f"time: missing unit in duration {quoted}"
        if unit not in _GO_UNITS:
            return f'time: unknown unit "{unit}" in duration {quoted}'
        total += float(number) * _GO_UNITS[unit]
    if value.startswith("-"):
        total = -total
    return "too short" if total != 0 and total < 1e-3 else None


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0,
             "m": 60.0, "h": 3600.0}  # fmt: skip


def _value_error(keyword: str, words: tuple[str, ...], values: tuple[str, ...]) -> str | None:
    """What BuildKit refuses in a known flag's value or in the arguments, after the flags."""
    flags = _flag_values(words)
    if keyword == "RUN":
        for mode in flags.get("network", [])[-1:]:
            if mode not in ("default", "none", "host") and "$" not in mode:
                return f'invalid network mode "{mode}"'
        for mode in flags.get("security", [])[-1:]:
            if mode not in ("sandbox", "insecure") and "$" not in mode:
                return f'security "{mode}" is not valid'
        for mount in flags.get("mount", []):
            for part in mount.split(","):
                key, eq, val = part.partition("=")
                if (
                    key.strip().lower() == "type"
                    and eq
                    and "$" not in val
                    and val.strip().lower() not in ("bind", "cache", "tmpfs", "secret", "ssh")
                ):
                    return f'unsupported mount type "{val.strip()}"'
    if keyword == "HEALTHCHECK" and values:
        kind = values[0].upper()
        if kind == "NONE":
            return "HEALTHCHECK NONE takes no arguments" if len(values) > 1 else None
        for name in ("interval", "timeout", "start-period", "start-interval"):
            for value in flags.get(name, [])[-1:]:
                if "$" in value:
                    continue
                error = _go_duration_error(value)
                if error == "too short":
                    return f'Interval "{name}" cannot be less than 1ms'
                if error:
                    return error
        for value in flags.get("retries", [])[-1:]:
            if value and "$" not in value:
                if not re.fullmatch(r"[-+]?\d+", value):
                    return f'strconv.ParseInt: parsing "{value}": invalid syntax'
                if int(value) < 0:
                    return f"--retries cannot be negative ({int(value)})"
        if kind != "CMD":
            return f'Unknown type "{values[0].upper()}" in HEALTHCHECK (try CMD)'
    if keyword == "VOLUME" and any(not v.strip() for v in values):
        return "VOLUME specified can not be an empty string"
    if keyword == "ARG" and any(v.startswith("=") for v in values):
        return "ARG names can not be blank"
    if (
        keyword == "FROM"
        and len(values) == 3
        and values[1].lower() == "as"
        and not _STAGE_NAME.match(values[2].lower())
    ):
        return (
            f'invalid name for build stage: "{values[2]}", name can\'t start with a '
            "number or contain symbols"
        )
    return None


def instruction_error(keyword: str, cmd: buildkit.Command) -> str | None:
    if keyword == "ONBUILD" and cmd.sub_cmd:
        trigger = cmd.sub_cmd.upper()
        if trigger == "ONBUILD":
            return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
        if trigger in ("MAINTAINER", "FROM"):
            return f"{trigger} isn't allowed as an ONBUILD trigger"
    arity = _arity_error(keyword, cmd.value, cmd.json)
    flags = _flag_error(keyword, cmd.flags, cmd.value)
    first, second = (arity, flags) if keyword in _ARITY_FIRST else (flags, arity)
    return first or second or _value_error(keyword, cmd.flags, cmd.value)
