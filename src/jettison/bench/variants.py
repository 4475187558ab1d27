"""The two sides of a bench: the Dockerfile as it is, and its optimized version."""

from __future__ import annotations

from pathlib import Path

from jettison.bench.runner import VariantSpec
from jettison.config import Config
from jettison.errors import JettisonError


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise JettisonError("not valid UTF-8 text", str(path)) from None
    except OSError as exc:
        raise JettisonError(f"cannot read: {exc.strerror}", str(path)) from None


def build_variants(
    dockerfile: Path, config: Config, *, against: Path | None = None, unsafe: bool = False
) -> list[VariantSpec]:
    """``original`` and ``optimized``: ``against`` when given, else what ``jettison fix``
    (safe fixes, or also the unsafe ones) makes of the Dockerfile and its context."""
    original = VariantSpec("original", "Dockerfile as it is", _read(dockerfile))
    if against is not None:
        if not against.is_file():
            raise JettisonError("Dockerfile to compare against not found", str(against))
        return [original, VariantSpec("optimized", f"--against {against}", _read(against))]
    from jettison.fixes.apply import fix_source
    from jettison.fixes.per_file import context_fixes

    note = None
    if unsafe:
        # exactly what `jettison fix --unsafe-fixes` writes, multi-stage conversion included
        from jettison.fixes.per_file import engine_resolver
        from jettison.fixes.pipeline import fix_pipeline

        resolver, _sdk = engine_resolver(str(dockerfile))
        result = fix_pipeline(original.dockerfile_text, str(dockerfile), config, True, resolver)
        outcome, note = result.outcome, result.note
    else:
        outcome = fix_source(original.dockerfile_text, str(dockerfile), config, unsafe=False)
    extra = dict(outcome.extra_files)
    # like `jettison fix`: context fixes (a generated .dockerignore) come with the Dockerfile's
    context_extra, _codes = context_fixes(str(dockerfile), config, unsafe)
    for rel, content in context_extra.items():
        extra.setdefault(rel, content)
    label = "jettison fix --unsafe-fixes" if unsafe else "jettison fix (safe fixes)"
    # the fixer lists a fix once per pass that applied it
    fixes = list(dict.fromkeys(f"{a.code} line {a.line}: {a.description}" for a in outcome.applied))
    fixes += [f"writes {rel}" for rel in sorted(extra)]
    if note:
        fixes.append(note)
    return [original, VariantSpec("optimized", label, outcome.text, extra, fixes)]
