"""Render findings of any analysis (audit, context, image) in the formats CI systems read."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jettison import __version__
from jettison.errors import JettisonError
from jettison.findings import Finding, Severity

if TYPE_CHECKING:  # rich loads only for the terminal view: JSON/SARIF in CI skip ~30 ms
    from rich.console import Console

FORMATS = ("text", "json", "sarif", "github", "markdown")

_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
    Severity.STYLE: "magenta",
}


def write_plain(console: Console, text: str, end: str = "\n") -> None:
    """Machine-readable text (JSON, SARIF, Markdown, diffs) exactly as given, straight to the
    console's file: rich's ``Console.out`` expands tabs, drops carriage returns (a diff that
    no longer applies) and renders per character (minutes for a large JSON document)."""
    console.file.write(text + end)
    console.file.flush()


def render_findings(
    findings: Sequence[Finding],
    errors: Sequence[JettisonError],
    fmt: str,
    console: Console,
    files: int = 0,
) -> None:
    if fmt == "json":
        write_plain(console, json.dumps([f.to_json() for f in findings], indent=2))
    elif fmt == "sarif":
        write_plain(console, json.dumps(to_sarif(findings, errors), indent=2))
    elif fmt == "github":
        lines = []
        for f in findings:
            level = {"error": "error", "warning": "warning"}.get(f.severity.value, "notice")
            msg = _gh_escape(f"{f.code} {f.message}")
            lines.append(
                f"::{level} file={f.path},line={f.line},endLine={f.end_line},"
                f"col={f.column},title={f.code} {f.rule_name}::{msg}"
            )
        for e in errors:
            loc = f"file={e.path}" + (f",line={e.line}" if e.line else "") if e.path else ""
            lines.append(f"::error {loc}::{_gh_escape(e.message)}")
        if lines:
            write_plain(console, "\n".join(lines))
    elif fmt == "markdown":
        write_plain(console, to_markdown(findings, errors))
    else:
        render_text(findings, errors, console, files)


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_text(
    findings: Sequence[Finding], errors: Sequence[JettisonError], console: Console, files: int
) -> None:
    from rich.markup import escape
    from rich.text import Text

    lines_cache: dict[str, list[str]] = {}
    current = None
    for f in findings:
        if f.path != current:
            if current is not None:
                console.print()
            console.print(f"[bold underline]{escape(f.path)}[/]")
            current = f.path
        mark = " [green]\\[*][/]" if f.fix else ""
        console.print(
            f"  [dim]{f.line}:{f.column}[/] [{_STYLE[f.severity]}]{f.severity.value}"
            f"[/] [bold]{f.code}[/]{mark} {escape(f.message)}"
        )
        source = _source_line(lines_cache, f.path, f.line) if f.show_source else None
        if source is not None:
            console.print(Text.assemble(("      │ ", "dim"), source), highlight=False)
    for e in errors:
        console.print(f"[bold red]error[/] {escape(str(e))}")
    counts = Counter(f.severity for f in findings)
    fixable = sum(1 for f in findings if f.fix)
    parts = [f"{counts[s]} {s.value}" for s in Severity if counts[s]]
    summary = ", ".join(parts) if parts else "no findings"
    console.print()
    console.print(
        f"[bold]{len(findings)} finding(s)[/] in {files} file(s): {summary}"
        + (f"; {fixable} fixable with `jettison fix` (\\[*])" if fixable else "")
        + (f"; [red]{len(errors)} file(s) could not be checked[/]" if errors else "")
    )


def _source_line(cache: dict[str, list[str]], path: str, line: int) -> str | None:
    if path not in cache:
        try:
            # utf-8-sig: a byte-order mark is not part of the first line's text
            cache[path] = Path(path).read_text(encoding="utf-8-sig", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    if 1 <= line <= len(lines):
        text = lines[line - 1]
        return text if len(text) <= 160 else text[:157] + "..."
    return None


def render_statistics(findings: Sequence[Finding], console: Console, fmt: str = "text") -> None:
    counts = Counter((f.code, f.rule_name) for f in findings)
    fixable = Counter(f.code for f in findings if f.fix)
    if fmt == "json":
        write_plain(
            console,
            json.dumps(
                [
                    {"code": c, "name": n, "count": k, "fixable": fixable[c]}
                    for (c, n), k in counts.most_common()
                ],
                indent=2,
            ),
        )
        return
    from rich.table import Table

    table = Table(title="findings by rule", show_edge=False)
    table.add_column("count", justify="right")
    table.add_column("code")
    table.add_column("rule")
    table.add_column("fixable", justify="right")
    for (code, name), k in counts.most_common():
        table.add_row(str(k), code, name, str(fixable[code]) if fixable[code] else "")
    console.print(table)


def to_sarif(findings: Sequence[Finding], errors: Sequence[JettisonError]) -> dict[str, Any]:
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
                    "helpUri": f"https://github.com/jettison/jettison/blob/main/docs/rules/{code}.md",
                    "defaultConfiguration": {"level": _sarif_level(r.severity)},
                }
            )
        rules.append(entry)
    results = []
    for f in findings:
        results.append(
            {
                "ruleId": f.code,
                "level": _sarif_level(f.severity),
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path},
                            "region": {
                                "startLine": f.line,
                                "endLine": f.end_line,
                                "startColumn": f.column,
                            },
                        }
                    }
                ],
            }
        )
    notifications = [{"level": "error", "message": {"text": str(e)}} for e in errors]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "jettison",
                "version": __version__,
                "informationUri": "https://github.com/jettison/jettison",
                "rules": rules,
            }
        },
        "results": results,
    }
    if notifications:
        run["invocations"] = [
            {"executionSuccessful": False, "toolExecutionNotifications": notifications}
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
        out.append(f"| `{f.path}` | {f.line} | {f.severity.value} | {f.code} | {msg} | {fix} |")
    if errors:
        out += ["", "**Could not be checked:**", ""]
        out += [f"- {e}" for e in errors]
    counts = Counter(f.severity.value for f in findings)
    out += ["", ", ".join(f"{v} {k}" for k, v in counts.items()) + f" ({len(findings)} total)"]
    return "\n".join(out)
