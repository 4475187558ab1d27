"""Size before/after of ``jettison fix --unsafe-fixes --verify`` on every example.

    .venv/bin/python benchmarks/fix_outcome.py [EXAMPLE_DIR ...]

For each Dockerfile of the issue's examples (the lead's flask-app included): copies the example to a
temporary directory (the repository is never modified), applies the fixes with the
multi-stage conversion, builds original and fixed on the engine, smoke-checks both (with the
example's ``smoke.py`` when it has one) and prints size before/after, reduction, layers and
the verification result; then the median reduction (target: >= 60 %). Images are removed.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jettison.config import Config
from jettison.fixes.apply import FixOutcome
from jettison.fixes.per_file import VerifyOutcome, engine_resolver, fix_file, mb, verify_file
from jettison.fixes.pipeline import restrict
from jettison.fixes.runtime_libs import LibraryScan

REPO = Path(__file__).resolve().parent.parent
# the examples (seeds 000, 001, 002, 004) and the lead's flask-app
EXAMPLES = ["celery-worker", "web-psycopg", "ml-service", "compose-trio", "flask-app"]


def dockerfiles(roots: list[Path]) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("Dockerfile") if p.is_file())


def fix_and_verify(source: str, path: str, smoke: str | None) -> VerifyOutcome:
    config = Config()
    resolver, sdk = engine_resolver(path)
    scans: dict[str, LibraryScan] = {}
    result = fix_file(source, path, config, True, resolver, scans)

    def variant(units: frozenset[str]) -> FixOutcome:
        return fix_file(source, path, restrict(config, units), True, resolver, scans).outcome

    return verify_file(source, path, result.outcome, variant, smoke, sdk)


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [REPO / "examples" / e for e in EXAMPLES]
    rows = []
    failures = 0
    for dockerfile in dockerfiles(roots):
        example = dockerfile.parent
        name = (
            str(example.relative_to(REPO / "examples"))
            if example.is_relative_to(REPO / "examples")
            else str(example)
        )
        with tempfile.TemporaryDirectory(prefix="jettison-bench-") as tmp:
            work = Path(tmp) / example.name
            shutil.copytree(example, work)
            path = str(work / "Dockerfile")
            source = Path(path).read_text(encoding="utf-8")
            smoke = "python smoke.py" if (work / "smoke.py").is_file() else None
            started = time.monotonic()
            checked = fix_and_verify(source, path, smoke)
            seconds = time.monotonic() - started
        o = checked.original
        f = checked.chosen.report if checked.chosen is not None else None
        red = 100.0 * (o.size_bytes - f.size_bytes) / o.size_bytes if f and o.size_bytes else 0.0
        verdict = (
            "verified"
            if checked.ok
            else (
                f"FAILED, bisected to {', '.join(checked.culprits)}"
                if checked.culprits
                else "FAILED"
            )
        )
        failures += 0 if checked.ok else 1
        rows.append(
            (
                name,
                mb(o.size_bytes),
                mb(f.size_bytes) if f else "-",
                red,
                f"{o.layers} -> {f.layers if f else '-'}",
                verdict,
                "+".join(c.name for c in (f.checks if f else []) if c.ok and not c.skipped),
                seconds,
            )
        )
        print(f"  {name}: done in {seconds:.0f}s", file=sys.stderr)
    print(
        f"{'example':<22} {'before':>10} {'after':>10} {'reduction':>9} {'layers':>9}  "
        f"{'verification':<10} checks passed (fixed image)"
    )
    for name, before, after, red, layers, verdict, checks, _secs in rows:
        print(
            f"{name:<22} {before:>10} {after:>10} {red:>8.1f}% {layers:>9}  {verdict:<10} {checks}"
        )
    if rows:
        median = statistics.median(r[3] for r in rows)
        print(f"median reduction: {median:.1f}% (target >= 60%), {failures} failed verification")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
