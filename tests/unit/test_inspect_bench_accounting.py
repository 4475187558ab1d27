"""benchmarks/inspect_vs_dive.py's measurement of one command, without the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
