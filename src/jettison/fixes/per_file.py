"""One Dockerfile through `jettison fix`: rule fixes and the conversion (:mod:`.pipeline`), the
build-context fixes, and --verify (build, check, bisect; :mod:`.verify`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.audit.contexts import audit_contexts
from jettison.config import Config
from jettison.errors import JettisonError
from jettison.findings import FixSafety
from jettison.fixes.apply import AppliedFix, FixOutcome
from jettison.fixes.multistage import Plan
from jettison.fixes.pipeline import PipelineResult, Resolver, applied_units, fix_pipeline
from jettison.fixes.runtime_libs import LibraryScan, scan
from jettison.fixes.unused_dists import DistChecker
from jettison.fixes.unused_libs import Checker
from jettison.fixes.verify import (
    Attempt,
    BuildInputs,
    CheckPlan,
    ImageReport,
    Progress,
    bisect,
    bisect_bound,
    build_and_check,
    build_text,
    check_image,
    compare_configs,
    failed_checks,
    judge,
    quiet,
    size_change,
)


def engine_resolver(path: str, context: str | Path | None = None) -> tuple[Resolver, Any]:
    """A resolver scanning on the engine, and the SDK client; raises without an engine.

    ``context``: the build context the builder stage reads (default: the Dockerfile's
    directory)."""
    from jettison.engine import require_engine

    _client, sdk = require_engine()
    ctx = Path(context) if context is not None else Path(path).parent

    def resolve(plan: Plan) -> LibraryScan:
        return scan(plan, ctx, sdk)

    return resolve, sdk


def context_fixes(
    path: str, config: Config, unsafe: bool, context: str | Path | None = None
) -> tuple[dict[str, str], list[str]]:
    """Files the build-context fixes write (``.dockerignore``) and the codes that wrote them.

    Paths are relative to the Dockerfile's directory, and name the file the build reads:
    ``<Dockerfile>.dockerignore`` beside the Dockerfile when there is one, else the context
    root's ``.dockerignore`` (``../.dockerignore`` for ``docker/Dockerfile`` built from the
    repository root)."""
    dockerfile = Path(path)
    compose = {} if context is None else {str(dockerfile.resolve()): Path(context).resolve()}
    ctx = Path(context) if context is not None else dockerfile.parent
    extra: dict[str, str] = {}
    codes: list[str] = []
    for finding in audit_contexts([path], compose, config).findings:
        fix = finding.fix
        if fix is None or (fix.safety is not FixSafety.SAFE and not unsafe):
            continue
        for edit in fix.edits:
            if edit.path is not None:
                name = Path(edit.path).name
                if name == dockerfile.name + ".dockerignore":
                    target = dockerfile.parent / name
                else:  # the context root's ignore file
                    target = ctx / name
                rel = os.path.relpath(target, dockerfile.parent)
                extra[rel] = edit.text
                if finding.code not in codes:
                    codes.append(finding.code)
    return extra, codes


def ignore_text(outcome: FixOutcome) -> str | None:
    """The ``.dockerignore`` content a fix writes (None: it writes none)."""
    for rel, content in outcome.extra_files.items():
        if rel.endswith(".dockerignore"):
            return content
    return None


def fix_file(
    source: str,
    path: str,
    config: Config,
    unsafe: bool,
    resolver: Resolver | None,
    scans: dict[str, LibraryScan] | None = None,
    context: str | Path | None = None,
    libraries: Checker | None = None,
    distributions: DistChecker | None = None,
) -> PipelineResult:
    """Rule fixes, the multi-stage conversion, the unused library packages and Python
    distributions (with ``libraries`` and ``distributions``, on the engine) and the context
    fixes of one Dockerfile."""
    result = fix_pipeline(
        source,
        path,
        config,
        unsafe,
        resolver,
        scans=scans,
        context=str(context) if context is not None else None,
        libraries=libraries,
        distributions=distributions,
    )
    extra, codes = context_fixes(path, config, unsafe, context)
    outcome = result.outcome
    for rel, content in extra.items():
        outcome.extra_files[rel] = content
    for code in codes:
        outcome.applied.append(AppliedFix(code, 1, "build-context file", FixSafety.SAFE))
    return result


# what a fix may add on its own before --each-fix leaves it out: a few kB of metadata and
# small files (an ENV, a manifest copied before the dependencies) are what cache fixes cost
GROWTH_LIMIT = 1_000_000


@dataclass
class FixEffect:
    """What one fix did, measured by building the fixes one after another (--each-fix):
    the image with the fixes before it and the image with it too."""

    code: str
    before: ImageReport
    after: ImageReport
    # fixes just before it whose own step did not build: their change is measured in this one
    along: tuple[str, ...] = ()

    @property
    def growth(self) -> int:
        """Bytes this fix added to the image (0 when it was not measured or saved bytes)."""
        if not (self.after.built and self.before.built):
            return 0
        return max(self.after.size_bytes - self.before.size_bytes, 0)

    def line(self) -> str:
        a, b = self.before, self.after
        if not b.built:
            return f"{self.code}: not measured (with the fixes before it, it does not build)"
        change = b.size_bytes - a.size_bytes
        sign = "-" if change < 0 else "+"
        amount = (
            f"{abs(change) / 1e6:.1f} MB" if abs(change) >= 1e6 else f"{abs(change) / 1e3:.1f} kB"
        )
        along = f"; with {', '.join(self.along)} (not measured alone)" if self.along else ""
        return (
            f"{self.code}: {sign}{amount} ({size_change(a.size_bytes, b.size_bytes)}); "
            f"checks {a.check_seconds:.1f} s -> {b.check_seconds:.1f} s{along}"
        )


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
    exhausted: bool = False  # the bisection stopped at the build budget
    effects: list[FixEffect] = field(default_factory=list)  # --each-fix, in order applied

    @property
    def ok(self) -> bool:
        return self.fixed.ok

    def lines(self) -> list[str]:
        o = self.original
        out: list[str] = []
        best = self.chosen
        if best is not None:
            r = best.report
            out.append(
                f"{self.path}: verified: {size_change(o.size_bytes, r.size_bytes)}, "
                f"layers {o.layers} -> {r.layers}; checks: " + r.summary()
            )
        if not self.fixed.ok:
            why = "; ".join(self.fixed.problems) or "checks failed"
            out.append(f"{self.path}: the fixed file failed verification: {why}")
            if self.culprits:
                out.append(f"{self.path}: broken by: {', '.join(self.culprits)} (bisected)")
            if self.exhausted:
                out.append(
                    f"{self.path}: bisection stopped after {self.builds} builds (--max-builds)"
                )
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
                + "; the fixed image is compared with it, not required to pass"
            )
        out += [f"{self.path}: config: {n}" for n in self.notes]
        if self.effects:
            out.append(
                f"{self.path}: each fix, applied one after another (image size; the checks' "
                "time, start-up included):"
            )
            out += [f"{self.path}:   {e.line()}" for e in self.effects]
        return out


def verify_file(
    source: str,
    inputs: BuildInputs,
    outcome: FixOutcome,
    make_variant: Callable[[frozenset[str]], FixOutcome],
    plan: CheckPlan,
    sdk: Any,
    *,
    progress: Progress = quiet,
    max_builds: int = 12,
    each_fix: bool = False,
) -> VerifyOutcome:
    """Build and check the original and the fix; bisect on failure (nothing is written here).

    Raises :class:`JettisonError` when the original itself does not build. ``max_builds``
    bounds the builds (original and fixed included); ``progress`` hears each phase.
    ``each_fix``: then build the fixes written one after another (one build per fix but
    the last, beyond ``max_builds``) and measure what each changed.
    """
    from jettison.engine import remove_image

    path = str(inputs.dockerfile)
    images: list[str] = []
    cache: dict[tuple[str, str | None], Attempt] = {}
    durations: list[float] = []
    try:
        progress(f"{path}: verify: building and checking the original")
        started = time.monotonic()
        original = build_and_check(sdk, inputs, plan, images)
        durations.append(time.monotonic() - started)
        if not original.built:
            raise JettisonError(
                f"--verify: the original does not build, nothing to compare: {original.error}",
                path,
                original.error_line,
            )
        builds = [1]
        bisecting = [0, 0]  # builds done while bisecting, their bound

        def attempt_outcome(units: frozenset[str], variant: FixOutcome) -> Attempt:
            ignore = ignore_text(variant)
            key = (variant.text, ignore)
            if key in cache:
                return cache[key]
            if variant.text == source and ignore is None:
                result = Attempt(units, variant.text, original, [])
            else:
                builds[0] += 1
                each = sum(durations) / len(durations)
                if bisecting[1]:
                    bisecting[0] += 1
                    left = max(bisecting[1] - bisecting[0] + 1, 1)
                    progress(
                        f"{path}: verify: bisecting, build {bisecting[0]} of at most "
                        f"{bisecting[1]} (about {each:.0f} s each, at most "
                        f"{left * each / 60:.1f} min left)"
                    )
                else:
                    progress(f"{path}: verify: building and checking the fixed file")
                started = time.monotonic()
                report = build_text(sdk, inputs, variant.text, variant.extra_files, plan, images)
                problems = judge(original, report)
                if report.built and failed_checks(original, report):
                    # a check must fail twice: a slow start on a busy machine is not a
                    # broken image, and bisecting on a flaky result blames innocent fixes
                    progress(f"{path}: verify: a check failed; running the checks once more")
                    report.checks = check_image(
                        sdk, report.image_id, report.config, plan, inputs.runs
                    )
                    problems = judge(original, report)
                durations.append(time.monotonic() - started)
                result = Attempt(units, variant.text, report, problems)
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
        exhausted = False
        if not fixed.ok:
            budget = max(max_builds - builds[0], 0)
            bisecting[1] = min(bisect_bound(len(units)), budget)
            progress(
                f"{path}: verify: the fixed file fails ({'; '.join(fixed.problems)[:200]}); "
                f"finding the fix that breaks it: at most {bisecting[1]} more builds"
            )
            found = bisect(units, attempt, budget=budget)
            culprits, chosen, exhausted = found.culprits, found.final, found.exhausted
        notes: list[str] = []
        if chosen is not None:
            _, notes = compare_configs(original.config, chosen.report.config)
        effects: list[FixEffect] = []

        def measure(final: Attempt) -> list[FixEffect]:
            out: list[FixEffect] = []
            order = [u for u in units if u in final.units]
            before = original
            unmeasured: list[str] = []  # fixes whose step did not build since ``before``
            for n, code in enumerate(order, 1):
                if n < len(order):
                    progress(f"{path}: verify: measuring each fix, {n} of {len(order) - 1}")
                step = final if n == len(order) else attempt(frozenset(order[:n]))
                if not step.report.built:
                    out.append(FixEffect(code, before, step.report))
                    unmeasured.append(code)
                    continue
                out.append(FixEffect(code, before, step.report, tuple(unmeasured)))
                before, unmeasured = step.report, []
            return out

        if each_fix and chosen is not None:
            effects = measure(chosen)
            # a fix that makes the image larger on its own is not written, even when the
            # others make the whole smaller (binutils brought for a strip, whose apt caches
            # stayed, once cost 69 MB that the other fixes hid)
            growing = [e.code for e in effects if e.growth > GROWTH_LIMIT and not e.along]
            if growing:
                without = attempt(frozenset(u for u in chosen.units if u not in growing))
                if without.ok and without.report.size_bytes < chosen.report.size_bytes:
                    notes.append(
                        f"not written: {', '.join(growing)}, which made the image larger on "
                        "its own (--each-fix)"
                    )
                    chosen = without
                    effects = measure(chosen)
        written = variants.get(chosen.units) if chosen is not None else None
        return VerifyOutcome(
            path,
            original,
            fixed,
            chosen,
            culprits,
            notes,
            builds[0],
            written,
            exhausted,
            effects,
        )
    finally:
        for image in reversed(images):
            remove_image(image, sdk)
