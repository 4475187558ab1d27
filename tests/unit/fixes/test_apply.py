"""The fix engine: span edits, fixpoint, idempotence, comments kept, atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.cli import cli
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.apply import fix_source


def fixed(text: str, unsafe: bool = False, select: list[str] | None = None) -> str:
    outcome = fix_source(text, "Dockerfile", Config(select=select or []), unsafe=unsafe)
    assert (
        fix_source(outcome.text, "Dockerfile", Config(select=select or []), unsafe=unsafe).text
        == outcome.text
    ), "not idempotent"
    parse_dockerfile(outcome.text)
    return outcome.text


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [
        (
            "JT101",
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf "
            "/var/lib/apt/lists/*\n",
        ),
        (
            "JT101",
            "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n",
        ),
        (
            "JT101",
            "FROM debian:12\nRUN apt-get update && \\\n  apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update && \\\n  apt-get install -y curl && \\\n"
            "  rm -rf /var/lib/apt/lists/*\n",
        ),
        (
            "JT103",
            "FROM python:3.11\nRUN pip install -r r.txt\n",
            "FROM python:3.11\nRUN pip install --no-cache-dir -r r.txt\n",
        ),
        (
            "JT104",
            "FROM alpine:3.19\nRUN apk add curl\n",
            "FROM alpine:3.19\nRUN apk add --no-cache curl\n",
        ),
        (
            "JT105",
            "FROM centos:7\nRUN yum install -y httpd\n",
            "FROM centos:7\nRUN yum install -y httpd && yum clean all\n",
        ),
        (
            "JT120",
            "FROM node:20\nRUN npm install -g x\n",
            "FROM node:20\nRUN npm install -g x && npm cache clean --force\n",
        ),
        (
            "JT107",
            "FROM c/m:1\nRUN conda install -y numpy\n",
            "FROM c/m:1\nRUN conda install -y numpy && conda clean -afy\n",
        ),
        ("JT114", "FROM debian:12\nADD app.py /app/\n", "FROM debian:12\nCOPY app.py /app/\n"),
        (
            "JT117",
            "FROM debian:12\nRUN useradd -u 1000000 a\n",
            "FROM debian:12\nRUN useradd -l -u 1000000 a\n",
        ),
        ("JT204", "FROM debian:12\nENV A=1\nENV B=2\n", "FROM debian:12\nENV A=1 \\\n    B=2\n"),
        (
            "JT304",
            "FROM debian:12\nCMD python app.py\n",
            'FROM debian:12\nCMD ["python", "app.py"]\n',
        ),
        (
            "JT505",
            "FROM debian:12\nRUN apt-get install curl\n",
            "FROM debian:12\nRUN apt-get install -y curl\n",
        ),
        (
            "JT507",
            "FROM debian:12\nMAINTAINER me\n",
            'FROM debian:12\nLABEL org.opencontainers.image.authors="me"\n',
        ),
    ],
)
def test_safe_fix(code: str, before: str, after: str) -> None:
    assert fixed(before, select=[code]) == after


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [
        (
            "JT102",
            "FROM debian:12\nRUN apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get install --no-install-recommends -y curl\n",
        ),
        ("JT111", "FROM python:3.11\n", "FROM python:3.11-slim\n"),
        ("JT111", "FROM python:3.11-bookworm\n", "FROM python:3.11-slim-bookworm\n"),
        (
            "JT202",
            "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n",
            "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y curl\n",
        ),
    ],
)
def test_unsafe_fix(code: str, before: str, after: str) -> None:
    assert fixed(before, unsafe=False, select=[code]) == before
    assert fixed(before, unsafe=True, select=[code]) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "FROM python:3.11\nWORKDIR /app\nCOPY --chown=app . .\n# deps\n"
            'RUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n',
            "FROM python:3.11\nWORKDIR /app\nCOPY --chown=app requirements*.txt ./\n# deps\n"
            "RUN pip install -r requirements.txt\nCOPY --chown=app . .\n"
            'CMD ["python", "app.py"]\n',
        ),
        (
            "FROM python:3.11\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n",
            "FROM python:3.11\nCOPY requirements*.txt /app/\nRUN pip install -r "
            "/app/requirements.txt\nCOPY . /app\n",
        ),
        (
            "FROM node:20\nWORKDIR /app\nCOPY . .\nEXPOSE 3000\nRUN npm ci\n",
            "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json* ./\nRUN npm ci\n"
            "COPY . .\nEXPOSE 3000\n",
        ),
        # dependencies first, the project itself (which needs the source) after the copy
        (
            "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt \\\n"
            "    && pip install --no-deps -e .\n",
            "FROM python:3.11\nWORKDIR /app\nCOPY requirements*.txt ./\nRUN pip install -r "
            "requirements.txt\nCOPY . .\nRUN pip install --no-deps -e .\n",
        ),
        # compilers installed between the copy and the install: the copy moves down instead
        (
            "FROM python:3.11\nWORKDIR /app\n# the code\nCOPY . /app\nRUN apt-get update && "
            "apt-get install -y gcc\nRUN pip install -r requirements.txt\nEXPOSE 80\n",
            "FROM python:3.11\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc\n"
            "COPY requirements*.txt /app/\nRUN pip install -r requirements.txt\n# the code\n"
            "COPY . /app\nEXPOSE 80\n",
        ),
        # a step between them reads the source: nothing moves
        (
            "FROM python:3.11\nWORKDIR /app\nCOPY . /app\nRUN make -C /app/native\n"
            "RUN pip install -r requirements.txt\n",
            None,
        ),
        # a project whose pyproject.toml is not in the context: nothing to install first
        # (tests/unit/rules/test_project_installs.py has the project installs rewritten)
        ("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install ./no-such-dir\n", None),
        # something the install may depend on lies between: nothing moves
        (
            "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN ./configure\n"
            "RUN pip install -r requirements.txt\n",
            None,
        ),
    ],
)
def test_manifest_copied_and_install_moved(before: str, after: str | None) -> None:
    assert fixed(before, unsafe=True, select=["JT201"]) == (after or before)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "FROM debian:12\nRUN mkdir /app\nRUN chown 1000 /app\n",
            "FROM debian:12\nRUN mkdir /app \\\n    && chown 1000 /app\n",
        ),
        # `cd` would change where the second command runs: not merged
        ("FROM debian:12\nRUN cd /tmp\nRUN make\n", None),
        # different mounts: not merged
        ("FROM debian:12\nRUN --mount=type=cache,target=/c mkdir /a\nRUN mkdir /b\n", None),
        # a comment between them stays where it is: not merged
        ("FROM debian:12\nRUN mkdir /a\n# why\nRUN mkdir /b\n", None),
    ],
)
def test_consecutive_runs_merged_only_when_safe(before: str, after: str | None) -> None:
    assert fixed(before, unsafe=True, select=["JT205"]) == (after or before)


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nCMD exec python app.py\n",
        "FROM debian:12\nCMD FOO=bar python app.py\n",
        'FROM debian:12\nENTRYPOINT python app.py\nCMD ["--debug"]\n',
        "FROM debian:12\nCMD python app.py > /log\n",
    ],
)
def test_exec_form_only_when_meaning_is_unchanged(text: str) -> None:
    assert fixed(text, select=["JT304"]) == text


def test_env_fix_refuses_self_reference() -> None:
    text = "FROM debian:12\nENV A=1\nENV B=$A\n"
    assert fixed(text, select=["JT204"]) == text


def test_comments_and_blank_lines_kept() -> None:
    text = (
        "# header\n\nFROM python:3.11\n# install deps\nRUN pip install -r r.txt  \n\n"
        "# run\nCMD python app.py\n"
    )
    out = fixed(text, unsafe=True)
    for line in ("# header", "# install deps", "# run"):
        assert line in out
    assert "\n\n# run\n" in out


def test_append_refused_after_trailing_operator() -> None:
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y curl;\n"
    assert "rm -rf" not in fixed(text, select=["JT101"])


def test_cli_fix_writes_atomically_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3.11\nRUN pip install flask\n")
    os.chmod(path, 0o640)
    result = CliRunner().invoke(cli, ["fix", "--diff", str(path)])
    assert result.exit_code == 1 and "+RUN pip install --no-cache-dir flask" in result.stdout
    assert "--no-cache-dir" not in path.read_text()
    result = CliRunner().invoke(cli, ["fix", str(path)])
    assert result.exit_code == 0, result.output
    assert "--no-cache-dir" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if "jettison-tmp" in p.name]


def test_cli_fix_leaves_unparsable_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12\nRUN <<EOT\nunterminated\n")
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["fix", str(path)])
    assert result.exit_code == 2
    assert path.read_bytes() == before


def test_cli_fix_writes_dockerignore_without_hiding_copied_files(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY .env.prod build /app/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / ".git").mkdir()
    result = CliRunner().invoke(cli, ["fix", str(tmp_path / "Dockerfile")])
    assert result.exit_code == 0, result.output
    ignore = (tmp_path / ".dockerignore").read_text().splitlines()
    assert ".git" in ignore and "build" not in ignore


def test_escape_directive_and_crlf_are_kept() -> None:
    text = (
        "# escape=`\nFROM python:3.12-slim\nRUN apt-get update `\n"
        "    && apt-get install -y --no-install-recommends curl\n"
    )
    out = fixed(text, select=["JT101"])
    assert out.endswith("curl `\n    && rm -rf /var/lib/apt/lists/*\n")
    crlf = "FROM python:3.11\r\nRUN apt-get update && apt-get install -y curl\r\n"
    out = fixed(crlf, select=["JT101", "JT301"])
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")


def test_merge_never_swallows_a_command_after_a_comment() -> None:
    text = "FROM debian:12\nRUN apt-get update # refresh\nRUN apt-get install -y curl\n"
    assert fixed(text, unsafe=True, select=["JT202"]) == text


def test_heredoc_cleanup_keeps_the_exit_status() -> None:
    # without set -e the new command is chained to the last one, so a failed install still
    # fails the RUN (it used to get no fix at all)
    text = "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n"
    assert fixed(text, select=["JT101"]).endswith(
        "apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nEOF\n"
    )
    with_e = "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n"
    assert "rm -rf /var/lib/apt/lists/*\nEOF" in fixed(with_e, select=["JT101"])


def test_diff_output_keeps_tabs_and_crlf_so_that_it_applies(tmp_path: Path) -> None:
    """`fix --diff` printed through rich expanded tabs and dropped CRs: a patch that no
    longer applied. The CLI prints the unified diff byte for byte."""
    path = tmp_path / "Dockerfile"
    original = "FROM python:3.11\r\nRUN pip install\tflask\r\n"
    path.write_bytes(original.encode())
    expected = fix_source(original, str(path), Config()).diff()
    assert "\t" in expected and "\r\n" in expected
    result = CliRunner().invoke(cli, ["fix", "--diff", str(path)])
    assert result.exit_code in (0, 1), result.output  # 1: there is something to fix
    assert result.stdout_bytes.decode() == expected
    assert path.read_bytes() == original.encode()  # --diff writes nothing
