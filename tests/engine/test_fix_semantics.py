"""Safe fixes keep what the container runs and the metadata it carries, on the real engine.

JT304 (shell form -> exec form) and JT507 (MAINTAINER -> LABEL) on a file with one stage per
case: each stage is built before and after the fix, its container's output must be the same,
and ``--verify``'s config comparison must find no problem (the image's Author becomes the
OCI authors label with the very same value). A conversion JT304 used to make (the CMD under an
exec-form ENTRYPOINT) is built too: the comparison must call it a changed command. Only
metadata instructions: every build takes a second or two; the images are removed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jettison.config import Config
from jettison.fixes.apply import fix_source
from jettison.fixes.verify import AUTHOR, AUTHORS_LABEL, compare_configs

pytestmark = pytest.mark.engine

DOCKER = "/usr/bin/docker"

SOURCE = """\
FROM debian:bookworm-slim AS base
ENTRYPOINT /bin/echo start
FROM base AS extra
CMD ["--extra"]
FROM debian:bookworm-slim AS wrapped
ENTRYPOINT ["/bin/echo", "args:"]
CMD /bin/echo hello
FROM debian:bookworm-slim AS plain
CMD /bin/echo plain run
FROM debian:bookworm-slim AS entry
ENTRYPOINT /bin/echo entry only
FROM debian:bookworm-slim AS author
MAINTAINER Frédéric "Fred" Dupont <f@x> $HOME a\\b
CMD ["/bin/true"]
"""

BACKTICK = """\
# escape=`
FROM debian:bookworm-slim
MAINTAINER "Jane" `Doe` <j@x> \\ $HOME
CMD ["/bin/true"]
"""


class Engine:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.images: set[str] = set()
        self.builds = 0

    def build(self, text: str, target: str | None = None) -> str:
        self.builds += 1
        work = self.tmp / f"ctx{self.builds}"
        work.mkdir()
        (work / "Dockerfile").write_text(text, encoding="utf-8")
        args = [DOCKER, "build", "-q", *(["--target", target] if target else []), str(work)]
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )
        assert done.returncode == 0, done.stderr
        image = done.stdout.strip().splitlines()[-1]
        self.images.add(image)
        return image

    def output(self, image: str) -> str:
        done = subprocess.run(
            [DOCKER, "run", "--rm", "--network", "none", image],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return f"{done.returncode}: {done.stdout}{done.stderr}"

    def config(self, image: str) -> dict[str, Any]:
        """The image Config plus its Author, as ``--verify`` records them."""
        done = subprocess.run(
            [DOCKER, "image", "inspect", image], capture_output=True, text=True, timeout=60
        )
        attrs = json.loads(done.stdout)[0]
        return {**(attrs.get("Config") or {}), AUTHOR: attrs.get("Author") or ""}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = Engine(tmp_path)
    yield eng
    for image in eng.images:
        subprocess.run([DOCKER, "rmi", image], capture_output=True, timeout=60)


def test_safe_fixes_keep_argv_and_author(engine: Engine) -> None:
    fixed = fix_source(SOURCE, "Dockerfile", Config(select=["JT304", "JT507"])).text
    lines = fixed.splitlines()
    # rewritten only where the argv stays the same
    assert "ENTRYPOINT /bin/echo start" in lines
    assert "CMD /bin/echo hello" in lines
    assert 'CMD ["/bin/echo", "plain", "run"]' in lines
    # a shell-form ENTRYPOINT is rewritten only as an unsafe fix (`docker run IMAGE args`
    # would start passing args, and PID 1 changes)
    assert "ENTRYPOINT /bin/echo entry only" in lines
    unsafe = fix_source(SOURCE, "Dockerfile", Config(select=["JT304"]), unsafe=True).text
    assert 'ENTRYPOINT ["/bin/echo", "entry", "only"]' in unsafe.splitlines()
    assert not any(line.startswith("MAINTAINER") for line in lines)

    outputs: dict[str, str] = {}
    configs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for target in ("extra", "wrapped", "plain", "entry", "author"):
        before, after = engine.build(SOURCE, target), engine.build(fixed, target)
        outputs[target] = engine.output(before)
        assert engine.output(after) == outputs[target], target
        configs[target] = engine.config(before), engine.config(after)
        problems, _ = compare_configs(*configs[target])
        assert problems == [], (target, problems)
    assert outputs["extra"] == "0: start\n"
    assert outputs["wrapped"] == "0: args: /bin/sh -c /bin/echo hello\n"
    assert outputs["plain"] == "0: plain run\n"

    old, new = configs["author"]
    assert old[AUTHOR] == 'Frédéric "Fred" Dupont <f@x> $HOME a\\b'
    assert new["Labels"][AUTHORS_LABEL] == old[AUTHOR]

    # what JT304 used to write for `wrapped`: --verify must see the changed command
    wrong = fixed.replace("CMD /bin/echo hello", 'CMD ["/bin/echo", "hello"]')
    problems, _ = compare_configs(
        configs["wrapped"][0], engine.config(engine.build(wrong, "wrapped"))
    )
    assert any(p.startswith("command changed") for p in problems), problems


def test_maintainer_label_under_a_backtick_escape(engine: Engine) -> None:
    fixed = fix_source(BACKTICK, "Dockerfile", Config(select=["JT507"])).text
    assert "MAINTAINER" not in fixed
    before, after = engine.build(BACKTICK), engine.build(fixed)
    old, new = engine.config(before), engine.config(after)
    assert old[AUTHOR] == '"Jane" `Doe` <j@x> \\ $HOME'
    assert new["Labels"][AUTHORS_LABEL] == old[AUTHOR]
    assert compare_configs(old, new)[0] == []
