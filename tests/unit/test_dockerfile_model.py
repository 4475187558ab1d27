"""The Dockerfile model: directives, stages, ARG/ENV scope, flags, spans, RUN scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jettison.dockerfile import parse_dockerfile
from jettison.dockerfile.expand import expand
from jettison.errors import DockerfileParseError
from jettison.rules.docs import render_rule
from jettison.rules.registry import all_rules

from ..conftest import REPO


def test_directives_and_escape() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM debian:12\n"
        "RUN apt-get update && `\n    apt-get install -y curl\n"
    )
    df = parse_dockerfile(text)
    assert df.directives.syntax == "docker/dockerfile:1"
    assert df.directives.escape == "`"
    assert df.directives.check == "skip=all"
    run = df.instructions[1]
    assert [c.argv for c in run.script.commands] == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "curl"],
    ]
    assert run.line == 5 and run.end_line == 6


def test_global_args_and_stage_scope() -> None:
    text = (
        "ARG BASE=python:3.11\nARG TAG\nFROM ${BASE}-slim AS app\nARG BASE\n"
        "ENV HOME_DIR=/srv X=${BASE}\nFROM app\nRUN echo\n"
    )
    df = parse_dockerfile(text)
    first, second = df.stages
    assert first.base_resolved == "python:3.11-slim" and first.name == "app"
    assert not first.base_unresolved
    assert first.instructions[-1].variables["X"] == "python:3.11"
    # ENV is inherited through FROM <stage>, ARG is not
    assert second.parent is first and second.is_final and first.in_final_image
    assert second.instructions[-1].variables.get("HOME_DIR") == "/srv"
    assert "BASE" not in second.instructions[-1].variables


def test_unresolved_from() -> None:
    df = parse_dockerfile("ARG IMAGE\nFROM $IMAGE\n")
    assert df.stages[0].base_unresolved


def test_flags_spans_and_heredoc_script() -> None:
    text = (
        "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt \\\n"
        "    --mount=type=bind,source=x,target=/x apt-get install -y a\n"
        "COPY --from=b --chown=1:1 --chmod=755 a /a\n"
        "RUN <<EOT\nset -e\napt-get install -y vim\nEOT\n"
    )
    df = parse_dockerfile(text)
    run, copy, heredoc = df.instructions[1:]
    assert [f.name for f in run.flags] == ["mount", "mount"]
    assert run.flags[0].options() == {"type": "cache", "target": "/var/cache/apt"}
    for flag in run.flags + copy.flags:
        assert text[flag.start : flag.end] == f"--{flag.name}={flag.value}"
    assert run.cache_mount_targets() == ["/var/cache/apt"]
    cmds = heredoc.script.commands
    assert cmds[1].argv == ["apt-get", "install", "-y", "vim"]
    assert text[cmds[1].start : cmds[1].end] == "apt-get install -y vim"
    assert heredoc.line == 5 and heredoc.end_line == 8


@pytest.mark.parametrize(
    "script",
    [
        "a && apt-get install -y x",
        "a; apt-get install -y x",
        "a || apt-get install -y x",
        "if true; then apt-get install -y x; fi",
        "(apt-get install -y x)",
        "sudo apt-get install -y x",
        "for i in 1; do apt-get install -y x; done",
        "x=$(apt-get install -y x)",
    ],
)
def test_commands_found_anywhere(script: str) -> None:
    df = parse_dockerfile(f"FROM debian:12\nRUN {script}\n")
    cmds = [c for c in df.instructions[1].script.commands if c.name == "apt-get"]
    assert cmds and cmds[0].argv[1:] == ["install", "-y", "x"]
    word = cmds[0].args[-1]
    assert df.source[word.start : word.end] == "x"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo a > /etc/x", [("echo", [">/etc/x"])]),
        ("echo a >/dev/null 2>&1 && true", [("echo", [">/dev/null", "2>&1"]), ("true", [])]),
        ("{ echo a; echo b; } >> /etc/x", [("echo", [">>/etc/x"]), ("echo", [">>/etc/x"])]),
        ("echo 'deb x' > \\\n    /etc/apt/y.list", [("echo", [">/etc/apt/y.list"])]),
        ("tr a b < in.txt", [("tr", ["<in.txt"])]),
    ],
)
def test_redirects_reach_their_commands(script: str, expected: list[tuple[str, list[str]]]) -> None:
    """tree-sitter hangs redirects on the statement around a command; the model gives each
    command the redirects that apply to it (spaces dropped here for the comparison)."""
    df = parse_dockerfile(f"FROM debian:12\nRUN {script}\n")
    got = [
        (c.name, ["".join(r.split()) for r in c.redirects])
        for c in df.instructions[1].script.commands
    ]
    assert got == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ARG", "ARG requires at least one argument"),
        ("EXPOSE", "EXPOSE requires at least one argument"),
        ("USER", "USER requires exactly one argument"),
        ("COPY a", "COPY requires at least two arguments"),
        ("ADD --chown=1 a", "ADD requires at least two arguments"),
        ("HEALTHCHECK --interval=5s CMD", "Missing command after HEALTHCHECK CMD"),
        ("SHELL bash -c", "SHELL requires the arguments to be in JSON form"),
    ],
)
def test_instructions_buildkit_rejects_for_their_arguments(line: str, message: str) -> None:
    """BuildKit's parser takes these lines; its instruction layer then refuses the build with
    these messages, so the model refuses them too (file:line)."""
    with pytest.raises(DockerfileParseError, match=message) as caught:
        parse_dockerfile(f"FROM debian:12\n{line}\n", "Dockerfile")
    assert caught.value.line == 2


@pytest.mark.parametrize(
    "line",
    ["USER a b", 'SHELL ["/bin/bash", "-c"]', "HEALTHCHECK NONE", "COPY --from=a b c", "ARG A"],
)
def test_instructions_with_enough_arguments_parse(line: str) -> None:
    assert parse_dockerfile(f"FROM debian:12\n{line}\n").instructions[1].keyword


def test_byte_order_mark_is_not_a_column(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from jettison.cli import cli

    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbfFROM python:3.11\n")
    result = CliRunner().invoke(cli, ["audit", str(path), "--format", "json"])
    findings = json.loads(result.output)
    assert findings and all(f["column"] == 1 for f in findings if f["line"] == 1)
    text = CliRunner().invoke(cli, ["audit", str(path)]).output
    assert "\ufeff" not in text and "FROM python:3.11" in text


def test_continuation_with_comment_lines() -> None:
    text = "FROM debian:12\nRUN apt-get update \\\n# a comment\n\n    && apt-get install -y a\n"
    df = parse_dockerfile(text)
    run = df.instructions[1]
    assert [c.subcommand() for c in run.script.commands] == ["update", "install"]
    assert df.render() == text


def test_expand() -> None:
    v = {"A": "1", "E": ""}
    assert expand("${A}-$A-${B:-d}-${E:-x}-${E-y}-${A:+set}-\\$A", v) == "1-1-d-x--set-$A"


@pytest.mark.parametrize(
    "text", ["", "\x00", "FROM debian:12\nNOPE x\n", "FROM\n", "FROM debian:12\nRUN <<EOT\nx\n"]
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(DockerfileParseError):
        parse_dockerfile(text, "Dockerfile")


def test_rule_docs_are_generated_from_rules() -> None:
    docs = REPO / "docs" / "rules"
    for rule in all_rules():
        page = docs / f"{rule.code}.md"
        assert page.read_text() == render_rule(rule), (
            f"{page} is stale: run `jettison rules --write-docs docs/rules`"
        )
    assert Path(docs / "README.md").is_file()


@pytest.mark.parametrize(
    ("run", "argv"),
    [
        ("python -mvenv /venv", ["python", "-m", "venv", "/venv"]),
        ("python3.11 -u -mpip install x", ["python3.11", "-u", "-m", "pip", "install", "x"]),
        # a quoted word stays one word; a script's own -mX is not the interpreter's
        ("python '-mvenv' /v", ["python", "-mvenv", "/v"]),
        ("python app.py -mfoo", ["python", "app.py", "-mfoo"]),
        ("python -c 'x' -mfoo", ["python", "-c", "x", "-mfoo"]),
        ("pip -mfoo", ["pip", "-mfoo"]),
    ],
)
def test_module_attached_to_dash_m(run: str, argv: list[str]) -> None:
    text = f"FROM python:3.11\nRUN {run}\n"
    df = parse_dockerfile(text)
    (cmd,) = df.instructions[1].script.commands
    assert cmd.argv == argv
    # every word still points at its own text, so edits land in the right place
    assert all(text[w.start : w.end] == w.raw for w in cmd.args)


@pytest.mark.parametrize(
    ("run", "install"),
    [
        ("pip install six", True),
        ("pip --cache-dir /c install six", True),
        ("pip --no-cache-dir install six", True),
        ("python -m pip --timeout 60 install six", True),
        ("python3 -m pip install six", True),
        ("pip --log /tmp/install download six", False),
        ("python -m pip list", False),
    ],
)
def test_pip_install_after_general_options(run: str, install: bool) -> None:
    from jettison.dockerfile import commands as sh

    df = parse_dockerfile(f"FROM python:3.11\nRUN {run}\n", "Dockerfile")
    assert sh.is_pip_install(sh.commands(df.instructions[1])[0]) is install
