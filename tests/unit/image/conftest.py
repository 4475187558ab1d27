"""Fixtures for the image tests."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture
def forkable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the analysis fork in this test even though the test process has loaded the
    BuildKit parser's Go runtime (other tests parse Dockerfiles); the children of these
    tests run only pure-Python passes."""
    monkeypatch.delenv("JETTISON_NO_FORK", raising=False)
    monkeypatch.delitem(sys.modules, "dockerfile", raising=False)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per child the analysis forks (``Deferred._start``) in this test."""
    from jettison.image import parallel

    started: list[int] = []
    real = parallel.Deferred._start
    monkeypatch.setattr(parallel.Deferred, "_start", lambda self: (started.append(1), real(self)))
    return started
