"""Span edits that remove words (packages) from a RUN, keeping its continuation lines tidy."""

from __future__ import annotations

from jettison.dockerfile import Instruction, Word
from jettison.findings import Edit


def remove_words(source: str, ins: Instruction, words: list[Word], escape: str) -> list[Edit]:
    """Deletions removing ``words`` from a RUN, keeping its lines well-formed.

    A word after others on its line goes with the blanks before it; a word that starts its
    line goes with the blanks after it, or with the whole line when only a continuation
    follows it. A word that ends the instruction (nothing but blanks or a comment after it,
    no continuation) also takes the continuation of the line before it: ``curl \\`` left
    before a blank, comment or next instruction line would make BuildKit join that line into
    the RUN. Heredoc lines are the shell's, not the Dockerfile's: only the word and the
    blanks before it go there. No edits when a word cannot be removed that way.
    """
    blank = " \t"
    doc_start = ins.heredocs[0].content_start if ins.heredocs else len(source)
    lines = [_line_of(source, w.start) for w in words]
    removed_lines = {  # lines that go whole: a word alone before a continuation
        start
        for w, (start, end) in zip(words, lines, strict=True)
        if w.start < doc_start
        and not source[start : w.start].strip(blank)
        and source[w.end : end].strip(blank + "\r") == escape
    }
    spans: list[tuple[int, int]] = []
    for w, (start, end) in zip(words, lines, strict=True):
        cut = w.start
        while cut > start and source[cut - 1] in blank:
            cut -= 1
        if w.start >= doc_start or cut > start:  # in a heredoc, or after other words
            spans.append((cut, w.end))
            continue
        after = w.end
        while after < end and source[after] in blank:
            after += 1
        rest = source[w.end : end].strip(blank + "\r")
        if start in removed_lines:
            spans.append((start, min(end + 1, len(source))))
        elif rest and not rest.startswith("#"):
            spans.append((w.start, after))
        else:
            previous = _continuation(source, start, escape, removed_lines)
            if previous is None:
                return []
            cont_start, cont_end, adjacent = previous
            if adjacent:  # `curl \` + `vim # c` -> `curl # c`
                spans.append((cont_start, w.end if rest else after))
            else:  # comment lines between stay; so does the word's own comment
                spans.append((cont_start, cont_end))
                spans.append((start, after if rest else min(end + 1, len(source))))
    return [Edit(a, b, "") for a, b in _union(spans)]


def _line_of(source: str, offset: int) -> tuple[int, int]:
    """(start, end) of the line holding ``offset``; end is at its newline (or the text end)."""
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    return start, len(source) if end == -1 else end


def _continuation(
    source: str, line_start: int, escape: str, removed: set[int]
) -> tuple[int, int, bool] | None:
    """The continuation (blanks and escape character) of the line continued into the one
    starting at ``line_start``: (start, end, whether it is the line right above). Blank and
    comment lines between, which BuildKit skips, and lines removed whole are passed over;
    None when no continued line is found."""
    start = line_start
    adjacent = True
    while start > 0:
        start, end = _line_of(source, start - 1)
        if start in removed:
            continue
        text = source[start:end].rstrip(" \t\r")
        stripped = text.strip(" \t")
        if not stripped or stripped.startswith("#"):
            adjacent = False
            continue
        if not text.endswith(escape):
            return None
        cut = start + len(text) - 1
        while cut > start and source[cut - 1] in " \t":
            cut -= 1
        return cut, start + len(text), adjacent
    return None


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
