"""Do jettison's safe fixes change what an image is? The semantic check on real Dockerfiles.

For every Dockerfile: apply `jettison fix` (safe fixes only) to a copy, build the original
twice without cache and the fixed file once, and compare config and every path of the
filesystem (see jettison.fixes.semantic_check). A difference no applied fix declares is a
failure; what differs between the two builds of the original is the build's own noise.

    .venv/bin/python benchmarks/semantic/run.py                 # examples + corpora
    .venv/bin/python benchmarks/semantic/run.py --limit 20 --src /work/realsrc

Inputs, in this order:
- every example of this repository (Dockerfile + its folder as context);
- the real projects of benchmarks/real_projects with checkouts under --src (their own
  Dockerfile and context);
- Dockerfiles of the two corpora (the shared corpus beside the repository and
  benchmarks/precision/corpus) that need no build context and start FROM an image these
  machines have offline (debian, python, buildpack-deps); each builds in an empty folder.

Results: one JSON line per Dockerfile in results/<date>.jsonl and a summary. Images are
removed as it goes; the builder cache is pruned every --prune-every files (not with
--no-prune, when another benchmark shares the engine).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"
PRECISION_CORPUS = REPO / "benchmarks" / "precision" / "corpus"
REAL_PROJECTS = REPO / "benchmarks" / "real_projects" / "projects"
OFFLINE_BASES = re.compile(r"^(docker\.io/)?(library/)?(debian|python|buildpack-deps)(:\S+)?$")


@dataclass
class Case:
    name: str
    context: Path
    dockerfile: Path
    kind: str  # example, project, corpus
    needs_copy: bool = False  # a corpus file: built in an empty folder


def examples() -> list[Case]:
    found = []
    for folder in sorted(p for p in (REPO / "examples").iterdir() if p.is_dir()):
        for dockerfile in sorted(folder.rglob("Dockerfile")):
            name = f"examples/{dockerfile.relative_to(REPO / 'examples').as_posix()}"
            found.append(Case(name, dockerfile.parent, dockerfile, "example"))
    return found


def projects(src: Path | None) -> list[Case]:
    if src is None:
        return []
    found = []
    for toml in sorted(REAL_PROJECTS.glob("*/project.toml")):
        slug = toml.parent.name
        checkout = src / slug
        if not checkout.is_dir():
            continue
        spec = tomllib.loads(toml.read_text())
        dockerfile = checkout / spec.get("dockerfile", "Dockerfile")
        context = checkout / spec.get("context", ".")
        if dockerfile.is_file():
            found.append(Case(f"project/{slug}", context, dockerfile, "project"))
    return found


def needs_no_context(text: str) -> bool:
    """Builds in an empty folder from offline base images: no COPY/ADD from the context,
    no `# syntax=` line, every FROM an offline image or an earlier stage."""
    if re.search(r"(?im)^\s*#\s*syntax\s*=", text):
        return False
    stages: set[str] = set()
    froms = 0
    for line in text.splitlines():
        words = line.strip().split()
        if not words:
            continue
        op = words[0].upper()
        if op == "FROM":
            froms += 1
            args = [w for w in words[1:] if not w.startswith("--")]
            if not args:
                return False
            image = args[0].lower()
            if image not in stages and not OFFLINE_BASES.match(image):
                return False
            if len(args) >= 3 and args[1].lower() == "as":
                stages.add(args[2].lower())
        elif op in ("COPY", "ADD") and not any(w.startswith("--from") for w in words[1:]):
            return False
    return froms > 0


def corpus() -> list[Case]:
    found = []
    for root, label in ((SHARED_CORPUS, "corpus"), (PRECISION_CORPUS, "precision")):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in (".tsv", ".md"):
                continue
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            if needs_no_context(text):
                name = f"{label}/{path.relative_to(root).as_posix()}"
                found.append(Case(name, path.parent, path, "corpus", needs_copy=True))
    return found


def prune() -> None:
    from jettison.engine import find_build_client

    client = find_build_client()
    subprocess.run(
        [client.executable, "builder", "prune", "-f"],
        env=client.environ(),
        capture_output=True,
        timeout=600,
        check=False,
    )


def check(case: Case) -> dict[str, object]:
    from jettison.errors import JettisonError
    from jettison.fixes.semantic_check import check_fixes

    started = time.monotonic()
    try:
        if case.needs_copy:
            with tempfile.TemporaryDirectory(prefix="jettison-semantic-case-") as tmp:
                folder = Path(tmp)
                (folder / "Dockerfile").write_bytes(case.dockerfile.read_bytes())
                result = check_fixes(folder, folder / "Dockerfile")
        else:
            result = check_fixes(case.context, case.dockerfile)
        record: dict[str, object] = result.to_json()
    except JettisonError as exc:
        record = {"ok": False, "error": f"check failed: {exc}", "skipped": "", "applied": []}
    record.update(name=case.name, kind=case.kind, seconds=round(time.monotonic() - started, 1))
    return record


def summary(records: list[dict[str, object]]) -> str:
    checked = [r for r in records if not r.get("skipped")]
    undeclared = [r for r in checked if r.get("undeclared")]
    broke = [r for r in checked if r.get("error")]
    codes: dict[str, int] = {}
    for r in checked:
        for code in r.get("applied") or []:  # type: ignore[attr-defined]
            codes[str(code)] = codes.get(str(code), 0) + 1
    lines = [
        f"Dockerfiles tried: {len(records)}; checked (a safe fix applies and the original "
        f"builds): {len(checked)}",
        "  by kind: "
        + ", ".join(
            f"{kind} {sum(1 for r in checked if r['kind'] == kind)}"
            for kind in ("example", "project", "corpus")
        ),
        f"  no undeclared difference: {len(checked) - len(undeclared) - len(broke)}",
        f"  an undeclared difference: {len(undeclared)}",
        f"  fixed file fails (fix or build): {len(broke)}",
        "  safe fixes checked: " + ", ".join(f"{c} {n}" for c, n in sorted(codes.items())),
    ]
    for r in undeclared + broke:
        shown = (r.get("undeclared") or [r.get("error")])[:3]  # type: ignore[index]
        lines.append(f"  - {r['name']}: {shown}")
    skipped: dict[str, int] = {}
    for r in records:
        reason = str(r.get("skipped") or "")
        if reason:
            key = "original does not build" if reason.startswith("the original") else reason
            skipped[key] = skipped.get(key, 0) + 1
    lines.append("  skipped: " + ", ".join(f"{k} {n}" for k, n in sorted(skipped.items())))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, help="checkouts of the real projects: DIR/<slug>")
    ap.add_argument("--limit", type=int, default=0, help="stop after N checked Dockerfiles")
    ap.add_argument("--only", default="", help="comma-separated kinds: example,project,corpus")
    ap.add_argument("--prune-every", type=int, default=10)
    ap.add_argument("--no-prune", action="store_true")
    ap.add_argument("--out", type=Path, help="JSON lines (default results/<date>.jsonl)")
    ap.add_argument("--resume", action="store_true", help="skip names already in --out")
    ap.add_argument(
        "--report", type=Path, help="print the summary of a results file, build nothing"
    )
    args = ap.parse_args()
    if args.report:
        records = [json.loads(x) for x in args.report.read_text().splitlines() if x.strip()]
        print(summary(records))
        return 0
    cases = examples() + projects(args.src) + corpus()
    if args.only:
        kinds = set(args.only.split(","))
        cases = [c for c in cases if c.kind in kinds]
    out = args.out or HERE / "results" / f"{time.strftime('%Y-%m-%d')}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    done_names: set[str] = set()
    records: list[dict[str, object]] = []
    if args.resume and out.is_file():
        records = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
        done_names = {str(r["name"]) for r in records}
    print(f"{len(cases)} Dockerfiles to try ({len(done_names)} already done)", flush=True)
    checked = sum(1 for r in records if not r.get("skipped"))
    for n, case in enumerate(cases, 1):
        if case.name in done_names:
            continue
        if args.limit and checked >= args.limit:
            break
        record = check(case)
        records.append(record)
        with out.open("a") as stream:
            stream.write(json.dumps(record) + "\n")
        if not record.get("skipped"):
            checked += 1
        verdict = (
            f"skipped ({record['skipped']})"[:120]
            if record.get("skipped")
            else (
                "ok"
                if record.get("ok")
                else f"FAIL {record.get('undeclared') or record.get('error')}"[:300]
            )
        )
        print(f"[{n}/{len(cases)}] {case.name}: {verdict} ({record['seconds']} s)", flush=True)
        if not args.no_prune and n % args.prune_every == 0:
            prune()
    print(summary(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
