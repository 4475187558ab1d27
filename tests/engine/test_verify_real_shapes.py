"""``jettison fix --verify`` on the shapes real projects have, on the real engine.

Small fixture projects written for each shape: a Dockerfile in ``docker/`` built from the
repository root; an original whose import check already fails; a fix that makes the image
larger; a compose worker whose own command breaks after a fix; an HTTP service answering
400; a smoke command that hangs. Every image and container verification makes is removed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from jettison.engine import docker_client
from jettison.engine.smoke import verify
from jettison.findings import FixSafety
from jettison.fixes.apply import AppliedFix, FixOutcome
from jettison.fixes.per_file import verify_file
from jettison.fixes.verify import LABEL, BuildInputs, CheckPlan, _host_smoke, build_text

pytestmark = pytest.mark.engine
DOCKER = "/usr/bin/docker"


def _jettison(*args: str, cwd: Path, timeout: float = 900) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "jettison", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr


def _labelled() -> set[str]:
    out = subprocess.run(
        [DOCKER, "images", "-q", "--no-trunc", "--filter", f"label={LABEL}"],
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def _build(tmp_path: Path, text: str, tag: str) -> str:
    (tmp_path / "Dockerfile").write_text(text)
    subprocess.run(
        [DOCKER, "build", "-q", "-t", tag, str(tmp_path)],
        check=True,
        capture_output=True,
        env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"},
    )
    return tag


def test_dockerfile_outside_the_context_root(tmp_path: Path) -> None:
    """`docker build -f docker/Dockerfile .`: verified with that context; the generated
    .dockerignore lands at the context root, where that build reads it."""
    (tmp_path / "docker").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hello from app')\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "docker" / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /srv\nCOPY app/ app/\nCMD python app/main.py\n"
    )
    before = _labelled()
    code, out, err = _jettison(
        "fix", "--verify", "-f", "docker/Dockerfile", "--context", ".", cwd=tmp_path
    )
    assert code == 0, out + err
    assert "docker/Dockerfile: verified:" in out, out + err
    assert (tmp_path / ".dockerignore").is_file(), out + err
    assert ".git" in (tmp_path / ".dockerignore").read_text()
    assert not (tmp_path / "docker" / ".dockerignore").exists()
    assert "wrote .dockerignore" in out, out
    assert _labelled() <= before  # every image verification built is gone


def test_original_failing_a_check_does_not_block_the_fixes(tmp_path: Path) -> None:
    """A package that does not import in the original: the fixed image fails the same way,
    which is not a regression; the fix is written and the report says why."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir --no-deps matplotlib-inline==0.1.7\n"
        'CMD ["python3","-c","print(\'ok\')"]\n'
    )
    code, out, err = _jettison(
        "fix", "--unsafe-fixes", "--select", "JT301", "--verify", "Dockerfile", cwd=tmp_path
    )
    assert code == 0, out + err
    assert "the original already fails imports" in out, out
    assert "broken by" not in out, out
    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile.read_text()


def test_a_larger_result_fails_verification(tmp_path: Path) -> None:
    """A fix whose result is bigger (here one that adds 5 MB) fails verification, the
    report says "larger", bisection names it and nothing of it is chosen."""
    dockerfile = tmp_path / "Dockerfile"
    source = 'FROM debian:bookworm-slim\nCMD ["true"]\n'
    dockerfile.write_text(source)
    grown = source.replace("CMD", "RUN head -c 5000000 /dev/urandom > /blob\nCMD")
    applied = [AppliedFix("JT999", 2, "a fix that adds bytes", FixSafety.SAFE)]
    outcome = FixOutcome(str(dockerfile), source, grown, applied)
    checked = verify_file(
        source,
        BuildInputs.of(dockerfile),
        outcome,
        lambda units: outcome if units else FixOutcome(str(dockerfile), source, source),
        CheckPlan(),
        docker_client(),
    )
    text = "\n".join(checked.lines())
    assert not checked.ok and checked.chosen is None, text
    assert "image is larger" in text and "% larger)" in text, text
    assert "broken by: JT999" in text, text


def test_compose_services_run_their_own_command(tmp_path: Path) -> None:
    """The image's CMD passes either way; the worker service's own command needs the apt
    lists that JT101 removes: verification runs that command, names JT101, writes nothing
    of it."""
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends procps\n"
        'CMD ["sleep", "60"]\n'
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    image: shapes-app\n"
        "  worker:\n"
        "    image: shapes-app\n"
        "    command: sh -c 'ls /var/lib/apt/lists | grep -q Packages && sleep 60'\n"
    )
    code, out, err = _jettison("fix", "--select", "JT101", "--verify", "compose.yaml", cwd=tmp_path)
    assert "start worker" in out, out + err
    assert "broken by: JT101" in out, out + err
    assert code == 1
    assert "rm -rf /var/lib/apt/lists" not in (tmp_path / "Dockerfile").read_text()


def test_http_answer_must_be_2xx_or_3xx(tmp_path: Path) -> None:
    server = (
        "import http.server as h\n"
        "class H(h.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(400); self.end_headers(); self.wfile.write(b'bad host')\n"
        "h.HTTPServer(('0.0.0.0', 8000), H).serve_forever()\n"
    )
    (tmp_path / "server.py").write_text(server)
    tag = _build(
        tmp_path,
        "FROM python:3.11-slim\nCOPY server.py /\nEXPOSE 8000\nCMD python /server.py\n",
        "jt-verify-shapes-http",
    )
    try:
        sdk = docker_client()
        ports = [c for c in verify(tag, sdk=sdk, imports=False).checks if c.name == "ports"]
        assert ports and not ports[0].ok and "HTTP 400" in ports[0].detail
        named = verify(tag, sdk=sdk, imports=False, http_statuses=frozenset({400})).checks
        assert [c.ok for c in named if c.name == "ports"] == [True]
    finally:
        subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True)


def test_a_hanging_smoke_command_is_killed_and_cleaned_up(tmp_path: Path) -> None:
    tag = _build(tmp_path, "FROM debian:bookworm-slim\n", "jt-verify-shapes-hang")
    try:
        sdk = docker_client()
        image = sdk.images.get(tag).id
        started = time.monotonic()
        result = _host_smoke(
            sdk, image, "smoke-cmd", "docker run -d {image} sleep 300 && sleep 300", 5
        )
        assert time.monotonic() - started < 60
        assert not result.ok and result.failure == "timeout" and "killed" in result.detail
        left = subprocess.run(
            [DOCKER, "ps", "-aq", "--filter", f"ancestor={image}"],
            capture_output=True,
            text=True,
        ).stdout
        assert left.strip() == ""
    finally:
        subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True)


def test_an_original_that_does_not_build_is_one_line_and_nothing_written(
    tmp_path: Path,
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends procps\n"
        "RUN false\n"
    )
    dockerfile.write_text(text)
    code, out, err = _jettison("fix", "--verify", "Dockerfile", cwd=tmp_path)
    assert code == 2, out + err
    errors = [ln for ln in err.splitlines() if ln.startswith("jettison: error:")]
    assert len(errors) == 1 and "original does not build" in errors[0], err
    assert "build failed at" in errors[0] and "false" in errors[0], err
    assert "Traceback" not in err
    assert dockerfile.read_text() == text
    assert not (tmp_path / ".dockerignore").exists()


def test_the_fixed_files_are_built_where_they_will_be_written(tmp_path: Path) -> None:
    """`COPY . .` copies the Dockerfile and .dockerignore too: verification builds the
    fixed files in their places (a hard-linked copy of the context), so the image measured
    is the image the user gets (a real project came out 125 bytes larger than verified);
    the user's own files are never written through the links."""
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "pack").write_bytes(b"x" * 300_000)
    original = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD python app.py\n"
    (tmp_path / "Dockerfile").write_text(original)
    fixed = original.replace("CMD", "# fixed\nCMD")
    sdk = docker_client()
    images: list[str] = []
    try:
        report = build_text(
            sdk,
            BuildInputs.of(tmp_path / "Dockerfile"),
            fixed,
            {".dockerignore": ".git\n"},
            CheckPlan(),
            images,
        )
        assert report.built, report.error

        def run(command: str) -> str:
            return bytes(
                sdk.containers.run(report.image_id, ["sh", "-c", command], remove=True)
            ).decode()

        assert "# fixed" in run("cat /app/Dockerfile")
        assert run("cat /app/.dockerignore").strip() == ".git"
        assert ".git" not in run("ls -a /app").split()
    finally:
        for image in images:
            subprocess.run([DOCKER, "rmi", "-f", image], capture_output=True)
    assert (tmp_path / "Dockerfile").read_text() == original
    assert not (tmp_path / ".dockerignore").exists()
