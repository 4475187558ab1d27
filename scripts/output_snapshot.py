"""Write what jettison prints on the shared corpus and the examples into one folder, so a
refactor can prove it changed no output: snapshot before, snapshot after, `diff -r`.

    .venv/bin/python scripts/output_snapshot.py /tmp/before
    ... refactor ...
    .venv/bin/python scripts/output_snapshot.py /tmp/after && diff -r /tmp/before /tmp/after

Covers: audit JSON (and SARIF) of the whole corpus and of every example, `fix --diff` and
`fix --unsafe-fixes --diff` of every example Dockerfile and of a sample of the corpus,
`deps --format json` of the deps examples, `services --format json` of the compose example,
`rules` and the rule pages `rules --write-docs` writes. Nothing here needs an engine.
Paths are relative, so the snapshots of two checkouts compare.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"
EXAMPLES = REPO / "examples"


def run(out: Path, name: str, argv: list[str], cwd: Path) -> None:
    # each run a process of its own: a `jettison server` of another checkout stays out of it
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200", JETTISON_SERVER="off")
    env.pop("DOCKER_HOST", None)
    done = subprocess.run(
        [sys.executable, "-m", "jettison", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    (out / f"{name}.out").write_text(done.stdout)
    (out / f"{name}.err").write_text(done.stderr)
    (out / f"{name}.rc").write_text(f"{done.returncode}\n")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(p.name for p in CORPUS.iterdir() if p.name.endswith("Dockerfile"))
    run(out, "corpus-audit-json", ["audit", "--format", "json", *files], CORPUS)
    run(out, "corpus-audit-sarif", ["audit", "--format", "sarif", *files], CORPUS)
    for name in files[::25]:  # a sample of the corpus through the fixer
        stem = name[:80]
        run(out, f"corpus-fix-{stem}", ["fix", "--diff", name], CORPUS)
        run(out, f"corpus-fixu-{stem}", ["fix", "--unsafe-fixes", "--diff", name], CORPUS)
    for example in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        run(out, f"ex-audit-{example.name}", ["audit", "--format", "json", "."], example)
        for dockerfile in sorted(example.rglob("Dockerfile*")):
            rel = dockerfile.relative_to(example).as_posix()
            tag = f"{example.name}-{rel.replace('/', '_')}"
            run(out, f"ex-fix-{tag}", ["fix", "--diff", rel], example)
            run(out, f"ex-fixu-{tag}", ["fix", "--unsafe-fixes", "--diff", rel], example)
    for example in ("deps-ml", "deps-web", "flask-app"):
        run(out, f"deps-{example}", ["deps", "--format", "json", "."], EXAMPLES / example)
    fixtures = EXAMPLES / "deps-fixtures"
    for fixture in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        run(out, f"deps-fixture-{fixture.name}", ["deps", "--format", "json", "."], fixture)
    run(out, "services-trio", ["services", "--format", "json", "."], EXAMPLES / "compose-trio")
    run(out, "rules-list", ["rules"], REPO)
    run(out, "rules-docs", ["rules", "--write-docs", str(out / "rule-docs")], REPO)
    print(f"{len(list(out.glob('*.rc')))} outputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
