"""Bad input on every verb: one ``jettison: error:`` line, exit code 2, no traceback, no
"internal error", and nothing of the user's lost or half-written. None of these needs an
engine: where a verb would reach for one, DOCKER_HOST points at a socket that does not exist.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from jettison.atomic import write_files_atomic, write_text_atomic
from jettison.errors import JettisonError
from tests.unit.cli_helpers import one_error, run
from tests.unit.image.helpers import layer, legacy_archive

BAD = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
SERVICE = "FROM python:3.11-slim\nRUN pip install flask\nCOPY . /app\n"


pytestmark = pytest.mark.usefixtures("no_engine")


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".jettison-tmp")]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive([layer([("a", "f", b"x" * 5000), ("b", "f", b"y" * 10)])]))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A compose project whose two services share their first instruction."""
    root = tmp_path / "proj"
    for name in ("api", "worker"):
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text(SERVICE)
    (root / "compose.yaml").write_text(
        "services:\n  api:\n    build: ./api\n  worker:\n    build: ./worker\n"
    )
    return root


# --- messages -----------------------------------------------------------------------------


def test_error_text_is_one_printable_line() -> None:
    yaml_like = 'while parsing\n  in "<x>", line 1, column 1:\n    [broken\n    ^\nexpected ]'
    assert str(JettisonError(yaml_like, ".dive-ci")) == (
        '.dive-ci: while parsing in "<x>", line 1, column 1: [broken expected ]'
    )
    assert str(JettisonError("bad", "Dockerfile.\x1b[31mred", 3)) == (
        "Dockerfile.\\x1b[31mred:3: bad"
    )


def test_multiline_library_message_reaches_the_user_as_one_line(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: [\n")
    code, _, err = run("inspect", str(archive))
    one_error(code, err, ".dive-ci")


def test_terminal_escapes_in_file_names_are_not_sent_to_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.\x1b[2Jx").write_text("FRM x\n")
    code, _, err = run("audit", "--no-context", "--format", "json", str(tmp_path))
    one_error(code, err, "\\x1b[2J", "unknown instruction")


def test_unexpected_os_error_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "ctx/secret/pyvenv.cfg")

    monkeypatch.setattr("jettison.cli.audit.audit_paths", denied)
    (tmp_path / "Dockerfile").write_text(BAD)
    code, _, err = run("audit", str(tmp_path))
    one_error(code, err, "ctx/secret/pyvenv.cfg: Permission denied")


def test_too_deeply_nested_input_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a: " + "[" * 5000 + "\n")
    for verb in (("services",), ("ci", "github")):
        code, _, err = run(*verb, str(tmp_path / "compose.yaml"))
        one_error(code, err, "too deeply nested")


# --- configuration files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (".jettison.toml", b"select = []\n\xff\n", "2: not valid UTF-8 text"),
        (".jettison.toml", b'severity = "x"\n', "'severity' must be a table"),
        (".jettison.toml", b"import-map = 5\n", "'import-map' must be a table"),
        (".jettison.toml", b"[import-map]\nbs4 = [1]\n", "'import-map' must be a table"),
        ("pyproject.toml", b"[tool]\njettison = 5\n", "'tool.jettison' must be a table"),
        (".hadolint.yaml", b"ignored: [\n", ".hadolint.yaml:2: invalid YAML"),
        (".hadolint.yaml", b"ignored: 5\n", "'ignored' in hadolint config must be a list"),
        (".hadolint.yaml", b"- DL3008\n", "hadolint config must be a mapping"),
    ],
)
def test_broken_config_files(
    name: str, content: bytes, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / name).write_bytes(content)
    code, _, err = run("audit", "--no-context", "--format", "json", "Dockerfile")
    one_error(code, err, expected)


def test_explicit_config_that_is_binary(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "conf.toml").write_bytes(b"\x00\xe1\xff garbage")
    for verb in ("audit", "fix", "deps"):
        code, _, err = run(verb, "--config", str(tmp_path / "conf.toml"), str(tmp_path))
        one_error(code, err, "conf.toml:1: not valid UTF-8 text")


# --- audit ----------------------------------------------------------------------------------


def test_audit_statistics_reports_files_it_could_not_check(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FRM debian\n")
    code, out, err = run("audit", "--no-context", "--statistics", str(tmp_path / "Dockerfile"))
    one_error(code, err, "Dockerfile:1: unknown instruction: FRM")
    assert "findings by rule" in out


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_audit_jobs_must_be_positive(jobs: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    code, _, err = run("audit", "--jobs", jobs, str(tmp_path))
    assert code == 2 and "Invalid value for '--jobs'" in err


# --- fix ------------------------------------------------------------------------------------


def test_fix_each_fix_needs_verify(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN apt-get update\n")
    code, _, err = run("fix", "--each-fix", str(tmp_path / "Dockerfile"))
    one_error(code, err, "--each-fix needs --verify")
    assert (tmp_path / "Dockerfile").read_text() == "FROM debian:12\nRUN apt-get update\n"


def test_fix_reads_dockerfiles_as_audit_does(tmp_path: Path) -> None:
    nul = tmp_path / "nul.Dockerfile"
    nul.write_bytes(b"FROM debian:12\nRUN echo \x00hi\n")
    code, _, err = run("fix", str(nul))
    one_error(code, err, "binary data, not a Dockerfile")
    bad = tmp_path / "bad.Dockerfile"
    bad.write_bytes(b"FROM debian:12\nRUN echo \xff\n")
    code, _, err = run("fix", str(bad))
    one_error(code, err, "bad.Dockerfile:2: not valid UTF-8 text")


def test_fix_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "Dockerfile"
    real.parent.mkdir()
    real.write_text(BAD)
    link = tmp_path / "Dockerfile"
    link.symlink_to(real)
    code, _, err = run("fix", str(link))
    assert code == 0, err
    assert link.is_symlink() and "rm -rf /var/lib/apt/lists" in real.read_text()


def test_fix_write_failure_is_reported_and_others_still_written(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck"
    stuck.mkdir()
    (stuck / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\nUSER 1000\n")
    (stuck / ".env").write_text("SECRET=1\n")
    (stuck / ".dockerignore").mkdir()  # the fixer writes a .dockerignore: cannot
    fine = tmp_path / "fine"
    fine.mkdir()
    (fine / "Dockerfile").write_text(BAD)
    before = (stuck / "Dockerfile").read_text()
    code, out, err = run("fix", str(stuck / "Dockerfile"), str(fine / "Dockerfile"))
    one_error(code, err, ".dockerignore: is a directory")
    assert (stuck / "Dockerfile").read_text() == before  # with its .dockerignore or not at all
    assert f"{stuck / 'Dockerfile'}: applied" not in out
    assert "rm -rf /var/lib/apt/lists" in (fine / "Dockerfile").read_text()
    assert leftovers(tmp_path) == []


# --- atomic writes --------------------------------------------------------------------------


def test_atomic_write_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(JettisonError, match="afile/out: cannot write: Not a directory"):
        write_text_atomic(tmp_path / "afile" / "out", "data")
    (tmp_path / "adir").mkdir()
    with pytest.raises(JettisonError, match="is a directory"):
        write_text_atomic(tmp_path / "adir", "data")
    assert leftovers(tmp_path) == []


def test_atomic_write_into_a_fifo_keeps_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    write_text_atomic(fifo, "through the pipe")
    reader.join(timeout=10)
    assert got == ["through the pipe"] and fifo.is_fifo()


def test_atomic_group_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").write_text("A0")
    (tmp_path / "c").write_text("C0")
    real_replace = os.replace
    calls: list[object] = []

    def flaky(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise PermissionError(1, "Operation not permitted", src)
        real_replace(src, dst)

    monkeypatch.setattr("jettison.atomic.os.replace", flaky)
    files = {tmp_path / "a": "A1", tmp_path / "c": "C1", tmp_path / "new" / "d": "D1"}
    with pytest.raises(JettisonError, match="new/d: cannot write: Operation not permitted"):
        write_files_atomic(files, make_dirs=True)
    monkeypatch.setattr("jettison.atomic.os.replace", real_replace)
    assert (tmp_path / "a").read_text() == "A0" and (tmp_path / "c").read_text() == "C0"
    assert not (tmp_path / "new").exists() and leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_atomic_write_keeps_the_owner(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(BAD)
    os.chown(target, 12345, 12345)
    write_text_atomic(target, "FROM scratch\n")
    assert (target.stat().st_uid, target.stat().st_gid) == (12345, 12345)


# --- inspect --------------------------------------------------------------------------------


def test_inspect_output_checked_before_reading(archive: Path, tmp_path: Path) -> None:
    code, _, err = run("inspect", str(archive), "-o", str(tmp_path / "no" / "dir" / "r.json"))
    one_error(code, err, "no such directory")
    assert not (tmp_path / "no").exists() and leftovers(tmp_path) == []
    before = archive.read_bytes()
    code, _, err = run("inspect", str(archive), "--format", "json", "-o", str(archive))
    one_error(code, err, "refusing to overwrite an input file")
    assert archive.read_bytes() == before
    code, _, err = run("inspect", str(archive), "-o", "")
    one_error(code, err, "no file name given")


def test_inspect_bad_image_arguments(archive: Path, tmp_path: Path) -> None:
    code, _, err = run("inspect", "")
    one_error(code, err, "IMAGE is empty")
    code, _, err = run("inspect", "--source", "archive", str(tmp_path))
    one_error(code, err, "is a directory, not an archive")
    code, _, err = run("inspect", "--source", "registry", "not a ref!!")
    one_error(code, err, "not an image reference")
    code, _, err = run("inspect", str(archive), "--platform", "junk")
    one_error(code, err, "expected OS/ARCH")


def test_inspect_archive_errors_name_the_archive(archive: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "half.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    code, _, err = run("inspect", str(truncated))
    one_error(code, err, f"{truncated}: ", "truncated")


# --- bench ----------------------------------------------------------------------------------


def test_bench_never_edits_files_outside_the_context(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    mine = tmp_path / "mine.py"
    mine.write_text("print(1)\n")
    (ctx / "app.py").symlink_to(mine)
    for touch in (str(mine), "../mine.py", "app.py"):
        code, _, err = run("bench", str(ctx), "--touch", touch, "--no-verify")
        one_error(code, err, "not inside the build context")
    code, _, err = run("bench", str(ctx), "--deps-file", str(mine))
    one_error(code, err, "--deps-file")
    assert mine.read_text() == "print(1)\n"


def test_bench_output_checked_before_building(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    code, _, err = run("bench", str(tmp_path), "-o", str(tmp_path / "no" / "r.json"))
    one_error(code, err, "no such directory")
    code, _, err = run("bench", str(tmp_path), "--html", str(tmp_path / "Dockerfile"))
    one_error(code, err, "refusing to overwrite an input file")
    assert (tmp_path / "Dockerfile").read_text() == "FROM scratch\n"


# --- services, build, ci ----------------------------------------------------------------------


def test_services_write_is_all_or_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_replace = os.replace
    calls: list[object] = []

    def flaky(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(1, "Operation not permitted", src)
        real_replace(src, dst)

    monkeypatch.setattr("jettison.atomic.os.replace", flaky)
    code, _, err = run("services", "--write", str(project / "compose.yaml"))
    monkeypatch.setattr("jettison.atomic.os.replace", real_replace)
    one_error(code, err, "cannot write: Operation not permitted")
    assert (project / "api" / "Dockerfile").read_text() == SERVICE
    assert (project / "worker" / "Dockerfile").read_text() == SERVICE
    assert not (project / "bases").exists() and not (project / "docker-bake.hcl").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "args",
    [
        ("services", "--platform", "junk"),
        ("build", "--platform", "junk"),
        ("ci", "github", "--platform", "junk"),
    ],
)
def test_platforms_are_checked(args: tuple[str, ...], project: Path) -> None:
    code, _, err = run(*args, str(project / "compose.yaml"))
    one_error(code, err, "expected OS/ARCH")


@pytest.mark.parametrize("option", ["--branch", "--registry"])
def test_ci_names_must_not_be_empty(option: str, project: Path) -> None:
    code, _, err = run("ci", "github", option, "", str(project / "compose.yaml"))
    one_error(code, err, option)


# --- rules, cache, deps -----------------------------------------------------------------------


def test_rules_bad_arguments(tmp_path: Path) -> None:
    code, _, err = run("rules", "")
    one_error(code, err, "unknown rule ''")
    (tmp_path / "afile").write_text("x")
    code, _, err = run("rules", "--write-docs", str(tmp_path / "afile" / "docs"))
    one_error(code, err, "cannot write: Not a directory")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--until", "junk"), "--until: not a duration"),
        (("--until", "-5h"), "--until: not a duration"),
        (("--keep-storage", "99999999999999999999999GB"), "more than the engine can count"),
    ],
)
def test_cache_prune_arguments_checked_before_the_engine(
    args: tuple[str, ...], expected: str
) -> None:
    code, _, err = run("cache", "prune", "--yes", *args)
    one_error(code, err, expected)


def test_deps_unknown_codes(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import flask\n")
    (tmp_path / "requirements.txt").write_text("flask\n")
    code, _, err = run("deps", str(tmp_path), "--select", "JDXXX")
    one_error(code, err, "unknown deps rule code or prefix 'JDXXX'")
    # real codes and prefixes still pass the check
    for known in ("JT901", "JT90"):
        code, _, err = run("deps", str(tmp_path), "--select", known)
        assert "unknown deps rule code" not in err and code != 2, err
