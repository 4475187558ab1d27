"""Fixtures shared by unit tests of several areas."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No engine reachable: DOCKER_HOST names a socket that does not exist, and errors are
    shown as users see them (no JETTISON_DEBUG tracebacks)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("JETTISON_DEBUG", raising=False)
