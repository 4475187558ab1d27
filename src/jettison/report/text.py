"""The terminal view of findings (plain text, ANSI colours on a terminal, without rich: a
one-file audit from a pre-commit hook or an editor does not pay for importing it) and
``--statistics``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from jettison.errors import JettisonError
from jettison.findings import Finding, FixSafety, Severity
from jettison.report.output import shown_path, use_color, write_plain

if TYPE_CHECKING:
    from rich.console import Console

_ANSI = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
    Severity.STYLE: "\x1b[35m",
}


_RESET = "\x1b[0m"


def is_safe_fix(f: Finding) -> bool:
    return f.fix is not None and f.fix.safety is FixSafety.SAFE


def fixable_summary(findings: Sequence[Finding]) -> str:
    """ruff's wording: safe fixes are what ``jettison fix`` applies; the rest need
    ``--unsafe-fixes``."""
    safe = sum(1 for f in findings if is_safe_fix(f))
    unsafe = sum(1 for f in findings if f.fix is not None and not is_safe_fix(f))
    if safe and unsafe:
        return f"{safe} fixable with `jettison fix` ({unsafe} more with `--unsafe-fixes`)"
    if safe:
        return f"{safe} fixable with `jettison fix`"
    if unsafe:
        return f"{unsafe} fixable with `jettison fix --unsafe-fixes`"
    return ""


def render_text(
    findings: Sequence[Finding],
    errors: Sequence[JettisonError],
    console: Console | IO[str],
    files: int,
    sources: Mapping[str, str] | None = None,
) -> None:
    """Findings grouped by file with the offending line, then a summary. Errors are not
    written here: the command prints them on stderr."""
    color = use_color(console)

    def paint(text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    lines_cache: dict[str, list[str]] = {}
    out: list[str] = []
    current = None
    for f in findings:
        if f.path != current:
            if current is not None:
                out.append("")
            out.append(paint(shown_path(f.path), "\x1b[1;4m"))
            current = f.path
        mark = " " + paint("[*]", "\x1b[32m") if is_safe_fix(f) else ""
        out.append(
            f"  {paint(f'{f.line}:{f.column}', chr(27) + '[2m')} "
            f"{paint(f.severity.value, _ANSI[f.severity])} "
            f"{paint(f.code, chr(27) + '[1m')}{mark} {f.message}"
        )
        source = _source_line(lines_cache, f.path, f.line, sources) if f.show_source else None
        if source is not None:
            out.append(paint("      │ ", "\x1b[2m") + source)
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s.value}" for s in Severity if counts[s]]
    summary = ", ".join(parts) if parts else "no findings"
    fixable = fixable_summary(findings)
    out.append("")
    out.append(
        paint(f"{len(findings)} finding(s)", "\x1b[1m")
        + f" in {files} file(s): {summary}"
        + (f"; {fixable}" if fixable else "")
        + (paint(f"; {len(errors)} file(s) could not be checked", "\x1b[31m") if errors else "")
    )
    write_plain(console, "\n".join(out))


def _source_line(
    cache: dict[str, list[str]], path: str, line: int, sources: Mapping[str, str] | None
) -> str | None:
    if path not in cache:
        if sources is not None and path in sources:
            cache[path] = sources[path].removeprefix("\ufeff").splitlines()
        else:
            try:
                # utf-8-sig: a byte-order mark is not part of the first line's text
                text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
                cache[path] = text.splitlines()
            except OSError:
                cache[path] = []
    lines = cache[path]
    if 1 <= line <= len(lines):
        text = lines[line - 1]
        return text if len(text) <= 160 else text[:157] + "..."
    return None


def render_statistics(
    findings: Sequence[Finding], console: Console | IO[str], fmt: str = "text"
) -> None:
    """Counts per rule: how many, and how many ``jettison fix`` fixes (safe) or
    ``--unsafe-fixes`` adds."""
    counts = Counter((f.code, f.rule_name) for f in findings)
    safe = Counter(f.code for f in findings if is_safe_fix(f))
    unsafe = Counter(f.code for f in findings if f.fix is not None and not is_safe_fix(f))
    if fmt == "json":
        import json  # imported here: the terminal view, what hooks print, does not need it

        rows = [
            {
                "code": c,
                "name": n,
                "count": k,
                "fixable": safe[c],
                "unsafe_fixable": unsafe[c],
            }
            for (c, n), k in counts.most_common()
        ]
        write_plain(console, json.dumps(rows, indent=2))
        return
    table = [("count", "code", "rule", "fixable", "unsafe")]
    for (code, name), k in counts.most_common():
        table.append((str(k), code, name, str(safe[code] or ""), str(unsafe[code] or "")))
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = ["findings by rule"]
    for row in table:
        cells = [
            row[0].rjust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].ljust(widths[2]),
            row[3].rjust(widths[3]),
            row[4].rjust(widths[4]),
        ]
        lines.append("  ".join(cells).rstrip())
    fixable = fixable_summary(findings)
    lines += ["", f"{len(findings)} finding(s)" + (f"; {fixable}" if fixable else "")]
    write_plain(console, "\n".join(lines))
