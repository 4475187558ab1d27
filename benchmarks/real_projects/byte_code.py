"""Byte code on the real projects: the bytes `--no-compile` saves against the start-up it costs.

For each project (the same checkouts, Dockerfiles, contexts and smoke commands as run.py), on
a copy: `jettison fix --unsafe-fixes --verify --each-fix --select JT138` with the project's
smoke commands. Verification builds the original and the image without pip's byte code,
runs the checks on both (container start, imports, the project's smoke commands), and
--each-fix prints what JT138 changed: the image size, and the time the checks took before
and after (one measurement each: start-up noise on a busy machine is a few tenths of a
second). Nothing else is fixed, so the figures are byte code's alone.

    .venv/bin/python benchmarks/real_projects/byte_code.py --src /work/realsrc [--only a,b]
    .venv/bin/python benchmarks/real_projects/byte_code.py --report    # the stored results

Results: results/byte_code.json (one record per project, updated as each finishes).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (the real-project benchmark's own helpers)

OUT = HERE / "results" / "byte_code.json"
EFFECT = re.compile(
    r": +JT138: ([+-][\d.]+) (MB|kB) \(([\d.]+) MB -> ([\d.]+) MB.*\); checks ([\d.]+) s -> "
    r"([\d.]+) s"
)


def measure(project: bench.Project, checkout: Path, jettison: Path, help_text: str) -> dict:
    argv, _ = bench.fix_argv(jettison, project, help_text)
    argv += ["--each-fix", "--select", "JT138"]
    with tempfile.TemporaryDirectory(prefix=f"jettison-bytecode-{project.slug}-") as tmp:
        copy = Path(tmp) / project.slug
        bench.copy_checkout(checkout, copy)
        bench.progress(f"{project.slug}: jettison fix --verify --each-fix --select JT138")
        code, out, seconds = bench.run_command(
            argv, cwd=copy, timeout=3600, own_group=False, echo=project.slug
        )
    record: dict[str, Any] = {
        "slug": project.slug,
        "exit_code": code,
        "seconds": round(seconds, 1),
        "output_tail": bench.tail(out, 20),
    }
    found = EFFECT.search(out)
    if found:
        amount = float(found.group(1)) * (1 if found.group(2) == "MB" else 0.001)
        record.update(
            saved_mb=-amount,
            size_mb=[float(found.group(3)), float(found.group(4))],
            checks_s=[float(found.group(5)), float(found.group(6))],
        )
    elif "nothing to fix" in out or "applied" not in out:
        record["note"] = "no pip install writes byte code into the image (nothing to fix)"
    else:
        record["note"] = "JT138 not verified (see output_tail)"
    return record


def report(records: list[dict]) -> str:
    lines = [
        "| project | image MB | byte code MB | saved | checks s (start-up included) |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(records, key=lambda r: r["slug"]):
        if "saved_mb" not in r:
            lines.append(f"| {r['slug']} | - | - | - | {r.get('note', '')} |")
            continue
        before = r["size_mb"][0]
        c0, c1 = r["checks_s"]
        lines.append(
            f"| {r['slug']} | {before:.1f} | {r['saved_mb']:.1f} | "
            f"{100 * r['saved_mb'] / before:.1f}% | {c0:.1f} -> {c1:.1f} ({c1 - c0:+.1f}) |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, help="one checkout per project: DIR/<slug>")
    ap.add_argument("--only", default="", help="comma-separated slugs")
    ap.add_argument("--report", action="store_true", help="print the stored results")
    args = ap.parse_args()
    stored: dict[str, dict] = {}
    if OUT.is_file():
        stored = {r["slug"]: r for r in json.loads(OUT.read_text())["projects"]}
    if args.report:
        print(report(list(stored.values())))
        return 0
    if args.src is None:
        sys.exit("--src DIR is needed (or --report)")
    only = [s for s in args.only.split(",") if s]
    jettison = bench.jettison_executable()
    help_text = bench.fix_help(jettison)
    engine = bench.Engine()
    for project in bench.load_projects(only=only):
        checkout = args.src / project.slug
        if not checkout.is_dir():
            bench.progress(f"{project.slug}: no checkout under {args.src}, skipped")
            continue
        stored[project.slug] = measure(project, checkout, jettison, help_text)
        stored[project.slug]["when"] = time.strftime("%Y-%m-%d")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(
            json.dumps({"projects": list(stored.values())}, indent=1, sort_keys=True) + "\n"
        )
        bench.progress(engine.prune_build_cache())
    print(report(list(stored.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
