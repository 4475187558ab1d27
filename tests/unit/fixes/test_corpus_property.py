"""Property over the shared corpus: ``fix --unsafe-fixes`` (with the multi-stage conversion,
its engine step replaced by fixed package lists) leaves a file unchanged or produces a file
that parses and whose second fix is a no-op."""

from __future__ import annotations

import pytest

from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.errors import DockerfileParseError
from jettison.fixes.multistage import Plan
from jettison.fixes.pipeline import fix_pipeline
from jettison.fixes.runtime_libs import LibraryScan
from tests.conftest import REPO

CORPUS = REPO.parent / "shared" / "corpus" / "dockerfiles"
FILES = sorted(p for p in CORPUS.iterdir() if p.is_file()) if CORPUS.is_dir() else []


def _scan(plan: Plan) -> LibraryScan:
    return LibraryScan(["libpq5", "libxml2"], ["libpq.so.5", "libxml2.so.2"])


def test_corpus_present() -> None:
    assert len(FILES) > 100, CORPUS


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fix_then_refix_is_noop(path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    source = path.read_bytes().decode("utf-8")
    try:
        parse_dockerfile(source, str(path))
    except DockerfileParseError:
        # a file BuildKit rejects (the corpus has empty ones) is never touched: the fixer
        # refuses it the same way
        with pytest.raises(DockerfileParseError):
            fix_pipeline(source, str(path), Config(), True, _scan)
        return
    first = fix_pipeline(source, str(path), Config(), True, _scan).outcome
    if first.text == source:
        return
    parse_dockerfile(first.text, str(path))  # raises if BuildKit would reject it
    second = fix_pipeline(first.text, str(path), Config(), True, _scan).outcome
    assert second.text == first.text, second.diff()
