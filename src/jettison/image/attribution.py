"""Tie layers to history entries, and history entries to the Dockerfile instructions.

Layers map to the config's non-empty history entries in order (as dive and ``docker
history`` do). History entries are then aligned with the final stage's instructions (its
ancestor stages included) by an order-preserving alignment that maximises the number of
matching commands, so the base image's own history never shifts the match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the parser (Go + tree-sitter) loads only when a Dockerfile is used
    from jettison.dockerfile import Dockerfile, Instruction

_BUILDKIT_ARGS = re.compile(r"^\|(\d+)\s")
_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_SHELL = re.compile(r"^(/bin/sh|/bin/bash|sh|bash) -c ")
_WS = re.compile(r"\s+")
_CONTINUATION = re.compile(r"\\\r?\n")
_KEYWORDS = {
    "RUN",
    "COPY",
    "ADD",
    "ENV",
    "ARG",
    "WORKDIR",
    "USER",
    "CMD",
    "ENTRYPOINT",
    "EXPOSE",
    "VOLUME",
    "LABEL",
    "SHELL",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "ONBUILD",
    "MAINTAINER",
}


class HistoryEntry(NamedTuple):
    created_by: str
    created: str
    empty_layer: bool


class InstructionRef(NamedTuple):
    path: str
    line: int
    end_line: int
    keyword: str
    text: str  # one line, shortened, for messages

    def label(self) -> str:
        return f"{self.path}:{self.line} `{self.text}`"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "keyword": self.keyword,
            "text": self.text,
        }


def history_of(config: dict[str, Any]) -> list[HistoryEntry]:
    """The config's history; one that is not a list (a damaged or hand-made config) is none:
    layers then show "(missing)" instead of failing the whole inspection."""
    out = []
    history = config.get("history")
    for h in history if isinstance(history, list) else []:
        if isinstance(h, dict):
            out.append(
                HistoryEntry(
                    str(h.get("created_by", "")),
                    str(h.get("created", "")),
                    bool(h.get("empty_layer", False)),
                )
            )
    return out


def layer_history(history: Sequence[HistoryEntry], layers: int) -> list[int | None]:
    """Index into ``history`` of the entry that made each layer (dive's rule)."""
    out: list[int | None] = []
    pos = 0
    for _ in range(layers):
        while pos < len(history) and history[pos].empty_layer:
            pos += 1
        if pos < len(history):
            out.append(pos)
            pos += 1
        else:
            out.append(None)
    return out


def split_created_by(created_by: str) -> tuple[str, str]:
    """``RUN |1 V=1 /bin/sh -c make # buildkit`` -> (``RUN``, ``make``)."""
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    nop = _NOP.match(text)
    keyword = ""
    if nop:  # legacy builder: "/bin/sh -c #(nop)  ENV A=b"
        text = text[nop.end() :]
    elif _SHELL.match(text):
        keyword = "RUN"
    word, _, rest = text.partition(" ")
    if not keyword and word.upper() in _KEYWORDS:
        keyword, text = word.upper(), rest
    if keyword == "RUN":
        m = _BUILDKIT_ARGS.match(text)
        if m:  # "|2 A=1 B=2 cmd": drop the build-arg prefix
            words = text.split(" ")
            text = " ".join(words[1 + int(m.group(1)) :])
        shell = _SHELL.match(text)
        if shell:
            text = text[shell.end() :]
    return keyword, _WS.sub(" ", text).strip()


def _instruction_text(ins: Instruction) -> str:
    text = ins.text if ins.keyword == "RUN" and not ins.json_form else " ".join(ins.args)
    text = _WS.sub(" ", _CONTINUATION.sub("", text)).strip()
    if ins.keyword == "RUN" and ins.json_form:
        shell = _SHELL.match(text)  # history strips "sh -c " from exec-form RUN too
        if shell:
            text = text[shell.end() :]
    return text


def _score(hist: tuple[str, str], ins: Instruction, ins_text: str) -> int:
    keyword, text = hist
    if keyword != ins.keyword:
        return 0
    if text == ins_text:
        return 3
    if keyword == "RUN":
        squashed = ins_text.replace(" ", "")
        return 2 if text.replace(" ", "") == squashed else 0
    # COPY/ADD history drops flags and may show expanded ARGs; keyword order still counts
    return 1


def final_instructions(dockerfile: Dockerfile) -> list[Instruction]:
    stage = dockerfile.final_stage
    if stage is None:
        return []
    return [i for i in stage.all_instructions() if i.keyword != "FROM"]


def align(
    history: Sequence[HistoryEntry], instructions: Sequence[Instruction]
) -> dict[int, tuple[Instruction, int]]:
    """history index -> (instruction, score) for the best order-preserving alignment."""
    hs = [split_created_by(h.created_by) for h in history]
    texts = [_instruction_text(i) for i in instructions]
    n, m = len(hs), len(instructions)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        row, below = best[a], best[a + 1]
        for b in range(m - 1, -1, -1):
            s = _score(hs[a], instructions[b], texts[b])
            take = below[b + 1] + s if s else 0
            row[b] = max(take, below[b], row[b + 1])
    out: dict[int, tuple[Instruction, int]] = {}
    a = b = 0
    while a < n and b < m:
        s = _score(hs[a], instructions[b], texts[b])
        if s and best[a][b] == best[a + 1][b + 1] + s:
            out[a] = (instructions[b], s)
            a, b = a + 1, b + 1
        elif best[a][b] == best[a + 1][b]:
            a += 1
        else:
            b += 1
    return out


def reference(ins: Instruction, path: str) -> InstructionRef:
    text = _instruction_text(ins)
    text = f"{ins.keyword} {text}"
    if len(text) > 72:
        text = text[:71] + "…"
    return InstructionRef(path, ins.line, ins.end_line, ins.keyword, text)


def attribute(
    config: dict[str, Any], layers: int, dockerfile: str | Path | None, auto: bool
) -> tuple[list[InstructionRef | None], str | None]:
    """Per layer, the instruction that made it (or None); plus the Dockerfile used."""
    none: list[InstructionRef | None] = [None] * layers
    if dockerfile is None:
        return none, None
    from jettison.dockerfile import read_dockerfile

    parsed = read_dockerfile(dockerfile)
    instructions = final_instructions(parsed)
    history = history_of(config)
    matched = align(history, instructions)
    per_layer = layer_history(history, layers)
    out: list[InstructionRef | None] = []
    for h in per_layer:
        hit = matched.get(h) if h is not None else None
        out.append(reference(hit[0], str(dockerfile)) if hit else None)
    if auto:
        # a Dockerfile found by chance must really be this image's: most of its layer-making
        # instructions must match by command text, not by keyword alone
        makers = [i for i in instructions if i.keyword in ("RUN", "COPY", "ADD")]
        strong = sum(1 for ins, s in matched.values() if s >= 2 and ins.keyword == "RUN")
        copies = sum(1 for ins, s in matched.values() if ins.keyword in ("COPY", "ADD"))
        if (
            not makers
            or (strong + copies) < 0.6 * len(makers)
            or (any(i.keyword == "RUN" for i in makers) and strong == 0)
        ):
            return none, None
    return out, str(dockerfile)
