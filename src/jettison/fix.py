"""``jettison fix`` as a library: apply rule fixes as span edits, to a fixpoint.

Each round parses the current text, collects the fixes of enabled rules (safe ones, plus
unsafe ones when asked), applies every edit that does not overlap an earlier one, and
re-parses. Rounds stop when nothing changes, so fixing a fixed file changes nothing. A round
whose result BuildKit's parser rejects is discarded: a fix never turns a parsable file into
an unparsable one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from jettison.audit import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
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
    # other files the fixes create or change (relative to the Dockerfile's directory)
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
            target = base / rel
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


def fix_source(source: str, path: str, config: Config, unsafe: bool = False) -> FixOutcome:
    """Fix a Dockerfile's text; raises DockerfileParseError if the input does not parse."""
    outcome = FixOutcome(path=path, original=source, text=source)
    text = source
    df = parse_dockerfile(text, path)
    findings = check_dockerfile(df, config)
    rejected: set[tuple[str, int]] = set()
    for _ in range(MAX_ROUNDS):
        findings = [f for f in findings if (f.code, f.line) not in rejected]
        edits, used, extra = _choose(findings, unsafe)
        if not edits and not extra:
            break
        edits = _line_endings(edits, df.newline)
        candidate = apply_edits(text, edits)
        try:
            df = parse_dockerfile(candidate, path)
        except DockerfileParseError:
            # find the fixes to blame one by one; never write what BuildKit would reject
            used, dropped, candidate = _narrow(text, used, df.newline, path)
            for f in dropped:
                rejected.add((f.code, f.line))
                outcome.skipped.append((f.code, f.line, "the result would not parse"))
            if candidate == text:
                continue  # the next round retries without the rejected fixes
            df = parse_dockerfile(candidate, path)
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


def _line_endings(edits: list[Edit], newline: str) -> list[Edit]:
    """Inserted lines take the file's line ending (CRLF files stay CRLF)."""
    if newline == "\n":
        return edits
    return [
        Edit(e.start, e.end, e.text.replace("\r\n", "\n").replace("\n", newline), e.path)
        for e in edits
    ]


def _narrow(
    text: str, used: list[Finding], newline: str, path: str
) -> tuple[list[Finding], list[Finding], str]:
    """Apply the round's fixes one at a time, keeping those whose result still parses."""
    kept: list[Finding] = []
    dropped: list[Finding] = []
    kept_edits: list[Edit] = []
    candidate = text
    for f in used:
        assert f.fix is not None
        local = _line_endings([e for e in f.fix.edits if e.path is None], newline)
        trial = apply_edits(text, kept_edits + local)
        try:
            parse_dockerfile(trial, path)
        except DockerfileParseError:
            dropped.append(f)
            continue
        kept.append(f)
        kept_edits += local
        candidate = trial
    return kept, dropped, candidate
