"""One Dockerfile at a time, as pre-commit hooks and editors run a linter: jettison against
hadolint, side by side, whole processes.

    .venv/bin/python benchmarks/single_file_audit.py [DOCKERFILE] [-n RUNS]

Default: examples/flask-app (copied to a temporary directory, so the context scan sees the
example's files and nothing else). `jettison audit` runs twice over: a process of its own
each time (JETTISON_NO_SERVER=1), and with `jettison server` running, which is what hooks
and editors that audit one file at a time can use. The commands run in turn (A B C ...
A B C ...) after one warm-up round, so a drift in the machine's speed reaches all of them
alike; each figure is the median of RUNS, with min-max, wall time and CPU time (user + sys
of the process). The ratio is the median of the per-round ratios. The floors (a bare
interpreter, `jettison --version`) show what any Python command pays before it starts
working.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "flask-app"
SERVED = "jettison audit FILE (server)"
SERVED_NO_CONTEXT = "... --no-context FILE (server)"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dockerfile", nargs="?", type=Path, default=None)
    parser.add_argument("-n", "--runs", type=int, default=15)
    args = parser.parse_args()
    if args.runs < 10:
        sys.exit("-n: at least 10 runs (medians of fewer are noise on a shared machine)")
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    jettison = shutil.which("jettison", path=str(Path(sys.executable).parent)) or "jettison"
    with tempfile.TemporaryDirectory() as tmp:
        if args.dockerfile is None:
            work = Path(tmp) / "project"
            shutil.copytree(EXAMPLE, work)
            name = "Dockerfile"
        else:
            work = args.dockerfile.resolve().parent
            name = args.dockerfile.name
        commands = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "jettison --version (floor)": [jettison, "--version"],
            "jettison audit FILE": [jettison, "audit", name],
            "jettison audit --no-context FILE": [jettison, "audit", "--no-context", name],
            SERVED: [jettison, "audit", name],
            SERVED_NO_CONTEXT: [jettison, "audit", "--no-context", name],
            "hadolint FILE": [hadolint, name],
        }
        # a process of its own per run, and the same runs with `jettison server` running (a
        # private socket directory: the user's own server, if any, is not involved)
        run_dir = Path(tmp) / "run"
        run_dir.mkdir(mode=0o700)
        alone = {**os.environ, "JETTISON_NO_SERVER": "1"}
        served = {**os.environ, "XDG_RUNTIME_DIR": str(run_dir)}
        served.pop("JETTISON_NO_SERVER", None)
        envs = {
            label: served if label in (SERVED, SERVED_NO_CONTEXT) else alone for label in commands
        }
        subprocess.run([jettison, "server", "start"], env=served, check=True, capture_output=True)
        env_note = (
            "PYTHONDONTWRITEBYTECODE is set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
        )
        walls: dict[str, list[float]] = {k: [] for k in commands}
        cpus: dict[str, list[float]] = {k: [] for k in commands}
        for round_ in range(args.runs + 1):
            for label, cmd in commands.items():
                wall, cpu = timed(cmd, work, envs[label])
                if round_:  # the first round warms caches and is not counted
                    walls[label].append(wall)
                    cpus[label].append(cpu)
        subprocess.run([jettison, "server", "stop"], env=served, capture_output=True)
    version = subprocess.run([hadolint, "--version"], capture_output=True, text=True).stdout
    print(
        f"{name} in {EXAMPLE.name if args.dockerfile is None else work}; "
        f"{args.runs} runs each, interleaved; {version.strip()}"
        + (f"; {env_note}" if env_note else "")
    )
    print(f"{'command':36}{'wall median':>12}{'(min-max)':>18}{'cpu median':>12}")
    for label in commands:
        w, c = walls[label], cpus[label]
        print(
            f"{label:36}{statistics.median(w):11.3f}s"
            f"   ({min(w):.3f}-{max(w):.3f})   {statistics.median(c):9.3f}s"
        )
    print(
        "(server rows: the CPU column is the client's alone; the run itself is in a fork of "
        "the server, whose figures are the wall time)"
    )
    for label in ("jettison audit FILE", "jettison audit --no-context FILE", SERVED,
                  SERVED_NO_CONTEXT):  # fmt: skip
        for kind, figures in (("wall", walls), ("cpu", cpus)):
            if kind == "cpu" and label in (SERVED, SERVED_NO_CONTEXT):
                continue
            base = figures["hadolint FILE"]
            ratios = [a / b for a, b in zip(figures[label], base, strict=True) if b > 0]
            print(
                f"{label} / hadolint, {kind}: {statistics.median(ratios):.2f}x "
                f"(per-round ratios {min(ratios):.2f}-{max(ratios):.2f})"
            )


if __name__ == "__main__":
    main()
