"""The bench's text view as ``-o FILE`` writes it: the whole report (it was an empty file),
instructions as written (brackets are no rich markup)."""

from __future__ import annotations

from jettison.bench.model import BenchReport, Run, ScenarioResult, StepTime, VariantResult
from jettison.bench.report import render_text_to_string

STEP = 'RUN pip install "uvicorn[standard]" && test -d [/srv]'


def _variant(name: str) -> VariantResult:
    run = Run("cold", 0, 12.0, 3, 0, "sha256:x", [StepTime("builder", STEP, 9.5, False)])
    return VariantResult(name, name, "FROM x\n", scenarios={"cold": ScenarioResult("cold", [run])})


def test_a_stage_and_brackets_in_an_instruction_are_shown_as_written() -> None:
    report = BenchReport("p", "Dockerfile", ".", 1, "docker build", "27.0")
    report.variants = {"original": _variant("original"), "optimized": _variant("optimized")}
    text = render_text_to_string(report)  # "[/srv]" was a markup error, a traceback
    assert text.startswith("jettison bench: Dockerfile\nImage")
    assert f"[builder] {STEP}" in text and "engine: docker build, Docker 27.0" in text
