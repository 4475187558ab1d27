"""The audit and fix commands end to end, in-process through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.cli import cli

BAD = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
GOOD = (
    "FROM debian:12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends "
    "curl \\\n    && rm -rf /var/lib/apt/lists/*\nUSER 1000\n"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    code, out, _ = run("audit", "--no-context", str(tmp_path / "Dockerfile"))
    assert code == 1 and "JT102" in out
    (tmp_path / "Dockerfile").write_text(GOOD)
    code, out, _ = run("audit", "--no-context", str(tmp_path / "Dockerfile"))
    assert code == 0, out
    code, _, _ = run("audit", "--no-context", "--fail-level", "error", str(tmp_path))
    assert code == 0


def test_json_shape(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    code, out, _ = run("audit", "--no-context", "--format", "json", str(tmp_path))
    data = json.loads(out)
    assert code == 1
    finding = next(f for f in data if f["code"] == "JT102")
    assert finding["line"] == 2 and finding["end_line"] == 2
    assert finding["severity"] == "warning"
    assert finding["fix"]["safety"] == "unsafe"
    assert finding["equivalents"] == {"hadolint": "DL3015"}
    lists = next(f for f in data if f["code"] == "JT101")
    assert lists["fix"]["safety"] == "safe"


def test_sarif_github_markdown(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    _, out, _ = run("audit", "--no-context", "--format", "sarif", str(tmp_path))
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert any(r["ruleId"] == "JT102" for r in sarif["runs"][0]["results"])
    _, out, _ = run("audit", "--no-context", "--format", "github", str(tmp_path))
    assert "::warning file=" in out and "line=2" in out
    _, out, _ = run("audit", "--no-context", "--format", "markdown", str(tmp_path))
    assert "| file | line |" in out


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN <<EOT\necho\n")
    (tmp_path / "Dockerfile.bin").write_bytes(b"\x00\x01\x02\xff")
    (tmp_path / "Dockerfile.unknown").write_text("FROM debian:12\nFROBNICATE x\n")
    (tmp_path / "Dockerfile.ok").write_text(BAD)
    code, out, err = run("audit", "--no-context", str(tmp_path))
    assert code == 2
    assert "Traceback" not in out + err
    # errors on stderr, one line each; findings on stdout
    assert "unterminated heredoc" in err and "unterminated heredoc" not in out
    assert "Dockerfile.unknown:2: unknown instruction" in err
    assert "binary data" in err
    assert len(err.splitlines()) == 3 and all(
        line.startswith("jettison: error: ") for line in err.splitlines()
    )
    assert "JT102" in out  # the good file is still audited
    code, _, err = run("audit", str(tmp_path / "missing"))
    assert code == 2


def test_config_and_flags(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / ".jettison.toml").write_text('ignore = ["JT102"]\n[severity]\nJT101 = "error"\n')
    monkeypatch.chdir(tmp_path)
    _, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    data = json.loads(out)
    assert "JT102" not in {f["code"] for f in data}
    assert next(f for f in data if f["code"] == "JT101")["severity"] == "error"
    _, out, _ = run("audit", "--no-context", "--format", "json", "--select", "JT101", "Dockerfile")
    assert {f["code"] for f in json.loads(out)} == {"JT101"}
    (tmp_path / ".hadolint.yaml").write_text("ignored:\n  - DL3009\n")
    _code, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    assert "JT101" not in {f["code"] for f in json.loads(out)}


def test_context_rules(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\nUSER 1000\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "pack").write_bytes(b"x" * 2_000_000)
    (tmp_path / ".env").write_text("SECRET=hunter2\n")
    _, out, _ = run("audit", "--format", "json", str(tmp_path))
    codes = {f["code"] for f in json.loads(out)}
    assert {"JT601", "JT603", "JT604"} <= codes
    assert "hunter2" not in out
    (tmp_path / ".dockerignore").write_text(".git\n")
    _, out, _ = run("audit", "--format", "json", str(tmp_path))
    found = {f["code"]: f for f in json.loads(out)}
    assert "JT601" not in found and "JT603" in found
    assert "JT602" in found and ".env" in found["JT602"]["message"]
    (tmp_path / ".dockerignore").write_text(".git\n.env\n")
    _code, out, _ = run("audit", "--format", "json", str(tmp_path))
    assert not {"JT601", "JT602", "JT603"} & {f["code"] for f in json.loads(out)}


@pytest.mark.parametrize(
    ("dockerfile", "project", "reason"),
    [
        (
            "FROM python:3.11-slim\nCOPY . /src\nRUN cd /src && git rev-parse HEAD > /rev\n",
            None,
            "`git rev-parse` runs at",
        ),
        (
            "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\nRUN pip install --no-cache-dir .\n",
            '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n',
            "version comes from setuptools-scm",
        ),
    ],
)
def test_generated_dockerignore_keeps_git_when_the_build_reads_it(
    tmp_path: Path, dockerfile: str, project: str | None, reason: str
) -> None:
    """Excluding .git made such builds fail (`git rev-parse` exits 128, setuptools-scm finds
    no version): the safe fix keeps it and says why."""
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"x" * 1000)
    if project is not None:
        (tmp_path / "pyproject.toml").write_text(project)
    _, out, _ = run("audit", "--format", "json", "--select", "JT601", str(tmp_path))
    finding = next(f for f in json.loads(out) if f["code"] == "JT601")
    assert reason in finding["message"]
    content = finding["fix"]["edits"][0]["text"]
    assert ".git" not in content.splitlines() and "**/__pycache__" in content
    # an existing .dockerignore is not told to add .git either
    (tmp_path / ".dockerignore").write_text("**/__pycache__\n")
    _, out, _ = run("audit", "--format", "json", "--select", "JT602", str(tmp_path))
    assert not [f for f in json.loads(out) if ".git" in f["message"]]


def test_git_clone_alone_does_not_keep_git(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY . /app\nRUN git clone https://example.com/x.git /x\n"
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    _, out, _ = run("audit", "--format", "json", "--select", "JT601", str(tmp_path))
    finding = next(f for f in json.loads(out) if f["code"] == "JT601")
    assert ".git" in finding["fix"]["edits"][0]["text"].splitlines()


def test_statistics(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    _code, out, _ = run("audit", "--no-context", "--statistics", str(tmp_path))
    assert "JT102" in out and "apt-no-install-recommends" in out


def test_compose_shared_base(tmp_path: Path) -> None:
    for name in ("api", "worker"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(
            "FROM python:3.11-slim\nENV PYTHONUNBUFFERED=1\nRUN pip install --no-cache-dir "
            f'flask\nCOPY . /app\nCMD ["python", "/app/{name}.py"]\n'
        )
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api:\n    build: ./api\n  worker:\n    build:\n      context: ./worker\n"
        "  redis:\n    image: redis:7\n"
    )
    _code, out, _ = run(
        "audit", "--format", "json", "--select", "JT7", str(tmp_path / "docker-compose.yml")
    )
    found = json.loads(out)
    assert [f["code"] for f in found] == ["JT701"]
    assert "api, worker" in found[0]["message"]


def test_rules_command() -> None:
    code, out, _ = run("rules")
    assert code == 0 and "JT101" in out
    code, out, _ = run("rules", "JT201")
    assert "## Why it matters" in out
    code, _, _err = run("rules", "JT999")
    assert code == 2


def test_unused_python_packages_rule(tmp_path: Path) -> None:
    # `requests` is installed next to jettison (the Docker SDK needs it): an exact mapping
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY . /app\nRUN pip install --no-cache-dir -r "
        '/app/requirements.txt\nUSER 1000\nCMD ["python", "/app/main.py"]\n'
    )
    (tmp_path / "requirements.txt").write_text("requests\npyyaml\n")
    (tmp_path / "main.py").write_text("import yaml\nprint(yaml.safe_dump({}))\n")
    (tmp_path / ".dockerignore").write_text(".git\n")
    _, out, _ = run("audit", "--format", "json", "--select", "JT605", str(tmp_path))
    found = json.loads(out)
    assert [(f["code"], f["line"], f["severity"]) for f in found] == [("JT605", 1, "warning")]
    assert found[0]["message"].startswith("requests")
    (tmp_path / "main.py").write_text("import requests, yaml\n")
    _, out, _ = run("audit", "--format", "json", "--select", "JT605", str(tmp_path))
    assert json.loads(out) == []


def test_unreadable_directory_is_an_error_not_silence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.walk skips a directory it cannot list unless told: '0 files, exit 0' hid it."""
    import os

    from jettison.audit import discover

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "Dockerfile").write_text("FROM debian:12\n")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if os.fspath(path) == str(locked):  # type: ignore[call-overload]
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    found = discover([str(tmp_path)])
    assert not found.dockerfiles
    assert [str(e) for e in found.errors] == [f"{locked}: cannot read directory: Permission denied"]


# what BuildKit (Docker 20.10's) answered for each pattern in a .dockerignore: "syntax error
# in pattern" (True) or a build (False)
@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        ("[", True),
        ("[]", True),
        ("[a", True),
        ("[a-]", True),
        ("[-a]", True),
        ("a\\", True),
        ("[]a]", True),
        ("[^]", True),
        ("x[a-c-e]", True),
        ("[a]", False),
        ("[^a]", False),
        ("\\[", False),
        ("[a-z]*.py", False),
        ("[\\]]", False),
        ("**/*.pyc", False),
        ("[!a]", False),
    ],
)
def test_dockerignore_patterns_buildkit_refuses(pattern: str, refused: bool) -> None:
    from jettison.build_context.scan import bad_pattern

    assert bad_pattern(pattern) is refused


def test_refused_dockerignore_is_an_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\n")
    (tmp_path / ".dockerignore").write_text("*.md\n\n!keep[\n")
    code, out, err = run("audit", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / '.dockerignore'}:3: syntax error in pattern '!keep['" in out + err


def test_context_option_names_the_build_context(tmp_path: Path) -> None:
    """`audit --context DIR docker/Dockerfile` reads the context `docker build -f
    docker/Dockerfile DIR` sends: its .dockerignore (none here), its files."""
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM debian:12\nCOPY . /app\n")
    (tmp_path / "docker" / ".dockerignore").write_text("*\n")  # only the folder has one
    (tmp_path / "app.py").write_text("print('hi')\n")
    dockerfile = str(tmp_path / "docker" / "Dockerfile")
    _, own, _ = run("audit", "--select", "JT601", "--format", "json", dockerfile)
    _, given, _ = run(
        "audit", "--select", "JT601", "--format", "json", "--context", str(tmp_path), dockerfile
    )
    assert "JT601" not in own and "JT601" in given, (own, given)
    code, _, err = run("audit", "--context", str(tmp_path / "missing"), dockerfile)
    assert code == 2 and "build context does not exist" in err
