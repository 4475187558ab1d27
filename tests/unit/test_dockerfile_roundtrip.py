"""Round trip: the model cuts every file into spans that render it back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from jettison.dockerfile import parse_dockerfile
from jettison.dockerfile.parse import decode_dockerfile
from jettison.errors import DockerfileParseError

from ..conftest import CORPUS, REPO

FILES = sorted(CORPUS.glob("*.Dockerfile")) + sorted(REPO.glob("examples/**/Dockerfile*"))


def test_corpus_is_there() -> None:
    assert len(FILES) > 1000


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[-24:])
def test_round_trip(path: Path) -> None:
    data = path.read_bytes()
    try:
        df = parse_dockerfile(decode_dockerfile(data, str(path)), str(path))
    except DockerfileParseError as exc:
        # only files BuildKit rejects too (empty files) may fail
        assert data.strip() == b"", str(exc)
        return
    segments = df.segments()
    pos = 0
    for kind, start, end in segments:
        assert start == pos, f"gap or overlap before {kind} at {start}"
        pos = end
        if kind == "trivia":
            for line in df.source[start:end].splitlines():
                stripped = line.strip().lstrip("\ufeff")
                assert not stripped or stripped.startswith("#"), line
    assert pos == len(df.source)
    assert df.render().encode("utf-8") == data
    for ins in df.instructions:
        assert df.source[ins.start : ins.end].upper().startswith(ins.keyword)
        for flag in ins.flags:
            assert df.source[flag.start : flag.end].startswith("--" + flag.name[:1])
