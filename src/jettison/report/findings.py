"""Render findings of any analysis (audit, context, image) in the formats CI systems read.

Every format names files the same way: relative to the working directory when they are
inside it (as a repository's CI and code scanning expect), with ``/`` separators. A finding
about a build context that has no ``.dockerignore`` is located at the ``.dockerignore`` it
asks for. The terminal view is written without rich (plain text, ANSI colours on a
terminal): a one-file audit from a pre-commit hook or an editor does not pay for importing it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jettison import __version__
from jettison.errors import JettisonError
from jettison.findings import Finding, FixSafety, Severity

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("text", "json", "sarif", "github", "markdown", "junit", "gitlab", "checkstyle")

_ANSI = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
    Severity.STYLE: "\x1b[35m",
}
_RESET = "\x1b[0m"


def _is_console(out: object) -> bool:
    return hasattr(out, "is_terminal") and hasattr(out, "print") and hasattr(out, "file")


def _stream(out: Console | IO[str]) -> IO[str]:
    """The file behind a rich console, or the stream itself."""
    if _is_console(out):
        file: IO[str] = out.file  # type: ignore[union-attr]
        return file
    return out  # type: ignore[return-value]


def write_plain(console: Console | IO[str], text: str, end: str = "\n") -> None:
    """Machine-readable text (JSON, SARIF, Markdown, diffs) exactly as given, straight to the
    console's file: rich's ``Console.out`` expands tabs, drops carriage returns (a diff that
    no longer applies) and renders per character (minutes for a large JSON document)."""
    stream = _stream(console)
    stream.write(text + end)
    stream.flush()


def use_color(out: Console | IO[str]) -> bool:
    """Colours on a terminal, unless NO_COLOR or TERM=dumb; a rich console decides itself."""
    if _is_console(out):
        return bool(out.is_terminal and not out.no_color)  # type: ignore[union-attr]
    stream = _stream(out)
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@lru_cache(maxsize=4096)
def shown_path(path: str) -> str:
    """``path`` as every report names it: relative to the working directory when inside it,
    ``/``-separated; other paths (and ``image:NAME``) as they are."""
    if not path or path.startswith("image:") or "://" in path:
        return path
    try:
        cwd = os.getcwd()
    except OSError:
        return path
    absolute = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(absolute, cwd)
    if rel == os.curdir:
        return "."
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
        return absolute.replace(os.sep, "/") if os.path.isabs(path) else path
    return rel.replace(os.sep, "/")


def _location_path(path: str) -> str:
    """The file a location points at: a context directory stands for its (missing)
    ``.dockerignore``, the file the context rules speak about."""
    shown = shown_path(path)
    if not shown.startswith("image:") and os.path.isdir(path):
        return ".dockerignore" if shown == "." else f"{shown.rstrip('/')}/.dockerignore"
    return shown


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


def render_findings(
    findings: Sequence[Finding],
    errors: Sequence[JettisonError],
    fmt: str,
    console: Console | IO[str],
    files: int = 0,
    paths: Sequence[str] = (),
    sources: Mapping[str, str] | None = None,
) -> None:
    """Write ``findings`` in ``fmt``. ``paths`` lists the files checked (JUnit reports a
    passing case for each clean one); ``sources`` gives the text of files that are not on
    disk (standard input) for the source lines of the terminal view."""
    if fmt == "json":
        data = [{**f.to_json(), "path": shown_path(f.path)} for f in findings]
        write_plain(console, json.dumps(data, indent=2))
    elif fmt == "sarif":
        write_plain(console, json.dumps(to_sarif(findings, errors), indent=2))
    elif fmt == "github":
        text = to_github(findings, errors)
        if text:
            write_plain(console, text)
    elif fmt == "markdown":
        write_plain(console, to_markdown(findings, errors))
    elif fmt == "junit":
        write_plain(console, to_junit(findings, errors, paths))
    elif fmt == "gitlab":
        write_plain(console, json.dumps(to_gitlab(findings, errors), indent=2))
    elif fmt == "checkstyle":
        write_plain(console, to_checkstyle(findings, errors))
    else:
        render_text(findings, errors, console, files, sources)


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> str:
    """GitHub Actions workflow commands: an annotation per finding and per error."""
    lines = []
    for f in findings:
        level = {"error": "error", "warning": "warning"}.get(f.severity.value, "notice")
        msg = _gh_escape(f"{f.code} {f.message}")
        lines.append(
            f"::{level} file={_gh_property(_location_path(f.path))},line={f.line},"
            f"endLine={f.end_line},col={f.column},"
            f"title={_gh_property(f'{f.code} {f.rule_name}')}::{msg}"
        )
    for e in errors:
        loc = ""
        if e.path:
            loc = f" file={_gh_property(shown_path(e.path))}" + (
                f",line={e.line}" if e.line else ""
            )
        lines.append(f"::error{loc}::{_gh_escape(e.message)}")
    return "\n".join(lines)


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


def to_sarif(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> dict[str, Any]:
    """SARIF 2.1.0 as GitHub code scanning reads it: locations relative to ``%SRCROOT%``
    (the working directory), findings on images as logical locations."""
    from jettison.rules.registry import get_rule

    codes = sorted({f.code for f in findings})
    rules = []
    for code in codes:
        r = get_rule(code)
        entry: dict[str, Any] = {"id": code}
        if r is not None:
            entry.update(
                {
                    "name": r.name,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.doc.what},
                    "help": {"text": r.doc.why},
                    "defaultConfiguration": {"level": _sarif_level(r.severity)},
                    "properties": {"tags": [r.category.value]},
                }
            )
        rules.append(entry)
    results = []
    for f in findings:
        location: dict[str, Any]
        if f.path.startswith("image:"):
            location = {"logicalLocations": [{"fullyQualifiedName": f.path, "kind": "image"}]}
        else:
            location = {
                "physicalLocation": {
                    "artifactLocation": {"uri": _location_path(f.path), "uriBaseId": "%SRCROOT%"},
                    "region": {
                        "startLine": f.line,
                        "endLine": max(f.end_line, f.line),
                        "startColumn": f.column,
                    },
                }
            }
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": _sarif_level(f.severity),
            "message": {"text": f.message},
            "locations": [location],
        }
        if f.fix is not None:
            result["properties"] = {"fix": f.fix.safety.value}
        results.append(result)
    notifications = []
    for e in errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": e.message}}
        if e.path:
            physical: dict[str, Any] = {
                "artifactLocation": {"uri": shown_path(e.path), "uriBaseId": "%SRCROOT%"}
            }
            if e.line:
                physical["region"] = {"startLine": e.line}
            note["locations"] = [{"physicalLocation": physical}]
        notifications.append(note)
    try:
        root = Path.cwd().as_uri() + "/"
    except (OSError, ValueError):
        root = None
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "jettison", "version": __version__, "rules": rules}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if root is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": root}}
    run["invocations"] = [
        {"executionSuccessful": not errors, "toolExecutionNotifications": notifications}
    ]
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [run],
    }


def _sarif_level(severity: Severity) -> str:
    return {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(severity, "note")


def to_markdown(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> str:
    out = ["## jettison audit", ""]
    if not findings and not errors:
        out.append("No findings.")
        return "\n".join(out)
    out += ["| file | line | severity | rule | message | fix |", "|---|---:|---|---|---|---|"]
    for f in findings:
        fix = f.fix.safety.value if f.fix else ""
        msg = f.message.replace("|", "\\|")
        out.append(
            f"| `{shown_path(f.path)}` | {f.line} | {f.severity.value} | {f.code} | {msg} | {fix} |"
        )
    if errors:
        out += ["", "**Could not be checked:**", ""]
        out += [f"- {_shown_error(e)}" for e in errors]
    counts = Counter(f.severity.value for f in findings)
    out += ["", ", ".join(f"{v} {k}" for k, v in counts.items()) + f" ({len(findings)} total)"]
    return "\n".join(out)


def _shown_error(e: JettisonError) -> str:
    return str(JettisonError(e.message, shown_path(e.path) if e.path else None, e.line))


# --- the formats CI systems ask hadolint for ---------------------------------------------
def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    # XML 1.0 has no place for most control characters: drop them
    text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    return escape(text, {'"': "&quot;"})


def to_junit(
    findings: Sequence[Finding], errors: Sequence[JettisonError], paths: Sequence[str] = ()
) -> str:
    """JUnit XML (GitLab, Jenkins, Azure test reports): a test suite per file, a failing
    test case per finding, an erroring one per file that could not be checked, a passing
    one for each clean file."""
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(_location_path(f.path), []).append(f)
    errs: dict[str, list[JettisonError]] = {}
    for e in errors:
        errs.setdefault(shown_path(e.path) if e.path else "jettison", []).append(e)
    names = list(dict.fromkeys([*(shown_path(p) for p in paths), *by_file, *errs]))
    suites = []
    total = failures = n_errors = 0
    for name in names:
        cases = []
        for f in by_file.get(name, []):
            text = f"{name}:{f.line}:{f.column} {f.code} {f.severity.value}: {f.message}"
            cases.append(
                f'    <testcase name="{_xml(f"{f.code}:{f.line}")}" classname="{_xml(name)}"'
                f' file="{_xml(name)}" line="{f.line}">\n'
                f'      <failure message="{_xml(f.message)}" type="{f.severity.value}">'
                f"{_xml(text)}</failure>\n    </testcase>"
            )
        for e in errs.get(name, []):
            cases.append(
                f'    <testcase name="check" classname="{_xml(name)}" file="{_xml(name)}">\n'
                f'      <error message="{_xml(e.message)}">{_xml(_shown_error(e))}</error>\n'
                "    </testcase>"
            )
        if not cases:
            cases.append(f'    <testcase name="audit" classname="{_xml(name)}"/>')
        n_fail = len(by_file.get(name, []))
        n_err = len(errs.get(name, []))
        total += len(cases)
        failures += n_fail
        n_errors += n_err
        suites.append(
            f'  <testsuite name="{_xml(name)}" tests="{len(cases)}" failures="{n_fail}" '
            f'errors="{n_err}">\n' + "\n".join(cases) + "\n  </testsuite>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="jettison" tests="{total}" failures="{failures}" '
        f'errors="{n_errors}">\n' + "".join(s + "\n" for s in suites) + "</testsuites>"
    )


_GITLAB_SEVERITY = {
    Severity.ERROR: "critical",
    Severity.WARNING: "major",
    Severity.INFO: "minor",
    Severity.STYLE: "info",
}
_CATEGORY = {
    "size": "Performance",
    "cache": "Performance",
    "context": "Performance",
    "python": "Bug Risk",
    "correctness": "Bug Risk",
    "security": "Security",
    "compose": "Style",
}


def to_gitlab(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> list[dict[str, Any]]:
    """GitLab code quality: Code Climate issues with a fingerprint that survives line moves
    (rule, file, message and the occurrence's rank, not the line number)."""
    import hashlib

    from jettison.rules.registry import get_rule

    seen: Counter[tuple[str, str, str]] = Counter()
    issues = []

    def fingerprint(code: str, path: str, message: str) -> str:
        seen[code, path, message] += 1  # the n-th identical finding in a file
        key = "\0".join([code, path, message, str(seen[code, path, message])])
        return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]

    for f in findings:
        path = _location_path(f.path)
        rule = get_rule(f.code)
        category = _CATEGORY.get(rule.category.value, "Style") if rule else "Style"
        issues.append(
            {
                "type": "issue",
                "check_name": f.code,
                "description": f"{f.code} {f.message}",
                "categories": [category],
                "severity": _GITLAB_SEVERITY[f.severity],
                "fingerprint": fingerprint(f.code, path, f.message),
                "location": {
                    "path": path,
                    "lines": {"begin": f.line, "end": max(f.end_line, f.line)},
                },
            }
        )
    for e in errors:
        path = shown_path(e.path) if e.path else "."
        issues.append(
            {
                "type": "issue",
                "check_name": "jettison-error",
                "description": f"could not be checked: {e.message}",
                "categories": ["Bug Risk"],
                "severity": "blocker",
                "fingerprint": fingerprint("error", path, e.message),
                "location": {"path": path, "lines": {"begin": e.line or 1}},
            }
        )
    return issues


_CHECKSTYLE_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
    Severity.STYLE: "info",
}


def to_checkstyle(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> str:
    """Checkstyle XML (Jenkins warnings-ng, reviewdog, Bitbucket, many IDEs)."""
    by_file: dict[str, list[str]] = {}
    for f in findings:
        by_file.setdefault(_location_path(f.path), []).append(
            f'    <error line="{f.line}" column="{f.column}" '
            f'severity="{_CHECKSTYLE_SEVERITY[f.severity]}" message="{_xml(f.message)}" '
            f'source="jettison.{_xml(f.code)}"/>'
        )
    for e in errors:
        by_file.setdefault(shown_path(e.path) if e.path else "jettison", []).append(
            f'    <error line="{e.line or 1}" severity="error" message="{_xml(e.message)}" '
            'source="jettison.error"/>'
        )
    body = "".join(
        f'  <file name="{_xml(name)}">\n' + "\n".join(rows) + "\n  </file>\n"
        for name, rows in by_file.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<checkstyle version="4.3">\n{body}</checkstyle>'
    )
