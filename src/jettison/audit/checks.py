"""Run the enabled rules on one Dockerfile, then apply suppressions, per-file ignores and
severity overrides (:func:`finalize`, shared with the compose and context audits)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from jettison.audit.suppress import Suppressions
from jettison.config import Config
from jettison.dockerfile import Dockerfile, parse_dockerfile
from jettison.dockerfile.parse import decode_dockerfile
from jettison.errors import JettisonError
from jettison.findings import Finding
from jettison.rules.registry import Rule, RuleContext, all_rules


def select_rules(config: Config, scope: str | None = None) -> list[Rule]:
    return [
        r
        for r in all_rules()
        if config.enabled(r.code, r.equivalents)
        and (not r.opt_in or config.names(r.code))
        and (scope is None or r.scope == scope)
    ]


def check_dockerfile(df: Dockerfile, config: Config) -> list[Finding]:
    """Run every enabled Dockerfile rule, then apply suppressions and severity overrides."""
    findings: list[Finding] = []
    trusted = tuple(config.trusted_registries)
    for rule in select_rules(config, "dockerfile"):
        if rule.check is None:
            continue
        findings.extend(rule.check(RuleContext(df, rule, trusted)))
    return finalize(df, findings, config)


def finalize(df: Dockerfile | None, findings: Iterable[Finding], config: Config) -> list[Finding]:
    suppress = Suppressions(df) if df is not None else None
    out = []
    for f in findings:
        if suppress is not None and suppress.hides(f):
            continue
        if config.ignored_for_path(f.code, f.path):
            continue
        level = config.severity_of(f.code, f.severity, f.equivalents)
        if level is not f.severity:
            f = dataclasses.replace(f, severity=level)
        out.append(f)
    out.sort(key=Finding.sort_key)
    return out


def audit_dockerfile_path(
    path: str, config: Config, context: Path | None = None
) -> tuple[list[Finding], list[JettisonError]]:
    """Audit one Dockerfile (``context``: its build context, default its folder); a parse
    error becomes an error entry, never an exception."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        return [], [JettisonError("is a directory, not a Dockerfile", path)]
    except OSError as exc:
        return [], [JettisonError(f"cannot read: {exc.strerror}", path)]
    return audit_dockerfile_bytes(data, path, config, context)


def audit_dockerfile_bytes(
    data: bytes, path: str, config: Config, context: Path | None = None
) -> tuple[list[Finding], list[JettisonError]]:
    """Audit a Dockerfile's content (from a file, or standard input named ``path``)."""
    try:
        df = parse_dockerfile(
            decode_dockerfile(data, path), path, str(context) if context is not None else None
        )
    except JettisonError as exc:
        return [], [exc]
    except RecursionError:
        return [], [JettisonError("too deeply nested to analyse", path)]
    try:
        return check_dockerfile(df, config), []
    except RecursionError:
        return [], [JettisonError("too deeply nested to analyse", path)]
