"""JT130 (a tree copied then chowned: stored twice) and JT131 (wheels copied into the final
image), their findings and fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.apply import fix_source


def _fix(tmp_path: Path, code: str, text: str) -> tuple[str, list[str], list[str]]:
    """(fixed text, messages before, messages left after the fix)."""
    path = str(tmp_path / "Dockerfile")
    config = Config(select=[code])
    before = fix_source(text, path, config, unsafe=False)
    outcome = fix_source(text, path, config, unsafe=True)
    assert fix_source(outcome.text, path, config, unsafe=True).text == outcome.text
    parse_dockerfile(outcome.text, path)
    return (
        outcome.text,
        [f.message for f in before.remaining],
        [f.message for f in outcome.remaining],
    )


CHOWN = (
    "FROM python:3.11-slim\nRUN useradd -m app\nWORKDIR /app\n"
    "COPY requirements.txt .\nCOPY . .\nRUN chown -R app:app /app\nUSER app\n"
)


def test_copy_then_chown_gives_the_size_and_moves_the_owner_into_the_copies(
    tmp_path: Path,
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "blob").write_bytes(b"x" * 2_000_000)
    (tmp_path / "requirements.txt").write_text("six\n")
    text, found, left = _fix(tmp_path, "JT130", CHOWN)
    assert len(found) == 1 and "(2.0 MB in the build context)" in found[0], found
    assert text == CHOWN.replace("COPY ", "COPY --chown=app:app ").replace(
        "chown -R app:app", "chown app:app"
    )
    assert left == []


def test_copy_then_chown_of_two_directories_keeps_the_other_recursive(tmp_path: Path) -> None:
    text = CHOWN.replace("/app\nUSER", "/app /data\nUSER")
    fixed, found, left = _fix(tmp_path, "JT130", text)
    assert len(found) == 1 and left == []
    assert "RUN chown -R app:app /data && chown app:app /app\n" in fixed, fixed
    assert fixed.count("COPY --chown=app:app ") == 2, fixed


def test_copy_then_chown_to_the_owner_the_copy_gave(tmp_path: Path) -> None:
    """Measured on Docker 20.10: `chown -R` to the owner the files already have still stores
    every file in the RUN's layer (10 MB copied, 10 MB again)."""
    text = "FROM debian:12\nCOPY --chown=app . /app\nRUN chown -R app /app\n"
    fixed, found, left = _fix(tmp_path, "JT130", text)
    assert len(found) == 1 and "the COPY already gives it that owner" in found[0], found
    assert fixed == text.replace("chown -R app", "chown app") and left == []


@pytest.mark.parametrize(
    "text",
    [
        # a RUN between may write into the tree: its files would keep root as owner
        CHOWN.replace("COPY . .\n", "COPY . .\nRUN python -m compileall .\n"),
        # the copy fills part of a tree an earlier RUN made: the rest needs the -R
        "FROM php:8\nRUN curl -L x | tar -xz -C /srv/october\n"
        "COPY config/ /srv/october/config/\nRUN chown -R www-data /srv/october\n",
        # a home directory holds what useradd made
        "FROM debian:12\nRUN useradd -m pi\nCOPY a.conf /home/pi/.x/a.conf\n"
        "RUN chown -R pi:pi /home/pi\n",
    ],
)
def test_copy_then_chown_reported_without_a_fix(tmp_path: Path, text: str) -> None:
    fixed, found, left = _fix(tmp_path, "JT130", text)
    assert fixed == text and len(found) == 1 and len(left) == 1


@pytest.mark.parametrize(
    "text",
    [
        # the COPY gives another owner: the chown changes it
        "FROM debian:12\nCOPY --chown=1001 . /app\nRUN chown -R app /app\n",
        "FROM debian:12\nCOPY . /app\nRUN chown -R app /data\n",  # another tree
        "FROM debian:12\nCOPY . /app\nRUN chown app /app\n",  # the directory only
    ],
)
def test_copy_then_chown_negatives(tmp_path: Path, text: str) -> None:
    assert _fix(tmp_path, "JT130", text)[1] == []


WHEELS = (
    "FROM python:3.11 AS builder\n"
    "RUN --mount=type=cache,target=/root/.cache/pip pip wheel --wheel-dir /wheels six\n"
    "FROM python:3.11-slim\n"
    "# the wheels built above\n"
    "COPY --from=builder /wheels /wheels\n"
    "RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels\n"
    'CMD ["python"]\n'
)


def test_wheels_copied_become_a_bind_mount_also_without_buildkit_syntax(tmp_path: Path) -> None:
    # an unsafe fix may need BuildKit (Docker's default builder since 23.0)
    plain = WHEELS.replace("--mount=type=cache,target=/root/.cache/pip ", "")
    text, _found, left = _fix(tmp_path, "JT131", plain)
    assert "--mount=type=bind,from=builder,source=/wheels,target=/wheels" in text
    assert left == []


def test_wheels_copied_become_a_bind_mount(tmp_path: Path) -> None:
    text, found, left = _fix(tmp_path, "JT131", WHEELS)
    assert len(found) == 1 and "/wheels stay in the image" in found[0]
    assert text.endswith(
        "# the wheels built above\n"
        "RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels "
        'pip install --no-cache-dir /wheels/*\nCMD ["python"]\n'
    )
    assert left == []


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        # the rm is not at the end: the RUN is left alone
        (WHEELS.replace("&& rm -rf /wheels", "&& rm -rf /wheels && echo done"), True),
        # another step uses the directory too
        (WHEELS.replace('CMD ["python"]', 'CMD ["ls", "/wheels"]'), False),
        # not the final image
        (WHEELS.replace('CMD ["python"]\n', "FROM debian:12\n"), False),
    ],
)
def test_wheels_copied_without_a_fix(tmp_path: Path, text: str, fires: bool) -> None:
    fixed, found, _ = _fix(tmp_path, "JT131", text)
    assert fixed == text and (len(found) == 1) is fires


def test_old_user_dot_group_form_becomes_a_colon(tmp_path: Path) -> None:
    text, _, _ = _fix(
        tmp_path, "JT130", "FROM debian:12\nADD . /srv/x\nRUN chown -R www-data.www-data /srv/x\n"
    )
    assert "ADD --chown=www-data:www-data . /srv/x\nRUN chown www-data.www-data /srv/x\n" in text
