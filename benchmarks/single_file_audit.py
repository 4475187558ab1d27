"""One Dockerfile at a time, as pre-commit hooks and editors run a linter: jettison against
hadolint, side by side, whole processes.

    .venv/bin/python benchmarks/single_file_audit.py [DOCKERFILE] [-n RUNS]

Default: examples/flask-app (copied to a temporary directory, so the context scan sees the
example's files and nothing else). `jettison audit` runs twice over: as installed, by
default (the first call starts `jettison server` in the background, the warm-up round
makes that call, and the counted runs are served by it), and in a process of its own each
time (JETTISON_NO_SERVER=1). The commands run in turn (A B C ... A B C ...) after the
warm-up round, so a drift in the machine's speed reaches all of them alike; each figure is
the median of RUNS, with min-max, wall time and CPU time (user + sys of the process). The
ratio is the median of the per-round ratios. The floors (a bare interpreter, `jettison
--version`) show what any Python command pays before it starts working.

Then the first call of a session: FIRST rounds, each with no server running, of the default
command (which starts one) against the same command told to start none
(JETTISON_SERVER=manual); the difference is what starting the server costs that call.
Servers run on a private socket directory (a user's own server is not involved) and are
stopped at the end. CI is left out of the environment (it would turn the start off).
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
DEFAULT = "jettison audit FILE (default: auto-started server)"
DEFAULT_NO_CONTEXT = "... --no-context FILE (default: auto-started server)"
ALONE = "jettison audit FILE (JETTISON_NO_SERVER=1)"
ALONE_NO_CONTEXT = "... --no-context FILE (JETTISON_NO_SERVER=1)"
WIDTH = 54


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
    parser.add_argument("--first", type=int, default=10, help="rounds of first calls")
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
            DEFAULT: [jettison, "audit", name],
            DEFAULT_NO_CONTEXT: [jettison, "audit", "--no-context", name],
            ALONE: [jettison, "audit", name],
            ALONE_NO_CONTEXT: [jettison, "audit", "--no-context", name],
            "hadolint FILE": [hadolint, name],
        }
        run_dir = Path(tmp) / "run"
        run_dir.mkdir(mode=0o700)
        default = {**os.environ, "XDG_RUNTIME_DIR": str(run_dir)}
        for variable in ("JETTISON_NO_SERVER", "JETTISON_SERVER", "CI"):
            default.pop(variable, None)
        alone = {**os.environ, "JETTISON_NO_SERVER": "1"}
        envs = {
            label: default if label in (DEFAULT, DEFAULT_NO_CONTEXT) else alone
            for label in commands
        }
        env_note = (
            "PYTHONDONTWRITEBYTECODE is set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
        )
        walls: dict[str, list[float]] = {k: [] for k in commands}
        cpus: dict[str, list[float]] = {k: [] for k in commands}
        try:
            for round_ in range(args.runs + 1):
                for label, cmd in commands.items():
                    wall, cpu = timed(cmd, work, envs[label])
                    if round_:  # the first round warms caches and is not counted
                        walls[label].append(wall)
                        cpus[label].append(cpu)
                if not round_ and not wait_for(run_dir, up=True):
                    sys.exit("the first `jettison audit` started no server within 30 s")
            first = first_calls(args.first, [jettison, "audit", name], work, default, run_dir)
        finally:
            stop(jettison, default, run_dir)
    version = subprocess.run([hadolint, "--version"], capture_output=True, text=True).stdout
    print(
        f"{name} in {EXAMPLE.name if args.dockerfile is None else work}; "
        f"{args.runs} runs each, interleaved; {version.strip()}"
        + (f"; {env_note}" if env_note else "")
    )
    print(f"{'command':{WIDTH}}{'wall median':>12}{'(min-max)':>18}{'cpu median':>12}")
    for label in commands:
        w, c = walls[label], cpus[label]
        print(
            f"{label:{WIDTH}}{statistics.median(w):11.3f}s"
            f"   ({min(w):.3f}-{max(w):.3f})   {statistics.median(c):9.3f}s"
        )
    print(
        "(default rows: the CPU column is the client's alone; the run itself is in a fork of "
        "the server, whose figures are the wall time)"
    )
    for label in (DEFAULT, DEFAULT_NO_CONTEXT, ALONE, ALONE_NO_CONTEXT):
        for kind, figures in (("wall", walls), ("cpu", cpus)):
            if kind == "cpu" and label in (DEFAULT, DEFAULT_NO_CONTEXT):
                continue
            base = figures["hadolint FILE"]
            ratios = [a / b for a, b in zip(figures[label], base, strict=True) if b > 0]
            print(
                f"{label} / hadolint, {kind}: {statistics.median(ratios):.2f}x "
                f"(per-round ratios {min(ratios):.2f}-{max(ratios):.2f})"
            )
    starting, plain = first
    extra = [a - b for a, b in zip(starting, plain, strict=True)]
    print(
        f"first call of a session, {len(starting)} rounds, no server running: "
        f"{statistics.median(starting):.3f}s starting one in the background "
        f"({min(starting):.3f}-{max(starting):.3f}), {statistics.median(plain):.3f}s starting "
        f"none ({min(plain):.3f}-{max(plain):.3f}); per-round difference "
        f"{statistics.median(extra) * 1000:+.1f} ms "
        f"({min(extra) * 1000:+.1f} to {max(extra) * 1000:+.1f})"
    )


def wait_for(run_dir: Path, up: bool, seconds: float = 30) -> bool:
    """Whether the server on ``run_dir`` answers (``up``) or is gone, within ``seconds``."""
    from jettison.server import running

    sock = str(run_dir / "jettison" / "server.sock")
    deadline = time.monotonic() + seconds
    while running(sock) != up or (not up and (run_dir / "jettison" / "server.pid").exists()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop(jettison: str, env: dict[str, str], run_dir: Path) -> None:
    if (run_dir / "jettison" / "server.started").exists():
        wait_for(run_dir, up=True)  # a start under way: stop what it starts
    subprocess.run([jettison, "server", "stop"], env=env, capture_output=True)
    wait_for(run_dir, up=False, seconds=10)


def first_calls(
    rounds: int, cmd: list[str], work: Path, env: dict[str, str], run_dir: Path
) -> tuple[list[float], list[float]]:
    """Wall times of the first call with no server: starting one, and starting none."""
    jettison = cmd[0]
    starting: list[float] = []
    plain: list[float] = []
    manual = {**env, "JETTISON_SERVER": "manual"}
    for _ in range(rounds):
        stop(jettison, env, run_dir)
        plain.append(timed(cmd, work, manual)[0])
        starting.append(timed(cmd, work, env)[0])
        if not wait_for(run_dir, up=True):
            sys.exit("the first `jettison audit` started no server within 30 s")
    return starting, plain


if __name__ == "__main__":
    main()
