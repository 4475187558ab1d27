"""Rule fixes applied as span edits, to a fixpoint (the core of `jettison fix`).

Each round parses the current text, collects the fixes of enabled rules (safe ones, plus
unsafe ones when asked), applies every edit that does not overlap an earlier one, and
re-parses. Rounds stop when nothing changes, so fixing a fixed file changes nothing. A fix
whose result BuildKit's parser rejects is discarded: a fix never turns a parsable file into
an unparsable one. So is a fix that changes where an instruction it did not edit begins (a
continuation left before a blank or comment line makes BuildKit join the next instruction
into the edited one: still parsable, but a different build), and one that drops a comment
line.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from jettison.audit.checks import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import Dockerfile, parse_dockerfile
from jettison.errors import DockerfileParseError
from jettison.findings import Edit, Finding, FixSafety

MAX_ROUNDS = 10


@dataclass
class AppliedFix:
    code: str
    line: int
    description: str
    safety: FixSafety


@dataclass
class FixOutcome:
    path: str
    original: str
    text: str
    applied: list[AppliedFix] = field(default_factory=list)
    # fixes that could not be applied, with the reason (never half-applied)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)  # findings left after fixing
    # other files the fixes create or change (relative to the Dockerfile's directory;
    # ../.dockerignore for a Dockerfile in docker/ built from the repository root)
    extra_files: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.text != self.original or bool(self.extra_files)

    def diff(self) -> str:
        out = "".join(
            difflib.unified_diff(
                _diff_lines(self.original),
                _diff_lines(self.text),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )
        base = Path(self.path).parent
        for rel, content in sorted(self.extra_files.items()):
            target = Path(os.path.normpath(base / rel))  # docker/../.dockerignore: .dockerignore
            try:
                old = target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                old = ""
            out += "".join(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    content.splitlines(keepends=True),
                    fromfile=f"a/{target}" if old else "/dev/null",
                    tofile=f"b/{target}",
                )
            )
        return out


def _diff_lines(text: str) -> list[str]:
    """Lines for difflib; a last line without newline gets patch's marker, so the diff
    stays well-formed and applies with `patch`/`git apply`."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (sorted by start) to ``text``."""
    out: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def _choose(
    findings: list[Finding], unsafe: bool
) -> tuple[list[Edit], list[Finding], dict[str, str]]:
    """Pick the edits of one round: whole fixes only, none overlapping another."""
    chosen: list[Edit] = []
    used: list[Finding] = []
    extra: dict[str, str] = {}
    taken: list[tuple[int, int]] = []
    for finding in sorted(findings, key=lambda f: (f.line, f.code)):
        fix = finding.fix
        if fix is None or (fix.safety is FixSafety.UNSAFE and not unsafe):
            continue
        local = [e for e in fix.edits if e.path is None]
        if any(_overlaps(e, taken) for e in local):
            continue  # the next round sees the result and retries this one
        for e in fix.edits:
            if e.path is not None:
                extra[e.path] = e.text
        for e in local:
            taken.append((e.start, e.end))
            chosen.append(e)
        used.append(finding)
    return chosen, used, extra


def _overlaps(edit: Edit, taken: list[tuple[int, int]]) -> bool:
    for start, end in taken:
        if edit.start < end and start < edit.end:
            return True
        # two insertions at one point would interleave unpredictably
        if edit.start == edit.end == start == end:
            return True
        if (edit.start == edit.end and start < edit.start < end) or (
            start == end and edit.start < start < edit.end
        ):
            return True
    return False


def fix_source(
    source: str, path: str, config: Config, unsafe: bool = False, context: str | None = None
) -> FixOutcome:
    """Fix a Dockerfile's text; raises DockerfileParseError if the input does not parse."""
    outcome = FixOutcome(path=path, original=source, text=source)
    text = source
    df = parse_dockerfile(text, path, context)
    findings = check_dockerfile(df, config)
    rejected: set[tuple[str, int]] = set()
    reported: set[tuple[str, str, str]] = set()
    for _ in range(MAX_ROUNDS):
        findings = [f for f in findings if (f.code, f.line) not in rejected]
        edits, used, extra = _choose(findings, unsafe)
        if not edits and not extra:
            break
        edits = _line_endings(edits, df.newline, text)
        candidate = apply_edits(text, edits)
        new_df, _ = _check(candidate, df, edits, path)
        if new_df is None:
            # find the fixes to blame one by one; never write what BuildKit would reject
            # or what it would read as other instructions
            used, dropped, candidate = _narrow(text, used, df, path)
            for f, reason in dropped:
                rejected.add((f.code, f.line))
                if (f.code, f.message, reason) not in reported:
                    reported.add((f.code, f.message, reason))
                    outcome.skipped.append((f.code, f.line, reason))
            if candidate == text:
                continue  # the next round retries without the rejected fixes
            new_df = parse_dockerfile(candidate, path, context)
        df = new_df
        new_extra = {k: v for k, v in extra.items() if outcome.extra_files.get(k) != v}
        if candidate == text and not new_extra:
            break
        outcome.extra_files.update(extra)
        for f in used:
            assert f.fix is not None
            outcome.applied.append(AppliedFix(f.code, f.line, f.fix.description, f.fix.safety))
        text = candidate
        findings = check_dockerfile(df, config)
    outcome.text = text
    outcome.remaining = findings
    return outcome


UNPARSABLE = "the result would not parse"
RESTRUCTURED = "the result would join or split other instructions"
UNCOMMENTED = "the result would drop a comment"


def _check(
    candidate: str, before: Dockerfile, edits: list[Edit], path: str
) -> tuple[Dockerfile | None, str | None]:
    """The parsed candidate, or None and why it must not be written."""
    try:
        df = parse_dockerfile(candidate, path, before.context)
    except DockerfileParseError:
        return None, UNPARSABLE
    if not _same_structure(before, df, edits):
        return None, RESTRUCTURED
    if _comment_lines(before.source) - _comment_lines(candidate):
        return None, UNCOMMENTED
    return df, None


def _comment_lines(text: str) -> Counter[str]:
    """Every comment line (also those inside continuations, which BuildKit skips)."""
    return Counter(
        stripped
        for line in text.splitlines()
        if (stripped := line.strip(" \t\r\ufeff")).startswith("#")
    )


def _same_structure(before: Dockerfile, after: Dockerfile, edits: list[Edit]) -> bool:
    """True when every instruction the edits did not rewrite still begins where the edits
    moved it, with the same keyword, and every other instruction begins in inserted text."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    starts = {ins.start: ins.keyword for ins in after.instructions}
    kept: set[int] = set()
    for ins in before.instructions:
        moved = _moved(ins.start, ordered)
        if moved is None:
            continue  # an edit rewrites or removes it
        if starts.get(moved) != ins.keyword:
            return False
        kept.add(moved)
    inserted: list[tuple[int, int]] = []
    shift = 0
    for e in ordered:
        inserted.append((e.start + shift, e.start + shift + len(e.text)))
        shift += len(e.text) - (e.end - e.start)
    return all(start in kept or any(a <= start < b for a, b in inserted) for start in starts)


def _moved(offset: int, edits: list[Edit]) -> int | None:
    """Where ``offset`` lands after ``edits`` (sorted); None if an edit replaces it."""
    shift = 0
    for e in edits:
        if e.start <= offset < e.end:
            return None
        if e.end <= offset:
            shift += len(e.text) - (e.end - e.start)
    return offset + shift


def _line_endings(edits: list[Edit], newline: str, source: str) -> list[Edit]:
    """Inserted lines take the file's line ending (CRLF files stay CRLF).

    In a CRLF file an edit never splits a CR from its LF: a boundary between them moves
    before the CR, and a CR left at the end of the inserted text (a span copied up to the
    LF) is dropped there, so no ``\\r\\r\\n`` or bare ``\\n`` is written.
    """
    if newline == "\n":
        return edits
    out = []
    for e in edits:
        if e.path is not None:
            out.append(e)
            continue
        start, end = _before_cr(source, e.start), _before_cr(source, e.end)
        text = e.text.replace("\r\n", "\n")
        if text.endswith("\r") and source.startswith("\r\n", end):
            text = text[:-1]
        out.append(Edit(start, max(start, end), text.replace("\n", newline), e.path))
    return out


def _before_cr(source: str, offset: int) -> int:
    """``offset``, moved before the CR when it falls between a CR and its LF."""
    if 0 < offset < len(source) and source[offset - 1] == "\r" and source[offset] == "\n":
        return offset - 1
    return offset


def _narrow(
    text: str, used: list[Finding], df: Dockerfile, path: str
) -> tuple[list[Finding], list[tuple[Finding, str]], str]:
    """Apply the round's fixes one at a time, keeping those whose result passes
    :func:`_check`; the dropped ones come with the reason."""
    kept: list[Finding] = []
    dropped: list[tuple[Finding, str]] = []
    kept_edits: list[Edit] = []
    candidate = text
    for f in used:
        assert f.fix is not None
        local = _line_endings([e for e in f.fix.edits if e.path is None], df.newline, text)
        trial = apply_edits(text, kept_edits + local)
        ok, problem = _check(trial, df, kept_edits + local, path)
        if ok is None:
            dropped.append((f, problem or UNPARSABLE))
            continue
        kept.append(f)
        kept_edits += local
        candidate = trial
    return kept, dropped, candidate
