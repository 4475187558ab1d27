"""The reports CI systems read: GitHub annotations, JUnit XML, GitLab code quality,
Checkstyle XML."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from jettison.errors import JettisonError
from jettison.findings import Finding, Severity
from jettison.report.output import location_path, shown_error, shown_path


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
            f"::{level} file={_gh_property(location_path(f.path))},line={f.line},"
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
        by_file.setdefault(location_path(f.path), []).append(f)
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
                f'      <error message="{_xml(e.message)}">{_xml(shown_error(e))}</error>\n'
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
        path = location_path(f.path)
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
        by_file.setdefault(location_path(f.path), []).append(
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
