"""Measure audit precision on the precision corpus with a judged random sample of findings.

    .venv/bin/python benchmarks/precision/sample.py [--size 200] [--seed jettison-precision-1]
                                                    [--batch 200] [--jettison PATH]

1. Audits every file of corpus/MANIFEST.tsv with `jettison audit --format json --no-context`
   (in batches, one worker each: build contexts are not part of the corpus) and prints the
   number of findings per rule.
2. Samples --size findings at random with a fixed seed: each finding's rank is the sha256 of
   the seed and its identity (file, line, code, message), and the lowest ranks are taken. That
   is a uniform random sample, the same for the same corpus and the same jettison, and stable
   across rule changes: a finding that is still reported keeps its rank, so it stays in the
   sample; only findings that appear or disappear change it.
3. Writes sample.tsv (one row per sampled finding: id, code, severity, file, line, message,
   the instruction with a few lines of context, verdict, reason) and sample.md (the same, to
   read). A person judges by filling the verdict (TP, FP or unclear) and reason columns of
   sample.tsv, then runs the script again.
4. Keeps every verdict ever given in judgements.tsv, keyed by the finding's id (a hash of file,
   line, code and message), so a re-run after rule changes carries the judgements of findings
   that are still identical over, and only new findings need judging.
5. Prints precision = TP / (TP + FP) over the judged sample and the false positives per rule.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"
SAMPLE_TSV = HERE / "sample.tsv"
SAMPLE_MD = HERE / "sample.md"
JUDGEMENTS = HERE / "judgements.tsv"
DEFAULT_SEED = "jettison-precision-1"
VERDICTS = ("TP", "FP", "unclear")
SAMPLE_COLUMNS = [
    "id",
    "code",
    "severity",
    "file",
    "line",
    "message",
    "context",
    "verdict",
    "reason",
]
JUDGEMENT_COLUMNS = ["id", "code", "file", "line", "message", "verdict", "reason"]
CONTEXT_BEFORE = 2
CONTEXT_MAX = 40
_ERROR_LINE = re.compile(r"^jettison: error: (.+)$")


@dataclass(frozen=True)
class Finding:
    file: str  # relative to the corpus directory
    line: int
    end_line: int
    code: str
    severity: str
    message: str

    @property
    def id(self) -> str:
        return finding_id(self.file, self.line, self.code, self.message)


def finding_id(file: str, line: int, code: str, message: str) -> str:
    key = "\0".join((file, str(line), code, message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def rank(seed: str, finding: Finding) -> str:
    key = "\0".join((seed, finding.file, str(finding.line), finding.code, finding.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def corpus_files() -> list[str]:
    with open(MANIFEST, encoding="utf-8", newline="") as fh:
        return sorted(row["file"] for row in csv.DictReader(fh, delimiter="\t"))


def audit(jettison: str, files: list[str], batch: int) -> tuple[list[Finding], list[str], float]:
    """Audit in batches; return the findings, the error lines and the CPU seconds used."""
    findings: list[Finding] = []
    errors: list[str] = []
    cpu = 0.0
    for start in range(0, len(files), batch):
        chunk = files[start : start + batch]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [jettison, "audit", "--format", "json", "--no-context", "-j", "1", *chunk],
            cwd=CORPUS,
            capture_output=True,
            text=True,
            env={**os.environ, "JETTISON_SERVER": "off"},  # its CPU time is this child's
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1, 2):
            sys.exit(f"jettison audit failed ({done.returncode}): {done.stderr[-500:]}")
        for raw in json.loads(done.stdout or "[]"):
            findings.append(
                Finding(
                    file=os.path.relpath(raw["path"], CORPUS)
                    if os.path.isabs(raw["path"])
                    else raw["path"],
                    line=int(raw["line"]),
                    end_line=int(raw.get("end_line") or raw["line"]),
                    code=raw["code"],
                    severity=raw["severity"],
                    message=raw["message"],
                )
            )
        for line in done.stderr.splitlines():
            m = _ERROR_LINE.match(line)
            if m:
                errors.append(m.group(1))
        print(f"  audited {start + len(chunk)}/{len(files)} files", file=sys.stderr)
    return findings, errors, cpu


def instruction_bounds(path: Path) -> dict[int, tuple[int, int]]:
    """Line -> (first, last line) of the instruction covering it, where the file parses."""
    from jettison.dockerfile import read_dockerfile
    from jettison.errors import JettisonError

    try:
        df = read_dockerfile(path)
    except JettisonError:
        return {}
    bounds: dict[int, tuple[int, int]] = {}
    for ins in df.instructions:
        for line in range(ins.line, ins.end_line + 1):
            bounds[line] = (ins.line, ins.end_line)
    return bounds


def context(finding: Finding) -> str:
    """The instruction(s) the finding is on, with a few lines before, numbered; '>' marks it."""
    path = CORPUS / finding.file
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    bounds = instruction_bounds(path)
    first = bounds.get(finding.line, (finding.line, finding.line))[0]
    last = bounds.get(finding.end_line, (finding.end_line, finding.end_line))[1]
    lo = max(1, first - CONTEXT_BEFORE)
    hi = min(len(lines), max(last, finding.end_line))
    if hi - lo + 1 > CONTEXT_MAX:  # a very long instruction: centre on the finding
        lo = max(lo, finding.line - CONTEXT_MAX // 2)
        hi = min(hi, lo + CONTEXT_MAX - 1)
    out = []
    for n in range(lo, hi + 1):
        mark = ">" if finding.line <= n <= finding.end_line else " "
        out.append(f"{mark}{n:4d} | {lines[n - 1] if n <= len(lines) else ''}")
    return "\n".join(out)


def tsv_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def tsv_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n"}.get(m.group(1), m.group(1)), text)


def read_tsv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [{k: tsv_unescape(v or "") for k, v in row.items() if k is not None} for row in rows]


def write_tsv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(columns) + "\n")
        for row in rows:
            fh.write("\t".join(tsv_escape(str(row.get(c, ""))) for c in columns) + "\n")
    tmp.replace(path)


def load_judgements() -> dict[str, dict[str, str]]:
    """Every verdict given so far: judgements.tsv, then sample.tsv edits (newer) over it."""
    judged: dict[str, dict[str, str]] = {}
    for source in (JUDGEMENTS, SAMPLE_TSV):
        for lineno, row in enumerate(read_tsv(source), start=2):
            verdict = row.get("verdict", "").strip()
            if not verdict:
                continue
            if verdict not in VERDICTS:
                sys.exit(f"{source.name}:{lineno}: verdict must be one of {', '.join(VERDICTS)}")
            fid = finding_id(row["file"], int(row["line"]), row["code"], row["message"])
            if fid != row["id"]:
                sys.exit(f"{source.name}:{lineno}: id does not match file, line, code, message")
            judged[fid] = {c: row.get(c, "") for c in JUDGEMENT_COLUMNS}
            judged[fid]["verdict"] = verdict
    return judged


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=200, help="findings in the sample")
    ap.add_argument("--seed", default=DEFAULT_SEED, help="seed of the random sample")
    ap.add_argument("--batch", type=int, default=200, help="files per jettison run")
    ap.add_argument(
        "--jettison",
        default=str(Path(sys.executable).with_name("jettison")),
        help="the jettison executable",
    )
    args = ap.parse_args()

    judged = load_judgements()
    files = corpus_files()
    start = time.perf_counter()
    findings, errors, cpu = audit(args.jettison, files, args.batch)
    wall = time.perf_counter() - start
    # one finding per identity (file, line, code, message): the unit that is judged
    findings = sorted(
        {f.id: f for f in reversed(findings)}.values(),
        key=lambda f: (f.file, f.line, f.code, f.message),
    )

    per_rule = Counter(f.code for f in findings)
    files_per_rule = defaultdict(set)
    for f in findings:
        files_per_rule[f.code].add(f.file)
    print(
        f"{len(files)} files, {len(findings)} findings, {len(errors)} errors; "
        f"audit {cpu:.1f} s CPU, {wall:.1f} s wall ({len(files) / max(cpu, 1e-9):.0f} files/CPU-s)"
    )
    print("findings per rule (rule, findings, files):")
    for code, n in sorted(per_rule.items()):
        print(f"  {code}  {n:6d}  {len(files_per_rule[code]):5d}")
    for err in errors:
        print(f"  error: {err}")

    sample = sorted(findings, key=lambda f: rank(args.seed, f))[: args.size]
    sample.sort(key=lambda f: (f.code, f.file, f.line, f.message))
    rows = []
    for f in sample:
        verdict = judged.get(f.id, {})
        rows.append(
            {
                "id": f.id,
                "code": f.code,
                "severity": f.severity,
                "file": f.file,
                "line": str(f.line),
                "message": f.message,
                "context": context(f),
                "verdict": verdict.get("verdict", ""),
                "reason": verdict.get("reason", ""),
            }
        )
    write_tsv(SAMPLE_TSV, SAMPLE_COLUMNS, rows)
    write_markdown(rows, args.seed)
    write_tsv(
        JUDGEMENTS,
        JUDGEMENT_COLUMNS,
        sorted(judged.values(), key=lambda r: (r["code"], r["file"], int(r["line"]), r["id"])),
    )

    counts = Counter(r["verdict"] or "unjudged" for r in rows)
    tp, fp = counts["TP"], counts["FP"]
    print(
        f"sample: {len(rows)} findings (seed {args.seed!r}): {tp} TP, {fp} FP, "
        f"{counts['unclear']} unclear, {counts['unjudged']} not judged yet"
    )
    if tp + fp:
        print(f"precision = TP / (TP + FP) = {tp}/{tp + fp} = {tp / (tp + fp):.1%}")
    fps: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["verdict"] == "FP":
            fps[r["code"]].append(r)
    if fps:
        print("false positives per rule:")
        for code in sorted(fps):
            print(f"  {code}: {len(fps[code])} of {sum(r['code'] == code for r in rows)} sampled")
            for r in fps[code]:
                print(f"    {r['file']}:{r['line']} ({r['id']}): {r['reason']}")
    unclear = [r for r in rows if r["verdict"] == "unclear"]
    if unclear:
        print("unclear:")
        for r in unclear:
            print(f"  {r['code']} {r['file']}:{r['line']} ({r['id']}): {r['reason']}")
    return 0


def write_markdown(rows: list[dict[str, str]], seed: str) -> None:
    out = [
        "# Precision sample",
        "",
        f"{len(rows)} findings drawn with seed `{seed}` by `sample.py`; verdicts and reasons come "
        "from `judgements.tsv` (edit them in `sample.tsv`, then run `sample.py` again).",
        "",
    ]
    for r in rows:
        verdict = r["verdict"] or "not judged"
        out += [
            f"## {r['id']} {r['code']} ({r['severity']}): {verdict}",
            "",
            f"`{r['file']}:{r['line']}`: {r['message']}",
            "",
        ]
        if r["reason"]:
            out += [f"Reason: {r['reason']}", ""]
        out += ["```", r["context"], "```", ""]
    tmp = SAMPLE_MD.with_suffix(".md.tmp")
    tmp.write_text("\n".join(out), encoding="utf-8")
    tmp.replace(SAMPLE_MD)


if __name__ == "__main__":
    sys.exit(main())
