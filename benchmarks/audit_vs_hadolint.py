"""Audit the shared corpus with jettison and hadolint in one run; print speed and agreement.

    .venv/bin/python benchmarks/audit_vs_hadolint.py [CORPUS_DIR]

Both tools run as subprocesses over the same files (one batch each), so wall time and CPU time
(user + sys of the child processes, jettison's worker processes included) are comparable.
Agreement is measured per rule that has a hadolint equivalent, at instruction granularity:
each finding is mapped to the first line of the instruction it is on; for every such rule we
count instructions flagged by both, only by jettison and only by hadolint, over the files both
tools parsed. "agreement" = both / (both + only-jettison + only-hadolint).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"


def run_timed(cmd: list[str], cwd: Path) -> tuple[str, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1, 2):
        sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return done.stdout, wall, cpu


def instruction_starts(path: Path) -> dict[int, int] | None:
    from jettison.dockerfile import read_dockerfile
    from jettison.errors import JettisonError

    try:
        df = read_dockerfile(path)
    except JettisonError:
        return None
    starts: dict[int, int] = {}
    for ins in df.instructions:
        for line in range(ins.line, ins.end_line + 1):
            starts[line] = ins.line
    return starts


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    files = sorted(p.name for p in corpus.glob("*.Dockerfile"))
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    jettison = str(REPO / ".venv" / "bin" / "jettison")
    print(f"corpus: {len(files)} files in {corpus}; cores: {os.cpu_count()}")

    j_out, j_wall, j_cpu = run_timed(
        [
            jettison,
            "audit",
            "--format",
            "json",
            "--no-context",
            "--select",
            "JT1,JT2,JT3,JT4,JT5",
            *files,
        ],
        corpus,
    )
    h_out, h_wall, h_cpu = run_timed([hadolint, "--no-fail", "-f", "json", *files], corpus)
    j_findings = json.loads(j_out or "[]")
    h_findings = json.loads(h_out or "[]")

    # parse failures: jettison reports them on stderr (exit 2); count files absent from a
    # re-parse; hadolint reports them as DL1000
    from jettison.errors import JettisonError

    j_fail = []
    for name in files:
        try:
            from jettison.dockerfile import read_dockerfile

            read_dockerfile(corpus / name)
        except JettisonError as exc:
            j_fail.append(str(exc))
    h_fail = sorted({f["file"] for f in h_findings if f["code"] == "DL1000"})

    print()
    print(f"{'':28}{'jettison':>14}{'hadolint':>14}")
    print(f"{'wall seconds':28}{j_wall:>14.2f}{h_wall:>14.2f}")
    print(f"{'CPU seconds':28}{j_cpu:>14.2f}{h_cpu:>14.2f}")
    print(f"{'files per second (wall)':28}{len(files) / j_wall:>14.1f}{len(files) / h_wall:>14.1f}")
    print(f"{'files per CPU-second':28}{len(files) / j_cpu:>14.1f}{len(files) / h_cpu:>14.1f}")
    print(f"{'parse failures':28}{len(j_fail):>14}{len(h_fail):>14}")
    print(f"{'findings':28}{len(j_findings):>14}{len(h_findings):>14}")
    print(f"speed ratio (files per CPU-second): {(len(files) / j_cpu) / (len(files) / h_cpu):.1f}x")
    for msg in j_fail:
        print(f"  jettison could not parse: {msg}")
    print(f"  hadolint could not parse {len(h_fail)} files (it then reports nothing else for them)")

    from jettison.rules.registry import all_rules

    equivalents = {
        r.code: r.equivalents["hadolint"] for r in all_rules() if "hadolint" in r.equivalents
    }
    parsed_by_both = set(files) - set(h_fail)
    starts = {name: instruction_starts(corpus / name) for name in parsed_by_both}
    print()
    print(
        f"agreement on rules with a hadolint equivalent ({len(parsed_by_both)} files both "
        "parsed; unit = instruction):"
    )
    print(
        f"{'jettison':10}{'hadolint':10}{'both':>8}{'only J':>8}{'only H':>8}{'agreement':>11}"
        f"{'file-level':>12}"
    )
    total_both = total_any = 0
    for code, dl in sorted(equivalents.items()):

        def keyset(
            findings: list[dict[str, object]], rule: str, field: str
        ) -> set[tuple[str, int]]:
            out = set()
            for f in findings:
                name = os.path.basename(str(f[field]))
                if f["code"] != rule or name not in parsed_by_both:
                    continue
                table = starts.get(name) or {}
                line = int(str(f["line"]))
                out.add((name, table.get(line, line)))
            return out

        j = keyset(j_findings, code, "path")
        h = keyset(h_findings, dl, "file")
        both, only_j, only_h = len(j & h), len(j - h), len(h - j)
        union = both + only_j + only_h
        files_j = {n for n, _ in j}
        files_h = {n for n, _ in h}
        file_agree = 1 - len(files_j ^ files_h) / len(parsed_by_both)
        total_both += both
        total_any += union
        agreement = f"{both / union:.1%}" if union else "n/a"
        print(f"{code:10}{dl:10}{both:>8}{only_j:>8}{only_h:>8}{agreement:>11}{file_agree:>12.1%}")
    if total_any:
        print(f"{'all':20}{total_both:>8}{'':>16}{total_both / total_any:>11.1%}")
    top = Counter(f["code"] for f in j_findings).most_common(10)
    print()
    print("jettison top rules: " + ", ".join(f"{c} {n}" for c, n in top))


if __name__ == "__main__":
    main()
