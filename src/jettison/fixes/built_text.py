"""The engine step the image scans of ``fix --verify`` share (unused library packages,
unused Python distributions): build a Dockerfile text as it would be written, scan the
image, remove it; and remember each text's answer, since bisecting asks again."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from jettison.errors import JettisonError

T = TypeVar("T")


@contextmanager
def built_image(
    text: str,
    path: str,
    context: Path,
    sdk: Any,
    build_args: Mapping[str, str] | None,
    scan: str,
) -> Iterator[tuple[str, Path]]:
    """Build ``text`` (the Dockerfile ``path`` as fixed) in ``context``; yields the image id
    and where the text was written (valid inside the block); the image is removed after.
    ``scan`` names the step in the error when the build fails."""
    from jettison.engine import build, remove_image

    with tempfile.TemporaryDirectory(prefix="jettison-scan-") as tmp:
        dockerfile = Path(tmp) / Path(path).name
        dockerfile.write_text(text, encoding="utf-8")
        try:
            result = build(context, dockerfile, sdk=sdk, build_args=dict(build_args or {}))
        except JettisonError as exc:
            raise JettisonError(f"{scan} could not build: {exc.message}", path) from None
        try:
            yield result.image_id, dockerfile
        finally:
            remove_image(result.image_id, sdk)


def remembered(answer: Callable[[str], T]) -> Callable[[str], T]:
    """``answer``, asked once per text."""
    answers: dict[str, T] = {}

    def check(text: str) -> T:
        if text not in answers:
            answers[text] = answer(text)
        return answers[text]

    return check
