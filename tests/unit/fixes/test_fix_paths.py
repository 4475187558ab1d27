"""`jettison fix` as one library call: what the command prints comes from FixRun."""

from __future__ import annotations

from pathlib import Path

from jettison.config import Config
from jettison.fixes.fix_paths import FixRequest, fix_paths

DOCKERFILE = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"


def test_preview_changes_nothing_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    notices: list[str] = []
    run = fix_paths(FixRequest([str(path)], Config(), preview=True), notice=notices.append)
    assert [o.path for o in run.changed] == [str(path)]
    assert run.changed[0].diff()
    assert path.read_text() == DOCKERFILE
    assert not run.errors and not run.unwritten and not run.failed_verify


def test_writes_the_fixed_file_and_reports_a_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    missing = str(tmp_path / "nope")
    run = fix_paths(FixRequest([str(path), missing], Config()))
    assert path.read_text() == run.outcomes[0].text != DOCKERFILE
    assert [(e.path, e.message) for e in run.errors] == [(missing, "no such file or directory")]
