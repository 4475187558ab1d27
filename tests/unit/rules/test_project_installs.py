"""JT201 on installs of the project itself: pip install/wheel of a local path, sdists,
poetry, uv and pdm; the rewrite installs the dependencies from the manifest first."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.apply import fix_source
from jettison.rules._manifests import (
    DEPS_FILE,
    EXTRACT,
    EXTRACT_CFG,
    EXTRACT_SEVERAL,
    EXTRACT_WORDS,
)

STATIC = """\
[project]
name = "demo"
version = "0.1"
dependencies = ["six==1.16.0"]
[project.optional-dependencies]
web = ["idna"]
"""


def _fix(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> tuple[str, list[str]]:
    for name, body in (files if files is not None else {"pyproject.toml": STATIC}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    path = str(tmp_path / "Dockerfile")
    config = Config(select=["JT201"])
    outcome = fix_source(text, path, config, unsafe=True)
    again = fix_source(outcome.text, path, config, unsafe=True)
    assert again.text == outcome.text, "not idempotent"
    parse_dockerfile(outcome.text, path)
    return outcome.text, [f.message for f in again.remaining]


def test_pip_install_dot_gets_dependencies_first(tmp_path: Path) -> None:
    text, left = _fix(
        tmp_path, "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
    )
    assert text == (
        "FROM python:3.11\nWORKDIR /app\n"
        "# the project's dependencies (pyproject.toml), installed before its source is copied\n"
        "COPY pyproject.toml ./\n"
        f'RUN python3 -c "{EXTRACT}" pyproject.toml > {DEPS_FILE} \\\n'
        f"    && pip install --no-cache-dir -r {DEPS_FILE} \\\n"
        f"    && rm {DEPS_FILE}\n"
        "COPY . .\nRUN pip install --no-deps --no-cache-dir .\n"
    )
    assert left == []


def test_extras_and_a_loop_after_the_install_stay_after_it(tmp_path: Path) -> None:
    run = (
        'RUN pip install -e ".[web]" && for d in plugins/*; do pip install -r '
        "$d/requirements.txt; done\n"
    )
    text, left = _fix(tmp_path, "FROM python:3.11\nWORKDIR /app\nCOPY . .\n" + run)
    assert f"pyproject.toml web > {DEPS_FILE}" in text
    assert text.endswith(
        'COPY . .\nRUN pip install --no-deps -e ".[web]" && for d in plugins/*; do pip '
        "install -r $d/requirements.txt; done\n"
    )
    # the plugins' requirements still install after the code: still reported, no rewrite
    assert len(left) == 1 and "pip install -r" in left[0]


def test_source_directory_copy_and_manifest_copied_before(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    text, _ = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nCOPY pyproject.toml .\nCOPY src ./src\n"
        "RUN pip install .\n",
    )
    head, tail = text.split("COPY src ./src\n")
    assert head.count("COPY pyproject.toml") == 1 and f"-r {DEPS_FILE}" in head
    assert tail == "RUN pip install --no-deps .\n"


def test_pip_wheel_into_a_wheel_dir(tmp_path: Path) -> None:
    text, _ = _fix(
        tmp_path, "FROM python:3.11\nCOPY . /src\nRUN pip wheel --wheel-dir /wheels /src\n"
    )
    assert "COPY pyproject.toml /src/\n" in text
    assert f"/src/pyproject.toml > {DEPS_FILE}" in text
    assert f"pip wheel --wheel-dir /wheels -r {DEPS_FILE}" in text
    assert text.endswith("COPY . /src\nRUN pip wheel --no-deps --wheel-dir /wheels /src\n")


def test_sdist_with_system_packages_between(tmp_path: Path) -> None:
    text, _ = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
        "RUN apt-get update && apt-get install -y gcc\n"
        "RUN python -m build --sdist && pip install dist/*.tar.gz\n",
    )
    # the compilers stay before the dependency install, the code copy moves after it
    assert text.index("apt-get install") < text.index(DEPS_FILE) < text.index("COPY . .")
    assert text.endswith(
        "COPY . .\nRUN python -m build --sdist && pip install --no-deps dist/*.tar.gz\n"
    )


def test_deps_only_install_moves_above_a_venv_step(tmp_path: Path) -> None:
    files = {"pyproject.toml": STATIC, "poetry.lock": ""}
    text, left = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /w\nCOPY . /w/\nENV VIRTUAL_ENV=/opt/venv\n"
        "RUN python3 -m venv $VIRTUAL_ENV\nRUN poetry install --no-root --only main\n"
        "RUN poetry build\nRUN pip install dist/*.whl\n",
        files,
    )
    assert text.endswith(
        "ENV VIRTUAL_ENV=/opt/venv\nRUN python3 -m venv $VIRTUAL_ENV\n"
        "# the project's dependencies (lock file), installed before its source is copied\n"
        "COPY pyproject.toml poetry.lock /w/\nRUN poetry install --no-root --only main\n"
        "COPY . /w/\nRUN poetry build\nRUN pip install dist/*.whl\n"
    )
    # the project's wheel finds its dependencies installed: nothing left to report
    assert left == []


def test_poetry_with_its_configuration_repeated(tmp_path: Path) -> None:
    files = {"pyproject.toml": "[tool.poetry]\nname='x'\nreadme='README.md'\n", "poetry.lock": "",
             "README.md": "x"}  # fmt: skip
    text, left = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nRUN pip install poetry\nCOPY . .\n"
        "RUN poetry config virtualenvs.create false && poetry install --only main\n",
        files,
    )
    assert (
        "COPY pyproject.toml poetry.lock README.md ./\n"
        "RUN poetry config virtualenvs.create false && poetry install --only main --no-root\n"
        "COPY . .\n"
    ) in text
    assert left == []


def test_uv_sync_with_cache_mount_only_under_buildkit(tmp_path: Path) -> None:
    files = {"pyproject.toml": STATIC, "uv.lock": "", ".python-version": "3.11\n"}
    plain, _ = _fix(
        tmp_path, "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n", files
    )
    assert (
        "COPY pyproject.toml uv.lock .python-version ./\n"
        "RUN uv sync --locked --no-install-project\n" in plain
    )
    bk, _ = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nCOPY --chmod=644 . .\nRUN uv sync --locked\n",
        files,
    )
    assert (
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-install-project\n"
        in bk
    )


def test_pdm_no_self(tmp_path: Path) -> None:
    files = {"pyproject.toml": STATIC, "pdm.lock": ""}
    text, _ = _fix(
        tmp_path, "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pdm install --prod\n", files
    )
    assert "RUN pdm install --prod --no-self\nCOPY . .\nRUN pdm install --prod\n" in text


@pytest.mark.parametrize(
    ("pyproject", "dockerfile"),
    [
        # dependencies computed by setup.py: they need the source, so no rewrite
        ('[project]\nname="x"\nversion="1"\ndynamic=["dependencies"]\n', "RUN pip install ."),
        ("", "RUN pip install ."),  # no pyproject.toml in the context
        # an extra requiring the project itself: the dependency step would look for it on
        # the index (and install whatever has the name there)
        (STATIC + 'all = ["demo[web]"]\n', 'RUN pip install ".[all]"'),
        # the constraints (or requirements, or wheels) come with the source COPY: the
        # dependency step before it would not find them
        (STATIC, "RUN pip install -c constraints.txt ."),
        (STATIC, "RUN pip install -r requirements.txt ."),
        (STATIC, "RUN pip install --no-index --find-links=./wheels ."),
    ],
)
def test_reported_without_a_rewrite(tmp_path: Path, pyproject: str, dockerfile: str) -> None:
    files = {"pyproject.toml": pyproject} if pyproject else {"setup.py": "x"}
    files |= {"constraints.txt": "six==1.16.0\n", "requirements.txt": "idna\n"}
    text, left = _fix(tmp_path, f"FROM python:3.11\nCOPY . .\n{dockerfile}\n", files)
    assert text == f"FROM python:3.11\nCOPY . .\n{dockerfile}\n"
    assert len(left) == 1 and "install the dependencies from the manifest first" in left[0]


@pytest.mark.parametrize(
    "run",
    [
        "RUN pip install --no-deps .",  # the project alone
        "RUN pip wheel --no-deps -w /wheels .",
        "RUN pip install --upgrade pip",
    ],
)
def test_no_dependency_install_after_the_code_is_not_reported(tmp_path: Path, run: str) -> None:
    text, left = _fix(tmp_path, f"FROM python:3.11\nCOPY . .\n{run}\n")
    assert left == [] and text.endswith(f"COPY . .\n{run}\n")


SETUP_CFG = """\
[metadata]
name = demo
[options]
packages = find:
# the dependencies
install_requires =
    six==1.16.0
    idna>=3;python_version>='3.8'  # a marker, and a comment
[options.extras_require]
web = requests
"""


def test_setup_cfg_dependencies_first_and_the_copy_moves_below_the_workdir(
    tmp_path: Path,
) -> None:
    # tsfresh's shape: a PyScaffold project (setup.py calls setup() only, pyproject.toml
    # names the build backend) added to an absolute path before its WORKDIR
    files = {
        "setup.cfg": SETUP_CFG,
        "setup.py": "from setuptools import setup\nsetup(use_pyscaffold=True)\n",
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n',
    }
    text, left = _fix(
        tmp_path,
        "FROM python:3.11\nCOPY . /source\nWORKDIR /source\n"
        "RUN pip3 install --prefix=/install .[web]\n",
        files,
    )
    assert text == (
        "FROM python:3.11\nWORKDIR /source\n"
        "# the project's dependencies (setup.cfg), installed before its source is copied\n"
        "COPY setup.cfg /source/\n"
        f'RUN python3 -c "{EXTRACT_CFG}" setup.cfg web > {DEPS_FILE} \\\n'
        f"    && pip3 install --prefix=/install -r {DEPS_FILE} \\\n"
        f"    && rm {DEPS_FILE}\n"
        "COPY . /source\nRUN pip3 install --no-deps --prefix=/install .[web]\n"
    )
    assert left == []


@pytest.mark.parametrize(
    ("files", "first"),
    [
        # setup.py computes the dependencies itself: it needs the source
        ({"setup.cfg": SETUP_CFG, "setup.py": "setup(install_requires=reqs())"}, "COPY . /src"),
        # the dependencies come from a file setup.cfg points to
        ({"setup.cfg": "[options]\ninstall_requires = file: requirements.in\n"}, "COPY . /src"),
        # a relative destination cannot move below the WORKDIR
        ({"setup.cfg": SETUP_CFG}, "COPY . src"),
        # COPY --chown into a folder the WORKDIR made first would leave it root's
        ({"setup.cfg": SETUP_CFG}, "COPY --chown=app . /src"),
        ({"setup.cfg": SETUP_CFG}, "COPY --chmod=700 . /src"),
        # a [project] table: setuptools takes the dependencies from there (here from a
        # file), not from setup.cfg
        (
            {
                "setup.cfg": SETUP_CFG,
                "pyproject.toml": '[project]\nname = "demo"\nversion = "1"\n'
                'dynamic = ["dependencies"]\n[tool.setuptools.dynamic]\n'
                'dependencies = {file = ["requirements.txt"]}\n',
            },
            "COPY . /src",
        ),
        # another build backend: a leftover setup.cfg's requirements are not the project's
        (
            {
                "setup.cfg": SETUP_CFG,
                "pyproject.toml": '[build-system]\nrequires = ["poetry-core"]\n'
                'build-backend = "poetry.core.masonry.api"\n',
            },
            "COPY . /src",
        ),
        # an extra requiring the project itself
        ({"setup.cfg": SETUP_CFG + "all = demo[web]\n"}, "COPY . /src"),
    ],
)
def test_setup_cfg_not_rewritten(tmp_path: Path, files: dict[str, str], first: str) -> None:
    dockerfile = f"FROM python:3.11\n{first}\nWORKDIR /src\nRUN pip install .\n"
    text, left = _fix(tmp_path, dockerfile, files)
    assert text == dockerfile
    assert len(left) == 1 and "install the dependencies from the manifest first" in left[0]


def test_setup_cfg_script_lists_the_requirements_and_extras(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "setup.cfg").write_text(SETUP_CFG)
    done = subprocess.run(
        [sys.executable, "-c", EXTRACT_CFG, "setup.cfg", "web"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "six==1.16.0",
        "idna>=3;python_version>='3.8'",
        "requests",
    ]


def test_setup_cfg_script_reads_values_as_setuptools_does(tmp_path: Path) -> None:
    import subprocess
    import sys

    # one line split by ';', a '#' inside a URL kept, '%%' read as '%' (setuptools'
    # ConfigParser interpolates), an extra's key with a dash
    (tmp_path / "setup.cfg").write_text(
        "[options]\ninstall_requires = six==1.16.0; idna\n"
        "[options.extras_require]\nmy-extra =\n"
        "    lib @ git+https://example.com/r.git@v1#subdirectory=python\n"
        "    other @ https://example.com/other%%2B1.zip  # a comment\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", EXTRACT_CFG, "setup.cfg", "my-extra"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "six==1.16.0",
        "idna",
        "lib @ git+https://example.com/r.git@v1#subdirectory=python",
        "other @ https://example.com/other%2B1.zip",
    ]


def test_extras_are_passed_as_the_manifest_spells_them(tmp_path: Path) -> None:
    # pip installs `.[My_Extra]` as the extra `my-extra`: the script looks the key up as
    # written, so it gets the manifest's spelling
    pyproject = STATIC + 'my-extra = ["requests"]\n'
    text, _ = _fix(
        tmp_path,
        'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install ".[My_Extra]"\n',
        {"pyproject.toml": pyproject},
    )
    assert f"pyproject.toml my-extra > {DEPS_FILE}" in text
    files = {"setup.cfg": SETUP_CFG.replace("web =", "my-extra =")}
    text, _ = _fix(
        tmp_path / "cfg",
        "FROM python:3.11\nCOPY . /source\nWORKDIR /source\nRUN pip install .[my_extra]\n",
        files,
    )
    assert f"setup.cfg my-extra > {DEPS_FILE}" in text


CORE = """\
[project]
name = "demo_core"
version = "0.1"
dependencies = ["six==1.16.0"]
[project.optional-dependencies]
all = ["idna"]
"""
PLUGIN = """\
[project]
name = "demo-plugin"
version = "0.1"
dependencies = ["demo-core>=0.1", "requests"]
"""


def test_several_local_projects_get_their_dependencies_first(tmp_path: Path) -> None:
    # markitdown's shape: a monorepo's core (with extras) and a plugin that requires it

    files = {"packages/core/pyproject.toml": CORE, "packages/plugin/pyproject.toml": PLUGIN}
    text, left = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nCOPY . /app\n"
        "RUN pip --no-cache-dir install /app/packages/core[all] /app/packages/plugin\n",
        files,
    )
    assert text == (
        "FROM python:3.11\nWORKDIR /app\n"
        "# the projects' dependencies (their pyproject.toml), installed before the source is "
        "copied\n"
        "COPY packages/core/pyproject.toml /app/packages/core/\n"
        "COPY packages/plugin/pyproject.toml /app/packages/plugin/\n"
        f"RUN python3 -c \"{EXTRACT_SEVERAL}\" '/app/packages/core/pyproject.toml[all]' "
        f"/app/packages/plugin/pyproject.toml > {DEPS_FILE} \\\n"
        f"    && pip --no-cache-dir install -r {DEPS_FILE} \\\n"
        f"    && rm {DEPS_FILE}\n"
        "COPY . /app\n"
        "RUN pip --no-cache-dir install --no-deps /app/packages/core[all] /app/packages/plugin\n"
    )
    assert left == []


def test_several_projects_script_leaves_the_projects_themselves_out(tmp_path: Path) -> None:
    import subprocess
    import sys

    for name, body in (("core", CORE), ("plugin", PLUGIN)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(body)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            EXTRACT_SEVERAL,
            "core/pyproject.toml[all]",
            "plugin/pyproject.toml",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == ["six==1.16.0", "idna", "requests"]


@pytest.mark.parametrize(
    "plugin",
    [
        PLUGIN.replace('"demo-core>=0.1"', '"demo-core[all]>=0.1"'),  # another project's extras
        PLUGIN.replace('version = "0.1"', 'dynamic = ["dependencies"]'),  # not static
    ],
)
def test_several_projects_not_rewritten(tmp_path: Path, plugin: str) -> None:
    files = {"packages/core/pyproject.toml": CORE, "packages/plugin/pyproject.toml": plugin}
    dockerfile = (
        "FROM python:3.11\nCOPY . /app\nRUN pip install /app/packages/core /app/packages/plugin\n"
    )
    text, left = _fix(tmp_path, dockerfile, files)
    assert text == dockerfile
    assert len(left) == 1 and "install the dependencies from the manifest first" in left[0]


def test_several_projects_reading_a_file_the_source_brings_not_rewritten(
    tmp_path: Path,
) -> None:
    files = {
        "packages/core/pyproject.toml": CORE,
        "packages/plugin/pyproject.toml": PLUGIN,
        "constraints.txt": "six==1.16.0\n",
    }
    dockerfile = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -c constraints.txt ./packages/core ./packages/plugin\n"
    )
    text, left = _fix(tmp_path, dockerfile, files)
    assert text == dockerfile
    assert len(left) == 1 and "install the dependencies from the manifest first" in left[0]


def test_several_projects_extras_as_the_manifest_spells_them(tmp_path: Path) -> None:
    files = {
        "packages/core/pyproject.toml": CORE.replace("all =", "all-deps ="),
        "packages/plugin/pyproject.toml": PLUGIN,
    }
    text, _ = _fix(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install ./packages/core[ALL_DEPS] ./packages/plugin\n",
        files,
    )
    assert "'/app/packages/core/pyproject.toml[all-deps]'" in text


@pytest.mark.parametrize(
    ("word", "value", "expected"),
    [
        (".${INSTALL_EXTRAS}", "[web]", ["six==1.16.0", "idna"]),
        (".${INSTALL_EXTRAS}", "", ["six==1.16.0"]),
        # word splitting as in the install: a requirement beside the extras (evidently's
        # benchmark passes `[sql] pandas<3`) is installed with the dependencies
        (".${INSTALL_EXTRAS}", "[web] pandas<3", ["six==1.16.0", "idna", "pandas<3"]),
        (".[${EXTRAS}]", "web", ["six==1.16.0", "idna"]),
        ('".[${EXTRAS}]"', "web", ["six==1.16.0", "idna"]),
    ],
)
def test_extras_from_a_variable_are_read_at_build_time(
    tmp_path: Path, word: str, value: str, expected: list[str]
) -> None:
    """evidently: `ARG INSTALL_EXTRAS="[sql]"` ... `pip install .${INSTALL_EXTRAS}`: the
    dependency step passes the same words to its script, so a --build-arg still decides."""
    dockerfile = f'FROM python:3.11\nARG INSTALL_EXTRAS="[web]"\nCOPY . .\nRUN pip install {word}\n'
    text, left = _fix(tmp_path, dockerfile)
    assert left == []
    assert text.endswith(f"COPY . .\nRUN pip install --no-deps {word}\n"), text
    extract = next(line for line in text.splitlines() if "python3 -c" in line)
    command = extract.removeprefix("RUN ").replace(f" > {DEPS_FILE} \\", "")
    assert EXTRACT_WORDS in command
    variable = "INSTALL_EXTRAS" if "INSTALL" in word else "EXTRAS"
    out = subprocess.run(
        ["sh", "-c", command],
        cwd=tmp_path,
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == expected


@pytest.mark.parametrize("word", ["'.[${EXTRAS}]'", "./$EXTRAS"])
def test_extras_from_a_variable_not_read_are_not_rewritten(tmp_path: Path, word: str) -> None:
    # single quotes: pip gets `${EXTRAS}` itself; `./$EXTRAS`: a directory named by a variable
    dockerfile = f"FROM python:3.11\nCOPY . .\nRUN pip install {word}\n"
    text, left = _fix(tmp_path, dockerfile)
    assert text == dockerfile and len(left) == 1


EVIDENTLY_SHAPE = """\
FROM python:3.11-slim
ARG INSTALL_EXTRAS="[web]"
WORKDIR /src
COPY pyproject.toml .
COPY src ./src
RUN apt-get update && \\
    apt-get install --no-install-recommends -y \\
        build-essential \\
        gcc \\
    && pip install --no-cache-dir .${INSTALL_EXTRAS} \\
    && apt-get remove -y --purge gcc build-essential \\
    && apt-get autoremove -y \\
    && rm -rf /var/lib/apt/lists/* \\
    && rm -rf /src
"""
HATCH = STATIC + '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def test_system_packages_in_the_install_run_go_with_the_dependencies(tmp_path: Path) -> None:
    """The compilers, the dependency install and the compilers' removal before the source;
    the project (pure Python: hatchling) installs after it without them."""
    text, left = _fix(tmp_path, EVIDENTLY_SHAPE, {"pyproject.toml": HATCH, "src/demo.py": ""})
    assert left == []
    deps, _, project = text.partition("COPY src ./src\n")
    assert deps.index("apt-get install") < deps.index(DEPS_FILE) < deps.index("apt-get remove")
    assert "rm -rf /var/lib/apt/lists/*" in deps and "rm -rf /src" not in deps
    assert (
        project
        == "RUN pip install --no-deps --no-cache-dir .${INSTALL_EXTRAS} \\\n    && rm -rf /src\n"
    )


@pytest.mark.parametrize(
    ("files", "why"),
    [
        (
            {"pyproject.toml": HATCH, "setup.py": "from setuptools import setup\nsetup()\n"},
            "setup.py",
        ),
        (
            {"pyproject.toml": STATIC + '[build-system]\nrequires = ["setuptools", "cython"]\n'},
            "compiling",
        ),
        (
            {
                "pyproject.toml": STATIC
                + '[build-system]\nrequires = ["maturin"]\nbuild-backend = "maturin"\n'
            },
            "backend",
        ),
        ({"pyproject.toml": HATCH + "[tool.hatch.build.hooks.custom]\n"}, "hooks"),
    ],
)
def test_system_packages_stay_where_the_project_may_compile(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    text, left = _fix(tmp_path, EVIDENTLY_SHAPE, {**files, "src/demo.py": ""})
    assert text == EVIDENTLY_SHAPE
    assert len(left) == 1 and why in left[0], left


def test_system_packages_with_a_guarded_cleanup_are_not_rewritten(tmp_path: Path) -> None:
    dockerfile = EVIDENTLY_SHAPE.replace("apt-get autoremove -y", "apt-get autoremove -y || true")
    text, left = _fix(tmp_path, dockerfile, {"pyproject.toml": HATCH, "src/demo.py": ""})
    assert text == dockerfile and len(left) == 1


def test_package_cleanups_go_with_the_dependencies(tmp_path: Path) -> None:
    """The test-suite trim (JT136) and the strip (JT139) clean what the install brings in:
    after the split they run on the dependency step, not on every code change, and the
    project's own install (into a prefix of its own, JT207) is left alone."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["numpy", "scipy"]\n'
    )
    text = (
        "FROM python:3.11 AS build\nWORKDIR /src\nCOPY . /src\n"
        "RUN pip install --prefix=/install .\n"
        "FROM python:3.11-slim\nCOPY --from=build /install /usr/local\n"
    )
    path = str(tmp_path / "Dockerfile")
    config = Config(select=["JT201", "JT136", "JT139", "JT207"])
    fixed = fix_source(text, path, config, unsafe=True).text
    assert fix_source(fixed, path, config, unsafe=True).text == fixed, "not idempotent"
    deps_step, _, rest = fixed.partition("COPY . /src\n")
    assert "-name tests" in deps_step and "strip --strip-unneeded" in deps_step, fixed
    assert rest.startswith("RUN pip install --no-deps --prefix=/install-project .\n"), fixed
    assert rest.endswith(
        "COPY --from=build /install /usr/local\nCOPY --from=build /install-project /usr/local\n"
    ), fixed


def test_several_projects_leave_the_package_cleanups_to_the_dependency_step(
    tmp_path: Path,
) -> None:
    """markitdown's fixed file: JT136's trim of the test suites ran on the projects' own
    install too, rescanning every dependency on each code change (22 % of the cold build)."""
    for name, body in {
        "packages/core/pyproject.toml": CORE,
        "packages/plugin/pyproject.toml": PLUGIN,
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    trim = (
        r"find / -xdev -type d \( -name tests -o -name test \) -path '*/site-packages/*' "
        r"! -path '*/django/test' -prune -exec rm -rf {} +"
    )
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . /app\n"
        "RUN pip --no-cache-dir install /app/packages/core[all] /app/packages/plugin && \\\n"
        f"    {trim}\n"
    )
    path = str(tmp_path / "Dockerfile")
    config = Config(select=["JT201"])
    fixed = fix_source(text, path, config, unsafe=True).text
    assert fix_source(fixed, path, config, unsafe=True).text == fixed, "not idempotent"
    deps_step, _, rest = fixed.partition("COPY . /app\n")
    assert deps_step.endswith(f"    && {trim}\n"), fixed
    assert rest == (
        "RUN pip --no-cache-dir install --no-deps /app/packages/core[all] /app/packages/plugin\n"
    ), fixed
