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
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from jettison.dockerfile import Instruction

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"


def run_timed(cmd: list[str], cwd: Path) -> tuple[str, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # jettison in a process of its own (no `jettison server`): its CPU time is this child's
    env = {**os.environ, "JETTISON_SERVER": "off"}
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1, 2):
        sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return done.stdout, wall, cpu


def instruction_map(path: Path) -> dict[int, Instruction] | None:
    from jettison.dockerfile import read_dockerfile
    from jettison.errors import JettisonError

    try:
        df = read_dockerfile(path)
    except JettisonError:
        return None
    starts: dict[int, Instruction] = {}
    for ins in df.instructions:
        for line in range(ins.line, ins.end_line + 1):
            starts[line] = ins
    return starts


# Deliberate, documented differences (see each rule's "Notes" in docs/rules/). A disagreement
# matching one of these is counted as explained; everything else is printed as unexplained.
FINAL_ONLY = {"JT101", "JT102", "JT103", "JT104", "JT105", "JT106", "JT120", "JT121", "JT122"}


def explain(code: str, side: str, ins: Instruction) -> str | None:
    text = ins.body.text
    stage = ins.stage
    if side == "H" and code in FINAL_ONLY and stage is not None and not stage.in_final_image:
        return "builder stage: never in the final image"
    if side == "J" and re.search(r"\bsudo\b", text):
        return "command behind sudo"
    if side == "J" and code in ("JT101", "JT102", "JT505") and re.search(r"\bapt\s", text):
        return "`apt`, not only `apt-get`"
    if (
        side == "J"
        and code == "JT103"
        and re.search(r"(/\S*pip[0-9.]*|python[0-9.]*\s+-m\s+pip)\s", text)
    ):
        return "pip by path or `python -m pip`"
    if side == "H" and code in ("JT104", "JT101") and re.search(r"\brm\b", text):
        return "cache removed by another `rm` form"
    if side == "H" and code == "JT117" and re.search(r"-u\s*\$|--uid[= ]\$", text):
        return "UID from a variable (hadolint counts the variable name's length)"
    if side == "J" and code in ("JT105", "JT121") and re.search(r"\b(update|upgrade)\b", text):
        return "`update`/`upgrade` download packages into the cache too"
    if (
        side == "J"
        and code == "JT106"
        and re.search(r"(^|[;&|]\s*)yarn(\s+--\S+)*\s*($|[;&|])", text)
    ):
        return "bare `yarn` is `yarn install`"
    if side == "H" and code == "JT304" and ins.keyword == "HEALTHCHECK":
        return "HEALTHCHECK CMD: no PID 1 signal problem"
    if (
        side == "J"
        and code in ("JT101", "JT105", "JT121", "JT122")
        and re.search(r"\brm\s+-\S*r", text)
    ):
        return "hadolint accepts any `rm -rf` as apt cleanup"
    if side == "H" and code == "JT403" and "$" in text:
        return "image from an ARG without a default (hadolint #219)"
    if side == "H" and code == "JT205" and re.search(r"(^|&&|;)\s*\$", text):
        return "hadolint does not count commands named by a variable"
    if side == "J" and code == "JT404" and re.search(r":latest-", text):
        return "moving `latest-*` tags"
    if (
        side == "J"
        and code == "JT118"
        and stage is not None
        and any(
            i.keyword == "RUN"
            and re.search(r"\b(install|add)\b[^&;|]*\b(curl|wget)\b", i.body.text)
            for i in stage.instructions
        )
    ):
        return "curl/wget installed, not only run"
    if side == "J" and code == "JT115":
        return "jettison follows the archive into a later RUN"
    if code == "JT402":
        return "secret-name heuristics differ (documented)"
    if side == "H" and code == "JT114":
        return "source from an unresolved variable"
    return None


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
    maps = {name: instruction_map(corpus / name) or {} for name in parsed_by_both}
    print()
    print(
        f"agreement on rules with a hadolint equivalent ({len(parsed_by_both)} files both "
        "parsed; unit = instruction; 'explained' = a documented deliberate difference):"
    )
    print(
        f"{'jettison':10}{'hadolint':10}{'both':>7}{'only J':>8}{'only H':>8}{'raw':>8}"
        f"{'explained':>11}{'agreement':>11}"
    )
    totals = Counter()
    unexplained_examples: list[str] = []
    for code, dl in sorted(equivalents.items()):

        def keyset(
            findings: list[dict[str, object]], rule: str, field: str
        ) -> set[tuple[str, int]]:
            out = set()
            for f in findings:
                name = os.path.basename(str(f[field]))
                if f["code"] != rule or name not in parsed_by_both:
                    continue
                line = int(str(f["line"]))
                ins = maps[name].get(line)
                out.add((name, ins.line if ins else line))
            return out

        j = keyset(j_findings, code, "path")
        h = keyset(h_findings, dl, "file")
        both = len(j & h)
        explained = 0
        unexplained = 0
        for side, keys in (("J", j - h), ("H", h - j)):
            for name, line in sorted(keys):
                ins = maps[name].get(line)
                if ins is not None and explain(code, side, ins):
                    explained += 1
                else:
                    unexplained += 1
                    unexplained_examples.append(f"{code}/{dl} only {side}: {name}:{line}")
        union = both + len(j - h) + len(h - j)
        raw = f"{both / union:.1%}" if union else "n/a"
        agree = f"{both / (both + unexplained):.1%}" if both + unexplained else "n/a"
        totals.update(both=both, union=union, explained=explained, unexplained=unexplained)
        print(
            f"{code:10}{dl:10}{both:>7}{len(j - h):>8}{len(h - j):>8}{raw:>8}{explained:>11}"
            f"{agree:>11}"
        )
    if totals["union"]:
        print(
            f"{'all':20}{totals['both']:>7}{'':>16}{totals['both'] / totals['union']:>8.1%}"
            f"{totals['explained']:>11}"
            f"{totals['both'] / (totals['both'] + totals['unexplained']):>11.1%}"
        )
    print(f"unexplained disagreements: {totals['unexplained']}")
    for example in unexplained_examples[:40]:
        print(f"  {example}")
    top = Counter(f["code"] for f in j_findings).most_common(10)
    print()
    print("jettison top rules: " + ", ".join(f"{c} {n}" for c, n in top))


if __name__ == "__main__":
    main()
