"""Rule fixes plus the multi-stage conversion, as one step ``jettison fix`` calls.

With ``--unsafe-fixes`` and a convertible file the order is: rule fixes to a fixpoint
(without JT111, because the conversion chooses both base images itself: the full image for
the builder, the slim one for the runtime), the conversion, then rule fixes again on the
converted text. Fixing the result again is a no-op: the conversion only applies to
files whose final image carries a toolchain or a full base, which the conversion takes
away, and the last step already is a fixpoint. The scan decides the form: no conversion
when it would not make the image smaller, the toolchain removed instead of moved when
nothing was compiled, and the packaging tools dropped from the virtualenv.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.errors import DockerfileParseError, JettisonError
from jettison.findings import FixSafety
from jettison.fixes.apply import AppliedFix, FixOutcome, apply_edits, fix_source
from jettison.fixes.multistage import (
    CODE,
    Plan,
    Refusal,
    plan_conversion,
    render,
    render_removal,
)
from jettison.fixes.runtime_libs import MIN_SAVING, LibraryScan
from jettison.fixes.unused_dists import DistChecker, with_uninstalls
from jettison.fixes.unused_libs import Checker, library_words, without_packages
from jettison.rules.codes import UNUSED_DISTRIBUTIONS, UNUSED_LIBRARIES

Resolver = Callable[[Plan], LibraryScan]
DESCRIPTION = "multi-stage build: builder with a virtualenv, slim runtime, non-root user"
REMOVAL = "toolchain removed: every distribution installs from a wheel for the platform"


@dataclass
class PipelineResult:
    outcome: FixOutcome
    note: str | None = None  # why the conversion was skipped, or what it found
    scan: LibraryScan | None = None


def restrict(config: Config, codes: frozenset[str] | None) -> Config:
    """``config`` limited to exactly ``codes`` (None: unchanged); used when bisecting."""
    if codes is None:
        return config
    return dataclasses.replace(config, select=sorted(codes) or ["-NONE-"])


def fix_pipeline(
    source: str,
    path: str,
    config: Config,
    unsafe: bool,
    resolver: Resolver | None,
    *,
    scans: dict[str, LibraryScan] | None = None,
    context: str | None = None,
    libraries: Checker | None = None,
    distributions: DistChecker | None = None,
) -> PipelineResult:
    """Fix ``source``; with ``unsafe`` also convert to multi-stage where that applies, and
    drop the library packages nothing in the built image loads and (``distributions``) the
    Python distributions nothing uses.

    ``resolver`` finds the runtime packages on the engine (None: no engine, the conversion
    is skipped with a note). ``scans`` caches resolver results by builder text.
    ``libraries`` builds a text and names its unused library packages (None: no engine).
    Raises :class:`DockerfileParseError` if ``source`` does not parse.
    """
    result = _rules_and_conversion(
        source, path, config, unsafe, resolver, scans=scans, context=context
    )
    if unsafe and libraries is not None and config.enabled(UNUSED_LIBRARIES):
        result = _drop_unused_libraries(result, path, config, context, libraries)
    if unsafe and distributions is not None and config.enabled(UNUSED_DISTRIBUTIONS):
        result = _drop_unused_distributions(result, path, context, distributions)
    return result


def _drop_unused_distributions(
    result: PipelineResult, path: str, context: str | None, check: DistChecker
) -> PipelineResult:
    outcome = result.outcome
    try:
        found = check(outcome.text)
    except JettisonError as exc:
        note = f"unused Python packages not decided: {exc.message}"
        return dataclasses.replace(result, note=_join(result.note, note))
    kept = "; ".join(f"{name} ({why})" for name, why in sorted(found.kept.items()))
    if not found.unused:
        if kept:
            note = f"Python packages nothing uses but kept: {kept}"
            return dataclasses.replace(result, note=_join(result.note, note))
        return result
    df = parse_dockerfile(outcome.text, path, context)
    edits = with_uninstalls(df, found)
    if not edits:
        return result
    text = apply_edits(outcome.text, edits)
    try:
        parse_dockerfile(text, path, context)
    except DockerfileParseError:
        return result  # never write what BuildKit would reject
    applied = [
        *outcome.applied,
        AppliedFix(
            UNUSED_DISTRIBUTIONS,
            df.line_of(edits[0].start),
            "Python packages nothing uses, uninstalled: " + ", ".join(found.unused),
            FixSafety.UNSAFE,
        ),
    ]
    fixed = dataclasses.replace(outcome, text=text, applied=applied)
    note = (
        f"Python packages nothing in the code, the Dockerfile or the configuration uses, "
        f"uninstalled after their install: {', '.join(found.unused)} (about "
        f"{found.saved_bytes / 1e6:.0f} MB with the dependencies only they need)"
    )
    if kept:
        note += f"; kept: {kept}"
    return dataclasses.replace(result, outcome=fixed, note=_join(result.note, note))


def _drop_unused_libraries(
    result: PipelineResult, path: str, config: Config, context: str | None, check: Checker
) -> PipelineResult:
    outcome = result.outcome
    df = parse_dockerfile(outcome.text, path, context)
    if not library_words(df):
        return result
    try:
        found = check(outcome.text)
    except JettisonError as exc:
        note = f"unused library packages not decided: {exc.message}"
        return dataclasses.replace(result, note=_join(result.note, note))
    kept = "; ".join(f"{pkg} (loaded by {user})" for pkg, user in sorted(found.kept.items()))
    if not found.packages:
        if kept:
            note = f"library packages the built image loads, kept: {kept}"
            return dataclasses.replace(result, note=_join(result.note, note))
        return result
    edits = without_packages(df, set(found.packages))
    text = apply_edits(outcome.text, edits)
    try:
        parse_dockerfile(text, path, context)
    except DockerfileParseError:
        return result  # never write what BuildKit would reject
    again = fix_source(text, path, config, unsafe=True, context=context)
    line = min(df.line_of(w.start) for _, w, name in library_words(df) if name in found.packages)
    applied = [
        *outcome.applied,
        AppliedFix(
            UNUSED_LIBRARIES,
            line,
            "library packages nothing in the image loads: " + ", ".join(found.packages),
            FixSafety.UNSAFE,
        ),
        *again.applied,
    ]
    fixed = dataclasses.replace(
        outcome, text=again.text, applied=applied, remaining=again.remaining
    )
    note = (
        f"library packages nothing in the built image loads, removed: "
        f"{', '.join(found.packages)} (about {found.saved_bytes / 1e6:.0f} MB with what only "
        "they pulled in)"
    )
    if kept:
        note += f"; kept: {kept}"
    return dataclasses.replace(result, outcome=fixed, note=_join(result.note, note))


def _join(first: str | None, second: str) -> str:
    return second if not first else f"{first}; {second}"


def _rules_and_conversion(
    source: str,
    path: str,
    config: Config,
    unsafe: bool,
    resolver: Resolver | None,
    *,
    scans: dict[str, LibraryScan] | None = None,
    context: str | None = None,
) -> PipelineResult:
    if not unsafe or not config.enabled(CODE):
        return PipelineResult(fix_source(source, path, config, unsafe=unsafe, context=context))
    no_slim = dataclasses.replace(config, ignore=[*config.ignore, "JT111"])
    first = fix_source(source, path, no_slim, unsafe=True, context=context)
    plan = plan_conversion(parse_dockerfile(first.text, path, context))
    if plan is None:
        return PipelineResult(fix_source(source, path, config, unsafe=True, context=context))
    if isinstance(plan, Refusal):
        where = f" (line {plan.line})" if plan.line else ""
        return PipelineResult(
            fix_source(source, path, config, unsafe=True, context=context),
            f"multi-stage conversion skipped: {plan.reason}{where}",
        )
    if resolver is None:
        return PipelineResult(
            fix_source(source, path, config, unsafe=True, context=context),
            "multi-stage conversion skipped: it needs a Docker engine to find the runtime "
            "libraries (none answers)",
        )
    key = render(plan, [])
    scan = scans.get(key) if scans is not None else None
    if scan is None:
        try:
            scan = resolver(plan)
        except JettisonError as exc:
            return PipelineResult(
                fix_source(source, path, config, unsafe=True, context=context),
                f"multi-stage conversion skipped: {exc.message}",
            )
        if scans is not None:
            scans[key] = scan
    if scan.saved_bytes is not None and scan.saved_bytes < MIN_SAVING:
        saved = scan.saved_bytes
        estimate = (
            f"estimated {-saved / 1e6:.1f} MB larger"
            if saved < 0
            else f"estimated {saved / 1e6:.1f} MB saved, under the {MIN_SAVING >> 20} MiB "
            "a conversion must save"
        )
        return PipelineResult(
            fix_source(source, path, config, unsafe=True, context=context),
            f"multi-stage conversion not offered: it would not make the image smaller ({estimate})",
            scan,
        )
    removal = plan.removable and not scan.needs_toolchain
    if removal:
        converted = render_removal(plan, scan.packages)
        removal = bool(converted)
    if not removal:
        converted = render(plan, scan.packages, scan.libraries, scan.strip)
    try:
        parse_dockerfile(converted, path)
    except DockerfileParseError as exc:  # never write what BuildKit would reject
        return PipelineResult(
            fix_source(source, path, config, unsafe=True, context=context),
            f"multi-stage conversion skipped: its result does not parse ({exc.message})",
        )
    second = fix_source(converted, path, config, unsafe=True, context=context)
    line = plan.df.stages[0].from_instruction.line
    applied = [
        *first.applied,
        AppliedFix(CODE, line, REMOVAL if removal else DESCRIPTION, FixSafety.UNSAFE),
        *second.applied,
    ]
    outcome = FixOutcome(
        path=path,
        original=source,
        text=second.text,
        applied=applied,
        remaining=second.remaining,
        extra_files={**first.extra_files, **second.extra_files},
    )
    found = ", ".join(scan.packages) or "none"
    if removal:
        note = (
            "toolchain removed instead of moved (every distribution installs from a wheel "
            f"for the platform): {', '.join(plan.build_packages + plan.vcs_packages)}; "
            f"runtime library packages: {found}"
        )
    else:
        note = f"multi-stage conversion: runtime library packages: {found}"
        if scan.strip:
            note += f"; the virtualenv drops {', '.join(scan.strip)}"
    if scan.kept_vcs:
        note += f"; kept {', '.join(scan.kept_vcs)} (the application runs it)"
    if scan.saved_bytes is not None:
        note += f"; about {scan.saved_bytes / 1e6:.0f} MB smaller"
    if scan.unmapped:
        note += f"; libraries no package provides: {', '.join(scan.unmapped)}"
    return PipelineResult(outcome, note, scan)


def applied_units(outcome: FixOutcome) -> list[str]:
    """The distinct fixes applied, in the order first applied (what a bisection splits)."""
    seen: list[str] = []
    for a in outcome.applied:
        if a.code not in seen:
            seen.append(a.code)
    return seen
