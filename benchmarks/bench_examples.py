"""Before/after table of `jettison bench` for every example project (real builds).

    .venv/bin/python benchmarks/bench_examples.py [--repeat N] [--unsafe-fixes] [NAME...]

For each ``examples/*/Dockerfile`` it benchmarks the Dockerfile as it is against the
jettison-fixed version and prints size, cold, warm, code-change and deps-change times and
cache hits. Targets (issue 5, after seed 004's 87 % / 90 %): the optimized code_change is at
least 90 % faster than the original's cold build, and at least 90 % of its steps are cached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jettison.bench import BenchOptions, VariantResult, build_variants, run_bench
from jettison.config import Config
from jettison.errors import JettisonError
from jettison.units import human_bytes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--unsafe-fixes", action="store_true")
    args = parser.parse_args()
    projects = sorted(p.parent for p in EXAMPLES.glob("*/Dockerfile"))
    if args.names:
        projects = [p for p in projects if p.name in args.names]
    header = (
        f"{'example':<16} {'size before':>11} {'after':>9} {'cold':>13} {'warm':>11} "
        f"{'code_change':>13} {'deps_change':>13} {'opt code hits':>13} "
        f"{'code vs cold':>12} {'verified':>9}"
    )
    print(header)
    failed = 0
    for project in projects:
        try:
            variants = build_variants(project / "Dockerfile", Config(), unsafe=args.unsafe_fixes)
            report = run_bench(
                project / "Dockerfile", project, variants, BenchOptions(repeat=args.repeat)
            )
        except JettisonError as exc:
            print(f"{project.name:<16} error: {exc}")
            failed += 1
            continue
        before, after = report.variants["original"], report.variants["optimized"]

        def pair(name: str, b: VariantResult = before, a: VariantResult = after) -> str:
            sb, sa = b.scenarios[name], a.scenarios[name]
            if sb.seconds_median is None or sa.seconds_median is None:
                return "-"
            return f"{sb.seconds_median:.1f}->{sa.seconds_median:.1f}s"

        code = after.scenarios["code_change"]
        hits = f"{code.cache_hit_rate * 100:.0f} %" if code.cache_hit_rate is not None else "-"
        vs = report.comparison().get("optimized_code_change_vs_original_cold_pct")
        verified = "/".join("yes" if v.verified else "NO" for v in (before, after))
        print(
            f"{project.name:<16} {human_bytes(before.image_size_bytes):>11} "
            f"{human_bytes(after.image_size_bytes):>9} {pair('cold'):>13} {pair('warm'):>11} "
            f"{pair('code_change'):>13} {pair('deps_change'):>13} {hits:>13} "
            f"{'-' if vs is None else f'{-vs:.0f} % faster':>12} {verified:>9}"
        )
        if after.build_error:
            print(f"  optimized: {after.build_error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
