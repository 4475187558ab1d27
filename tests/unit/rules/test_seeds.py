"""The seeds' "Before" Dockerfiles get the findings that their "After" versions fix."""

from __future__ import annotations

import re

import pytest

from jettison.audit import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile

from ...conftest import SEEDS

BLOCK = re.compile(r"```dockerfile\n(.*?)```", re.S)


def _codes(text: str) -> set[str]:
    if not re.search(r"^\s*FROM\s", text, re.M | re.I):
        text = "FROM debian:bookworm\n" + text
    return {f.code for f in check_dockerfile(parse_dockerfile(text, "Dockerfile"), Config())}


def _before_after(seed: str, marker: str) -> tuple[str, str]:
    """The dockerfile block after ``**Before**`` at ``marker`` and the next block after it."""
    text = next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    start = text.index(marker)
    blocks = BLOCK.findall(text, start)
    return blocks[0], blocks[1]


def _split_block(seed: str, contains: str, before_tag: str, after_tag: str) -> tuple[str, str]:
    """Split one block that shows both versions, each starting at the line with its tag."""
    text = next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    block = next(b for b in BLOCK.findall(text) if contains in b)

    def line_start(tag: str) -> int:
        return block.rfind("\n", 0, block.index(tag)) + 1

    b, a = line_start(before_tag), line_start(after_tag)
    return (block[b:a], block[a:]) if b < a else (block[b:], block[a:b])


CASES = [
    # seed 000 "Multi-Stage Builds": --no-install-recommends and pip --no-cache-dir added
    (
        "000 multi-stage",
        lambda: _before_after("000", "### 1. Multi-Stage Builds"),
        {"JT102", "JT103"},
    ),
    # seed 000 "Layer Optimization": one RUN, update with install, cleanup in the same layer
    (
        "000 layers",
        lambda: _before_after("000", "### 2. Layer Optimization"),
        {"JT101", "JT102", "JT202", "JT205"},
    ),
    # seed 000 "Environment Variable Consolidation"
    (
        "000 env",
        lambda: _before_after("000", "### 6. Environment Variable Consolidation"),
        {"JT204"},
    ),
    # seed 002 Dockerfile.ray: full `latest` base, pip cache
    (
        "002 ray",
        lambda: _split_block("002", "rayproject/ray", "# Before", "# After"),
        {"JT404", "JT103"},
    ),
    # seed 001 "Dependency Caching": requirements copied before the code
    (
        "001 caching",
        lambda: _split_block("001", "Poor caching", "Poor caching", "COPY requirements.txt"),
        {"JT201"},
    ),
]


@pytest.mark.parametrize(("name", "pair", "fixed"), CASES, ids=[c[0] for c in CASES])
def test_before_has_what_after_fixes(name: str, pair: object, fixed: set[str]) -> None:
    assert callable(pair)
    before, after = pair()
    before_codes, after_codes = _codes(before), _codes(after)
    assert fixed <= before_codes, (name, before_codes)
    assert fixed.isdisjoint(after_codes), (name, after_codes)
