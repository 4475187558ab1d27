"""Do jettison's safe fixes change what an image is? The semantic check on real Dockerfiles.

For every Dockerfile: apply `jettison fix` (safe fixes only) to a copy, build the original
twice and the fixed file once, all without cache, and compare config and every path of the
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
  machines have offline (debian, python, buildpack-deps); each builds in an empty folder;
- with --mirrors DIR (git directories DIR/<owner>+<name>/repo, as `fetch` leaves them): every
  other Dockerfile of benchmarks/precision/corpus whose bases the engine has, built in its
  own repository at the commit MANIFEST.tsv records (files of 4 MiB and more, which
  the snapshots lack, left out), with the Dockerfile's
  folder as context, or the repository's root where only that has every COPY source; the
  Python projects of repositories.tsv (repo, commit, path) come first.

Results: one JSON line per Dockerfile in results/<date>.jsonl and a summary. Images are
removed as it goes; the builder cache is pruned every --prune-every files (not with
--no-prune, when another benchmark shares the engine).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    kind: str  # example, project, corpus, repository
    needs_copy: bool = False  # a corpus file: built in an empty folder
    # a repository file: (git dir, commit, path in the repository); context and dockerfile
    # are relative to the checkout, made when the case is checked
    checkout: tuple[Path, str, str] | None = None


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


def engine_images() -> set[str]:
    """Every repository:tag the engine has (the aliases of the offline bases included)."""
    from jettison.engine import find_build_client

    client = find_build_client()
    done = subprocess.run(
        [client.executable, "images", "--format", "{{.Repository}}:{{.Tag}}"],
        env=client.environ(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {line.strip() for line in done.stdout.splitlines() if "<none>" not in line}


def _parsed(text: str) -> Any:
    """jettison's own reading of the file (stages, ARG defaults resolved), or None."""
    from jettison.dockerfile import parse_dockerfile
    from jettison.errors import JettisonError

    try:
        return parse_dockerfile(text)
    except (JettisonError, RecursionError):
        return None


def bases_available(text: str, images: set[str]) -> bool:
    """Every FROM is an image the engine has (after the ARG defaults before it) or an
    earlier stage."""
    df = _parsed(text)
    if df is None or not df.stages:
        return False
    for stage in df.stages:
        if stage.parent is not None:
            continue
        image = stage.base_resolved.lower().removeprefix("docker.io/").removeprefix("library/")
        if ":" not in image.rsplit("/", 1)[-1]:
            image += ":latest"
        if image not in images:
            return False
    return True


def copy_sources(text: str) -> list[str]:
    """The context paths COPY and ADD read (not --from, not URLs or heredocs)."""
    df = _parsed(text)
    if df is None:
        return []
    return [
        src
        for stage in df.stages
        for ins in stage.instructions
        if ins.keyword in ("COPY", "ADD") and not ins.flag("from") and not ins.heredocs
        for src in ins.args[:-1]
        if "://" not in src
    ]


def _has_sources(folder: Path, sources: list[str]) -> bool:
    for source in sources:
        if "$" in source:
            continue
        if any(ch in source for ch in "*?["):
            if not list(folder.glob(source.lstrip("/"))):
                return False
        elif not (folder / source.lstrip("/")).exists():
            return False
    return True


REPOSITORIES = HERE / "repositories.tsv"  # more Python projects: repo, commit, path


def _repository_rows() -> list[tuple[str, str, str, Path | None]]:
    """(repo, commit, path, stored copy or None) of repositories.tsv (Python services
    gathered for this check, with their contexts: most have a safe fix), then of the
    precision corpus (mostly official images' own files, already clean)."""
    rows: list[tuple[str, str, str, Path | None]] = []
    if REPOSITORIES.is_file():
        for row in REPOSITORIES.read_text().splitlines():
            if row.strip() and not row.startswith(("#", "repo\t")):
                repo, commit, path = row.split("\t")[:3]
                rows.append((repo, commit, path, None))
    manifest = PRECISION_CORPUS / "MANIFEST.tsv"
    if manifest.is_file():
        for row in manifest.read_text().splitlines()[1:]:
            repo, commit, path, _sha, stored = row.split("\t")
            rows.append((repo, commit, path, PRECISION_CORPUS / stored))
    return rows


def repositories(mirrors: Path | None, images: set[str]) -> list[Case]:
    if mirrors is None:
        return []
    found = []
    seen: set[str] = set()
    for repo, commit, path, stored in _repository_rows():
        name = f"repository/{repo}/{path}"
        gitdir = mirrors / repo.replace("/", "+") / "repo"
        if name in seen or not gitdir.is_dir():
            continue
        seen.add(name)
        if stored is not None and stored.is_file():
            text = stored.read_text(errors="replace")
        else:
            shown = subprocess.run(
                ["git", "--git-dir", str(gitdir), "show", f"{commit}:{path}"],
                capture_output=True,
                text=True,
                check=False,
            )
            if shown.returncode != 0:
                continue
            text = shown.stdout
        if needs_no_context(text) or not bases_available(text, images):
            continue  # the first kind is the corpus's already
        found.append(
            Case(name, Path("."), Path(path), "repository", checkout=(gitdir, commit, path))
        )
    return found


def export_tree(gitdir: Path, commit: str, into: Path) -> int:
    """Write the files of ``commit`` into ``into``; returns how many were missing.

    Not `git archive`: the stored snapshots lack files of 4 MiB and more, and `git
    archive` stops at the first missing object. A missing file is left out (a build that
    needs it fails, and is reported as an original that does not build).
    """
    listed = subprocess.run(
        ["git", "--git-dir", str(gitdir), "ls-tree", "-r", "-z", "--full-tree", commit],
        capture_output=True,
        check=True,
        timeout=600,
    ).stdout
    entries = []
    for item in listed.split(b"\0"):
        if not item:
            continue
        meta, _, rel = item.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob":
            entries.append((mode, sha, rel.decode("utf-8", "surrogateescape")))
    batch = subprocess.Popen(
        ["git", "--git-dir", str(gitdir), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert batch.stdin is not None and batch.stdout is not None
    missing = 0
    for mode, sha, rel in entries:
        batch.stdin.write(sha + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after each object
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == b"120000":
            target.symlink_to(data.decode("utf-8", "surrogateescape"))
        else:
            target.write_bytes(data)
            if mode == b"100755":
                target.chmod(0o755)
    batch.stdin.close()
    batch.wait(timeout=60)
    return missing


class Checkouts:
    """One checkout per repository at a time: cases of the same repository follow each
    other, so the previous one is removed when another starts."""

    def __init__(self) -> None:
        self.key: tuple[Path, str] | None = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def get(self, gitdir: Path, commit: str) -> Path:
        if self.key != (gitdir, commit) or self.tmp is None:
            self.close()
            self.tmp = tempfile.TemporaryDirectory(prefix="jettison-semantic-repo-")
            export_tree(gitdir, commit, Path(self.tmp.name))
            self.key = (gitdir, commit)
        return Path(self.tmp.name)

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
        self.tmp, self.key = None, None


CHECKOUTS = Checkouts()


def resolve_checkout(case: Case) -> tuple[Path, Path] | str:
    """(context, dockerfile) in a checkout of the case's repository, or why not."""
    assert case.checkout is not None
    gitdir, commit, path = case.checkout
    try:
        root = CHECKOUTS.get(gitdir, commit)
    except (subprocess.SubprocessError, OSError) as exc:
        return f"the repository could not be checked out: {exc}"
    dockerfile = root / path
    if not dockerfile.is_file():
        return "the Dockerfile is not in the checkout"
    sources = copy_sources(dockerfile.read_text(errors="replace"))
    for context in (dockerfile.parent, root):
        if _has_sources(context, sources):
            return context, dockerfile
    return "no folder of the repository has every COPY source (a generated context)"


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


def _stop_builds(flag: list[bool]) -> None:
    """The case ran out of time: stop the build clients this process started."""
    flag.append(True)
    subprocess.run(["pkill", "-TERM", "-P", str(os.getpid())], check=False)


def check_in_time(case: Case, minutes: float) -> dict[str, object]:
    """:func:`check`, its builds stopped after ``minutes`` (a download that hangs, a
    dependency set of gigabytes): reported as skipped, never as a failing fix."""
    expired: list[bool] = []
    timer = threading.Timer(minutes * 60, _stop_builds, (expired,))
    timer.start()
    try:
        record = check(case)
    finally:
        timer.cancel()
    if expired:
        record.update(ok=False, error="", undeclared=[], skipped=f"over {minutes:g} min")
    return record


def check(case: Case) -> dict[str, object]:
    from jettison.errors import JettisonError
    from jettison.fixes.semantic_check import check_fixes

    started = time.monotonic()
    if case.checkout is not None:
        where = resolve_checkout(case)
        if isinstance(where, str):
            return {
                "ok": False,
                "skipped": where,
                "applied": [],
                "name": case.name,
                "kind": case.kind,
                "seconds": round(time.monotonic() - started, 1),
            }
        case = Case(case.name, where[0], where[1], case.kind)
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
    # a Dockerfile checked again (--name) counts once, with its latest result
    latest = {str(r["name"]): r for r in records}
    rechecked = len(records) - len(latest)
    records = list(latest.values())
    checked = [r for r in records if not r.get("skipped")]
    undeclared = [r for r in checked if r.get("undeclared")]
    broke = [r for r in checked if r.get("error")]
    codes: dict[str, int] = {}
    for r in checked:
        for code in r.get("applied") or []:  # type: ignore[attr-defined]
            codes[str(code)] = codes.get(str(code), 0) + 1
    lines = [
        f"Dockerfiles tried: {len(records)}; checked (a safe fix applies and the original "
        f"builds): {len(checked)}" + (f"; {rechecked} checked again" if rechecked else ""),
        "  by kind: "
        + ", ".join(
            f"{kind} {sum(1 for r in checked if r['kind'] == kind)}"
            for kind in ("example", "project", "corpus", "repository")
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
            key = (
                "original does not build"
                if reason.startswith("the original")
                else "inconclusive: a package index or mirror gave the fixed build another version"
                if reason.startswith("inconclusive")
                else reason
            )
            skipped[key] = skipped.get(key, 0) + 1
    lines.append("  skipped: " + ", ".join(f"{k} {n}" for k, n in sorted(skipped.items())))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, help="checkouts of the real projects: DIR/<slug>")
    ap.add_argument(
        "--mirrors", type=Path, help="git directories of the corpus repositories: DIR/<o>+<n>"
    )
    ap.add_argument("--limit", type=int, default=0, help="stop after N checked Dockerfiles")
    ap.add_argument(
        "--only", default="", help="comma-separated kinds: example,project,corpus,repository"
    )
    ap.add_argument(
        "--shard",
        default="",
        metavar="K/N",
        help="only every N-th Dockerfile from the K-th (0-based): N runs on N engines, one --out",
    )
    ap.add_argument("--prune-every", type=int, default=10)
    ap.add_argument(
        "--case-minutes", type=float, default=15, help="stop a Dockerfile's builds after this"
    )
    ap.add_argument("--no-prune", action="store_true")
    ap.add_argument("--out", type=Path, help="JSON lines (default results/<date>.jsonl)")
    ap.add_argument("--resume", action="store_true", help="skip names already in --out")
    ap.add_argument(
        "--name", default="", help="only the Dockerfiles whose name contains this (a re-check)"
    )
    ap.add_argument(
        "--report", type=Path, help="print the summary of a results file, build nothing"
    )
    args = ap.parse_args()
    if args.report:
        records = [json.loads(x) for x in args.report.read_text().splitlines() if x.strip()]
        print(summary(records))
        return 0
    cases = examples() + projects(args.src) + corpus()
    if args.mirrors:
        cases += repositories(args.mirrors, engine_images())
    if args.only:
        kinds = set(args.only.split(","))
        cases = [c for c in cases if c.kind in kinds]
    if args.name:
        cases = [c for c in cases if args.name in c.name]
    if args.shard:
        k, _, n = args.shard.partition("/")
        if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
            sys.exit("--shard: K/N with 0 <= K < N")
        cases = [c for i, c in enumerate(cases) if i % int(n) == int(k)]
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
        record = check_in_time(case, args.case_minutes)
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
    CHECKOUTS.close()
    print(summary(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
