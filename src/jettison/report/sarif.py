"""SARIF 2.1.0, as GitHub code scanning reads it (rule metadata from the rule registry)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jettison import __version__
from jettison.errors import JettisonError
from jettison.findings import Finding, Severity
from jettison.report.output import location_path, shown_path


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
                    "artifactLocation": {"uri": location_path(f.path), "uriBaseId": "%SRCROOT%"},
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
