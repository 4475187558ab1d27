"""What a bench measures: runs per variant and scenario, and the figures derived from them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

SCENARIOS = ("cold", "warm", "code_change", "deps_change")

SCENARIO_TEXT = {
    "cold": "no build cache (--no-cache; base images already present locally)",
    "warm": "nothing changed since the previous build",
    "code_change": "one application source file changed",
    "deps_change": "the dependency manifest changed",
}

SCHEMA = "jettison.bench/1"


@dataclass
class StepTime:
    stage: str | None
    instruction: str
    seconds: float | None
    cached: bool


@dataclass
class Run:
    scenario: str
    repetition: int
    seconds: float
    steps_total: int
    steps_cached: int
    image_id: str
    steps: list[StepTime] = field(default_factory=list)


@dataclass
class ScenarioResult:
    scenario: str
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None  # why the scenario could not run for this project

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def seconds_min(self) -> float | None:
        return min(self.seconds) if self.runs else None

    @property
    def seconds_median(self) -> float | None:
        return statistics.median(self.seconds) if self.runs else None

    @property
    def seconds_max(self) -> float | None:
        return max(self.seconds) if self.runs else None

    @property
    def steps_total(self) -> int:
        return self.runs[-1].steps_total if self.runs else 0

    @property
    def steps_cached(self) -> int:
        return self.runs[-1].steps_cached if self.runs else 0

    @property
    def cache_hit_rate(self) -> float | None:
        total = sum(r.steps_total for r in self.runs)
        return sum(r.steps_cached for r in self.runs) / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds_min": _round(self.seconds_min),
            "seconds_median": _round(self.seconds_median),
            "seconds_max": _round(self.seconds_max),
            "seconds": [_round(s) for s in self.seconds],
            "steps_total": self.steps_total,
            "steps_cached": self.steps_cached,
            "cache_hit_rate": _round(self.cache_hit_rate, 4),
            "skipped": self.skipped,
        }


@dataclass
class SlowStep:
    stage: str | None
    instruction: str
    seconds_median: float
    runs: int


@dataclass
class VariantResult:
    name: str  # original | optimized
    label: str  # what it is: "Dockerfile as it is", "jettison fix (safe fixes)", a path
    dockerfile_text: str
    fixes: list[str] = field(default_factory=list)  # "JT101 line 7: ..." for the fixed variant
    step_fix: str | None = None  # --each-fix: the fix this variant adds to the one before
    scenarios: dict[str, ScenarioResult] = field(default_factory=dict)
    image_id: str | None = None
    image_size_bytes: int | None = None
    layers: int | None = None
    verification: dict[str, Any] | None = None  # VerifyResult.to_json()
    build_error: str | None = None
    build_error_line: int | None = None
    build_log_tail: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool | None:
        if self.verification is None:
            return None
        return bool(self.verification.get("ok"))

    def slow_steps(self, top: int = 5) -> list[SlowStep]:
        """The slowest instructions in the cold builds (median over repetitions)."""
        cold = self.scenarios.get("cold")
        source = (
            cold.runs
            if cold and cold.runs
            else [r for s in self.scenarios.values() for r in s.runs[:1]]
        )
        times: dict[tuple[str | None, str], list[float]] = {}
        for run in source:
            for step in run.steps:
                if step.seconds is not None and not step.cached:
                    times.setdefault((step.stage, step.instruction), []).append(step.seconds)
        found = [
            SlowStep(stage, text, statistics.median(values), len(values))
            for (stage, text), values in times.items()
        ]
        found.sort(key=lambda s: s.seconds_median, reverse=True)
        return found[:top]

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "image_id": self.image_id,
            "image_size_bytes": self.image_size_bytes,
            "layers": self.layers,
            "verified": self.verified,
            "verification": self.verification,
            "build_error": self.build_error,
            "build_error_line": self.build_error_line,
            "build_log_tail": self.build_log_tail,
            "fixes_applied": self.fixes,
            "step_fix": self.step_fix,
            "scenarios": {name: s.to_json() for name, s in self.scenarios.items()},
            "slow_steps": [
                {
                    "stage": s.stage,
                    "instruction": s.instruction,
                    "seconds_median": _round(s.seconds_median),
                    "runs": s.runs,
                }
                for s in self.slow_steps()
            ],
            "dockerfile": self.dockerfile_text,
        }


@dataclass
class BenchReport:
    project: str
    dockerfile: str
    context: str
    repeat: int
    engine: str
    server_version: str
    variants: dict[str, VariantResult] = field(default_factory=dict)
    changed_files: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    started: str = ""
    wall_seconds: float = 0.0

    @property
    def scenario_names(self) -> list[str]:
        names: list[str] = []
        for variant in self.variants.values():
            for name in variant.scenarios:
                if name not in names:
                    names.append(name)
        return [n for n in SCENARIOS if n in names]

    def comparison(self) -> dict[str, Any]:
        before, after = self.variants.get("original"), self.variants.get("optimized")
        if before is None or after is None:
            return {}
        out: dict[str, Any] = {
            "image_size_change_pct": change_pct(before.image_size_bytes, after.image_size_bytes),
            "layers_change": (
                after.layers - before.layers
                if before.layers is not None and after.layers is not None
                else None
            ),
            "scenarios": {},
        }
        for name in self.scenario_names:
            b, a = before.scenarios.get(name), after.scenarios.get(name)
            out["scenarios"][name] = {
                "seconds_median_change_pct": change_pct(
                    b.seconds_median if b else None, a.seconds_median if a else None
                ),
                "within_noise": within_noise(b, a),
            }
        cold = before.scenarios.get("cold")
        code = after.scenarios.get("code_change")
        # the headline: an optimized code-change rebuild against the original's cold build
        out["optimized_code_change_vs_original_cold_pct"] = change_pct(
            cold.seconds_median if cold else None, code.seconds_median if code else None
        )
        return out

    def each_fix(self) -> list[dict[str, Any]]:
        """--each-fix: what each fix changed, against the variant with the fixes before it
        (the first against the original): image bytes and each scenario's median seconds."""
        out: list[dict[str, Any]] = []
        previous = self.variants.get("original")
        for variant in self.variants.values():
            if variant.step_fix is None or previous is None:
                continue
            step: dict[str, Any] = {
                "fix": variant.step_fix,
                "variant": variant.name,
                "size_bytes_before": previous.image_size_bytes,
                "size_bytes_after": variant.image_size_bytes,
                "build_error": variant.build_error,
                "scenarios": {},
            }
            for name in self.scenario_names:
                b, a = previous.scenarios.get(name), variant.scenarios.get(name)
                step["scenarios"][name] = {
                    "seconds_median_before": _round(b.seconds_median if b else None),
                    "seconds_median_after": _round(a.seconds_median if a else None),
                    "within_noise": within_noise(b, a),
                }
            out.append(step)
            if not variant.build_error:
                previous = variant  # a step that does not build is measured with the next
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "project": self.project,
            "dockerfile": self.dockerfile,
            "context": self.context,
            "repeat": self.repeat,
            "engine": {"build": self.engine, "server_version": self.server_version},
            "started": self.started,
            "wall_seconds": _round(self.wall_seconds),
            "scenarios": {n: SCENARIO_TEXT[n] for n in self.scenario_names},
            "changed_files": self.changed_files,
            "variants": {name: v.to_json() for name, v in self.variants.items()},
            "comparison": self.comparison(),
            "each_fix": self.each_fix(),
            "notes": self.notes,
        }


def within_noise(before: ScenarioResult | None, after: ScenarioResult | None) -> bool | None:
    """Whether two timings cannot be told apart: their min..max ranges overlap (None: a
    single run each, or a missing side, so the spread is unknown)."""
    if before is None or after is None or len(before.runs) < 2 or len(after.runs) < 2:
        return None
    b0, b1, a0, a1 = before.seconds_min, before.seconds_max, after.seconds_min, after.seconds_max
    assert b0 is not None and b1 is not None and a0 is not None and a1 is not None
    return a0 <= b1 and b0 <= a1


def change_pct(before: float | None, after: float | None) -> float | None:
    """Relative change in percent (negative: smaller or faster)."""
    if before is None or after is None or before == 0:
        return None
    return round((after - before) / before * 100.0, 1)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
