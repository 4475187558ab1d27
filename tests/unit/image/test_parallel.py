"""Deferred: a pass computed in a forked child gives what the inline call gives."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from jettison.image.parallel import Deferred

# every test here forks, unless it says otherwise
pytestmark = pytest.mark.usefixtures("forkable")

needs_fork = pytest.mark.skipif(sys.platform != "linux", reason="fork is used on Linux only")


@needs_fork
def test_child_computes_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    data = {"pid": os.getpid(), "rows": list(range(100_000))}
    job = Deferred(lambda: (os.getpid(), sum(data["rows"])))
    assert job.pid != 0  # a child was started
    pid, total = job.result()
    assert pid != os.getpid()  # computed elsewhere ...
    assert total == sum(range(100_000))  # ... on the parent's data


@needs_fork
def test_in_child_gives_a_started_child_or_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """For work worth doing only beside the caller's: a child, or None (never inline)."""
    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    job = Deferred.in_child(os.getpid)
    assert job is not None and job.pid != 0
    assert job.result() != os.getpid()
    monkeypatch.setenv("JETTISON_NO_FORK", "1")
    assert Deferred.in_child(os.getpid) is None


def test_inline_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JETTISON_NO_FORK", "1")
    job = Deferred(os.getpid)
    assert job.pid == 0
    assert job.result() == os.getpid()


@needs_fork
def test_inline_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        job = Deferred(os.getpid)
        assert job.pid == 0  # a lock held by the other thread could stay held in a child
        assert job.result() == os.getpid()
    finally:
        release.set()
        worker.join()


@needs_fork
def test_a_failing_pass_fails_in_the_parent_as_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)

    def boom() -> int:
        raise ValueError("bad layer")

    job = Deferred(boom)
    assert job.pid != 0
    with pytest.raises(ValueError, match="bad layer"):
        job.result()


@needs_fork
def test_an_unread_child_is_reaped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    job = Deferred(lambda: b"x" * (4 << 20))  # more than a pipe holds: the child blocks
    pid = job.pid
    assert pid != 0
    del job  # the caller failed before asking: the child must not be left behind
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_an_unwanted_child_is_stopped_not_waited_for() -> None:
    import time

    job = Deferred(lambda: time.sleep(60))
    pid = job.pid
    assert pid != 0
    started = time.monotonic()
    del job  # a child still computing is killed, not waited for
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_analysis_is_the_same_with_and_without_children(
    tmp_path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    from jettison.image import analysis
    from jettison.image.analysis import analyze
    from jettison.image.sources import open_image
    from tests.unit.image.helpers import legacy_archive
    from tests.unit.image.test_replay import L0, L1, L2

    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive([L0, L1, L2]))
    reports = []
    for no_fork, threshold in (("", 0), ("1", 0), ("", 2000)):
        monkeypatch.setenv("JETTISON_NO_FORK", no_fork)
        # an archive's layers are not prepared while streaming in: its own threshold
        monkeypatch.setattr(analysis, "_FORK_ENTRIES_UNPREPARED", threshold)
        monkeypatch.setattr(analysis, "_FORK_ENTRIES", 10**9)
        with open_image(str(path)) as data:
            reports.append(analyze(data).to_json())
        if no_fork == "" and threshold == 0:
            assert len(forks) == 1  # dive's numbers and the duplicate candidates, together
    assert len(forks) == 1  # not when disabled, nor for a few entries
    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["duplicate_bytes"] == 12


def test_inline_once_the_go_parser_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    loaded = types.ModuleType("dockerfile")
    loaded.__file__ = "/site-packages/dockerfile.abi3.so"  # the extension: Go's runtime runs
    monkeypatch.setitem(sys.modules, "dockerfile", loaded)
    job = Deferred(lambda: os.getpid())
    assert job.pid == 0
    assert job.result() == os.getpid()


@needs_fork
def test_the_servers_stand_in_for_the_go_parser_does_not_stop_a_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`jettison server` holds a stand-in that loads the parser on first use (no file, no
    Go runtime yet): its forks serving an inspect may still fork."""
    from jettison.server import _OnFirstUse

    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    monkeypatch.setitem(sys.modules, "dockerfile", _OnFirstUse("dockerfile"))
    job = Deferred(lambda: os.getpid())
    assert job.pid != 0
    assert job.result() != os.getpid()
