"""The bench scenarios are data the runners iterate."""

from __future__ import annotations

from jettison.bench.compose import SCENARIOS as COMPOSE_SCENARIOS
from jettison.bench.model import SCENARIO_TEXT, SCENARIOS
from jettison.bench.scenarios import BY_NAME, CODE_CHANGE, COLD, DEPS_CHANGE, WARM


def test_every_scenario_name_has_one_object_and_a_text() -> None:
    assert tuple(BY_NAME) == SCENARIOS
    assert set(SCENARIO_TEXT) == set(BY_NAME)


def test_only_cold_builds_without_the_cache_and_the_changes_edit_their_file() -> None:
    assert [s.name for s in BY_NAME.values() if s.no_cache] == ["cold"]
    assert (COLD.edits, WARM.edits, CODE_CHANGE.edits, DEPS_CHANGE.edits) == (
        None,
        None,
        "code",
        "deps",
    )
    assert CODE_CHANGE.marker("ab12cd", 0) == "jettison bench ab12cd: code change 1"
    assert DEPS_CHANGE.marker("ab12cd", 2) == "jettison bench ab12cd: dependency change 3"
    assert "--touch" in CODE_CHANGE.missing and "--deps-file" in DEPS_CHANGE.missing


def test_the_compose_bench_runs_cold_then_a_code_change() -> None:
    assert COMPOSE_SCENARIOS == (COLD, CODE_CHANGE)
