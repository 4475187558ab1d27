"""The console entry point as a real process: exit codes, flushed output, no traceback.

``main()`` leaves through ``os._exit`` once the output is flushed (see ``cli.leave``), so
these run ``python -m jettison`` rather than click's in-process runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.unit.image.helpers import layer, legacy_archive

ENV = {**os.environ, "JETTISON_NO_FORK": "", "PYTHONWARNINGS": "error"}


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jettison", *args],
        cwd=cwd,
        env=env or ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive([layer([("a", "f", b"x" * 5000), ("b", "f", b"x" * 5000)])]))
    return path


def test_output_is_complete_and_exit_codes_kept(archive: Path, tmp_path: Path) -> None:
    ok = _run("inspect", str(archive), "--format", "json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith("}") and '"duplicate_bytes": 5000' in ok.stdout
    gate = _run("inspect", str(archive), "--format", "json", "--fail-on", "size=1kB", cwd=tmp_path)
    assert gate.returncode == 1
    assert '"JI001"' in gate.stdout
    missing = _run("inspect", str(tmp_path / "none.tar"), cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("jettison: error:") and "Traceback" not in missing.stderr
    usage = _run("no-such-verb", cwd=tmp_path)
    assert usage.returncode == 2 and "No such command" in usage.stderr


def test_report_file_written_and_temporary_files_removed(archive: Path, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**ENV, "TMPDIR": str(tmpdir)}
    out = tmp_path / "report.md"
    done = _run(
        "inspect", str(archive), "--format", "markdown", "-o", str(out), cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("## jettison inspect")
    # the inspect's scratch directory is gone (removed just after the exit: see below)
    deadline = time.monotonic() + 60
    while list(tmpdir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmpdir.iterdir()) == []


_ANSWER_FIRST = """
import atexit, os, sys, time
import jettison.cli as cli

gate, marker = sys.argv[1:3]

def clean_up():  # a clean-up that takes as long as the test wants
    while not os.path.exists(gate):
        time.sleep(0.01)
    with open(marker, "w") as f:
        f.write(str(os.getpid()))

@cli.cli.command("slow-clean-up")
def slow() -> None:
    atexit.register(clean_up)
    print("the report")
    cli.answer_first()
    raise SystemExit(3)

sys.argv = ["jettison", "slow-clean-up"]
cli.main()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the clean-up is left to a child on Linux")
def test_a_command_that_answers_first_exits_before_its_clean_up(tmp_path: Path) -> None:
    """``jettison inspect`` exits once its report is written: the exit handlers (temporary
    files, a spooled export's pages) run after, in a child that lets go of the output at
    once (a reader of the pipe sees its end) and still does all of the clean-up."""
    gate, marker = tmp_path / "go", tmp_path / "cleaned"
    try:
        done = subprocess.run(
            [sys.executable, "-c", _ANSWER_FIRST, str(gate), str(marker)],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,  # (were the output held by the clean-up, this would not return)
            check=False,
        )
        assert (done.returncode, done.stdout, done.stderr) == (3, "the report\n", "")
        assert not marker.exists()  # exited while the clean-up still waits
    finally:
        gate.touch()
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()  # ... and the clean-up ran all the same, in another process


def test_answering_first_is_not_tried_beside_another_thread(monkeypatch) -> None:
    """With a thread alive (its locks could stay held in a child), the exit handlers run
    here, before the exit, as without answer_first."""
    import threading

    import jettison.cli as cli

    def no_fork() -> int:
        raise AssertionError("forked beside another thread")

    ran: list[str] = []
    monkeypatch.setattr(cli.os, "fork", no_fork)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: ran.append("handlers"))
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as info:
            cli.leave(4, answer_first=True)
        assert info.value.code == 4 and ran == ["handlers"]
    finally:
        stop.set()
        worker.join()


def test_reader_leaving_early_is_not_a_traceback(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:bookworm\n" + "RUN apt-get install curl\n" * 2000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jettison", "audit", str(dockerfile), "--format", "json"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`, long before the report's end
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "Exception ignored" not in err


class _BrokenStream:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def flush(self) -> None:
        raise BrokenPipeError

    def fileno(self) -> int:
        return self.fd


def test_leave_flushes_runs_exit_handlers_then_exits(monkeypatch, tmp_path: Path) -> None:
    """In-process, with os._exit and the exit handlers replaced (the real ones belong to
    pytest): a stream whose reader left turns exit 0 into 1 and is pointed at /dev/null,
    exit handlers run before the exit, another thread alive forces a normal exit."""
    import threading

    import jettison.cli as cli

    exits: list[int] = []
    ran: list[str] = []
    monkeypatch.setattr(cli.os, "_exit", exits.append)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: ran.append("handlers"))
    spare = tmp_path / "stream"
    with open(spare, "w") as f:
        monkeypatch.setattr(sys, "stdout", _BrokenStream(f.fileno()))
        cli.leave(0)
        assert exits == [1] and ran == ["handlers"]
        f.write("after")  # the descriptor now points at /dev/null: nothing reaches the file
    assert spare.read_text() == ""
    monkeypatch.setattr(sys, "stdout", sys.__stdout__)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as info:
            cli.leave(3)
        assert info.value.code == 3 and exits == [1]
    finally:
        stop.set()
        worker.join()


class _FullDisk(_BrokenStream):
    def flush(self) -> None:
        raise OSError(28, "No space left on device")


def test_leave_flushes_after_the_exit_handlers_and_fails_on_a_full_disk(monkeypatch) -> None:
    import jettison.cli as cli

    exits: list[int] = []
    order: list[str] = []

    class _Recording(_BrokenStream):
        def flush(self) -> None:
            order.append("flush")

    monkeypatch.setattr(cli.os, "_exit", exits.append)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: order.append("handlers"))
    monkeypatch.setattr(sys, "stdout", _Recording(1))
    monkeypatch.setattr(sys, "stderr", _Recording(2))
    cli.leave(0)
    assert order == ["handlers", "flush", "flush"] and exits == [0]
    monkeypatch.setattr(sys, "stdout", _FullDisk(1))
    cli.leave(0)
    assert exits == [0, 120]  # as Python's own exit reports a failed final flush
    cli.leave(2)
    assert exits == [0, 120, 2]  # a failure already reported keeps its code
