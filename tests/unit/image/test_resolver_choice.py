"""One place chooses the resolver for an image reference (jettison.image.sources)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jettison.image import sources
from jettison.image.errors import ImageError, ImageNotFoundError


@pytest.mark.parametrize(
    ("reference", "kind", "target"),
    [
        ("docker-archive:x.tar", "archive", "x.tar"),
        ("oci-archive:x.tar", "archive", "x.tar"),
        ("archive:x.tar", "archive", "x.tar"),
        ("oci:layout", "oci", "layout"),
        ("registry:ghcr.io/a/b:1", "registry", "ghcr.io/a/b:1"),
        ("docker://alpine:3", "registry", "alpine:3"),
        ("docker-daemon:app:1", "engine", "app:1"),
        ("engine:app:1", "engine", "app:1"),
        ("python:3.11-slim", "engine", "python:3.11-slim"),
    ],
)
def test_prefix_or_name_chooses_the_resolver(reference: str, kind: str, target: str) -> None:
    assert sources.classify(reference, "auto") == (kind, target)


def test_existing_paths_choose_archive_or_layout(tmp_path: Path) -> None:
    (tmp_path / "img.tar").write_bytes(b"")
    assert sources.classify(str(tmp_path / "img.tar"), "auto") == (
        "archive",
        str(tmp_path / "img.tar"),
    )
    assert sources.classify(str(tmp_path), "auto") == ("oci", str(tmp_path))
    assert sources.local_target(str(tmp_path), "auto") == ("oci", str(tmp_path))
    assert sources.local_target("oci:" + str(tmp_path), "auto") == ("oci", str(tmp_path))
    assert sources.local_target("registry:x", "auto") == ("auto", "registry:x")


def test_missing_path_is_not_taken_for_an_engine_name(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError):
        sources.classify("missing.tar", "auto")
    with pytest.raises(ImageNotFoundError):
        sources.classify(str(tmp_path / "nothing"), "auto")


def test_explicit_source_skips_the_choice_and_unknown_is_an_error() -> None:
    assert sources.classify("oci:x", "engine") == ("engine", "oci:x")
    with pytest.raises(ImageError, match="unknown source"):
        sources.classify("x", "nowhere")


def test_every_kind_has_one_resolver() -> None:
    assert set(sources.PREFIXES.values()) == set(sources.SOURCE_KINDS) - {"auto"}
    assert set(sources._RESOLVERS) == set(sources.SOURCE_KINDS) - {"auto"}
