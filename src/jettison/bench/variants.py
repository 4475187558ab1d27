"""The two sides of a bench: the Dockerfile as it is, and its optimized version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jettison.bench.runner import VariantSpec
from jettison.config import Config
from jettison.errors import JettisonError

if TYPE_CHECKING:
    from jettison.fixes.apply import FixOutcome


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise JettisonError("not valid UTF-8 text", str(path)) from None
    except OSError as exc:
        raise JettisonError(f"cannot read: {exc.strerror}", str(path)) from None


def build_variants(
    dockerfile: Path,
    config: Config,
    *,
    against: Path | None = None,
    unsafe: bool = False,
    each_fix: bool = False,
) -> list[VariantSpec]:
    """``original`` and ``optimized``: ``against`` when given, else what ``jettison fix``
    (safe fixes, or also the unsafe ones) makes of the Dockerfile and its context.

    ``each_fix``: between them, one variant per fix applied, each with the fixes before it
    (``step1``: the first fix alone, ``step2``: the first two ...), so the bench measures
    what each fix changed in size and build times; the last fix's step is ``optimized``.
    """
    original = VariantSpec("original", "Dockerfile as it is", _read(dockerfile))
    if against is not None:
        if not against.is_file():
            raise JettisonError("Dockerfile to compare against not found", str(against))
        return [original, VariantSpec("optimized", f"--against {against}", _read(against))]
    from jettison.fixes.apply import fix_source
    from jettison.fixes.per_file import context_fixes
    from jettison.fixes.pipeline import applied_units, restrict
    from jettison.fixes.runtime_libs import LibraryScan

    note = None
    scans: dict[str, LibraryScan] = {}  # the conversion's engine scan, made once for all steps

    def fixed(codes: frozenset[str] | None) -> FixOutcome:
        nonlocal note
        chosen = restrict(config, codes)
        if not unsafe:
            return fix_source(original.dockerfile_text, str(dockerfile), chosen, unsafe=False)
        # exactly what `jettison fix --unsafe-fixes` writes, multi-stage conversion included
        from jettison.fixes.per_file import engine_resolver
        from jettison.fixes.pipeline import fix_pipeline

        resolver, _sdk = engine_resolver(str(dockerfile))
        result = fix_pipeline(
            original.dockerfile_text, str(dockerfile), chosen, True, resolver, scans=scans
        )
        if codes is None:
            note = result.note
        return result.outcome

    outcome = fixed(None)
    extra = dict(outcome.extra_files)
    # like `jettison fix`: context fixes (a generated .dockerignore) come with the Dockerfile's
    context_extra, context_codes = context_fixes(str(dockerfile), config, unsafe)
    for rel, content in context_extra.items():
        extra.setdefault(rel, content)
    label = "jettison fix --unsafe-fixes" if unsafe else "jettison fix (safe fixes)"
    # the fixer lists a fix once per pass that applied it
    fixes = list(dict.fromkeys(f"{a.code} line {a.line}: {a.description}" for a in outcome.applied))
    fixes += [f"writes {rel}" for rel in sorted(extra)]
    if note:
        fixes.append(note)
    optimized = VariantSpec("optimized", label, outcome.text, extra, fixes)
    units = applied_units(outcome)
    if not each_fix or not (units or context_extra):
        return [original, optimized]
    steps: list[VariantSpec] = []
    last = len(units) if context_extra else len(units) - 1  # context files: one more step
    for n in range(1, last + 1):
        step = fixed(frozenset(units[:n]))
        steps.append(
            VariantSpec(
                f"step{n}",
                f"with {', '.join(units[:n])}",
                step.text,
                dict(step.extra_files),
                step_fix=units[n - 1],
            )
        )
    optimized.step_fix = (
        f"build-context files ({', '.join(context_codes)})" if context_extra else units[-1]
    )
    return [original, *steps, optimized]
