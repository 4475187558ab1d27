"""What ``jettison fix`` does per file beyond the rule fixer: conversion, context, --verify."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.config import Config
from jettison.context.audit import audit_contexts
from jettison.errors import JettisonError
from jettison.findings import FixSafety
from jettison.fix import AppliedFix, FixOutcome
from jettison.fixes.multistage import Plan
from jettison.fixes.pipeline import PipelineResult, Resolver, applied_units, fix_pipeline
from jettison.fixes.runtime_libs import LibraryScan, scan
from jettison.fixes.verify import (
    Attempt,
    ImageReport,
    bisect,
    build_and_check,
    build_text,
    compare_configs,
    judge,
)


def engine_resolver(path: str) -> tuple[Resolver, Any]:
    """A resolver scanning on the engine, and the SDK client; raises without an engine."""
    from jettison.engine import require_engine

    _client, sdk = require_engine()

    def resolve(plan: Plan) -> LibraryScan:
        return scan(plan, Path(path).parent, sdk)

    return resolve, sdk


def context_fixes(path: str, config: Config, unsafe: bool) -> tuple[dict[str, str], list[str]]:
    """Files the build-context fixes write (``.dockerignore``) and the codes that wrote them."""
    extra: dict[str, str] = {}
    codes: list[str] = []
    for finding in audit_contexts([path], {}, config).findings:
        fix = finding.fix
        if fix is None or (fix.safety is not FixSafety.SAFE and not unsafe):
            continue
        for edit in fix.edits:
            if edit.path is not None:
                extra[edit.path] = edit.text
                if finding.code not in codes:
                    codes.append(finding.code)
    return extra, codes


def fix_file(
    source: str,
    path: str,
    config: Config,
    unsafe: bool,
    resolver: Resolver | None,
    scans: dict[str, LibraryScan] | None = None,
) -> PipelineResult:
    """Rule fixes, the multi-stage conversion and the context fixes of one Dockerfile."""
    result = fix_pipeline(source, path, config, unsafe, resolver, scans=scans)
    extra, codes = context_fixes(path, config, unsafe)
    outcome = result.outcome
    for rel, content in extra.items():
        outcome.extra_files[rel] = content
    for code in codes:
        outcome.applied.append(AppliedFix(code, 1, "build-context file", FixSafety.SAFE))
    return result


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@dataclass
class VerifyOutcome:
    path: str
    original: ImageReport
    fixed: Attempt
    chosen: Attempt | None  # what is written (None: nothing)
    culprits: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    builds: int = 0
    written: FixOutcome | None = None  # the outcome to write (None: nothing)

    @property
    def ok(self) -> bool:
        return self.fixed.ok

    def lines(self) -> list[str]:
        o = self.original
        out: list[str] = []
        best = self.chosen
        if best is not None:
            r = best.report
            red = 100.0 * (o.size_bytes - r.size_bytes) / o.size_bytes if o.size_bytes else 0.0
            out.append(
                f"{self.path}: verified: {mb(o.size_bytes)} -> {mb(r.size_bytes)} "
                f"({red:.1f}% smaller), layers {o.layers} -> {r.layers}; checks: " + r.summary()
            )
        if not self.fixed.ok:
            why = "; ".join(self.fixed.problems) or "checks failed"
            out.append(f"{self.path}: the fixed file failed verification: {why}")
            if self.culprits:
                out.append(f"{self.path}: broken by: {', '.join(self.culprits)} (bisected)")
            out.append(
                f"{self.path}: "
                + (
                    "wrote the other fixes, which pass"
                    if best is not None
                    else "left untouched: no verified subset of the fixes"
                )
            )
        failing = [c for c in o.checks if not c.ok]
        if failing:
            out.append(
                f"{self.path}: note: the original already fails "
                + ", ".join(f"{c.name} ({c.detail})" for c in failing)
            )
        out += [f"{self.path}: config: {n}" for n in self.notes]
        return out


def verify_file(
    source: str,
    path: str,
    outcome: FixOutcome,
    make_variant: Callable[[frozenset[str]], FixOutcome],
    smoke: str | None,
    sdk: Any,
) -> VerifyOutcome:
    """Build and check the original and the fix; bisect on failure (nothing is written here).

    Raises :class:`JettisonError` when the original itself does not build.
    """
    from jettison.engine import remove_image

    context = Path(path).parent
    images: list[str] = []
    cache: dict[tuple[str, str | None], Attempt] = {}
    try:
        original = build_and_check(sdk, context, Path(path), smoke, images)
        if not original.built:
            raise JettisonError(
                f"--verify: the original does not build, nothing to compare: {original.error}",
                path,
            )
        builds = [1]

        def attempt_outcome(units: frozenset[str], variant: FixOutcome) -> Attempt:
            ignore = variant.extra_files.get(".dockerignore")
            key = (variant.text, ignore)
            if key in cache:
                return cache[key]
            if variant.text == source and ignore is None:
                result = Attempt(units, variant.text, original, [])
            else:
                builds[0] += 1
                report = build_text(sdk, context, variant.text, ignore, smoke, images)
                result = Attempt(units, variant.text, report, judge(original, report))
            cache[key] = result
            return result

        units = applied_units(outcome)
        fixed = attempt_outcome(frozenset(units), outcome)
        variants: dict[frozenset[str], FixOutcome] = {frozenset(units): outcome}

        def attempt(sub: frozenset[str]) -> Attempt:
            variant = make_variant(sub)
            variants[sub] = variant
            return attempt_outcome(sub, variant)

        culprits: list[str] = []
        chosen: Attempt | None = fixed if fixed.ok else None
        if not fixed.ok:
            found = bisect(units, attempt)
            culprits, chosen = found.culprits, found.final
        notes: list[str] = []
        if chosen is not None:
            _, notes = compare_configs(original.config, chosen.report.config)
        written = variants.get(chosen.units) if chosen is not None else None
        return VerifyOutcome(path, original, fixed, chosen, culprits, notes, builds[0], written)
    finally:
        for image in reversed(images):
            remove_image(image, sdk)
