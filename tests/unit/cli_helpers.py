"""The CLI run in-process, and the check every bad-input test makes of a failure."""

from __future__ import annotations

from click.testing import CliRunner

from jettison.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error(code: int, err: str, *expected: str) -> None:
    """Exit 2 and exactly one line on stderr, a `jettison: error:` that says ``expected``."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jettison: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    for text in expected:
        assert text in lines[0], err
