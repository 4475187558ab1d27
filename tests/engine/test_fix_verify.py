"""``jettison fix --unsafe-fixes --verify`` on every example, on the real engine.

Each example is copied to a temporary directory (the repository is never modified); the
command must convert it to a multi-stage build, build original and fixed, pass the smoke
checks and make the image smaller. Images built by --verify are removed by jettison itself;
BuildKit's cache is kept, so a second run (and ``benchmarks/fix_outcome.py``) is fast. The
tests taking ``each_engine`` (a multi-stage conversion that serves, a bisection) run on
every selected engine.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jettison.fixes.verify import LABEL
from tests.conftest import REPO
from tests.engine.conftest import Engine

EXAMPLES = REPO / "examples"
SIZES = re.compile(r"^(\S+): verified: ([\d.]+) MB -> ([\d.]+) MB", re.M)


def _jettison(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "jettison", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    return done.returncode, done.stdout + done.stderr


def _images() -> set[str]:
    """Images --verify built (they carry its label); the engine is shared with other work."""
    out = subprocess.run(
        ["/usr/bin/docker", "images", "-q", "--no-trunc", "--filter", f"label={LABEL}"],
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


@pytest.mark.engine
@pytest.mark.parametrize(
    ("example", "smoke"),
    [
        ("web-psycopg", "python smoke.py"),
        ("celery-worker", "python smoke.py"),
        ("ml-service", "python smoke.py"),
        ("compose-trio", None),
    ],
)
def test_fix_verify_example(tmp_path: Path, example: str, smoke: str | None) -> None:
    work = tmp_path / example
    shutil.copytree(EXAMPLES / example, work)
    dockerfiles = sorted(work.rglob("Dockerfile"))
    before = {p: p.read_text() for p in dockerfiles}
    images_before = _images()
    args = ["fix", "--unsafe-fixes", "--verify", str(work)]
    if smoke:
        args[3:3] = ["--smoke", smoke]
    code, out = _jettison(*args, cwd=tmp_path)
    assert code == 0, out
    found = {Path(m.group(1)): (float(m.group(2)), float(m.group(3))) for m in SIZES.finditer(out)}
    assert set(found) == set(dockerfiles), out
    for path in dockerfiles:
        size_before, size_after = found[path]
        assert size_after < size_before, (path, out)
        text = path.read_text()
        assert text != before[path]
        assert "FROM python:3.11-slim" in text, text
        # the toolchain moves to a builder, or goes when every dependency came as a wheel
        assert " AS builder" in text or "build-essential" not in text, text
        if " AS builder" in text:  # JT411 makes the user numeric under --unsafe-fixes
            assert "USER app" in text or "USER 10001" in text
    assert "FAILED" not in out, out
    # the images jettison built were removed again
    assert not (_images() - images_before)
    # fixing the fixed files changes nothing
    code, out = _jettison("fix", "--unsafe-fixes", "--diff", str(work), cwd=tmp_path)
    assert code == 0, out


@pytest.mark.engine
def test_fix_verify_one_step_apt_and_pip_run(each_engine: Engine, tmp_path: Path) -> None:
    """A RUN that installs headers and a compiler, compiles psycopg2 and purges the compiler
    in one step (the common hand-optimised form) goes whole into the builder; the runtime
    stage gets libpq5 from the library scan, and the image still serves."""
    work = tmp_path / "one-step"
    shutil.copytree(EXAMPLES / "web-psycopg", work)
    dockerfile = work / "Dockerfile"
    original = dockerfile.read_text()
    lines = [
        line
        for line in original.splitlines()
        if not line.startswith(("RUN apt-get", "RUN pip install"))
    ]
    at = lines.index("EXPOSE 8000")
    lines[at:at] = [
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev gcc \\",
        "    && pip install --no-cache-dir -r requirements.txt \\",
        "    && apt-get purge -y --auto-remove gcc && rm -rf /var/lib/apt/lists/*",
    ]
    dockerfile.write_text("\n".join(lines) + "\n")
    code, out = _jettison(
        "fix", "--unsafe-fixes", "--verify", "--smoke", "python smoke.py", str(work), cwd=tmp_path
    )
    assert code == 0, out
    text = dockerfile.read_text()
    builder, runtime = text.split("\nFROM python:3.11-slim\n")
    assert " AS builder" in builder and "pip install --no-cache-dir -r requirements.txt" in builder
    assert "libpq5" in runtime and "gcc" not in runtime and "pip install" not in runtime
    size_before, size_after = (float(g) for g in SIZES.search(out).groups()[1:])  # type: ignore[union-attr]
    assert size_after < size_before, out


@pytest.mark.engine
def test_verify_bisects_to_the_fix_that_breaks_the_image(
    each_engine: Engine, tmp_path: Path
) -> None:
    """The app runs `make` at start-up: the multi-stage runtime lacks it, so verification
    fails, bisection names the conversion, and the other fixes are written."""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.11-slim\n"
        "RUN apt-get update\n"
        "RUN apt-get install -y make\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n"
        'CMD make --version && python -c "import six"\n'
    )
    code, out = _jettison("fix", "--unsafe-fixes", "--verify", str(tmp_path), cwd=tmp_path)
    assert code == 1, out
    assert "broken by: MULTISTAGE (bisected)" in out, out
    assert "wrote the other fixes, which pass" in out, out
    text = dockerfile.read_text()
    assert "AS builder" not in text
    assert "apt-get update \\\n    && apt-get install" in text  # JT202 kept
    assert "--no-cache-dir" in text  # JT103 kept


def test_verify_without_engine_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "compose-trio" / "api", tmp_path / "api")
    dockerfile = tmp_path / "api" / "Dockerfile"
    before = dockerfile.read_text()
    env = dict(os.environ, DOCKER_HOST="unix:///nonexistent/docker.sock")
    code, out = _jettison("fix", "--unsafe-fixes", "--verify", str(tmp_path), cwd=tmp_path, env=env)
    assert code == 2, out
    assert "no Docker engine answers" in out
    assert "Traceback" not in out
    assert dockerfile.read_text() == before
    assert not (tmp_path / "api" / ".dockerignore").exists()


EFFECT = re.compile(
    r"^\S+:   (JT\d+|[A-Z]+): ([+-][\d.]+) (MB|kB) \(.*\); checks ([\d.]+) s -> ([\d.]+) s",
    re.M,
)


def _fix_each(work: Path, select: str, cwd: Path) -> tuple[str, dict[str, float]]:
    """`fix --unsafe-fixes --verify --each-fix --select SELECT` on ``work``, which must
    succeed: (its output, each fix's size change in MB)."""
    code, out = _jettison(
        "fix", "--unsafe-fixes", "--verify", "--each-fix", "--select", select, str(work), cwd=cwd
    )
    assert code == 0, out
    return out, {e[0]: float(e[1]) / (1 if e[2] == "MB" else 1000) for e in EFFECT.findall(out)}


@pytest.mark.engine
def test_each_fix_is_measured_one_after_another(tmp_path: Path) -> None:
    """--each-fix: every fix written gets a line with the size it changed and the checks'
    time; the sizes add up to the verified change (each step is built, not estimated)."""
    work = tmp_path / "each"
    work.mkdir()
    (work / "requirements.txt").write_text("six==1.16.0\n")
    (work / "app.py").write_text("import six\nprint('each ok', six.__version__)\n")
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n"  # JT103: pip's cache stays in the layer
        "RUN apt-get update && apt-get install -y --no-install-recommends file\n"  # JT101
        "COPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    code, out = _jettison(
        "fix", "--verify", "--each-fix", "--select", "JT101,JT103", str(work), cwd=tmp_path
    )
    assert code == 0, out
    effects = {e[0]: float(e[1]) / (1 if e[2] == "MB" else 1000) for e in EFFECT.findall(out)}
    assert list(effects) == ["JT103", "JT101"], out
    assert effects["JT101"] < -1 and effects["JT103"] <= 0, out  # the apt lists, pip's cache
    size_before, size_after = (float(g) for g in SIZES.search(out).groups()[1:])  # type: ignore[union-attr]
    assert abs(sum(effects.values()) - (size_after - size_before)) < 0.3, out


@pytest.mark.engine
def test_byte_code_left_out_is_measured_in_bytes_and_start_up(tmp_path: Path) -> None:
    """JT138 (selected by its code): `--no-compile` leaves pip's byte code out; --each-fix
    reports the bytes it saved and the checks' time before and after it."""
    work = tmp_path / "bytecode"
    work.mkdir()
    (work / "app.py").write_text("import requests\nprint('bytecode ok', requests.__version__)\n")
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir requests==2.32.3\n"
        "COPY app.py /app.py\n"
        'CMD ["python", "/app.py"]\n'
    )
    out, effects = _fix_each(work, "JT138", tmp_path)
    assert "pip install --no-compile --no-cache-dir" in (work / "Dockerfile").read_text()
    assert list(effects) == ["JT138"] and effects["JT138"] < -0.3, out  # requests' byte code


@pytest.mark.engine
def test_symbols_stripped_in_the_builder_leave_the_final_image(tmp_path: Path) -> None:
    """JT139: a builder on the full python image (binutils) installs wheels whose shared
    libraries keep their symbol tables (pyyaml's, msgpack's and numpy's, about 5 MB) into a
    virtual environment the slim final stage copies; the fix strips them in the builder, the
    image still loads every C extension (numpy's vendored OpenBLAS, which strip would make
    unloadable, is left alone) and is smaller by what --each-fix reports."""
    work = tmp_path / "symbols"
    work.mkdir()
    (work / "app.py").write_text(
        "import msgpack._cmsgpack, numpy, yaml\n"
        "assert yaml.__with_libyaml__\n"
        "print('symbols ok', msgpack.unpackb(msgpack.packb([1])), yaml.safe_dump([1]).strip())\n"
        "print('blas', numpy.ones((64, 64)) @ numpy.ones(64))\n"
    )
    (work / "Dockerfile").write_text(
        "FROM python:3.11 AS build\n"
        "RUN python -m venv /opt/venv \\\n"
        "    && /opt/venv/bin/pip install --no-cache-dir pyyaml==6.0.4 msgpack==1.2.4"
        " numpy==2.4.6\n"
        "FROM python:3.11-slim\n"
        "COPY --from=build /opt/venv /opt/venv\n"
        "COPY app.py /app.py\n"
        'CMD ["/opt/venv/bin/python", "/app.py"]\n'
    )
    out, effects = _fix_each(work, "JT139", tmp_path)
    assert "strip --strip-unneeded" in (work / "Dockerfile").read_text(), out
    assert list(effects) == ["JT139"] and effects["JT139"] < -4.0, out


@pytest.mark.engine
def test_target_builder_loses_foreign_binaries_and_symbols(tmp_path: Path) -> None:
    """JT140 and JT139 on a `pip install --target` builder whose tree the final stage copies
    into /usr/local (the hand-optimized web-monitor shape): the target directory has no
    site-packages folder, so the fixes name it. selenium's macOS and Windows
    selenium-manager leave (about 11 MB), the Linux one stays and still runs, the C
    extensions are stripped and still load, and --each-fix reports both savings."""
    work = tmp_path / "target-builder"
    work.mkdir()
    (work / "requirements.txt").write_text("selenium==4.14.0\npyyaml==6.0.2\n")
    (work / "app.py").write_text(
        "import pathlib, subprocess, yaml\n"
        "import selenium.webdriver.common as c\n"
        "root = pathlib.Path(c.__file__).parent\n"
        "assert not (root / 'macos' / 'selenium-manager').exists()\n"
        "assert not (root / 'windows' / 'selenium-manager.exe').exists()\n"
        "subprocess.run([str(root / 'linux' / 'selenium-manager'), '--help'], check=True,\n"
        "               capture_output=True)\n"
        "assert yaml.__with_libyaml__\n"
        "print('target ok', yaml.safe_dump([1]).strip())\n"
    )
    (work / "Dockerfile").write_text(
        "FROM python:3.11 AS builder\n"
        "COPY requirements.txt /requirements.txt\n"
        "RUN pip install --no-cache-dir --target=/dependencies -r /requirements.txt\n"
        "FROM python:3.11-slim\n"
        "COPY --from=builder /dependencies /usr/local\n"
        "ENV PYTHONPATH=/usr/local\n"
        "COPY app.py /app.py\n"
        'CMD ["python", "/app.py"]\n'
    )
    code, out = _jettison(
        "fix",
        "--unsafe-fixes",
        "--verify",
        "--each-fix",
        "--select",
        "JT139,JT140",
        str(work),
        cwd=tmp_path,
    )
    assert code == 0, out
    text = (work / "Dockerfile").read_text()
    assert "-path '/dependencies/*'" in text and "od -An -N4" in text, out
    effects = {e[0]: float(e[1]) / (1 if e[2] == "MB" else 1000) for e in EFFECT.findall(out)}
    assert set(effects) == {"JT139", "JT140"}, out
    assert effects["JT140"] < -10.0 and effects["JT139"] < -0.5, out


@pytest.mark.engine
def test_test_suite_left_out_of_the_context(tmp_path: Path) -> None:
    """JT606: a service copied whole (`COPY . /app`) takes its test suite, fixtures
    included, into the image; the fix adds the suite to the .dockerignore, the verified
    image still runs the service (its start check passes, as the original's does) and is
    smaller by about the fixtures' size: the suite is gone."""
    work = tmp_path / "suite"
    (work / "service").mkdir(parents=True)
    (work / "service" / "__init__.py").write_text("")
    (work / "service" / "__main__.py").write_text("import service\nprint('service ok')\n")
    suite = work / "service" / "tests"
    suite.mkdir()
    (suite / "test_service.py").write_text("def test_ok():\n    assert True\n")
    (suite / "fixture.bin").write_bytes(secrets.token_bytes(300_000))
    (work / ".dockerignore").write_text(".git\n")
    (work / "Dockerfile").write_text(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "-m", "service"]\n'
    )
    out, effects = _fix_each(work, "JT606", tmp_path)
    assert "service/tests" in (work / ".dockerignore").read_text(), out
    assert list(effects) == ["JT606"] and effects["JT606"] < -0.25, out


@pytest.mark.engine
def test_translation_sources_removed_django_still_translates(tmp_path: Path) -> None:
    """JT141: Django ships every language's `.po` catalog beside its compiled `.mo`. The
    verified fix removes the `.po` files in the installing RUN; the image still translates
    (gettext reads the `.mo` files: German "Yes" is "Ja"), keeps every `.mo`, and is
    smaller by the MB --each-fix reports."""
    work = tmp_path / "catalogs"
    work.mkdir()
    (work / "app.py").write_text(
        "import glob, django\n"
        "from django.conf import settings\n"
        "settings.configure(USE_I18N=True)\n"
        "django.setup()\n"
        "from django.utils import translation\n"
        "translation.activate('de')\n"
        "mo = glob.glob(django.__path__[0] + '/conf/locale/*/LC_MESSAGES/django.mo')\n"
        "assert translation.gettext('Yes') == 'Ja' and len(mo) > 90, mo\n"
        "print('translated', translation.gettext('Yes'), len(mo))\n"
    )
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir django==5.2.3\n"
        "COPY app.py /app.py\n"
        'CMD ["python", "/app.py"]\n'
    )
    out, effects = _fix_each(work, "JT141", tmp_path)
    assert "-name '*.po'" in (work / "Dockerfile").read_text(), out
    assert list(effects) == ["JT141"] and effects["JT141"] < -5.0, out


@pytest.mark.engine
def test_extension_sources_removed_compiled_modules_still_load(tmp_path: Path) -> None:
    """JT142: fonttools' wheel (which matplotlib installs) carries the C sources Cython
    generated for its compiled modules. The verified fix removes them in the installing
    RUN; the compiled modules still load (cu2qu reports itself compiled), no `.c` is left,
    and the image is smaller by the MB --each-fix reports."""
    work = tmp_path / "sources"
    work.mkdir()
    (work / "app.py").write_text(
        "import glob, fontTools\n"
        "from fontTools.cu2qu import cu2qu\n"
        "left = glob.glob(fontTools.__path__[0] + '/**/*.c', recursive=True)\n"
        "print('compiled', cu2qu.COMPILED, 'sources left', len(left))\n"
        "assert cu2qu.COMPILED\n"
    )
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir fonttools==4.55.0\n"
        "COPY app.py /app.py\n"
        'CMD ["python", "/app.py"]\n'
    )
    out, effects = _fix_each(work, "JT142", tmp_path)
    assert "-name '*.pyx'" in (work / "Dockerfile").read_text(), out
    assert list(effects) == ["JT142"] and effects["JT142"] < -3.0, out


@pytest.mark.engine
def test_source_copied_for_the_install_becomes_a_bind_mount(tmp_path: Path) -> None:
    """JT109's fix on evidently's shape: the source is copied only for the project's own
    install and the folder holding it is deleted in the next RUN. The verified fix mounts
    the source for that RUN instead: the package still imports with its data, the build
    folder is gone, and the image is smaller by about the copy's size."""
    work = tmp_path / "mounted"
    (work / "src" / "svc").mkdir(parents=True)
    (work / "src" / "svc" / "__init__.py").write_text("VERSION = '1.0'\n")
    (work / "src" / "svc" / "data.bin").write_bytes(secrets.token_bytes(400_000))
    (work / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "svc"\nversion = "1.0"\n'
        '[tool.setuptools.package-data]\nsvc = ["*.bin"]\n'
    )
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "WORKDIR /src\n"
        "COPY pyproject.toml .\n"
        "COPY src ./src\n"
        "RUN pip install --no-cache-dir --no-deps . && rm -rf /src\n"
        "WORKDIR /app\n"
        'CMD ["python", "-c", "import os, svc; assert not os.path.exists(\'/src/pyproject.toml\');'
        " print(svc.VERSION, os.path.getsize(os.path.join(svc.__path__[0], 'data.bin')))\"]\n"
    )
    out, effects = _fix_each(work, "JT109", tmp_path)
    text = (work / "Dockerfile").read_text()
    assert "--mount=type=bind,source=src,target=/src/src,rw" in text and "COPY src" not in text
    assert list(effects) == ["JT109"] and effects["JT109"] < -0.3, out


@pytest.mark.engine
@pytest.mark.parametrize("docker_clean_removed", [False, True])
def test_symbols_stripped_on_a_slim_image_with_binutils_for_the_strip(
    tmp_path: Path, docker_clean_removed: bool
) -> None:
    """JT139 on a slim single-stage image (no binutils, explainingtitanic's shape): the RUN
    installs binutils for the strip and purges them with what they pulled in, in the same
    layer. The image still loads every C extension, keeps no strip, and is smaller by what
    --each-fix reports (the apt packages and lists leave nothing behind). Also after an
    earlier RUN removed the image's docker-clean (as a cache mount's set-up does, healthchecks'
    shape), when apt would otherwise keep 70 MB of downloads and package caches."""
    work = tmp_path / "slim-symbols"
    work.mkdir()
    (work / "app.py").write_text(
        "import shutil, msgpack._cmsgpack, yaml\n"
        "assert yaml.__with_libyaml__ and shutil.which('strip') is None\n"
        "print('symbols ok', msgpack.unpackb(msgpack.packb([1])), yaml.safe_dump([1]).strip())\n"
    )
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        + ("RUN rm -f /etc/apt/apt.conf.d/docker-clean\n" if docker_clean_removed else "")
        + "RUN pip install --no-cache-dir pyyaml==6.0.2 msgpack==1.1.0\n"
        "COPY app.py /app.py\n"
        'CMD ["python", "/app.py"]\n'
    )
    out, effects = _fix_each(work, "JT139", tmp_path)
    text = (work / "Dockerfile").read_text()
    assert "install -y --no-install-recommends binutils" in text, out
    assert "purge -y --auto-remove binutils" in text, out
    assert list(effects) == ["JT139"] and effects["JT139"] < -0.5, out


@pytest.mark.engine
def test_library_package_nothing_loads_is_dropped(tmp_path: Path) -> None:
    """healthchecks' shape: the final stage installs the libraries its wheels were built
    against, and one more that nothing loads (libxml2, with the libicu it pulls in). The
    scan of the built image keeps libpq5 (psycopg2, compiled in the builder, loads it) and
    drops libxml2; the image still imports psycopg2 and is smaller."""
    work = tmp_path / "libs"
    work.mkdir()
    (work / "Dockerfile").write_text(
        "FROM python:3.11 AS builder\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\\n"
        "    && pip wheel --no-cache-dir --no-binary psycopg2 --wheel-dir /wheels"
        " psycopg2==2.9.9\n"
        "FROM python:3.11-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libxml2 \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY --from=builder /wheels /wheels\n"
        "RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels\n"
        'CMD ["python", "-c", "import psycopg2; print(\'pg ok\', psycopg2.__version__)"]\n'
    )
    code, out = _jettison(
        "fix", "--unsafe-fixes", "--verify", "--select", "UNUSEDLIBS", str(work), cwd=tmp_path
    )
    assert code == 0, out
    text = (work / "Dockerfile").read_text()
    assert "libpq5" in text and "libxml2" not in text, text
    assert "library packages nothing in the built image loads, removed: libxml2" in out, out
    assert "kept: libpq5 (loaded by /usr/local/" in out, out  # psycopg2's extension
    size_before, size_after = (float(g) for g in SIZES.search(out).groups()[1:])  # type: ignore[union-attr]
    assert size_before - size_after > 20, out  # libxml2 and libicu72: ~36 MB


@pytest.mark.engine
def test_a_package_imported_without_being_declared_is_not_uninstalled(tmp_path: Path) -> None:
    """fastapi-celery's shape: pytest is unused and, by metadata, packaging is a dependency
    only pytest needs; but an installed package the app uses imports packaging without
    declaring it (kombu's redis transport does). Its own files in the image say so:
    pytest and pluggy go, packaging stays, and the app still starts."""
    work = tmp_path / "undeclared"
    (work / "helper" / "helper").mkdir(parents=True)
    (work / "requirements.txt").write_text("pytest==8.3.3\n")
    (work / "helper" / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n'
        '[project]\nname = "helper"\nversion = "1.0"\n'
    )
    (work / "helper" / "helper" / "__init__.py").write_text(
        "from packaging.version import Version\n\nVERSION = Version('1.0')\n"
    )
    (work / "app.py").write_text("import helper\nprint('app ok', helper.VERSION)\n")
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY helper /helper\n"
        "RUN pip install --no-cache-dir /helper\n"
        "COPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    code, out = _jettison(
        "fix", "--unsafe-fixes", "--verify", "--select", "UNUSEDDISTS", str(work), cwd=tmp_path
    )
    assert code == 0, out
    text = (work / "Dockerfile").read_text()
    uninstall = next(line for line in text.splitlines() if "pip uninstall -y" in line)
    assert "pytest" in uninstall and "pluggy" in uninstall, text
    assert "packaging" not in uninstall, text


@pytest.mark.engine
def test_project_built_without_isolation_with_the_environments_backend(tmp_path: Path) -> None:
    """sqlfluff's shape: setuptools and wheel upgraded into the virtualenv, the project
    installed --no-deps after its source. JT208 builds it with them (no fresh build
    environment and download on each code change); the image still runs the project's
    console script and is verified."""
    work = tmp_path / "isolation"
    (work / "src" / "tool").mkdir(parents=True)
    (work / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=40.8.0", "wheel"]\n'
        'build-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tool"\nversion = "1.0"\n'
        '[project.scripts]\ntool = "tool:main"\n'
    )
    (work / "src" / "tool" / "__init__.py").write_text("def main():\n    print('tool ok')\n")
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "ENV VIRTUAL_ENV=/app/.venv\n"
        "RUN python -m venv $VIRTUAL_ENV\n"
        "ENV PATH=$VIRTUAL_ENV/bin:$PATH\n"
        "RUN pip install --no-cache-dir --upgrade pip setuptools wheel\n"
        "WORKDIR /app\n"
        "COPY pyproject.toml .\n"
        "COPY src ./src\n"
        "RUN pip install --no-cache-dir --no-deps .\n"
        'CMD ["tool"]\n'
    )
    code, out = _jettison(
        "fix", "--unsafe-fixes", "--verify", "--select", "JT208", str(work), cwd=tmp_path
    )
    assert code == 0, out
    text = (work / "Dockerfile").read_text()
    assert "RUN pip install --no-build-isolation --no-cache-dir --no-deps .\n" in text, text
    assert "verified:" in out, out


@pytest.mark.engine
def test_python_package_nothing_uses_is_uninstalled(tmp_path: Path) -> None:
    """A requirements file with a tool the service never runs (pyfiglet: its fonts are
    ~5 MB): the built image's own metadata maps it to its module, nothing imports or runs
    it, so it is uninstalled right after the install, in the same RUN; six, which the app
    imports, stays, and so does the package the Dockerfile installs by name."""
    work = tmp_path / "dists"
    work.mkdir()
    (work / "requirements.txt").write_text("six==1.16.0\npyfiglet==1.0.2\n")
    (work / "app.py").write_text("import six\nprint('app ok', six.__version__)\n")
    (work / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt && pip install --no-cache-dir"
        " tabulate==0.9.0\n"
        "COPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    code, out = _jettison(
        "fix", "--unsafe-fixes", "--verify", "--select", "UNUSEDDISTS", str(work), cwd=tmp_path
    )
    assert code == 0, out
    text = (work / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt \\\n" in text, text
    assert "    && pip uninstall -y pyfiglet && pip install" in text, text
    assert "uninstalled after their install: pyfiglet" in out, out
    assert "tabulate (the Dockerfile installs it by name)" in out, out
    assert (work / "requirements.txt").read_text() == "six==1.16.0\npyfiglet==1.0.2\n"
    size_before, size_after = (float(g) for g in SIZES.search(out).groups()[1:])  # type: ignore[union-attr]
    assert size_before - size_after > 2, out


@pytest.mark.engine
def test_a_second_strip_leaves_the_first_runs_libraries_in_their_layer(tmp_path: Path) -> None:
    """JT139 on two installing RUNs (microblog's shape), each with its strip: the second
    one strips only what still has symbols, so the libraries the first RUN installed and
    stripped are not rewritten, and not copied whole into the second RUN's layer."""
    import json
    import tarfile

    work = tmp_path / "two-runs"
    work.mkdir()
    (work / "Dockerfile").write_text(
        "FROM python:3.11\n"
        "RUN pip install --no-cache-dir pyyaml==6.0.2 msgpack==1.1.0\n"
        "RUN pip install --no-cache-dir regex==2024.11.6\n"
        'CMD ["python", "-c", "import yaml, msgpack, regex; print(yaml.__with_libyaml__)"]\n'
    )
    code, out = _jettison("fix", "--unsafe-fixes", "--select", "JT139", str(work), cwd=tmp_path)
    assert code == 0, out
    assert (work / "Dockerfile").read_text().count("--strip-unneeded") == 2, out
    tag = f"jettison-test-two-strips:{secrets.token_hex(4)}"
    docker = ["/usr/bin/docker"]
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    try:
        subprocess.run([*docker, "build", "-q", "-t", tag, str(work)], check=True, env=env,
                       capture_output=True, timeout=600)  # fmt: skip
        ran = subprocess.run([*docker, "run", "--rm", tag], capture_output=True, text=True)
        assert ran.stdout.strip() == "True", ran
        archive = tmp_path / "image.tar"
        subprocess.run([*docker, "save", "-o", str(archive), tag], check=True, timeout=300)
        with tarfile.open(archive) as saved:
            manifest = json.load(saved.extractfile("manifest.json"))  # type: ignore[arg-type]
            last = saved.extractfile(manifest[0]["Layers"][-1])
            assert last is not None
            with tarfile.open(fileobj=last) as layer:
                names = layer.getnames()
        assert any("/regex/" in n for n in names), names[:20]
        rewritten = [n for n in names if "/yaml/" in n or "/msgpack/" in n]
        assert rewritten == [], rewritten
    finally:
        subprocess.run([*docker, "rmi", "-f", tag], capture_output=True)
