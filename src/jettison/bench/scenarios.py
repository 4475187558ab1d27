"""The bench scenarios as data: what each does before its build, and what its build skips.

The bench loop (:mod:`jettison.bench.loop`, under :func:`jettison.bench.runner.run_bench`
for one Dockerfile and :func:`jettison.bench.compose.bench_compose` for a compose graph)
iterates these objects; a new scenario is one more :class:`Scenario` here (and its text in
:data:`jettison.bench.model.SCENARIO_TEXT`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    no_cache: bool = False  # built with --no-cache; every other scenario needs the cache
    edits: str | None = None  # the file it changes first: "code" or "deps"
    change: str = ""  # the change, as the marker written into that file says it
    missing: str = ""  # why it is skipped when no such file is found

    def marker(self, run_id: str, repetition: int) -> str:
        """The text written into the file: unique per run, so no earlier bench's cache hits."""
        return f"jettison bench {run_id}: {self.change} {repetition + 1}"


COLD = Scenario("cold", no_cache=True)
WARM = Scenario("warm")
CODE_CHANGE = Scenario(
    "code_change",
    edits="code",
    change="code change",
    missing="no application source file found (name one with --touch)",
)
DEPS_CHANGE = Scenario(
    "deps_change",
    edits="deps",
    change="dependency change",
    missing="no dependency manifest found (name one with --deps-file)",
)
BY_NAME = {s.name: s for s in (COLD, WARM, CODE_CHANGE, DEPS_CHANGE)}
