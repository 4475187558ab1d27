"""jettison deps vs deptry on the same projects, in one run: findings, accuracy and time.

Projects: the examples ``examples/deps-web`` and ``examples/deps-ml`` (truth below) and every
fixture under ``examples/deps-fixtures/<case>/`` (truth in ``<case>.expected.toml`` next to
it, outside the project so no tool reads it: ``unused``, ``missing``, ``why``, and optionally
``install``, the pip arguments when the project has no requirements file).
For each project a throwaway virtualenv gets the project's requirements (runtime and dev)
and deptry installed (the venvs are built in parallel), so both tools see the same real
metadata (deptry's documented way of running). jettison reads that venv with
``--venv``. Each tool's "unused" and "missing" are compared to the hand-checked truth, and
every disagreement is printed with which tool is right and why.

    .venv/bin/python benchmarks/deps_vs_deptry.py [--keep-venvs DIR] [PROJECT ...]

PROJECT is an example name (``deps-web``) or a fixture case (``lazy-imports``).

Needs network access to the package index (pip through the machine's proxy).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
DEPTRY_VERSION = "0.25.1"


@dataclass
class Truth:
    """What a container of this project really needs, checked by hand and by the engine test."""

    unused: set[str]  # removable from the runtime image
    missing: set[str]  # imported/used at run time but not declared
    why: dict[str, str]  # per package: why the truth is what it is
    install: list[str] = field(default_factory=list)  # pip arguments; default: requirements
    case: str = ""


TRUTH: dict[str, Truth] = {
    "deps-ml": Truth(
        unused={"matplotlib", "seaborn", "redis", "sqlalchemy", "jinja2", "pytest", "ipython"},
        missing=set(),
        why={
            "uvicorn": "run by the Dockerfile CMD (console script), never imported",
            "pyyaml": "imported lazily inside a function as `yaml`",
            "scikit-learn": "imported as `sklearn`",
            "matplotlib": "imported only by notebooks/, which .dockerignore keeps out of the image",
            "seaborn": "imported only by notebooks/ (not in the image)",
            "pytest": "imported only by tests/ (not in the image)",
            "orjson": "optional import inside try/except ImportError: not missing",
        },
    ),
    "deps-web": Truth(
        unused={"requests"},
        missing=set(),
        why={
            "gunicorn": "run by the Dockerfile CMD",
            "uvicorn": "gunicorn worker class uvicorn.workers.UvicornWorker in the CMD",
            "psycopg2-binary": "named only in the SQLAlchemy URL postgresql+psycopg2://",
            "redis": "named only in the Celery broker URL redis:// (celeryconfig.yaml)",
            "alembic": "run by docker-entrypoint.sh",
            "python-dotenv": "imported as `dotenv`",
            "protobuf": "imported as google.protobuf (PEP 420 namespace)",
            "starlette": "not imported, but required by fastapi: the pin is redundant, the "
            "package is not removable (jettison: JT904)",
            "click": "imported but only installed as a dependency of uvicorn/celery "
            "(jettison JT903, deptry DEP003): transitive, not missing",
            "pytest": "imported only by tests/, declared in requirements-dev.txt",
            "requests": "declared, never imported, run or named anywhere",
            "pyyaml": 'imported with importlib.import_module("yaml") in tasks.py (and under '
            "TYPE_CHECKING in api.py)",
            "shop": "the project's own package (src/shop, src layout): first-party, not missing",
        },
    ),
}


FIXTURES = REPO / "examples" / "deps-fixtures"


def _projects() -> dict[str, tuple[Path, Truth]]:
    projects = {name: (REPO / "examples" / name, truth) for name, truth in TRUTH.items()}
    for expected in sorted(FIXTURES.glob("*.expected.toml")):
        data = tomllib.loads(expected.read_text(encoding="utf-8"))
        case = expected.name.removesuffix(".expected.toml")
        projects[case] = (
            FIXTURES / case,
            Truth(
                unused={canonicalize_name(n) for n in data["unused"]},
                missing={canonicalize_name(n) for n in data["missing"]},
                why={canonicalize_name(k): v for k, v in data.get("why", {}).items()},
                install=list(data.get("install", [])),
                case=data.get("case", ""),
            ),
        )
    return projects


def _run(
    argv: list[str], cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    return done, time.perf_counter() - start


def _venv(project: Path, truth: Truth, where: Path) -> Path:
    venv = where / project.name
    if (venv / "bin" / "deptry").exists():
        return venv
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    reqs = truth.install or ["-r", str(project / "requirements.txt")]
    if (project / "requirements-dev.txt").exists():
        reqs = ["-r", str(project / "requirements-dev.txt")]
    print(f"  installing {project.name}'s requirements + deptry into {venv} ...", flush=True)
    done = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            *reqs,
            f"deptry=={DEPTRY_VERSION}",
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"pip failed for {project.name}:\n{done.stderr[-3000:]}")
    return venv


def _deptry(project: Path, venv: Path, out: Path) -> tuple[dict[str, set[str]], float]:
    argv = [str(venv / "bin" / "deptry"), ".", "-o", str(out)]
    if (project / "requirements.txt").exists():
        argv += ["--requirements-files", "requirements.txt"]
    if (project / "requirements-dev.txt").exists():
        argv += ["--requirements-files-dev", "requirements-dev.txt"]
    done, seconds = _run(argv, cwd=project)
    if not out.exists():
        sys.exit(f"deptry failed on {project.name}:\n{done.stdout}\n{done.stderr}")
    found: dict[str, set[str]] = {
        "DEP001": set(),
        "DEP002": set(),
        "DEP003": set(),
        "DEP004": set(),
    }
    for violation in json.loads(out.read_text()):
        code = violation["error"]["code"]
        found.setdefault(code, set()).add(canonicalize_name(violation["module"]))
    return found, seconds


def _jettison(project: Path, venv: Path) -> tuple[dict[str, set[str]], float, dict[str, int]]:
    exe = str(REPO / ".venv" / "bin" / "jettison")
    done, seconds = _run([exe, "deps", str(project), "--venv", str(venv), "--format", "json"])
    if done.returncode not in (0, 1):
        sys.exit(f"jettison failed on {project.name}:\n{done.stderr}")
    data = json.loads(done.stdout)
    found = {
        key: {canonicalize_name(i["name"]) for i in data[key]}
        for key in (
            "unused",
            "missing",
            "undeclared_transitive",
            "only_needed_by",
            "dev_in_runtime",
            "dev_imported_at_runtime",
        )
    }
    sizes = {
        canonicalize_name(i["name"]): i["size_bytes"] or 0
        for key in ("unused", "dev_in_runtime")
        for i in data[key]
    }
    return found, seconds, sizes


def _score(claimed: set[str], truth: set[str]) -> str:
    tp = len(claimed & truth)
    fp = len(claimed - truth)
    fn = len(truth - claimed)
    return f"{tp} right, {fp} false, {fn} missed"


def _cell(counts: tuple[int, int, int, int], secs: float) -> str:
    fu, mu, fm, mm = counts
    verdict = "ok" if not any(counts) else "WRONG"
    return f"{verdict:5} u {fu}/{mu}  m {fm}/{mm}  {secs:5.2f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    projects = _projects()
    parser.add_argument("projects", nargs="*", default=list(projects))
    parser.add_argument("--keep-venvs", type=Path, help="reuse/keep the venvs in this directory")
    args = parser.parse_args()
    unknown = [n for n in args.projects if n not in projects]
    if unknown:
        parser.error(f"unknown project(s) {unknown}; known: {sorted(projects)}")
    where = args.keep_venvs or Path(tempfile.mkdtemp(prefix="deps-bench-"))
    where.mkdir(parents=True, exist_ok=True)
    # false unused, missed unused, false missing, missed missing, seconds
    totals: dict[str, list[float]] = {"jettison": [0, 0, 0, 0, 0.0], "deptry": [0, 0, 0, 0, 0.0]}
    rows: list[tuple[str, str, str, str, str, str]] = []
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            venvs = dict(
                zip(
                    args.projects,
                    pool.map(lambda n: _venv(projects[n][0], projects[n][1], where), args.projects),
                    strict=True,
                )
            )
        print(f"  venvs ready in {time.perf_counter() - started:.0f}s", flush=True)
        for name in args.projects:
            project, truth = projects[name]
            print(f"\n## {name}" + (f": {truth.case}" if truth.case else ""))
            venv = venvs[name]
            dep, dep_s = _deptry(project, venv, where / f"{name}-deptry.json")
            jet, jet_s, sizes = _jettison(project, venv)
            jet_unused = jet["unused"] | jet["dev_in_runtime"]
            jet_missing = jet["missing"]
            dep_unused = dep["DEP002"]
            dep_missing = dep["DEP001"]
            print(f"{'':10} {'unused (removable from the image)':58} {'missing':22} time")
            print(
                f"{'truth':10} {', '.join(sorted(truth.unused)):58} "
                f"{', '.join(sorted(truth.missing)) or '-':22}"
            )
            print(
                f"{'jettison':10} {', '.join(sorted(jet_unused)):58} "
                f"{', '.join(sorted(jet_missing)) or '-':22} {jet_s:.2f}s"
            )
            print(
                f"{'deptry':10} {', '.join(sorted(dep_unused)):58} "
                f"{', '.join(sorted(dep_missing)) or '-':22} {dep_s:.2f}s"
            )
            print(
                f"  jettison unused: {_score(jet_unused, truth.unused)}; "
                f"deptry unused: {_score(dep_unused, truth.unused)}"
            )
            freed = sum(sizes.get(n, 0) for n in jet_unused)
            print(
                f"  bytes jettison attributes to the removable packages (own files): "
                f"{freed / 1e6:.1f} MB; deptry reports no sizes"
            )
            print(
                f"  jettison also: transitive={sorted(jet['undeclared_transitive'])} "
                f"only-needed-by={sorted(jet['only_needed_by'])}; deptry also: "
                f"DEP003={sorted(dep['DEP003'])} DEP004={sorted(dep['DEP004'])}"
            )
            disagreements = (jet_unused ^ dep_unused) | (jet_missing ^ dep_missing)
            for pkg in sorted(disagreements):
                right = (
                    "jettison"
                    if (
                        (pkg in jet_unused) == (pkg in truth.unused)
                        and (pkg in jet_missing) == (pkg in truth.missing)
                    )
                    else "deptry"
                )
                said_j = (
                    "unused" if pkg in jet_unused else "missing" if pkg in jet_missing else "fine"
                )
                said_d = (
                    "unused" if pkg in dep_unused else "missing" if pkg in dep_missing else "fine"
                )
                reason = truth.why.get(pkg, "")
                print(
                    f"  - {pkg}: jettison says {said_j}, deptry says {said_d}; {right} is "
                    f"right: {reason}"
                )
            cells = []
            for tool, unused, missing, secs in (
                ("jettison", jet_unused, jet_missing, jet_s),
                ("deptry", dep_unused, dep_missing, dep_s),
            ):
                counts = (
                    len(unused - truth.unused),
                    len(truth.unused - unused),
                    len(missing - truth.missing),
                    len(truth.missing - missing),
                )
                for i, n in enumerate(counts):
                    totals[tool][i] += n
                totals[tool][4] += secs
                cells.append(_cell(counts, secs))
            rows.append((name, ", ".join(sorted(truth.unused)) or "-", *cells, "", ""))
        print("\n## side by side (unused: false/missed, missing: false/missed, time)")
        print(f"{'project':20} {'truth: unused':24} {'jettison':34} deptry")
        for name, unused_truth, jet_cell, dep_cell, _, _ in rows:
            print(f"{name:20} {unused_truth[:24]:24} {jet_cell:34} {dep_cell}")
        print("\n## total")
        for tool, (fu, mu, fm, mm, secs) in totals.items():
            print(
                f"{tool:10} false unused {fu:3.0f}  missed unused {mu:3.0f}  false missing "
                f"{fm:3.0f}  missed missing {mm:3.0f}  time {secs:.2f}s"
            )
        print(f"(whole run, venvs included: {time.perf_counter() - started:.0f}s)")
    finally:
        if args.keep_venvs is None:
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
