"""The console entry point as a real process: exit codes, flushed output, no traceback.

``main()`` leaves through ``os._exit`` once the output is flushed (see ``cli.leave``), so
these run ``python -m jettison`` rather than click's in-process runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
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
    assert _eventually(lambda: not list(tmpdir.iterdir())), list(tmpdir.iterdir())


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


def _eventually(check: Callable[[], object], seconds: float = 60) -> bool:
    """Whether ``check()`` comes true within ``seconds`` (what a child does after the
    caller's process has exited)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


_ANSWER_FIRST = """
import atexit, os, signal, sys, time
import jettison.cli as cli
from jettison import _entry

gate, marker, how = sys.argv[1:4]

def clean_up():  # a clean-up that takes as long as the test wants
    while not os.path.exists(gate):
        time.sleep(0.01)
    with open(marker, "w") as f:
        f.write("cleaned")

@cli.cli.command("slow-clean-up")
def slow() -> None:
    atexit.register(clean_up)
    with open(marker + ".pid", "w") as f:
        f.write(str(os.getpid()))
    print("the report", flush=True)
    if how == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "crash":
        raise RuntimeError("a bug")
    if how == "hang":
        while True:
            time.sleep(0.05)
    if how == "pass-on-the-other-core":  # a forked pass still running at the answer
        from jettison.image.parallel import Deferred

        def wait() -> int:
            while not os.path.exists(gate):
                time.sleep(0.01)
            return 1

        job = Deferred(wait)
        assert job.pid, "no fork"
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the command dies without answering
    cli.answer_first()
    raise SystemExit(3)

with open(marker + ".top", "w") as f:  # the process the caller started
    f.write(str(os.getpid()))
_entry.answer_from_a_child()
sys.argv = ["jettison", "slow-clean-up"]
cli.main()
"""


def _answering(tmp_path: Path, how: str) -> tuple[list[str], Path, Path]:
    gate, marker = tmp_path / "go", tmp_path / "cleaned"
    return [sys.executable, "-c", _ANSWER_FIRST, str(gate), str(marker), how], gate, marker


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_the_caller_has_the_answer_before_the_clean_up(tmp_path: Path) -> None:
    """``jettison inspect`` runs in a child, and the process its caller waits for exits with
    the code once the report is written: the exit handlers (temporary files, a spooled
    export's pages) and the child's own exit come after. The output's reader sees its end
    at once, and the clean-up still runs in full."""
    argv, gate, marker = _answering(tmp_path, "answer")
    try:
        done = subprocess.run(
            argv,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,  # (were the output held until the clean-up, this would not return)
            check=False,
        )
        assert (done.returncode, done.stdout, done.stderr) == (3, "the report\n", "")
        assert not marker.exists()  # answered while the clean-up still waits
        # (the command ran in a child of the process the caller started)
        assert Path(f"{marker}.pid").read_text() != Path(f"{marker}.top").read_text()
    finally:
        gate.touch()
    _eventually(marker.exists)
    assert marker.read_text() == "cleaned"  # ... which then ran all the same


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
@pytest.mark.parametrize(("how", "code"), [("killed", 128 + 9), ("crash", 2)])
def test_a_command_that_ends_without_answering_gives_its_own_exit(
    tmp_path: Path, how: str, code: int
) -> None:
    """Killed, or ended by an unexpected error before answering: the caller gets the
    child's status (128 + the signal; 2 and the one-line report of an internal error), and
    nothing waits forever."""
    argv, gate, _ = _answering(tmp_path, how)
    gate.touch()
    done = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode == code and done.stdout == "the report\n"
    assert ("internal error: RuntimeError: a bug" in done.stderr) == (how == "crash")


def _answered_and_hanging(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A command that has written its report and then hangs, in the child; (the process the
    caller started, the child's pid)."""
    argv, gate, marker = _answering(tmp_path, "hang")
    gate.touch()
    proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"the report\n"
    return proc, int(Path(f"{marker}.pid").read_text())


def _assert_stopped(child: int) -> None:
    import signal

    if not _eventually(lambda: not _alive(child)):
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the command was left running")


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_a_termination_of_the_waiting_process_reaches_the_command(tmp_path: Path) -> None:
    """A CI runner's timeout signals the process it started: the command in the child is
    stopped too, not left running."""
    import signal

    proc, child = _answered_and_hanging(tmp_path)
    assert child != proc.pid
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    _assert_stopped(child)


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_no_child_when_forks_are_turned_off(tmp_path: Path) -> None:
    """``JETTISON_NO_FORK=1``: the command runs in the process the caller started (which
    then also waits for its clean-up)."""
    argv, gate, marker = _answering(tmp_path, "answer")
    gate.touch()
    done = subprocess.run(
        argv, env={**ENV, "JETTISON_NO_FORK": "1"}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert marker.read_text() == "cleaned"  # (before the exit)
    assert Path(f"{marker}.pid").read_text() == Path(f"{marker}.top").read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_a_pass_forked_by_the_command_does_not_hold_the_answer(tmp_path: Path) -> None:
    """A child the command forked (a pass on the other core) inherits the answer pipe: when
    the command dies without answering, the caller has its status at once, not when that
    pass ends (here: never before the test lets it)."""
    argv, gate, _ = _answering(tmp_path, "pass-on-the-other-core")
    out = tmp_path / "out"
    try:
        with out.open("w") as f:  # (a file: the pass, killed later, holds the output too)
            proc = subprocess.Popen(argv, env=ENV, stdout=f, stderr=subprocess.STDOUT)
            assert proc.wait(timeout=60) == 128 + 9
        assert out.read_text() == "the report\n"
    finally:
        gate.touch()


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_a_killed_caller_process_stops_the_command(tmp_path: Path) -> None:
    """``subprocess.run(timeout=...)`` kills with SIGKILL, which cannot be passed on: the
    command, in the child, is stopped all the same (its parent-death signal)."""

    proc, child = _answered_and_hanging(tmp_path)
    proc.kill()
    proc.wait(timeout=60)
    _assert_stopped(child)


def _ignoring_sigchld() -> None:
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # (kept across exec, as a caller's would)


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_a_caller_ignoring_sigchld_gets_the_commands_exit(tmp_path: Path) -> None:
    """A caller that ignores SIGCHLD (its children are then reaped unseen): help, a usage
    error and a missing archive end with their own codes, without a traceback."""
    for args, code in ((["--help"], 0), (["--bogus"], 2), ([str(tmp_path / "no.tar")], 2)):
        done = subprocess.run(
            [sys.executable, "-m", "jettison", "inspect", *args],
            cwd=tmp_path,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_ignoring_sigchld,  # (no thread runs in the test process here)
        )
        assert done.returncode == code, (args, done.stderr)
        assert "Traceback" not in done.stderr


_REAL_INSPECT = """
import atexit, os, sys, time
from jettison import _entry

archive, gate, marker = sys.argv[1:4]

def clean_up():  # runs with the command's own exit handlers
    while not os.path.exists(gate):
        time.sleep(0.01)
    with open(marker, "w") as f:
        f.write(str(os.getpid()))

atexit.register(clean_up)
sys.argv = ["jettison", "inspect", archive, "--format", "json"]
_entry.main()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the command runs in a child on Linux")
def test_jettison_inspect_answers_from_a_child_before_its_exit_handlers(
    archive: Path, tmp_path: Path
) -> None:
    """The real command: the caller has the report and the code while the exit handlers
    still wait, and those run in another process than the one the caller started."""
    gate, marker = tmp_path / "go", tmp_path / "handlers"
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _REAL_INSPECT, str(archive), str(gate), str(marker)],
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert '"duplicate_bytes": 5000' in out
        assert not marker.exists()
    finally:
        gate.touch()
    _eventually(marker.exists)
    assert int(marker.read_text()) != proc.pid


def test_answer_first_without_a_waiting_parent_is_a_normal_exit(monkeypatch) -> None:
    """Run otherwise (no parent waiting for the code), the exit handlers run before the exit,
    as without answer_first."""
    import jettison.cli as cli

    exits: list[int] = []
    ran: list[str] = []
    monkeypatch.setattr(cli.os, "_exit", exits.append)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: ran.append("handlers"))
    cli.leave(4, answer_first=True)
    assert exits == [4] and ran == ["handlers"]


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
