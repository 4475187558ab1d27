"""The shared bench loop (bench/loop.py), driven with in-memory units: the order of builds
across repetitions, priming, edits before the measured build, failures, cleanup."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from jettison.bench.loop import BenchEvents, BenchLoop, BuildFailure
from jettison.bench.model import Run
from jettison.bench.scenarios import BY_NAME, CODE_CHANGE, COLD, DEPS_CHANGE, WARM, Scenario

ALL = list(BY_NAME.values())


@dataclass
class MemoryUnit:
    """A variant whose "files" are strings and whose builds are log lines: a build sees the
    files as they are at that moment, so the test can tell what each build was given."""

    name: str
    log: list[str]
    fail_on: tuple[str, bool] | None = None  # (scenario, measured) of the build that fails
    raise_on: str | None = None  # scenario whose build is interrupted (Ctrl-C)
    cleanup_error: Exception | None = None
    files: dict[str, str] = field(default_factory=lambda: {"code": "", "deps": ""})
    seen: list[tuple[str, bool, str, str]] = field(default_factory=list)
    final: list[bool] = field(default_factory=list)
    cleaned: int = 0

    def build(self, scenario: Scenario, repetition: int, measured: bool) -> Run | BuildFailure:
        what = scenario.name if measured else f"prime:{scenario.name}"
        self.log.append(f"{self.name} {what}")
        self.seen.append((scenario.name, measured, self.files["code"], self.files["deps"]))
        if self.raise_on == scenario.name:
            raise KeyboardInterrupt
        if self.fail_on == (scenario.name, measured):
            return BuildFailure(f"{scenario.name} build: exit code 1", 3, ["tail"])
        cached = 0 if scenario.no_cache else 4
        return Run(scenario.name, repetition, 10.0 + repetition, 5, cached, f"id-{self.name}")

    def edit(self, kind: str, marker: str) -> None:
        self.log.append(f"{self.name} edit {kind}")
        self.files[kind] += marker + "\n"

    def final_images(self, failed: bool) -> None:
        self.log.append(f"{self.name} final")
        self.final.append(failed)

    def cleanup(self) -> None:
        self.cleaned += 1
        self.log.append(f"{self.name} cleanup")
        if self.cleanup_error is not None:
            raise self.cleanup_error


class Recorder(BenchEvents):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, object]] = []

    def build_started(self, variant: str, scenario: str, repetition: int) -> None:
        self.calls.append(("started", variant, scenario, repetition))

    def build_finished(self, variant: str, scenario: str, run: Run | None) -> None:
        self.calls.append(("finished", variant, scenario, None if run is None else run.seconds))


def test_builds_interleave_and_the_first_variant_alternates() -> None:
    log: list[str] = []
    with BenchLoop() as loop:
        a, b = loop.add(MemoryUnit("a", log)), loop.add(MemoryUnit("b", log))
        records = loop.run(ALL, 2, "r1")
    assert log == [
        # repetition 1: a first; each needs one priming build before its first cached one
        "a cold", "b cold",
        "a prime:warm", "a warm", "b prime:warm", "b warm",
        "a edit code", "a code_change", "b edit code", "b code_change",
        "a edit deps", "a deps_change", "b edit deps", "b deps_change",
        # repetition 2: b first; the cache is warm already
        "b cold", "a cold",
        "b warm", "a warm",
        "b edit code", "b code_change", "a edit code", "a code_change",
        "b edit deps", "b deps_change", "a edit deps", "a deps_change",
        "a final", "b final",
        "a cleanup", "b cleanup",
    ]  # fmt: skip
    for unit in (a, b):
        record = records[unit.name]
        assert record.failure is None
        assert {name: [r.repetition for r in runs] for name, runs in record.runs.items()} == {
            s.name: [0, 1] for s in ALL
        }
        assert unit.final == [False] and unit.cleaned == 1


def test_priming_only_where_the_cache_has_not_been_used_yet() -> None:
    log: list[str] = []
    with BenchLoop() as loop:
        loop.add(MemoryUnit("a", log))
        loop.run([WARM], 2, "r1")
    assert log == ["a prime:warm", "a warm", "a warm", "a final", "a cleanup"]
    log.clear()
    with BenchLoop() as loop:
        loop.add(MemoryUnit("a", log))
        loop.run([COLD], 2, "r1")
    assert log == ["a cold", "a cold", "a final", "a cleanup"]  # --no-cache needs no cache
    log.clear()
    with BenchLoop() as loop:
        loop.add(MemoryUnit("a", log))
        loop.run([COLD, CODE_CHANGE], 2, "r1")
    # the second cold build does not undo the cache the first code change used
    assert log == [
        "a cold", "a prime:warm", "a edit code", "a code_change",
        "a cold", "a edit code", "a code_change",
        "a final", "a cleanup",
    ]  # fmt: skip


def test_the_edit_is_in_the_measured_build_and_not_in_the_priming_one() -> None:
    log: list[str] = []
    with BenchLoop() as loop:
        unit = loop.add(MemoryUnit("a", log))
        loop.run([CODE_CHANGE, DEPS_CHANGE], 2, "ab12cd")
    first = "jettison bench ab12cd: code change 1\n"
    second = first + "jettison bench ab12cd: code change 2\n"
    deps = "jettison bench ab12cd: dependency change 1\n"
    assert unit.seen == [
        ("warm", False, "", ""),
        ("code_change", True, first, ""),
        ("deps_change", True, first, deps),
        ("code_change", True, second, deps),
        ("deps_change", True, second, deps + "jettison bench ab12cd: dependency change 2\n"),
    ]


def test_a_failed_variant_is_left_out_and_the_other_goes_on() -> None:
    log: list[str] = []
    events = Recorder()
    with BenchLoop(events) as loop:
        a = loop.add(MemoryUnit("a", log, fail_on=("code_change", True)))
        b = loop.add(MemoryUnit("b", log))
        records = loop.run([COLD, CODE_CHANGE], 2, "r1")
    assert [line for line in log if line.startswith("a ")] == [
        "a cold", "a prime:warm", "a edit code", "a code_change", "a final", "a cleanup",
    ]  # fmt: skip
    assert len([line for line in log if line == "b code_change"]) == 2
    failure = records["a"].failure
    assert failure == BuildFailure("code_change build: exit code 1", 3, ["tail"])
    assert [r.scenario for r in records["a"].runs["cold"]] == ["cold"]
    assert records["a"].runs["code_change"] == []
    assert records["b"].failure is None and len(records["b"].runs["code_change"]) == 2
    assert a.final == [True] and b.final == [False]
    assert ("finished", "a", "code_change", None) in events.calls
    assert events.calls[:4] == [
        ("started", "a", "cold", 0),
        ("finished", "a", "cold", 10.0),
        ("started", "b", "cold", 0),
        ("finished", "b", "cold", 10.0),
    ]


def test_a_failed_priming_build_is_the_failure_and_nothing_is_measured() -> None:
    log: list[str] = []
    events = Recorder()
    with BenchLoop(events) as loop:
        loop.add(MemoryUnit("a", log, fail_on=("warm", False)))
        records = loop.run([WARM, CODE_CHANGE], 1, "r1")
    assert log == ["a prime:warm", "a final", "a cleanup"]  # no edit, no measured build
    assert records["a"].failure is not None
    assert records["a"].failure.message == "warm build: exit code 1"
    assert events.calls == []


def test_every_unit_is_cleaned_up_when_a_build_is_interrupted() -> None:
    log: list[str] = []
    with pytest.raises(KeyboardInterrupt), BenchLoop() as loop:
        a = loop.add(MemoryUnit("a", log))
        b = loop.add(MemoryUnit("b", log, raise_on="warm"))
        loop.run([COLD, WARM], 3, "r1")
    # no final images: the measurements of an interrupted bench would mean nothing
    assert log == [
        "a cold", "b cold", "a prime:warm", "a warm", "b prime:warm",
        "a cleanup", "b cleanup",
    ]  # fmt: skip
    assert a.final == [] and (a.cleaned, b.cleaned) == (1, 1)


def test_units_added_before_an_error_are_cleaned_up() -> None:
    # an error while the bench is set up (a second copy that cannot be made)
    log: list[str] = []
    with pytest.raises(OSError), BenchLoop() as loop:
        a = loop.add(MemoryUnit("a", log))
        raise OSError("no space left on device")
    assert a.cleaned == 1 and log == ["a cleanup"]


def test_a_failing_cleanup_does_not_skip_the_others() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="engine gone"), BenchLoop() as loop:
        loop.add(MemoryUnit("a", log, cleanup_error=RuntimeError("engine gone")))
        b = loop.add(MemoryUnit("b", log))
        loop.run([COLD], 1, "r1")
    assert b.cleaned == 1
    # while an error is already on its way out, that error is the one raised
    log.clear()
    with pytest.raises(KeyboardInterrupt), BenchLoop() as loop:
        loop.add(MemoryUnit("a", log, cleanup_error=RuntimeError("engine gone")))
        b = loop.add(MemoryUnit("b", log, raise_on="cold"))
        loop.run([COLD], 1, "r1")
    assert log[-2:] == ["a cleanup", "b cleanup"]
