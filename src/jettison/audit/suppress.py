"""Inline suppressions: ``# jettison: ignore=CODE`` comments, and hadolint's pragmas for the
rules that correspond."""

from __future__ import annotations

import re

from jettison.dockerfile import Dockerfile
from jettison.findings import Finding

_JETTISON_PRAGMA = re.compile(r"^jettison:\s*(ignore-file|ignore)\s*(?:=\s*([A-Za-z0-9_,\s]*))?")
_HADOLINT_PRAGMA = re.compile(r"^hadolint\s+(global\s+|stage\s+)?ignore\s*=\s*([A-Za-z0-9_,\s]+)")


class Suppressions:
    """``# jettison: ignore=CODE`` (next instruction), ``# jettison: ignore-file=CODE`` and
    hadolint's ``# hadolint [global] ignore=DLxxxx`` for the rules that correspond."""

    ALL = "*"

    def __init__(self, df: Dockerfile) -> None:
        self.file_codes: set[str] = set()
        self.by_line: dict[int, set[str]] = {}
        for comment in df.comments:
            self._read_file_level(comment.text)
        for ins in df.instructions:
            codes: set[str] = set()
            for comment in ins.comments_above:
                codes |= self._read_local(comment.text)
            if codes:
                for line in range(ins.line, ins.end_line + 1):
                    self.by_line.setdefault(line, set()).update(codes)
        # a stage-wide hadolint pragma applies to every instruction of the next stage
        for stage in df.stages:
            codes = set()
            for comment in stage.from_instruction.comments_above:
                m = _HADOLINT_PRAGMA.match(comment.text)
                if m and m.group(1) and m.group(1).strip() == "stage":
                    codes |= _split_codes(m.group(2))
            if codes:
                for ins in stage.instructions:
                    for line in range(ins.line, ins.end_line + 1):
                        self.by_line.setdefault(line, set()).update(codes)

    def _read_file_level(self, text: str) -> None:
        m = _JETTISON_PRAGMA.match(text)
        if m and m.group(1) == "ignore-file":
            self.file_codes |= _split_codes(m.group(2)) or {self.ALL}
        h = _HADOLINT_PRAGMA.match(text)
        if h and h.group(1) and h.group(1).strip() == "global":
            self.file_codes |= _split_codes(h.group(2))

    def _read_local(self, text: str) -> set[str]:
        m = _JETTISON_PRAGMA.match(text)
        if m and m.group(1) == "ignore":
            return _split_codes(m.group(2)) or {self.ALL}
        h = _HADOLINT_PRAGMA.match(text)
        if h and not h.group(1):
            return _split_codes(h.group(2))
        return set()

    def _matches(self, codes: set[str], finding: Finding) -> bool:
        if self.ALL in codes or finding.code in codes:
            return True
        return any(v in codes for v in finding.equivalents.values())

    def hides(self, finding: Finding) -> bool:
        if self._matches(self.file_codes, finding):
            return True
        codes = self.by_line.get(finding.line)
        return codes is not None and self._matches(codes, finding)


def _split_codes(text: str | None) -> set[str]:
    if not text:
        return set()
    return {c.strip().upper() for c in re.split(r"[,\s]+", text) if c.strip()}
