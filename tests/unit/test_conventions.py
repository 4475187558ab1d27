"""The conventions users bring from ruff and hadolint: config errors with file and line,
.hadolint.yaml honoured, standard input, no silent empty runs, ruff's fixable counts, paths
relative to the working directory in every format, the report formats CI systems read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.cli import cli
from tests.unit.cli_helpers import one_error

# JT103 (safe fix), JT111 and JT102 (unsafe fixes), JT410 (no fix)
DOCKERFILE = (
    "FROM python:3.11\nRUN apt-get update && apt-get install -y curl\nRUN pip install flask\n"
)


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


# --- configuration -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "pyproject.toml",
            '[project]\nname = "x"\n\n[tool.jettison]\nselect = ["JT1"]\nignroe = ["JT103"]\n',
            ["pyproject.toml:6: unknown key 'ignroe'", "did you mean 'ignore'?"],
        ),
        (
            ".jettison.toml",
            'select = ["JT1"]\nfail-levle = "error"\n',
            [".jettison.toml:2: unknown key 'fail-levle'", "did you mean 'fail-level'?"],
        ),
        (".jettison.toml", "\n\nignore = 5\n", [".jettison.toml:3: 'ignore' must be a list"]),
        (".jettison.toml", "fail-level = 3\n", [".jettison.toml:1: 'fail-level' must be one of"]),
        (
            "pyproject.toml",
            "[tool.jettison]\n[tool.jettison.severity]\nJT110 = true\n",
            ["pyproject.toml:3: severity of JT110 must be a level"],
        ),
        (
            ".jettison.toml",
            '[per-file-ignores]\n"a/*" = "x"\n"b/*" = 3\n',
            [".jettison.toml:3: 'per-file-ignores' values must be lists"],
        ),
        (
            ".jettison.toml",
            '[inspect]\nfail-on = { size = "1GB" }\nfial = 1\n',
            [".jettison.toml:3: unknown key 'fial' in [tool.jettison.inspect]"],
        ),
    ],
)
def test_config_mistakes_are_errors_with_file_and_line(
    project: Path, name: str, text: str, expected: list[str]
) -> None:
    (project / name).write_text(text)
    code, _, err = run("audit", "--no-context", "Dockerfile")
    one_error(code, err, *expected)


def test_a_valid_config_still_works(project: Path) -> None:
    (project / ".jettison.toml").write_text(
        'select = ["JT1"]\nignore = ["JT111"]\nfail-level = "error"\n'
        '[severity]\nJT103 = "error"\n[per-file-ignores]\n"Dockerfile" = ["JT102"]\n'
        '[inspect.fail-on]\nsize = "1GB"\n'
    )
    code, out, err = run("audit", "--no-context", "--format", "json", "Dockerfile")
    assert code == 1, err  # JT103 raised to error, fail-level error
    codes = {f["code"]: f["severity"] for f in json.loads(out)}
    assert codes == {"JT103": "error", "JT101": "warning"}  # flask ships no test suite: no JT136


# --- .hadolint.yaml ------------------------------------------------------------------------
def test_hadolint_failure_threshold(project: Path) -> None:
    (project / ".hadolint.yaml").write_text("failure-threshold: error\n")
    code, out, _ = run("audit", "--no-context", "Dockerfile")
    assert code == 0 and "JT103" in out  # warnings reported, not failing
    code, _, _ = run("audit", "--no-context", "--fail-level", "warning", "Dockerfile")
    assert code == 1  # the command line wins
    (project / ".hadolint.yaml").write_text("failure-threshold: none\n")
    assert run("audit", "--no-context", "Dockerfile")[0] == 0
    (project / ".hadolint.yaml").write_text("failure-threshold: info\n")
    (project / ".jettison.toml").write_text('fail-level = "error"\n')
    assert run("audit", "--no-context", "Dockerfile")[0] == 0  # jettison's own setting wins
    (project / ".hadolint.yaml").write_text("ignored: []\n\nfailure-threshold: severe\n")
    code, _, err = run("audit", "--no-context", "Dockerfile")
    one_error(code, err, ".hadolint.yaml:3: 'failure-threshold'", "severe")


def test_hadolint_override_sets_the_level_of_the_corresponding_rule(project: Path) -> None:
    # DL3042 is hadolint's pip cache rule: JT103
    (project / ".hadolint.yaml").write_text("override:\n  error:\n    - DL3042\n")
    code, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    levels = {f["code"]: f["severity"] for f in json.loads(out)}
    assert levels["JT103"] == "error" and levels["JT101"] == "warning"
    # jettison's own severity table wins over hadolint's override
    (project / ".jettison.toml").write_text('[severity]\nJT103 = "info"\n')
    code, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    assert {f["code"]: f["severity"] for f in json.loads(out)}["JT103"] == "info"
    (project / ".hadolint.yaml").write_text("override:\n  fatal: [DL3042]\n")
    code, _, err = run("audit", "--no-context", "Dockerfile")
    one_error(code, err, ".hadolint.yaml:1:", "unknown level 'fatal'")


def test_hadolint_trusted_registries_are_honoured(project: Path) -> None:
    """As hadolint's DL3026: the Dockerfile's python:3.11 comes from Docker Hub (JT412)."""
    (project / ".hadolint.yaml").write_text("trustedRegistries:\n  - ghcr.io\n  - quay.io\n")
    from jettison.config import load_config

    assert load_config().trusted_registries == ["ghcr.io", "quay.io"]
    code, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    found = [f for f in json.loads(out) if f["code"] == "JT412"]
    assert code == 1 and [f["line"] for f in found] == [1]
    assert "Docker Hub" in found[0]["message"]
    # one name as a string, as hadolint takes it: trusting Docker Hub, nothing to flag
    (project / ".hadolint.yaml").write_text("trustedRegistries: docker.io\n")
    code, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    assert "JT412" not in {f["code"] for f in json.loads(out)}
    # jettison's own setting wins
    (project / ".jettison.toml").write_text('trusted-registries = ["ghcr.io"]\n')
    code, out, _ = run("audit", "--no-context", "--format", "json", "Dockerfile")
    assert "JT412" in {f["code"] for f in json.loads(out)}
    (project / ".jettison.toml").write_text('trusted-registries = "ghcr.io"\n')
    code, _, err = run("audit", "--no-context", "Dockerfile")
    one_error(code, err, ".jettison.toml:1: 'trusted-registries' must be a list")
    (project / ".jettison.toml").unlink()
    (project / ".hadolint.yaml").write_text("ignored: [DL3008]\ntrustedRegistries: 5\n")
    code, _, err = run("audit", "--no-context", "Dockerfile")
    one_error(code, err, ".hadolint.yaml:2: 'trustedRegistries'")


# --- inputs --------------------------------------------------------------------------------
def test_stdin(project: Path) -> None:
    code, out, err = run("audit", "-", stdin=DOCKERFILE)
    assert code == 1 and err == ""
    assert out.startswith("-\n") and "JT103" in out and "RUN pip install flask" in out
    code, out, _ = run(
        "audit", "-", "--stdin-filename", "svc/Dockerfile", "--format", "json", stdin=DOCKERFILE
    )
    assert {f["path"] for f in json.loads(out)} == {"svc/Dockerfile"}
    # per-file-ignores see the name given
    (project / ".jettison.toml").write_text('[per-file-ignores]\n"svc/*" = ["JT1", "JT4"]\n')
    code, out, _ = run("audit", "--stdin-filename", "svc/Dockerfile", stdin=DOCKERFILE)
    assert code == 0 and "JT103" not in out
    code, _, err = run("audit", "-", stdin="FROM\n")
    one_error(code, err, "-:1:")
    code, _, err = run("audit", "Dockerfile", "--stdin-filename", "x")
    assert code == 2 and "give `-`" in err


def test_an_input_with_no_files_is_an_error(project: Path) -> None:
    (project / "empty").mkdir()
    (project / "docs").mkdir()
    (project / "docs" / "notes.md").write_text("Dockerfile tips\n")
    for path in ("empty", "docs", "typo"):
        code, _, err = run("audit", path)
        one_error(code, err, path)
    code, _, err = run("audit", "empty", "Dockerfile")
    assert code == 2 and "empty: no Dockerfile" in err
    # deps: without a Python file every declared package would look unused
    (project / "docs" / "requirements.txt").write_text("requests\n")
    for path in ("empty", "docs"):
        for extra in ((), ("--diff",)):
            code, _, err = run("deps", path, *extra)
            one_error(code, err, f"{path}: no Python file")


# --- counts --------------------------------------------------------------------------------
def test_fixable_counts_split_safe_and_unsafe(project: Path) -> None:
    code, out, _ = run("audit", "--no-context", "Dockerfile")
    assert code == 1
    findings = json.loads(run("audit", "--no-context", "--format", "json", "Dockerfile")[1])
    safe = sum(1 for f in findings if f["fix"] and f["fix"]["safety"] == "safe")
    unsafe = sum(1 for f in findings if f["fix"] and f["fix"]["safety"] == "unsafe")
    assert safe and unsafe
    summary = out.strip().splitlines()[-1]
    assert f"{safe} fixable with `jettison fix` ({unsafe} more with `--unsafe-fixes`)" in summary
    # only safe fixes carry the [*] mark
    marked = [line for line in out.splitlines() if "[*]" in line]
    assert len(marked) == safe
    _, out, _ = run("audit", "--no-context", "--statistics", "--format", "json", "Dockerfile")
    rows = json.loads(out)
    assert sum(r["fixable"] for r in rows) == safe
    assert sum(r["unsafe_fixable"] for r in rows) == unsafe
    # after `jettison fix` nothing safe is left to fix
    assert run("fix", "Dockerfile")[0] == 0
    _, out, _ = run("audit", "--no-context", "Dockerfile")
    assert "fixable with `jettison fix` (" not in out
    assert f"{unsafe} fixable with `jettison fix --unsafe-fixes`" in out


def test_statistics_only_in_text_or_json(project: Path) -> None:
    for fmt in ("sarif", "github", "junit", "gitlab", "checkstyle", "markdown"):
        code, out, err = run("audit", "--statistics", "--format", fmt, "Dockerfile")
        assert code == 2 and out == "" and "--statistics" in err


# --- paths and formats ---------------------------------------------------------------------
def test_paths_are_relative_in_every_format(project: Path) -> None:
    (project / "svc").mkdir()
    (project / "svc" / "Dockerfile").write_text(DOCKERFILE + "COPY . /app\n")
    absolute = str(project / "svc" / "Dockerfile")
    _, out, _ = run("audit", "--format", "json", absolute, str(project / "svc"))
    paths = {f["path"] for f in json.loads(out)}
    assert paths == {"svc/Dockerfile", "svc"}
    _, out, _ = run("audit", "--format", "sarif", absolute, str(project / "svc"))
    sarif = json.loads(out)
    [sarif_run] = sarif["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif_run["results"]
    }
    bases = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]
        for r in sarif_run["results"]
    }
    # the context without a .dockerignore is located at the .dockerignore it lacks
    assert uris == {"svc/Dockerfile", "svc/.dockerignore"} and bases == {"%SRCROOT%"}
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    # no link to a site that does not exist
    assert "github.com/jettison" not in out and "helpUri" not in out
    for fmt in ("text", "github", "markdown", "junit", "gitlab", "checkstyle"):
        _, out, _ = run("audit", "--format", fmt, absolute)
        assert str(project) not in out, fmt
        assert "svc/Dockerfile" in out, fmt


def test_junit_gitlab_checkstyle(project: Path) -> None:
    (project / "clean").mkdir()
    (project / "clean" / "Dockerfile").write_text(
        "FROM debian:12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends"
        " curl && rm -rf /var/lib/apt/lists/*\nUSER 1000\n"
    )
    (project / "broken.Dockerfile").write_text("FROM debian:12\nFROBNICATE\n")
    args = ("audit", "--no-context", "Dockerfile", "clean/Dockerfile", "broken.Dockerfile")
    _, out, _ = run(*args, "--format", "json")
    findings = json.loads(out)
    by_file: dict[str, int] = {}
    for f in findings:
        by_file[f["path"]] = by_file.get(f["path"], 0) + 1
    assert "clean/Dockerfile" not in by_file

    code, out, err = run(*args, "--format", "junit")
    assert code == 2 and "broken.Dockerfile:2" in err
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"Dockerfile", "clean/Dockerfile", "broken.Dockerfile"}
    assert int(suites["Dockerfile"].get("failures")) == by_file["Dockerfile"]
    assert len(suites["Dockerfile"].findall("testcase/failure")) == by_file["Dockerfile"]
    assert suites["clean/Dockerfile"].get("failures") == "0"
    assert len(suites["clean/Dockerfile"].findall("testcase")) == 1  # a passing case
    assert suites["broken.Dockerfile"].findall("testcase/error")
    assert int(root.get("failures")) == len(findings)

    code, out, _ = run(*args, "--format", "gitlab")
    issues = json.loads(out)
    assert len(issues) == len(findings) + 1  # and the file that could not be checked
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    # fingerprints follow the finding, not its line: a line added above keeps them
    before = {i["fingerprint"] for i in issues if i["location"]["path"] == "Dockerfile"}
    (project / "Dockerfile").write_text("# a comment\n" + DOCKERFILE)
    _, moved, _ = run(*args, "--format", "gitlab")
    after = {i["fingerprint"] for i in json.loads(moved) if i["location"]["path"] == "Dockerfile"}
    assert before == after

    code, out, _ = run(*args, "--format", "checkstyle")
    root = ET.fromstring(out)
    assert root.tag == "checkstyle"
    files = {f.get("name"): f.findall("error") for f in root.iter("file")}
    assert len(files["Dockerfile"]) == by_file["Dockerfile"]
    assert {e.get("severity") for e in files["Dockerfile"]} <= {"error", "warning", "info"}
    assert all(e.get("source", "").startswith("jettison.JT") for e in files["Dockerfile"])
    assert files["broken.Dockerfile"][0].get("line") == "2"


def test_xml_formats_escape_what_they_quote(project: Path) -> None:
    (project / 'we"ird<&>.Dockerfile').write_text(DOCKERFILE)
    for fmt in ("junit", "checkstyle"):
        _, out, _ = run("audit", "--no-context", "--format", fmt, 'we"ird<&>.Dockerfile')
        names = {e.get("name") for e in ET.fromstring(out).iter() if e.get("name")}
        assert 'we"ird<&>.Dockerfile' in names, fmt


def test_piped_output_is_not_cut(project: Path) -> None:
    """Run as a process with a pipe (no terminal): long lines stay whole, errors go to
    stderr, and no colour codes."""
    long_run = "RUN pip install " + " ".join(f"package-number-{i}" for i in range(8))
    assert 80 < len(long_run) < 160  # the view shortens only lines longer than 160
    (project / "Dockerfile").write_text(f"FROM python:3.11\n{long_run}\n")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [sys.executable, "-m", "jettison", "audit", "--no-context", "Dockerfile", "missing"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2
    assert long_run in done.stdout and "\x1b[" not in done.stdout
    assert done.stderr == "jettison: error: missing: no such file or directory\n"
    done = subprocess.run(
        [sys.executable, "-m", "jettison", "rules"], capture_output=True, text=True, env=env
    )
    assert max(len(line) for line in done.stdout.splitlines()) > 80
    assert "…" not in done.stdout


# --- progress ------------------------------------------------------------------------------
def test_every_verb_with_long_phases_takes_quiet(project: Path) -> None:
    for verb in ("fix", "bench", "build", "services", "deps", "inspect"):
        code, out, _ = run(verb, "--help")
        assert code == 0 and "-q, --quiet" in out, verb


_SHOWN = "from jettison.cli._common import progress_shown as p; print(p(False), p(True))"


def test_progress_only_on_a_terminals_stderr_and_never_with_quiet() -> None:
    piped = subprocess.run(
        [sys.executable, "-c", _SHOWN], capture_output=True, text=True, timeout=60
    )
    assert piped.stdout.split() == ["False", "False"]
    main, tty = os.openpty()
    try:
        on_terminal = subprocess.run(
            [sys.executable, "-c", _SHOWN], stdout=subprocess.PIPE, stderr=tty, text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        os.close(tty)
        os.close(main)
    assert on_terminal.stdout.split() == ["True", "False"]


def test_the_compose_bench_refuses_what_it_would_ignore(project: Path) -> None:
    (project / "compose.yaml").write_text("services:\n  web:\n    build: .\n")
    (project / "jettison.toml").write_text("")
    code, _, err = run("bench", "compose.yaml", "--config", "jettison.toml")
    one_error(code, err, "--config", "not available for a compose file")


# --- exit codes ----------------------------------------------------------------------------
def test_diff_exits_1_with_changes_and_0_without(project: Path) -> None:
    """ruff's convention for previews, the same in every command that has --diff."""
    import shutil

    code, out, _ = run("fix", "--diff", "Dockerfile")
    assert code == 1 and out.startswith("---")
    assert run("fix", "Dockerfile")[0] == 0
    code, out, _ = run("fix", "--diff", "Dockerfile")
    assert code == 0 and out == ""
    trio = project / "trio"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "compose-trio", trio)
    code, out, _ = run("services", "--diff", str(trio))
    assert code == 1 and "+++ " in out
    assert run("services", "--write", str(trio))[0] == 0
    assert run("services", "--diff", str(trio))[0] == 0


def test_usage_and_input_errors_exit_2_in_every_command(project: Path) -> None:
    for args in (
        ["audit", "--format", "yaml"],
        ["audit", "missing"],
        ["fix", "missing"],
        ["rules", "JT999"],
        ["ci", "github", "missing"],
        ["deps", "missing"],
        ["services", "missing"],
        ["build", "missing"],
        ["inspect", "missing.tar", "--source", "archive"],
        ["cache", "prune", "--keep-storage", "lots"],
    ):
        code, out, err = run(*args)
        assert code == 2, (args, out, err)
        assert "Traceback" not in out + err


def test_a_rule_off_by_default_needs_its_own_code(tmp_path: Path) -> None:
    """JT138 (byte code left out: a trade of bytes against start-up) is off unless selected
    by its code; a prefix such as JT or JT1 does not turn it on."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install flask\n")
    for select, expected in ((None, False), ("JT", False), ("JT1", False), ("JT,JT138", True)):
        args = ["audit", "--no-context", "--format", "json"]
        if select:
            args += ["--select", select]
        _, out, _ = run(*args, str(tmp_path / "Dockerfile"))
        assert ("JT138" in out) is expected, (select, out)
