"""Rewrites for real project shapes, on the real engine, each on a small fixture project.

Every test writes a project in one shape, runs ``jettison fix --unsafe-fixes`` on it as a user
would, builds the original and the fixed file with BuildKit, and checks that the fixed image
builds, passes the project's own smoke check, and is smaller; for the dependency-order fixes,
that a code change rebuilds without reinstalling any dependency. Images are tagged
``jt-rewrite-*`` and removed afterwards.
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


class Engine:
    def __init__(self) -> None:
        self.tags: list[str] = []
        self.prefix = f"jt-rewrite-{secrets.token_hex(3)}"

    def build(self, context: Path, name: str, dockerfile: Path | None = None) -> str:
        """Build and return the plain-progress log (which steps ran, which were cached)."""
        tag = f"{self.prefix}-{name}"
        cmd = [DOCKER, "build", "--progress=plain", "-t", tag]
        if dockerfile is not None:
            cmd += ["-f", str(dockerfile)]
        done = subprocess.run(
            [*cmd, str(context)],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )
        if tag not in self.tags:
            self.tags.append(tag)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stderr

    def size(self, name: str) -> int:
        out = subprocess.run(
            [DOCKER, "image", "inspect", "-f", "{{.Size}}", f"{self.prefix}-{name}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip())

    def run(self, name: str, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DOCKER, "run", "--rm", "--network", "none", f"{self.prefix}-{name}", *argv],
            capture_output=True,
            text=True,
            timeout=300,
        )

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


def jettison(*args: str, cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "jettison", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return done.returncode, done.stdout + done.stderr


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def fix(root: Path, *extra: str) -> str:
    """``jettison fix --unsafe-fixes`` on ``root/Dockerfile``; the fixed text (kept beside
    the original as Dockerfile.fixed, the original restored)."""
    dockerfile = root / "Dockerfile"
    original = dockerfile.read_text()
    code, out = jettison("fix", "--unsafe-fixes", *extra, str(dockerfile), cwd=root)
    assert code == 0, out
    fixed = dockerfile.read_text()
    assert fixed != original, out
    (root / "Dockerfile.fixed").write_text(fixed)
    dockerfile.write_text(original)
    return fixed


# --- a worker that writes its log under the WORKDIR, converted with a new non-root user ----

WORKER = {
    "requirements.txt": "six==1.16.0\n",
    "worker.py": (
        "import logging, os, six\n"
        "logging.basicConfig(filename='worker.log', level=logging.INFO)\n"
        "os.makedirs('state', exist_ok=True)\n"
        "open('state/last-run', 'w').write('ok')\n"
        "logging.info('worker ran as uid %s with six %s', os.getuid(), six.__version__)\n"
        "print(open('worker.log').read().strip())\n"
    ),
    "Dockerfile": (
        "FROM python:3.11\n"
        "WORKDIR /srv/worker\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n"
        "COPY . .\n"
        'CMD ["python", "worker.py"]\n'
    ),
}


@pytest.mark.engine
def test_conversion_keeps_the_workdir_writable_for_the_new_user(
    tmp_path: Path, engine: Engine
) -> None:
    write(tmp_path, WORKER)
    fixed = fix(tmp_path)
    # JT411 (an unsafe fix too) makes the user numeric: USER 10001 is the same user
    assert ("USER app" in fixed or "USER 10001" in fixed) and "COPY --chown=app:app . ." in fixed
    engine.build(tmp_path, "own-before")
    engine.build(tmp_path, "own-after", tmp_path / "Dockerfile.fixed")
    before = engine.run("own-before")
    assert before.returncode == 0, before.stderr
    after = engine.run("own-after")
    # the log file and a new directory under the WORKDIR are written by uid 10001
    assert after.returncode == 0, after.stderr
    assert "worker ran as uid 10001 with six 1.16.0" in after.stdout, after.stdout
    assert engine.size("own-after") < engine.size("own-before")


# --- `COPY . .` then `pip install .`: dependencies from pyproject.toml before the code -------

PYPROJECT = (
    "[build-system]\n"
    'requires = ["setuptools>=61"]\n'
    'build-backend = "setuptools.build_meta"\n'
    "[project]\n"
    'name = "demo"\n'
    'version = "0.1.0"\n'
    'dependencies = ["six==1.16.0", "idna==3.7; python_version >= \'3.8\'"]\n'
    "[project.scripts]\n"
    'demo = "demo:main"\n'
)
DEMO = (
    "import idna, six\n"
    "def main():\n"
    "    print('demo ok', six.__version__, idna.encode('example.com').decode())\n"
)


def step_cached(log: str, text: str) -> bool:
    """Whether the build step whose instruction contains ``text`` was taken from the cache
    (BuildKit's plain progress: ``#N [stage i/n] RUN ...`` then ``#N CACHED``)."""
    for line in log.splitlines():
        head, _, rest = line.partition(" ")
        if head.startswith("#") and rest.startswith("[") and text in rest:
            return f"{head} CACHED" in log
    raise AssertionError(f"no step with {text!r} in the build log:\n{log[-3000:]}")


@pytest.mark.engine
def test_project_install_gets_its_dependencies_before_the_code(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            # a nonce: code no earlier run built (the engine's cache outlives test runs)
            "src/demo/__init__.py": f"# {secrets.token_hex(8)}\n{DEMO}",
            "Dockerfile": (
                "FROM python:3.11\n"
                "WORKDIR /app\n"
                "COPY . .\n"
                "RUN pip install --no-cache-dir .\n"
                'CMD ["demo"]\n'
            ),
        },
    )
    fixed = fix(tmp_path)
    # the project alone, into a prefix of its own (JT207) copied after the converted venv
    assert "RUN pip install --prefix=/opt/venv-project --no-deps --no-cache-dir ." in fixed, fixed
    assert "COPY --from=builder /opt/venv-project /opt/venv" in fixed, fixed
    assert fixed.index("COPY pyproject.toml ./") < fixed.index("COPY . .")
    engine.build(tmp_path, "deps-before")
    engine.build(tmp_path, "deps-after", tmp_path / "Dockerfile.fixed")
    for name in ("deps-before", "deps-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "demo ok 1.16.0 example.com" in done.stdout, done
    assert engine.size("deps-after") < engine.size("deps-before")
    # a code change: the original reinstalls every dependency, the fixed file none
    code = tmp_path / "src/demo/__init__.py"
    code.write_text(code.read_text().replace("demo ok", "demo v2"))
    log = engine.build(tmp_path, "deps-before")
    assert not step_cached(log, "pip install --no-cache-dir .") and "Collecting six" in log
    log = engine.build(tmp_path, "deps-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "-r /tmp/project-requirements.txt"), log[-3000:]
    assert "Collecting six" not in log and "Collecting idna" not in log, log[-3000:]
    done = engine.run("deps-after")
    assert done.returncode == 0 and "demo v2 1.16.0" in done.stdout, done


# --- `COPY . .` then `pip install -r ... && for d in plugins/*; do ...; done` ----------------


@pytest.mark.engine
def test_plugin_loop_stays_after_the_copy_and_the_requirements_move_before_it(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "six==1.16.0\n",
            "plugins/geo/requirements.txt": "idna==3.7\n",
            "plugins/none/README": "a plugin without requirements\n",
            # a nonce: code no earlier run built (the engine's cache outlives test runs)
            "app.py": f"# {secrets.token_hex(8)}\nimport idna, six\n"
            "print('app ok', six.__version__, idna.encode('example.com').decode())\n",
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                "WORKDIR /opt/app\n"
                "COPY . /opt/app\n"
                "RUN pip install --no-cache-dir -r requirements.txt \\\n"
                "    && for d in plugins/*; do \\\n"
                '        if [ -f "$d/requirements.txt" ]; then \\\n'
                '            pip install --no-cache-dir -r "$d/requirements.txt"; \\\n'
                "        fi; \\\n"
                "    done\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT201")
    assert fixed.index("RUN pip install --no-cache-dir -r requirements.txt\n") < fixed.index(
        "COPY . /opt/app"
    ), fixed
    assert fixed.index("COPY . /opt/app") < fixed.index("RUN for d in plugins/*"), fixed
    engine.build(tmp_path, "loop-before")
    engine.build(tmp_path, "loop-after", tmp_path / "Dockerfile.fixed")
    for name in ("loop-before", "loop-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "app ok 1.16.0 example.com" in done.stdout, done
    # a code change: the plugins' requirements are read again, the project's are cached
    code = tmp_path / "app.py"
    code.write_text(code.read_text().replace("app ok", "app v2"))
    log = engine.build(tmp_path, "loop-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "-r requirements.txt"), log[-3000:]
    assert "Collecting six" not in log and "Collecting idna" in log, log[-3000:]
    done = engine.run("loop-after")
    assert done.returncode == 0 and "app v2 1.16.0" in done.stdout, done


# --- item 3: what the runtime image does not need -----------------------------------------


@pytest.mark.engine
def test_dev_group_left_out_of_the_copied_virtualenv(tmp_path: Path, engine: Engine) -> None:
    """bookwyrm's shape: `pip install --group main --group dev` into a builder's virtualenv
    that the final image copies; the fixed image runs without the dev group, smaller."""
    write(
        tmp_path,
        {
            "pyproject.toml": (
                "[dependency-groups]\n"
                'main = ["six==1.16.0"]\n'
                'dev = ["idna==3.7", "pyparsing==3.1.2"]\n'
            ),
            "app.py": f"# {secrets.token_hex(8)}\nimport six\nprint('app ok', six.__version__)\n",
            "Dockerfile": (
                "FROM python:3.11 AS build\n"
                "RUN python -mvenv /venv\n"
                "ENV PATH=/venv/bin:$PATH\n"
                "COPY pyproject.toml /app/\n"
                "WORKDIR /app\n"
                'RUN pip install --no-cache-dir "pip>=25.1" '
                "&& pip install --no-cache-dir --group main --group dev\n"
                "FROM python:3.11-slim\n"
                "ENV PATH=/venv/bin:$PATH\n"
                "COPY --from=build /venv /venv\n"
                "COPY app.py /app/\n"
                'CMD ["python", "/app/app.py"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT137")
    assert "pip install --no-cache-dir --group main\n" in fixed, fixed
    engine.build(tmp_path, "devgroup-before")
    engine.build(tmp_path, "devgroup-after", tmp_path / "Dockerfile.fixed")
    for name in ("devgroup-before", "devgroup-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "app ok 1.16.0" in done.stdout, done
    assert engine.run("devgroup-before", "python", "-c", "import idna").returncode == 0
    assert engine.run("devgroup-after", "python", "-c", "import idna").returncode != 0
    assert engine.size("devgroup-after") < engine.size("devgroup-before")


@pytest.mark.engine
def test_recursive_chown_to_the_owner_the_copy_gave_is_dropped(
    tmp_path: Path, engine: Engine
) -> None:
    """CTFd's shape: `COPY --chown=1001:1001 .` then `chown -R 1001:1001` of the same tree
    stores it twice; the fixed file stores it once, with the same owners."""
    write(
        tmp_path,
        {
            "run.sh": "#!/bin/sh\nstat -c '%u %n' /opt/app /opt/app/blob /var/log/app\n"
            "touch /opt/app/new /var/log/app/x && echo writable\n",
            "Dockerfile": (
                "FROM debian:bookworm-slim\n"
                "WORKDIR /opt/app\n"
                "COPY --chown=1001:1001 . /opt/app\n"
                "RUN useradd -u 1001 app && mkdir -p /var/log/app \\\n"
                "    && chown -R 1001:1001 /var/log/app /opt/app \\\n"
                "    && chmod +x /opt/app/run.sh\n"
                "USER 1001\n"
                'CMD ["/opt/app/run.sh"]\n'
            ),
        },
    )
    (tmp_path / "blob").write_bytes(secrets.token_bytes(3_000_000))
    fixed = fix(tmp_path, "--select", "JT130")
    assert "chown -R 1001:1001 /var/log/app && chown 1001:1001 /opt/app" in fixed, fixed
    engine.build(tmp_path, "chown-before")
    engine.build(tmp_path, "chown-after", tmp_path / "Dockerfile.fixed")
    outputs = [engine.run(name) for name in ("chown-before", "chown-after")]
    for done in outputs:
        assert done.returncode == 0 and "writable" in done.stdout, done
    assert outputs[0].stdout == outputs[1].stdout  # the same owners, the same writable tree
    assert "1001 /opt/app/blob" in outputs[1].stdout
    saved = engine.size("chown-before") - engine.size("chown-after")
    assert saved >= 2_900_000, saved  # the copied tree, no longer stored twice


@pytest.mark.engine
def test_copy_then_chown_becomes_copy_chown(tmp_path: Path, engine: Engine) -> None:
    write(
        tmp_path,
        {
            "app.py": (
                "import os\n"
                "open('written-at-run-time', 'w').write('ok')\n"
                "print('blob', os.path.getsize('data/blob'), 'uid', os.getuid(),"
                " 'owner', os.stat('data/blob').st_uid)\n"
            ),
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                "RUN useradd --uid 10002 -m web\n"
                "WORKDIR /app\n"
                "COPY . /app\n"
                "RUN chown -R web:web /app\n"
                "USER web\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "blob").write_bytes(os.urandom(3_000_000))
    fixed = fix(tmp_path, "--select", "JT130")
    assert "COPY --chown=web:web . /app" in fixed and "RUN chown web:web /app" in fixed
    engine.build(tmp_path, "chown-before")
    engine.build(tmp_path, "chown-after", tmp_path / "Dockerfile.fixed")
    for name in ("chown-before", "chown-after"):
        done = engine.run(name)
        assert done.returncode == 0, done.stderr
        assert "blob 3000000 uid 10002 owner 10002" in done.stdout, done.stdout
    saved = engine.size("chown-before") - engine.size("chown-after")
    assert saved > 2_900_000, saved  # the tree is no longer stored twice


@pytest.mark.engine
def test_wheels_copied_into_the_final_image_become_a_bind_mount(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.11 AS builder\n"
                "RUN --mount=type=cache,target=/root/.cache/pip "
                "pip wheel --wheel-dir /wheels six==1.16.0 idna==3.7\n"
                "FROM python:3.11-slim\n"
                "COPY --from=builder /wheels /wheels\n"
                "RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels\n"
                'CMD ["python", "-c", "import idna, six; print(\'wheels ok\', six.__version__)"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT131")
    assert "COPY --from=builder" not in fixed and "--mount=type=bind,from=builder" in fixed
    engine.build(tmp_path, "wheels-before")
    engine.build(tmp_path, "wheels-after", tmp_path / "Dockerfile.fixed")
    for name in ("wheels-before", "wheels-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "wheels ok 1.16.0" in done.stdout, done
    assert engine.size("wheels-after") < engine.size("wheels-before")


# --- the final stage copies the venv after the code (CTFd) ----------------------------------


@pytest.mark.engine
def test_venv_copied_before_the_code_stays_cached_on_a_code_change(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "six==1.16.0\n",
            # a nonce: code no earlier run built (the engine's cache outlives test runs)
            "app.py": f"# {secrets.token_hex(8)}\nimport six\nprint('app v1', six.__version__)\n",
            "Dockerfile": (
                "FROM python:3.11-slim AS build\n"
                "RUN python -m venv /opt/venv\n"
                "COPY requirements.txt /src/\n"
                "RUN /opt/venv/bin/pip install --no-cache-dir -r /src/requirements.txt\n"
                "FROM python:3.11-slim\n"
                "WORKDIR /opt/app\n"
                "COPY --chown=1001:1001 . /opt/app\n"
                "RUN useradd -u 1001 app && mkdir -p /var/log/app"
                " && chown 1001:1001 /var/log/app /opt/app\n"
                "COPY --chown=1001:1001 --from=build /opt/venv /opt/venv\n"
                'ENV PATH="/opt/venv/bin:$PATH"\n'
                "USER 1001\n"
                'CMD ["python", "app.py"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT206")
    assert fixed.index("--from=build /opt/venv") < fixed.index("COPY --chown=1001:1001 . ")
    engine.build(tmp_path, "venv-before")
    engine.build(tmp_path, "venv-after", tmp_path / "Dockerfile.fixed")
    for name in ("venv-before", "venv-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "app v1 1.16.0" in done.stdout, done
    assert engine.size("venv-after") <= engine.size("venv-before")
    # a code change: the original copies the venv again, the fixed file takes it from cache
    code = tmp_path / "app.py"
    code.write_text(code.read_text().replace("app v1", "app v2"))
    log = engine.build(tmp_path, "venv-before")
    assert not step_cached(log, "--from=build /opt/venv"), log[-3000:]
    log = engine.build(tmp_path, "venv-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "--from=build /opt/venv"), log[-3000:]
    done = engine.run("venv-after")
    assert done.returncode == 0 and "app v2 1.16.0" in done.stdout, done


# --- a setuptools project (setup.cfg) installed into a prefix, the COPY before its WORKDIR ----


@pytest.mark.engine
def test_setup_cfg_project_gets_its_dependencies_before_the_code(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            "setup.cfg": (
                "[metadata]\nname = demo\nversion = 0.1\n"
                "[options]\npackages = find:\ninstall_requires =\n    six==1.16.0\n"
            ),
            "setup.py": "from setuptools import setup\n\nsetup()\n",
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools"]\n'
                'build-backend = "setuptools.build_meta"\n'
            ),
            # a nonce: code no earlier run built (the engine's cache outlives test runs)
            "demo/__init__.py": (
                f"# {secrets.token_hex(8)}\nimport six\nMESSAGE = 'demo ok ' + six.__version__\n"
            ),
            "Dockerfile": (
                "FROM python:3.11-slim AS base\n"
                "FROM python:3.11 AS builder\n"
                "ADD . /source\n"
                "WORKDIR /source\n"
                "RUN pip3 install --prefix=/install .\n"
                "FROM base\n"
                "COPY --from=builder /install /usr/local\n"
                'CMD ["python", "-c", "import demo; print(demo.MESSAGE)"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT201,JT114")
    assert "COPY setup.cfg /source/" in fixed, fixed
    assert "RUN pip3 install --no-deps --prefix=/install ." in fixed, fixed
    engine.build(tmp_path, "cfg-before")
    engine.build(tmp_path, "cfg-after", tmp_path / "Dockerfile.fixed")
    for name in ("cfg-before", "cfg-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "demo ok 1.16.0" in done.stdout, done
    # the same files; the dependency now installed by name carries pip's REQUESTED marker
    assert engine.size("cfg-after") - engine.size("cfg-before") < 1024
    # a code change: the original reinstalls its dependency, the fixed file does not
    code = tmp_path / "demo/__init__.py"
    code.write_text(code.read_text().replace("demo ok", "demo v2"))
    log = engine.build(tmp_path, "cfg-before")
    assert "Collecting six" in log, log[-3000:]
    log = engine.build(tmp_path, "cfg-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "-r /tmp/project-requirements.txt"), log[-3000:]
    assert "Collecting six" not in log, log[-3000:]
    done = engine.run("cfg-after")
    assert done.returncode == 0 and "demo v2 1.16.0" in done.stdout, done


# --- one pip command installing a monorepo's packages (markitdown) -------------------------


@pytest.mark.engine
def test_several_local_projects_get_their_dependencies_before_the_code(
    tmp_path: Path, engine: Engine
) -> None:
    backend = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    nonce = secrets.token_hex(8)  # code no earlier run built (the engine's cache outlives runs)
    write(
        tmp_path,
        {
            "packages/core/pyproject.toml": (
                f'{backend}[project]\nname = "demo-core"\nversion = "0.1"\n'
                'dependencies = ["six==1.16.0"]\n'
                '[project.optional-dependencies]\nall = ["idna==3.7"]\n'
            ),
            "packages/core/demo_core/__init__.py": (
                f"# {nonce}\nimport idna, six\nMESSAGE = 'core ok ' + six.__version__\n"
            ),
            "packages/plugin/pyproject.toml": (
                f'{backend}[project]\nname = "demo-plugin"\nversion = "0.1"\n'
                'dependencies = ["demo-core>=0.1"]\n'
            ),
            "packages/plugin/demo_plugin/__init__.py": "from demo_core import MESSAGE\n",
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                "WORKDIR /app\n"
                "COPY . /app\n"
                "RUN pip --no-cache-dir install /app/packages/core[all] /app/packages/plugin\n"
                'CMD ["python", "-c", "import demo_plugin; print(demo_plugin.MESSAGE)"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT201")
    assert "COPY packages/plugin/pyproject.toml /app/packages/plugin/" in fixed, fixed
    assert "install --no-deps /app/packages/core[all]" in fixed, fixed
    engine.build(tmp_path, "several-before")
    engine.build(tmp_path, "several-after", tmp_path / "Dockerfile.fixed")
    for name in ("several-before", "several-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "core ok 1.16.0" in done.stdout, done
    # the same files; the dependencies now installed by name carry pip's REQUESTED marker
    assert engine.size("several-after") - engine.size("several-before") < 2048
    code = tmp_path / "packages/core/demo_core/__init__.py"
    code.write_text(code.read_text().replace("core ok", "core v2"))
    log = engine.build(tmp_path, "several-before")
    assert "Collecting six" in log, log[-3000:]
    log = engine.build(tmp_path, "several-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "-r /tmp/project-requirements.txt"), log[-3000:]
    assert "Collecting six" not in log and "Collecting idna" not in log, log[-3000:]
    done = engine.run("several-after")
    assert done.returncode == 0 and "core v2 1.16.0" in done.stdout, done


# --- the project installed into the virtualenv the final stage copies (sqlfluff's shape) ---


@pytest.mark.engine
def test_project_in_its_own_prefix_leaves_the_copied_venv_cached_on_a_code_change(
    tmp_path: Path, engine: Engine
) -> None:
    """JT207: the dependencies go into the venv, the project (with a console script) into a
    prefix of its own, copied after the venv; a code change copies the project only."""
    nonce = secrets.token_hex(8)  # code no earlier run built (the engine's cache outlives runs)
    write(
        tmp_path,
        {
            "requirements.txt": "six==1.16.0\n",
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=61"]\n'
                'build-backend = "setuptools.build_meta"\n'
                '[project]\nname = "tool"\nversion = "1.0"\ndependencies = ["six"]\n'
                '[project.scripts]\ntool = "tool.cli:main"\n'
            ),
            "src/tool/__init__.py": "",
            "src/tool/cli.py": (
                f"# {nonce}\nimport six\n\ndef main():\n    print('tool v1', six.__version__)\n"
            ),
            "Dockerfile": (
                "FROM python:3.11-slim AS build\n"
                "WORKDIR /app\n"
                "ENV VIRTUAL_ENV=/app/.venv\n"
                "RUN python -m venv $VIRTUAL_ENV\n"
                "ENV PATH=$VIRTUAL_ENV/bin:$PATH\n"
                "COPY requirements.txt .\n"
                "RUN pip install --no-cache-dir -r requirements.txt\n"
                "COPY pyproject.toml .\n"
                "COPY src ./src\n"
                "RUN pip install --no-cache-dir --no-dependencies .\n"
                "FROM python:3.11-slim\n"
                "COPY --from=build /app/.venv /app/.venv\n"
                'ENTRYPOINT ["/app/.venv/bin/tool"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT207")
    assert "COPY --from=build /app/.venv-project /app/.venv" in fixed, fixed
    engine.build(tmp_path, "prefix-before")
    engine.build(tmp_path, "prefix-after", tmp_path / "Dockerfile.fixed")
    for name in ("prefix-before", "prefix-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "tool v1 1.16.0" in done.stdout, done
    assert engine.size("prefix-after") <= engine.size("prefix-before") + 50_000
    code = tmp_path / "src" / "tool" / "cli.py"
    code.write_text(code.read_text().replace("tool v1", "tool v2"))
    log = engine.build(tmp_path, "prefix-before")
    assert not step_cached(log, "--from=build /app/.venv /app/.venv"), log[-3000:]
    log = engine.build(tmp_path, "prefix-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "--from=build /app/.venv /app/.venv"), log[-3000:]
    assert not step_cached(log, "--from=build /app/.venv-project"), log[-3000:]
    done = engine.run("prefix-after")
    assert done.returncode == 0 and "tool v2 1.16.0" in done.stdout, done


# --- evidently's shape: system packages, `pip install .${EXTRAS}` and their removal in one RUN


@pytest.mark.engine
def test_system_packages_around_the_project_install_go_with_the_dependencies(
    tmp_path: Path, engine: Engine
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT.replace(
                'dependencies = ["six==1.16.0", "idna==3.7; python_version >= \'3.8\'"]\n',
                'dependencies = ["six==1.16.0"]\n'
                '[project.optional-dependencies]\nweb = ["idna==3.7"]\n',
            ),
            "src/demo/__init__.py": f"# {secrets.token_hex(8)}\n{DEMO}",
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                'ARG INSTALL_EXTRAS="[web]"\n'
                "WORKDIR /src\n"
                "COPY pyproject.toml .\n"
                "COPY src ./src\n"
                "RUN apt-get update && \\\n"
                "    apt-get install --no-install-recommends -y make \\\n"
                "    && pip install --no-cache-dir .${INSTALL_EXTRAS} \\\n"
                "    && apt-get remove -y --purge make \\\n"
                "    && apt-get autoremove -y \\\n"
                "    && rm -rf /var/lib/apt/lists/* \\\n"
                "    && rm -rf /src\n"
                "WORKDIR /app\n"
                'CMD ["demo"]\n'
            ),
        },
    )
    fixed = fix(tmp_path, "--select", "JT201")
    deps, _, project = fixed.partition("COPY src ./src\n")
    assert "apt-get install" in deps and "apt-get remove" in deps and "apt-get" not in project
    engine.build(tmp_path, "sys-before")
    engine.build(tmp_path, "sys-after", tmp_path / "Dockerfile.fixed")
    for name in ("sys-before", "sys-after"):
        done = engine.run(name)
        assert done.returncode == 0 and "demo ok 1.16.0 example.com" in done.stdout, done
        # the toolchain is gone from both images
        assert engine.run(name, "sh", "-c", "command -v make").returncode != 0
    # the split adds a layer of the project alone, never the toolchain or apt's lists
    assert engine.size("sys-after") <= engine.size("sys-before") + 64 * 1024
    # a code change: the original reinstalls make and every dependency, the fixed file neither
    code = tmp_path / "src/demo/__init__.py"
    code.write_text(code.read_text().replace("demo ok", "demo v2"))
    log = engine.build(tmp_path, "sys-before")
    assert "Collecting six" in log
    log = engine.build(tmp_path, "sys-after", tmp_path / "Dockerfile.fixed")
    assert step_cached(log, "-r /tmp/project-requirements.txt"), log[-3000:]
    assert "Collecting six" not in log and "Collecting idna" not in log, log[-3000:]
    done = engine.run("sys-after")
    assert done.returncode == 0 and "demo v2 1.16.0 example.com" in done.stdout, done
