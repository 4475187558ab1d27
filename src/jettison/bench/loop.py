"""The one bench loop: repetitions x scenarios x variants, for a Dockerfile or a compose graph.

A :class:`BuildUnit` is one variant of what is measured: a Dockerfile in its private copy of
the build context (:mod:`jettison.bench.runner`), or a compose graph in its copy of the
project (:mod:`jettison.bench.compose`). A unit knows how to build itself once, which file a
kind of edit changes, how its final images are measured and checked, and what to remove at
the end. Everything else is decided here, once for both:

* repetition by repetition, each scenario runs for every unit in turn, the first unit
  alternating, so that machine noise hits every variant alike;
* a scenario that needs the build cache gets one unmeasured priming build of the unit when
  no build with the cache has run yet (``--scenario warm`` alone, or a cached scenario right
  after ``cold``: BuildKit 0.8 does not reuse what a ``--no-cache`` build made);
* a change scenario writes its marker (unique per run and repetition, so no earlier bench's
  cache hits) into the file it edits right before its measured build;
* every measured build is recorded; a unit whose build fails is left out from then on;
* once every build is done, each unit measures and checks its final images; every unit added
  is cleaned up (its images removed) when the ``with`` block ends, whatever ends it: the
  end of the bench, an error, Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypeVar

from jettison.bench.model import Run
from jettison.bench.scenarios import WARM, Scenario

if TYPE_CHECKING:
    from jettison.engine import Step


@dataclass
class BuildFailure:
    """A build that failed: the unit's one-line message, and the engine's detail if any."""

    message: str
    line: int | None = None  # the Dockerfile line of the failing step
    log_tail: list[str] = field(default_factory=list)


class BuildUnit(Protocol):
    """One variant, as the loop drives it."""

    @property
    def name(self) -> str: ...

    def build(self, scenario: Scenario, repetition: int, measured: bool) -> Run | BuildFailure:
        """Build once, with the cache unless ``scenario.no_cache``; unmeasured builds (the
        priming ones) show no progress."""
        ...

    def edit(self, kind: str, marker: str) -> None:
        """Write ``marker`` into the file(s) an edit of ``kind`` ("code", "deps") changes."""
        ...

    def final_images(self, failed: bool) -> None:
        """Measure (and check) what the last build made; ``failed``: a build of it failed."""
        ...

    def cleanup(self) -> None:
        """Remove every image built and every temporary file."""
        ...


class BenchEvents:
    """Callbacks for live progress; the default does nothing."""

    def starting(self, variants: list[str], scenarios: tuple[str, ...], repeat: int) -> None:
        """Before anything is copied or built: what the bench is going to run."""

    def build_started(self, variant: str, scenario: str, repetition: int) -> None:
        pass

    def step(self, variant: str, scenario: str, step: Step) -> None:
        pass

    def build_finished(self, variant: str, scenario: str, run: Run | None) -> None:
        pass

    def verifying(self, variant: str) -> None:
        pass


@dataclass
class UnitRecord:
    """What the loop recorded of one unit: its measured runs, and its failed build if any."""

    runs: dict[str, list[Run]] = field(default_factory=dict)  # scenario -> runs, in order
    failure: BuildFailure | None = None


U = TypeVar("U", bound=BuildUnit)


class BenchLoop:
    """``with BenchLoop(events) as loop: loop.add(unit) ...; records = loop.run(...)``."""

    def __init__(self, events: BenchEvents | None = None) -> None:
        self.events = events or BenchEvents()
        self.units: list[BuildUnit] = []

    def __enter__(self) -> BenchLoop:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # every unit, even when one's cleanup fails; the first failure is raised after, unless
        # the block is already ending on an error (that one says what went wrong)
        first: BaseException | None = None
        for unit in self.units:
            try:
                unit.cleanup()
            except BaseException as error:
                first = first or error
        if first is not None and exc is None:
            raise first

    def add(self, unit: U) -> U:
        """Drive ``unit`` in :meth:`run`; it is cleaned up when the ``with`` block ends."""
        self.units.append(unit)
        return unit

    def run(self, scenarios: Sequence[Scenario], repeat: int, run_id: str) -> dict[str, UnitRecord]:
        """Every scenario ``repeat`` times for every unit; then their final images."""
        records = {unit.name: UnitRecord({s.name: [] for s in scenarios}) for unit in self.units}
        cached = {unit.name: False for unit in self.units}
        for rep in range(repeat):
            order = self.units if rep % 2 == 0 else list(reversed(self.units))
            for scenario in scenarios:
                for unit in order:
                    record = records[unit.name]
                    if record.failure is not None:
                        continue
                    if not scenario.no_cache and not cached[unit.name]:
                        primed = unit.build(WARM, rep, measured=False)
                        if isinstance(primed, BuildFailure):
                            record.failure = primed
                            continue
                        cached[unit.name] = True
                    if scenario.edits is not None:
                        unit.edit(scenario.edits, scenario.marker(run_id, rep))
                    self.events.build_started(unit.name, scenario.name, rep)
                    done = unit.build(scenario, rep, measured=True)
                    if isinstance(done, BuildFailure):
                        record.failure = done
                        self.events.build_finished(unit.name, scenario.name, None)
                        continue
                    cached[unit.name] = cached[unit.name] or not scenario.no_cache
                    record.runs[scenario.name].append(done)
                    self.events.build_finished(unit.name, scenario.name, done)
        for unit in self.units:
            unit.final_images(failed=records[unit.name].failure is not None)
        return records
