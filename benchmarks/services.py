"""Shared bases for compose-trio: the whole graph before and after `jettison services`.

    .venv/bin/python benchmarks/services.py [COMPOSE_FILE] [--keep-base-image] [--json]

For each variant (the project as it is; rewritten with shared bases, by default on the
slim variant of the services' image; with --keep-base-image on the same image) it builds
the whole graph cold (--no-cache), then changes one source file per service and rebuilds
(code-change), smoke-checks every service and measures the unique bytes of all service
images (layers shared counted once, read with jettison's inspect machinery). Targets
(seed 004, issue 7): code-change rebuild >= 85 % faster, unique bytes >= 40 % smaller.
The user's files are never touched; every image built is removed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jettison.bench.compose import bench_compose
from jettison.bench.report import render_compose_text

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "examples" / "compose-trio" / "docker-compose.yml"
TARGETS = {"code_change_faster_pct": 85.0, "unique_bytes_smaller_pct": 40.0}


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    compose = Path(args[0]) if args else DEFAULT
    slim = "--keep-base-image" not in argv

    def on_build(variant: str, scenario: str, done: object) -> None:
        print(f"  {variant} {scenario}: {getattr(done, 'seconds', 0.0):.1f}s", file=sys.stderr)

    report = bench_compose(compose, slim=slim, on_build=on_build)
    comparison = report.comparison()
    if "--json" in argv:
        print(json.dumps({**report.to_json(), "targets": TARGETS}, indent=2))
    else:
        print(render_compose_text(report), end="")
        print(f"\nbase image: {'slim variant' if slim else 'unchanged upstream image'}")
        for key, target in TARGETS.items():
            value = comparison[key]
            verdict = "met" if value is not None and value >= target else "NOT met"
            print(f"target {key} >= {target:.0f} %: {value} % -> {verdict}")
    failed = [v for v in (report.before, report.after) if v.error or any(v.verified.values())]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
