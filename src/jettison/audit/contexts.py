"""Audit compose files and build contexts (the inputs beyond a single Dockerfile); the
`jettison deps` analysis JT605 reads is run here, so the rules never import it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jettison.audit.checks import finalize, select_rules
from jettison.build_context.scan import scan_context
from jettison.compose import ComposeService, read_compose
from jettison.config import Config
from jettison.dockerfile import Dockerfile, read_dockerfile
from jettison.errors import JettisonError
from jettison.findings import Finding
from jettison.rules.compose.input import ComposeInput
from jettison.rules.context.input import ContextInput

if TYPE_CHECKING:
    from jettison.deps import DepsReport


@dataclass
class ComposeAudit:
    findings: list[Finding] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    contexts: dict[str, Path] = field(default_factory=dict)  # dockerfile -> context
    services: list[ComposeService] = field(default_factory=list)


@dataclass
class ContextAudit:
    findings: list[Finding] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)


def audit_compose_files(paths: list[str], config: Config) -> ComposeAudit:
    result = ComposeAudit()
    for path in paths:
        try:
            services = read_compose(path)
        except JettisonError as exc:
            result.errors.append(exc)
            continue
        result.services.extend(services)
        parsed: dict[str, Dockerfile] = {}
        for svc in services:
            if svc.dockerfile is None or svc.context is None:
                continue
            result.contexts[str(svc.dockerfile)] = svc.context
            try:
                parsed[svc.name] = read_dockerfile(svc.dockerfile)
            except JettisonError as exc:
                result.errors.append(exc)
        for rule in select_rules(config, "compose"):
            if rule.check is not None:
                found = rule.check(ComposeInput(path, services, parsed, rule))
                result.findings.extend(finalize(None, found, config))
    return result


def audit_contexts(
    dockerfiles: list[str], compose_contexts: dict[str, Path], config: Config
) -> ContextAudit:
    """One scan per distinct context; each context is checked against its Dockerfiles."""
    result = ContextAudit()
    rules = select_rules(config, "context")
    if not rules:
        return result
    by_context: dict[Path, list[Path]] = {}
    for df in dockerfiles:
        ctx = compose_contexts.get(str(Path(df).resolve())) or Path(df).resolve().parent
        by_context.setdefault(ctx, []).append(Path(df))
    for df_path, ctx in compose_contexts.items():
        if not any(Path(p).resolve() == Path(df_path) for p in by_context.get(ctx, [])):
            by_context.setdefault(ctx, []).append(Path(df_path))
    for ctx, files in sorted(by_context.items()):
        parsed: list[Dockerfile] = []
        for f in files:
            try:
                parsed.append(read_dockerfile(f))
            except JettisonError:
                continue  # reported by the Dockerfile audit already
        if not parsed or not any(_uses_context(d) for d in parsed):
            continue
        try:
            scan = scan_context(ctx, Path(parsed[0].path))
        except JettisonError as exc:  # e.g. a .dockerignore BuildKit refuses
            result.errors.append(exc)
            continue
        display = os.path.relpath(ctx) if not os.path.isabs(parsed[0].path) else str(ctx)
        deps_report = (
            _python_deps_report(ctx, parsed) if any(r.code == "JT605" for r in rules) else None
        )
        for rule in rules:
            if rule.check is not None:
                found = rule.check(ContextInput(display, scan, parsed, rule, deps_report))
                result.findings.extend(finalize(None, found, config))
    return result


_PYTHON_MANIFESTS = ("requirements.txt", "pyproject.toml", "setup.cfg", "Pipfile")


def _python_deps_report(root: Path, dockerfiles: list[Dockerfile]) -> DepsReport | None:
    """The `jettison deps` analysis JT605 reads: run once per context of a Python project
    (a manifest at its root), for the first Dockerfile that installs with pip or whose
    project has a pyproject.toml."""
    from jettison.deps import run as deps_run  # imported here: only Python projects pay for it

    if not any((root / name).is_file() for name in _PYTHON_MANIFESTS):
        return None
    for df in dockerfiles:
        if (
            not any(ins.keyword == "RUN" and "pip" in ins.text for ins in df.instructions)
            and not (root / "pyproject.toml").is_file()
        ):
            continue
        report = deps_run(root, dockerfile=Path(df.path))
        # without a Python file, every declared package would look unused (as `jettison
        # deps` refuses such a directory)
        return report if report.files_scanned else None
    return None


def _uses_context(df: Dockerfile) -> bool:
    return any(ins.keyword in ("COPY", "ADD") and not ins.flag("from") for ins in df.instructions)
