"""The progress parsers on BuildKit output recorded from the project's engine (20.10, plain)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jettison.engine.progress import (
    PlainProgressParser,
    error_summary,
    parse_plain,
    parse_rawjson,
)

DATA = Path(__file__).parent / "data"


def _plain(name: str):  # type: ignore[no-untyped-def]
    return parse_plain((DATA / name).read_text())


def test_cold_single_stage_steps_durations_and_image() -> None:
    p = _plain("plain-flask-cold.txt")
    assert p.buildkit
    names = [s.instruction for s in p.instructions]
    assert names == [
        "WORKDIR /app",
        "RUN apt-get update",
        "RUN apt-get install -y curl wget build-essential vim",
        "COPY . .",
        "RUN pip install -r requirements.txt",
    ]
    by = {s.instruction: s for s in p.instructions}
    assert by["RUN apt-get update"].seconds == 2.4
    assert by["RUN pip install -r requirements.txt"].seconds == 4.7
    assert not any(s.cached for s in p.instructions)
    assert all(s.stage is None and s.total == 6 for s in p.instructions)
    # FROM is resolved from the local image: reported, but not a step that does work
    froms = [s for s in p.steps if s.kind == "from"]
    assert len(froms) == 1 and froms[0].cached and froms[0].index == 1
    assert p.image_id == "sha256:f9d08ca8db14054d8eef87ec44ee5148edf96b175cac49a844b847f0468aefb6"
    assert any("Successfully installed" in line for line in by[names[-1]].log)
    assert p.failed_step is None


def test_warm_build_is_fully_cached() -> None:
    p = _plain("plain-flask-warm.txt")
    assert (p.steps_total, p.steps_cached) == (5, 5)
    assert all(s.seconds is None for s in p.instructions)


def test_code_change_reruns_from_the_copy_on() -> None:
    p = _plain("plain-flask-code-change.txt")
    cached = {s.instruction.split()[0] + str(s.index): s.cached for s in p.instructions}
    assert cached == {"WORKDIR2": True, "RUN3": True, "RUN4": True, "COPY5": False, "RUN6": False}
    assert p.steps_cached == 3 and p.steps_total == 5


def test_multistage_interleaved_vertex_resumes_once() -> None:
    p = _plain("plain-multistage-cold.txt")
    stages = {s.stage for s in p.instructions}
    assert stages == {"builder", "other", "stage-2"}
    pip = [s for s in p.steps if s.instruction.startswith("RUN python -m venv")]
    # "#9 ..." then "#9 [builder 4/4] RUN ..." again: one step, not two
    assert len(pip) == 1 and pip[0].seconds == 6.4 and pip[0].index == 4
    other = next(s for s in p.instructions if s.stage == "other" and s.index == 2)
    assert other.seconds == 1.3
    assert len([s for s in p.steps if s.kind == "from"]) == 2
    assert p.steps_total == 7 and p.steps_cached == 0


def test_multistage_code_change() -> None:
    p = _plain("plain-multistage-code-change.txt")
    assert p.steps_total == 7 and p.steps_cached == 6
    [changed] = [s for s in p.instructions if not s.cached]
    assert changed.instruction == "COPY app.py /app/app.py" and changed.stage == "stage-2"


def test_failing_run_step_and_log_tail() -> None:
    p = _plain("plain-fail-run.txt")
    failed = p.failed_step
    assert failed is not None and failed.index == 3
    assert failed.error is not None and "exit code: 2" in failed.error
    what, tail = error_summary(p)
    assert what.startswith("[3/4] RUN echo about to fail")
    assert tail[-1] == "ls: cannot access '/nonexistent': No such file or directory"
    # the step after the failing one never started
    assert not any("unreachable" in s.name for s in p.steps)


def test_failing_copy() -> None:
    p = _plain("plain-fail-copy.txt")
    assert p.failed_step is not None and p.failed_step.instruction == "COPY missing.txt /x"
    assert "not found" in (p.failed_step.error or "")


def test_failure_before_any_step_comes_from_the_trailer() -> None:
    p = _plain("plain-fail-syntax.txt")
    assert p.failed_step is None
    what, _tail = error_summary(p)
    assert "unknown instruction: RUNN" in what
    base = _plain("plain-fail-base.txt")
    assert base.failed_step is not None and base.failed_step.kind == "internal"
    assert "connection refused" in (base.failed_step.error or "")


def test_incremental_feed_reports_the_touched_step() -> None:
    parser = PlainProgressParser()
    seen = []
    for line in (DATA / "plain-flask-code-change.txt").read_text().splitlines():
        step = parser.feed(line)
        if step is not None and step.finished and step.counts:
            seen.append(step.index)
    assert sorted(set(seen)) == [2, 3, 4, 5, 6]


def test_legacy_builder_output_is_not_buildkit() -> None:
    p = parse_plain("Sending build context to Docker daemon  2.048kB\nStep 1/2 : FROM x\n")
    assert not p.buildkit and p.steps == []


def _status(**kw):  # type: ignore[no-untyped-def]
    return json.dumps(kw)


def test_rawjson_solve_status_stream() -> None:
    # SolveStatus as buildx's rawjson encodes it (Go's encoding/json of client.SolveStatus);
    # built here from the same vertices as the recorded plain failure above
    run = "sha256:" + "a" * 64
    cached = "sha256:" + "b" * 64
    lines = [
        _status(
            vertexes=[
                {
                    "digest": cached,
                    "name": "[1/3] FROM docker.io/library/debian",
                    "started": "2026-11-22T08:20:00.1Z",
                    "cached": True,
                    "completed": "2026-11-22T08:20:00.1Z",
                }
            ]
        ),
        _status(
            vertexes=[
                {
                    "digest": run,
                    "name": "[2/3] RUN make",
                    "started": "2026-11-22T08:20:01.000000001Z",
                }
            ]
        ),
        _status(
            logs=[
                {
                    "vertex": run,
                    "stream": 1,
                    "timestamp": "2026-11-22T08:20:02Z",
                    "data": base64.b64encode(b"compiling\nlinking\n").decode(),
                }
            ]
        ),
        _status(
            vertexes=[
                {
                    "digest": run,
                    "name": "[2/3] RUN make",
                    "started": "2026-11-22T08:20:01.000000001Z",
                    "completed": "2026-11-22T08:20:03.5+00:00",
                    "error": 'process "/bin/sh -c make" did not complete: exit code: 2',
                }
            ]
        ),
        "ERROR: failed to solve: process did not complete successfully: exit code: 2",
    ]
    p = parse_rawjson("\n".join(lines))
    assert p.buildkit
    [step] = p.instructions
    assert step.seconds == 2.5 and step.log == ["compiling", "linking"]
    assert p.failed_step is step and "exit code: 2" in (step.error or "")
    assert p.trailer[-1].startswith("ERROR: failed to solve")
    assert p.steps[0].kind == "from" and p.steps[0].cached


def test_rawjson_recorded_from_buildx_0_29() -> None:
    """A real stream (Debian sid's buildx 0.29 on Docker 26, `--no-cache`): its first status
    lists the vertices last-first; the steps come out in the order the solver ran them."""
    p = parse_rawjson((DATA / "rawjson-buildx-0.29-multistage-cold.jsonl").read_text())
    assert p.buildkit and p.image_id == (
        "sha256:baef863af1e20ef64d06b3857a07abf4923b3b5f4c4e910ea23c27a2b800b2ac"
    )
    assert [(s.stage, s.index, s.instruction) for s in p.instructions] == [
        ("base", 2, "COPY a.txt /a.txt"),
        ("stage-1", 1, "RUN cat /a.txt > /b.txt && sleep 1"),
        ("stage-1", 2, "RUN wc -c /b.txt > /c.txt"),
    ]
    assert (p.steps_total, p.steps_cached) == (3, 0)
    sleeping = p.instructions[1]
    assert sleeping.seconds is not None and 1.0 <= sleeping.seconds < 2.0


def test_step_fetched_from_an_imported_cache_counts_as_cached() -> None:
    """Docker 26's buildx 0.13, a bake after a full prune with every step in the registry
    cache (recorded 2026-12-05, steps 4 and 5 added): a hit whose layers are not in the
    store shows the layers it fetched instead of CACHED."""
    p = _plain("plain-registry-cache-hit.txt")
    assert [(s.index, s.cached) for s in p.instructions] == [
        (2, True),
        (3, True),  # only layers fetched: the registry cache's result, not a run
        (4, False),  # ran, printing nothing: no layers fetched
        (5, False),  # ran: its own output
    ]
    assert p.instructions[1].log == []  # layer transfers are no build output


def test_rawjson_step_fetched_from_an_imported_cache_counts_as_cached() -> None:
    vertex = "sha256:" + "c" * 64
    layer = "sha256:" + "d" * 64
    ran = "sha256:" + "e" * 64
    lines = [
        _status(
            vertexes=[
                {"digest": vertex, "name": "[2/2] RUN pip install -r r.txt",
                 "started": "2026-12-05T22:20:00.1Z", "completed": "2026-12-05T22:20:00.2Z"},
                {"digest": ran, "name": "[3/3] RUN mkdir /data",
                 "started": "2026-12-05T22:20:00.3Z", "completed": "2026-12-05T22:20:00.5Z"},
            ],
            statuses=[{"id": layer, "vertex": vertex, "current": 230, "total": 230}],
        ),
    ]  # fmt: skip
    p = parse_rawjson("\n".join(lines))
    assert [(s.index, s.cached) for s in p.instructions] == [(2, True), (3, False)]
