"""benchmarks/inspect_vs_dive.py without the engine: what one run counts, and the paired
comparison of two commands."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "inspect_vs_dive.py"

# exits at once and leaves a child burning 0.4 s of CPU: the shape of jettison's
# own-process inspect, whose answering child releases the export after the answer
_LEAVES_WORK = """
import os, time
if os.fork() == 0:
    start = time.process_time()
    while time.process_time() - start < 0.4:
        pass
    os._exit(0)
"""

# in a process of its own: adopting orphans would make pytest itself a subreaper
_MEASURE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
bench.adopt_orphans()
cmd = [sys.executable, "-c", sys.argv[2]]
first = bench.measure(cmd)
second = bench.measure([sys.executable, "-c", "pass"])
print(json.dumps([first, second]))
"""


def test_cpu_counts_what_the_command_leaves_running_but_wall_does_not() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(BENCH), _LEAVES_WORK],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (wall, cpu, _rss, rc), (_, next_cpu, _, _) = json.loads(done.stdout)
    assert rc == 0
    assert cpu >= 0.4  # the orphan's work is the command's
    assert wall < 0.4  # the caller's wait ended when the command exited
    assert next_cpu < 0.4  # waited for before the next run, and not counted twice


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("inspect_vs_dive", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_interval_is_the_sign_tests(bench: Any) -> None:
    """The order statistics a sign-test table gives: 20 rounds, the 6th smallest to the 6th
    largest difference (P(X <= 5) = 0.0207 for X ~ Bin(20, 1/2)); 11 rounds, the 2nd to
    the 10th; 5 rounds, too few for 95 %: the whole range, 93.75 %."""
    theirs = [1.0] * 20
    ours = [1.0 + d / 1000 for d in range(-10, 10)]  # differences -10 .. +9 ms
    diff = bench.paired(ours, theirs)
    assert (round(diff["low"] * 1000), round(diff["high"] * 1000)) == (-5, 4)
    assert diff["coverage"] == pytest.approx(1 - 2 * 0.020695, abs=1e-5)
    assert diff["verdict"] == "within noise" and diff["faster"] == 10
    eleven = bench.paired([1.0 + d / 1000 for d in range(11)], [1.0] * 11)
    assert (round(eleven["low"] * 1000), round(eleven["high"] * 1000)) == (1, 9)
    assert eleven["coverage"] == pytest.approx(1 - 2 * 12 / 2048)
    five = bench.paired([1.0 + d / 1000 for d in (3, -1, 2, 5, 4)], [1.0] * 5)
    assert (round(five["low"] * 1000), round(five["high"] * 1000)) == (-1, 5)
    assert five["coverage"] == pytest.approx(0.9375)


def test_a_verdict_needs_the_whole_interval_on_one_side(bench: Any) -> None:
    base = [0.4] * 11
    faster = bench.paired(
        [0.39, 0.38, 0.395, 0.37, 0.39, 0.385, 0.36, 0.39, 0.41, 0.38, 0.39], base
    )
    assert faster["verdict"] == "faster"  # one round of 11 slower: still inside the tails
    slower = bench.paired([b + 0.01 for b in base], base)
    assert slower["verdict"] == "SLOWER"
    # 8 rounds of 11 faster, but by less than the others are slower: no verdict
    mixed = bench.paired([0.399] * 8 + [0.43] * 3, base)
    assert mixed["faster"] == 8 and mixed["verdict"] == "within noise"
    assert mixed["median"] == pytest.approx(-0.001)
