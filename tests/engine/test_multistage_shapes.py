"""The multi-stage conversion on real shapes, on the real engine, each on a small fixture project.

Every test writes a project in one shape, runs ``jettison fix --unsafe-fixes`` on it as a user
would (the conversion builds its builder stage to scan it), builds the original and the fixed
file with BuildKit, and checks that the fixed image builds, passes the project's own smoke
check and is smaller. Images are tagged ``jt-ms-*`` and removed afterwards.

The base images are the engine's stand-ins: ``python:3.11`` carries gcc and the usual headers
(so a source build needs no apt install), ``python:3.11-slim`` none.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DOCKER = "/usr/bin/docker"  # the 20.10 client: BuildKit builds
PROJECTS = Path(__file__).parent / "projects"  # fixture files too long to write inline


class Engine:
    def __init__(self) -> None:
        self.tags: list[str] = []
        self.prefix = f"jt-ms-{secrets.token_hex(3)}"

    def build(self, context: Path, name: str, dockerfile: str = "Dockerfile") -> None:
        tag = f"{self.prefix}-{name}"
        if tag not in self.tags:
            self.tags.append(tag)
        done = subprocess.run(
            [DOCKER, "build", "--progress=plain", "-t", tag, "-f", str(context / dockerfile), "."],
            cwd=context,
            capture_output=True,
            text=True,
            timeout=1200,
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )
        assert done.returncode == 0, done.stderr[-3000:]

    def size(self, name: str) -> int:
        out = subprocess.run(
            [DOCKER, "image", "inspect", "-f", "{{.Size}}", f"{self.prefix}-{name}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip())

    def run(self, name: str, *argv: str, entrypoint: str | None = None) -> str:
        cmd = [DOCKER, "run", "--rm", "--network", "none"]
        if entrypoint is not None:
            cmd += ["--entrypoint", entrypoint]
        done = subprocess.run(
            [*cmd, f"{self.prefix}-{name}", *argv], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def cleanup(self) -> None:
        if self.tags:
            subprocess.run([DOCKER, "rmi", "-f", *self.tags], capture_output=True)


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = Engine()
    try:
        yield e
    finally:
        e.cleanup()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def fix(root: Path, *extra: str) -> tuple[str, str]:
    """``jettison fix --unsafe-fixes`` on ``root/Dockerfile`` as a user runs it: the fixed
    text is written to Dockerfile.fixed, the original restored; (fixed text, stderr)."""
    dockerfile = root / "Dockerfile"
    original = dockerfile.read_text()
    done = subprocess.run(
        [sys.executable, "-m", "jettison", "fix", "--unsafe-fixes", *extra, "Dockerfile"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    fixed = dockerfile.read_text()
    (root / "Dockerfile.fixed").write_text(fixed)
    dockerfile.write_text(original)
    return fixed, done.stderr


def compare(engine: Engine, root: Path, smoke: list[str], entrypoint: str | None = None) -> int:
    """Build the original and the fixed file, run the smoke command on both; the fixed
    image must be smaller. Returns the bytes saved."""
    engine.build(root, "orig", "Dockerfile")
    engine.build(root, "fixed", "Dockerfile.fixed")
    before = engine.run("orig", *smoke, entrypoint=entrypoint)
    after = engine.run("fixed", *smoke, entrypoint=entrypoint)
    assert after == before
    saved = engine.size("orig") - engine.size("fixed")
    assert saved > 0, (engine.size("orig"), engine.size("fixed"))
    return saved


# a C extension compiled from source (MarkupSafe's _speedups), and a check that it loads
COMPILED = {
    "requirements.txt": "markupsafe==2.1.5\n",
    "app.py": (
        "import markupsafe, markupsafe._speedups\n"
        "print('escaped', markupsafe.escape('<a>'), markupsafe._speedups.__name__)\n"
    ),
}


# --- 1. the runtime's virtualenv carries no packaging tools; no conversion that does not
# shrink the image ------------------------------------------------------------------------


@pytest.mark.engine
def test_runtime_virtualenv_has_no_packaging_tools(tmp_path: Path, engine: Engine) -> None:
    write(
        tmp_path,
        {
            **COMPILED,
            "Dockerfile": (
                "FROM python:3.11\n"
                "WORKDIR /srv/web\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir --no-binary markupsafe -r requirements.txt\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, notes = fix(tmp_path)
    assert "AS builder" in fixed and "pip uninstall -y pip setuptools" in fixed, fixed
    assert "the virtualenv drops pip, setuptools" in notes
    compare(engine, tmp_path, [])
    listing = engine.run("fixed", "sh", "-c", "ls /opt/venv/bin /opt/venv/lib/python3.11/*")
    assert "markupsafe" in listing
    assert "pip" not in listing and "setuptools" not in listing, listing


@pytest.mark.engine
def test_a_conversion_that_saves_nothing_is_not_offered(tmp_path: Path) -> None:
    # a slim service whose only build package is pkg-config: the builder would take away
    # about 0.3 MB, less than its virtualenv and user add
    write(
        tmp_path,
        {
            "requirements.txt": "six==1.16.0\n",
            "app.py": "import six\nprint(six.__version__)\n",
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                "RUN apt-get update && apt-get install -y --no-install-recommends pkg-config"
                " && rm -rf /var/lib/apt/lists/*\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, notes = fix(tmp_path)
    assert "not offered: it would not make the image smaller" in notes, notes
    assert "AS builder" not in fixed and "pkg-config" in fixed


# --- 2. a file with stages: the toolchain inherited FROM a base stage ----------------------


@pytest.mark.engine
def test_toolchain_inherited_from_a_base_stage_moves_to_a_builder(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            **COMPILED,
            "Dockerfile": (
                "FROM python:3.11 AS base\n"
                "WORKDIR /app\n"
                "RUN apt-get update && apt-get install -y --no-install-recommends build-essential"
                " && rm -rf /var/lib/apt/lists/*\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir --no-binary markupsafe -r requirements.txt\n"
                "\n"
                "FROM debian:bookworm-slim AS notes\n"
                "RUN echo 'release notes' > /NOTES\n"
                "\n"
                "# the command-line tool\n"
                "FROM base AS cli\n"
                "COPY --from=notes /NOTES /app/NOTES\n"
                "COPY app.py .\n"
                'ENTRYPOINT ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    assert "FROM python:3.11 AS builder" in fixed and "FROM python:3.11-slim AS cli" in fixed
    assert "build-essential" not in fixed.split("AS cli")[1], fixed
    saved = compare(engine, tmp_path, [])
    assert saved > 500_000_000  # the full base and its compilers stay in the builder
    engine.run("fixed", "/app/NOTES", entrypoint="cat")


# --- 3. a virtualenv of the file's own, at its own path, filled by pip-compile's output ----


@pytest.mark.engine
def test_user_virtualenv_is_copied_where_it_was(tmp_path: Path, engine: Engine) -> None:
    write(
        tmp_path,
        {
            "requirements.in": "markupsafe==2.1.5\n",
            "app.py": COMPILED["app.py"],
            "Dockerfile": (
                "FROM python:3.11\n"
                "WORKDIR /app\n"
                "RUN python -m venv /app/.venv\n"
                "ENV PATH=/app/.venv/bin:$PATH\n"
                "RUN pip install --no-cache-dir pip-tools==7.4.1\n"
                "COPY requirements.in .\n"
                "RUN pip-compile --quiet -o requirements.txt requirements.in\n"
                "RUN pip install --no-cache-dir --no-binary markupsafe -r requirements.txt\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    runtime = fixed.split("FROM python:3.11-slim")[1]
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime, fixed
    assert "/opt/venv" not in fixed and "pip-compile" not in runtime
    compare(engine, tmp_path, [])
    found = engine.run("fixed", "python", "-c", "import sys, markupsafe; print(sys.prefix)")
    assert found.strip() == "/app/.venv"


# --- 4. a RUN that installs the toolchain and makes the user and its data directory ---------


@pytest.mark.engine
def test_run_mixing_apt_and_user_setup_is_split(tmp_path: Path, engine: Engine) -> None:
    write(
        tmp_path,
        {
            **COMPILED,
            "app.py": COMPILED["app.py"]
            + "import getpass, pathlib\n"
            + "pathlib.Path('/data/ok').write_text('ok')\n"
            + "print('user', getpass.getuser(), pathlib.Path('/data/ok').read_text())\n",
            "Dockerfile": (
                "FROM python:3.11\n"
                "RUN apt-get update \\\n"
                "    && apt-get install -y --no-install-recommends build-essential \\\n"
                "    && useradd --create-home svc \\\n"
                "    && mkdir -p /data && chown svc /data \\\n"
                "    && rm -rf /var/lib/apt/lists/*\n"
                "WORKDIR /home/svc\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir --no-binary markupsafe -r requirements.txt\n"
                "COPY app.py .\n"
                "USER svc\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    runtime = fixed.split("FROM python:3.11-slim")[1]
    assert "useradd --create-home svc" in runtime and "build-essential" not in runtime, fixed
    compare(engine, tmp_path, [])
    assert "user svc ok" in engine.run("fixed")


# --- 5. a toolchain no install needs: removed, no builder ---------------------------------


@pytest.mark.engine
def test_toolchain_that_no_install_needs_is_removed(tmp_path: Path, engine: Engine) -> None:
    write(
        tmp_path,
        {
            **COMPILED,
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                "# a compiler, in case a package has no wheel\n"
                "RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev"
                " && rm -rf /var/lib/apt/lists/*\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, notes = fix(tmp_path)
    assert "toolchain removed instead of moved" in notes, notes
    assert "AS builder" not in fixed and "gcc" not in fixed, fixed
    saved = compare(engine, tmp_path, [])
    assert saved > 20_000_000  # gcc and the C library headers


# --- uv: `uv pip install --system` and `uv sync` into the project's environment -------------


@pytest.mark.engine
def test_uv_pip_install_system_goes_into_the_builders_virtualenv(
    tmp_path: Path, engine: Engine
) -> None:
    """`pip install uv && uv pip install --system -r requirements.txt` on the full image:
    the builder's uv installs into its virtualenv (no --system), a C extension compiles
    there, and the runtime's virtualenv does not keep uv."""
    write(
        tmp_path,
        {
            **COMPILED,
            "Dockerfile": (
                "FROM python:3.11\n"
                "WORKDIR /app\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir uv \\\n"
                "    && uv pip install --system --no-cache --no-binary markupsafe"
                " -r requirements.txt\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    builder, runtime = fixed.split("FROM python:3.11-slim")
    assert "uv pip install --no-cache --no-binary markupsafe -r" in builder, fixed
    assert "--system" not in builder and "pip install" not in runtime, fixed
    compare(engine, tmp_path, [])
    tools = engine.run(
        "fixed", "python", "-c", "import shutil, sys; print(sys.prefix, shutil.which('uv'))"
    )
    assert tools.split() == ["/opt/venv", "None"], tools


@pytest.mark.engine
def test_uv_sync_environment_is_copied_where_uv_made_it(tmp_path: Path, engine: Engine) -> None:
    """uv's guide on one stage: dependencies with `uv sync --no-install-project`, the code,
    then `uv sync`; the project's environment (/app/.venv) goes to the slim runtime at its
    own path, uv itself stays in the builder."""
    write(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "svc"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
                'dependencies = ["markupsafe==2.1.5", "six==1.16.0"]\n'
            ),
            "app.py": COMPILED["app.py"] + "import six\nprint('six', six.__version__)\n",
            ".dockerignore": ".venv\n",
            "Dockerfile": (
                "FROM python:3.11\n"
                "RUN pip install --no-cache-dir uv\n"
                "WORKDIR /app\n"
                "COPY pyproject.toml .\n"
                "RUN uv sync --no-install-project --no-dev --no-cache\n"
                "COPY . .\n"
                "RUN uv sync --no-dev --no-cache\n"
                'ENV PATH="/app/.venv/bin:$PATH"\n'
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    builder, runtime = fixed.split("FROM python:3.11-slim")
    assert builder.count("uv sync --") == 2, fixed
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime, fixed
    assert "uv" not in runtime.replace("/app/.venv", ""), fixed
    compare(engine, tmp_path, [])
    found = engine.run("fixed", "python", "-c", "import sys, six; print(sys.prefix)")
    assert found.strip() == "/app/.venv"


@pytest.mark.engine
def test_poetry_install_fills_the_builders_virtualenv_without_poetry(
    tmp_path: Path, engine: Engine
) -> None:
    """`pip install poetry`, then `poetry install` into the system Python (virtualenvs.create
    false) on the full image: in the builder poetry runs from the base image's Python and
    installs into the active virtualenv, which the slim runtime copies without poetry."""
    write(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "svc"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
                'dependencies = ["markupsafe==2.1.5", "six==1.16.0"]\n'
                "[tool.poetry]\npackage-mode = false\n"
            ),
            "app.py": "import markupsafe, six\nprint('ok', markupsafe.escape('<a>'), six.PY3)\n",
            "Dockerfile": (
                "FROM python:3.11\n"
                "RUN pip install --no-cache-dir poetry==2.2.1\n"
                "WORKDIR /app\n"
                "COPY pyproject.toml ./\n"
                "RUN poetry config virtualenvs.create false \\\n"
                "    && poetry install --no-root --no-interaction\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    builder, runtime = fixed.split("FROM python:3.11-slim")
    assert "RUN /usr/local/bin/python -m pip install --no-cache-dir poetry==2.2.1" in builder
    assert "poetry" not in runtime, fixed
    compare(engine, tmp_path, [])
    found = engine.run(
        "fixed",
        "python",
        "-c",
        "import importlib.util, sys; print(sys.prefix, importlib.util.find_spec('poetry'))",
    )
    assert found.split() == ["/opt/venv", "None"], found


def _locked_project(root: Path, fixture: str, names: tuple[str, ...]) -> None:
    """A project whose lock file is a fixture (``tests/engine/projects/FIXTURE``): its files,
    and an app that imports what the lock installs."""
    for name in names:
        (root / name).write_bytes((PROJECTS / fixture / name).read_bytes())
    write(
        root, {"app.py": "import markupsafe, six\nprint('ok', markupsafe.escape('<a>'), six.PY3)\n"}
    )


def _environment_and_tool(engine: Engine, tool: str) -> list[str]:
    """[where the fixed image's packages are installed, whether ``tool`` is importable]."""
    found = engine.run(
        "fixed",
        "python",
        "-c",
        "import importlib.util, markupsafe; "
        f"print(markupsafe.__file__.split('/lib/')[0], importlib.util.find_spec('{tool}'))",
    )
    return found.split()


@pytest.mark.engine
def test_pipenv_system_install_fills_the_builders_virtualenv_without_pipenv(
    tmp_path: Path, engine: Engine
) -> None:
    """`pip install pipenv`, then `pipenv install --system --deploy` from a Pipfile.lock on the
    full image: in the builder pipenv runs from the base image's Python and installs into
    the active virtualenv, which the slim runtime copies without pipenv or the manifests."""
    _locked_project(tmp_path, "pipenv-system", ("Pipfile", "Pipfile.lock"))
    write(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.11\n"
                "RUN pip install --no-cache-dir pipenv==2026.10.3\n"
                "WORKDIR /app\n"
                "COPY Pipfile Pipfile.lock ./\n"
                "RUN pipenv install --system --deploy\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    builder, runtime = fixed.split("FROM python:3.11-slim")
    assert "RUN /usr/local/bin/python -m pip install --no-cache-dir pipenv==2026.10.3" in builder
    assert "pipenv" not in runtime and "Pipfile" not in runtime, fixed
    compare(engine, tmp_path, [])
    assert _environment_and_tool(engine, "pipenv") == ["/opt/venv", "None"]


@pytest.mark.engine
def test_pdm_install_moves_the_projects_environment_without_pdm(
    tmp_path: Path, engine: Engine
) -> None:
    """`pip install pdm`, then `pdm install --prod` from a pdm.lock on the full image: pdm
    makes the project's `.venv`, which the slim runtime copies from the builder, like
    `uv sync`'s; pdm itself, its constraints and the lock stay in the builder."""
    _locked_project(tmp_path, "pdm-project", ("pyproject.toml", "pdm.lock", "constraints.txt"))
    write(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.11\n"
                "COPY constraints.txt /tmp/\n"
                "RUN pip install --no-cache-dir --constraint=/tmp/constraints.txt pdm==2.29.4\n"
                "WORKDIR /app\n"
                "COPY pyproject.toml pdm.lock ./\n"
                "RUN pdm install --prod --check\n"
                "ENV PATH=/app/.venv/bin:$PATH\n"
                "COPY app.py .\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed, _ = fix(tmp_path)
    builder, runtime = fixed.split("FROM python:3.11-slim")
    assert "pdm install --prod --check" in builder
    assert "pdm" not in runtime and "constraints" not in runtime, fixed
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime, fixed
    compare(engine, tmp_path, [])
    assert _environment_and_tool(engine, "pdm") == ["/app/.venv", "None"]
