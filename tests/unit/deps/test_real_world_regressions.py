"""Regressions found running ``jettison deps`` on real projects (sdists from PyPI).

Each test rebuilds the smallest tree that showed the bug, in ``tmp_path``, with fake
site-packages in the real metadata formats: no network, no engine.
"""

from __future__ import annotations

from pathlib import Path

from jettison.deps import DepsReport, analyze, collect
from jettison.deps.declared import DEV, RUNTIME, find_manifests
from jettison.deps.imports import KIND_OPTIONAL, scan_imports
from jettison.deps.mapping import imports_for_dist
from jettison.deps.metadata import Environment, environment_from_sites

from .conftest import make_dist, write


def _env(site: Path) -> Environment:
    return environment_from_sites([site], "test venv")


def _guess_env() -> Environment:
    return Environment({}, "nothing installed", exact=False)


def _codes(report: DepsReport) -> dict[str, str]:
    return {i.name: i.code for i in report.items}


def test_namespace_package_does_not_swallow_other_portions(tmp_path: Path, site: Path) -> None:
    # jaraco.text 4.0.0: jaraco/ is a PEP 420 namespace; jaraco.context and jaraco.functools
    # are other distributions' portions, not the project's own code
    root = write(
        tmp_path / "p",
        {
            "pyproject.toml": """
            [project]
            name = "jaraco.text"
            dependencies = ["jaraco.functools", "jaraco.context", "jaraco.unused"]
        """,
            "jaraco/text/__init__.py": """
            from jaraco.context import ExceptionTrap
            from jaraco.functools import compose
            from jaraco.text import helpers
            from . import helpers as h
        """,
            "jaraco/text/helpers.py": "",
        },
    )
    make_dist(site, "jaraco.context", {"jaraco/context/__init__.py": 10})
    make_dist(site, "jaraco.functools", {"jaraco/functools/__init__.py": 10})
    make_dist(site, "jaraco.unused", {"jaraco/unused/__init__.py": 10})
    scan = scan_imports(root)
    assert scan.is_first_party("jaraco.text.helpers")
    assert not scan.is_first_party("jaraco.context")
    codes = _codes(analyze(collect(root), _env(site)))
    assert codes == {"jaraco.unused": "JT901"}


def test_fallback_import_in_except_importerror_is_optional(tmp_path: Path) -> None:
    # flower 2.0.1 events.py: ``except ImportError: import thread`` (Python 2 fallback)
    root = write(
        tmp_path,
        {
            "app.py": """
            try:
                import _thread as thread
            except ImportError:
                import thread
        """
        },
    )
    kinds = {i.module: i.kind for i in scan_imports(root).imports}
    assert kinds["thread"] == KIND_OPTIONAL
    assert "JT902" not in _codes(analyze(collect(root), _guess_env())).values()


def test_same_package_in_test_extra_and_runtime_extra_is_not_dev_only(tmp_path: Path) -> None:
    # portalocker 2.10.1: redis in both ``tests = [... 'redis']`` and ``redis = ['redis']``;
    # the two landed on one line number and the runtime one was dropped as a duplicate
    root = write(
        tmp_path,
        {
            "pyproject.toml": """
            [project]
            name = "portalocker"
            dependencies = []
            [project.optional-dependencies]
            tests = [
                'pytest>=5.4.1',
                'redis',
            ]
            redis = ['redis']
        """,
            "portalocker/__init__.py": "",
            "portalocker/redis.py": "from redis import client\n",
        },
    )
    manifests = find_manifests(root)
    assert sorted((d.name, d.group, d.line) for d in manifests.declared if d.name == "redis") == [
        ("redis", "dev", 7),
        ("redis", "optional", 9),
    ]
    assert "JT906" not in _codes(analyze(collect(root), _guess_env())).values()


def test_pywin32_modules_map_to_pywin32() -> None:
    # portalocker imports win32con, win32file, pywintypes, winerror
    assert {"win32con", "win32file", "pywintypes", "winerror"} <= imports_for_dist("pywin32")


def test_declaration_for_another_platform_is_not_unused(tmp_path: Path) -> None:
    # pgcli 4.1.0: psycopg-binary; sys_platform == 'win32' is never installed in a Linux image
    root = write(
        tmp_path,
        {
            "requirements.txt": """
            psycopg-binary >= 3.0.14; sys_platform == 'win32'
            colorama; platform_system == "Windows"
            unused-everywhere
        """,
            "app.py": "print('hi')\n",
        },
    )
    assert _codes(analyze(collect(root), _guess_env())) == {"unused-everywhere": "JT901"}


def test_build_hooks_test_packages_and_docs_examples_are_dev(tmp_path: Path) -> None:
    # mkdocs 1.6.1 hatch_build.py (hatchling), fastapi pdm_build.py and docs_src/,
    # portalocker 2.10.1 portalocker_tests/
    root = write(
        tmp_path,
        {
            "hatch_build.py": "from hatchling.builders.hooks.plugin.interface import X\n",
            "pdm_build.py": "import pdm\n",
            "portalocker_tests/tests.py": "import pytest\n",
            "docs_src/tutorial001.py": "import peewee\n",
            "app.py": "import requests\n",
        },
    )
    dev = {i.module.split(".")[0]: i.dev for i in scan_imports(root).imports}
    assert dev == {
        "hatchling": True,
        "pdm": True,
        "pytest": True,
        "peewee": True,
        "requests": False,
    }


def test_setup_py_literal_requirements(tmp_path: Path) -> None:
    # datasette 0.65.1 / pgcli 4.1.0 declare everything in setup.py only
    root = write(
        tmp_path,
        {
            "setup.py": """
            from setuptools import setup
            install_requirements = ["click >= 4.1", "pgspecial>=2.0.0"]
            EXTRAS = {
                "keyring": ["keyring >= 12.2.0"],
                "test": ["pytest"],
                ':sys_platform == "win32"': ["pywin32"],
            }
            setup(
                name="pgcli",
                install_requires=install_requirements + ["unused-lib"],
                extras_require=EXTRAS,
                tests_require=["mock"],
            )
        """,
            "pgcli/__init__.py": "import click\nimport pgspecial\n",
        },
    )
    declared = {d.name: (d.group, d.marker) for d in find_manifests(root).declared}
    assert declared == {
        "click": (RUNTIME, None),
        "pgspecial": (RUNTIME, None),
        "unused-lib": (RUNTIME, None),
        "keyring": ("optional", None),
        "pytest": (DEV, None),
        "pywin32": (RUNTIME, '(sys_platform == "win32")'),
        "mock": (DEV, None),
    }
    codes = _codes(analyze(collect(root), _guess_env()))
    assert codes == {"unused-lib": "JT901", "keyring": "JT901"}


def test_setup_py_computed_or_python2_is_skipped_quietly(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\nsetup(install_requires=open('r').read())\n",
            "sub/setup.py": "print 'python 2'\n",
        },
    )
    manifests = find_manifests(root)
    assert not manifests.declared and not manifests.errors


def test_dev_requirements_including_runtime_file_keeps_it_runtime(tmp_path: Path) -> None:
    # requirements-dev.txt sorts before requirements.txt and starts with -r requirements.txt
    root = write(
        tmp_path,
        {
            "requirements-dev.txt": "-r requirements.txt\npytest\n",
            "requirements.txt": "requests\nflask\n",
            "dev-requirements.txt": "-r extra.txt\nblack\n",
            "extra.txt": "coverage\n",
            "app.py": "import requests\n",
        },
    )
    groups = {d.name: d.group for d in find_manifests(root).declared}
    assert groups == {
        "requests": RUNTIME,
        "flask": RUNTIME,
        "pytest": DEV,
        "black": DEV,
        "coverage": DEV,  # included by a dev file only
    }
    assert _codes(analyze(collect(root), _guess_env())) == {"flask": "JT901"}


def test_build_static_analysis_and_ci_groups_are_dev(tmp_path: Path) -> None:
    # yt-dlp 2024.12.13 extras ``build`` and ``static-analysis``; fastapi 0.115.6
    # requirements-github-actions.txt
    root = write(
        tmp_path,
        {
            "pyproject.toml": """
            [project]
            name = "yt-dlp"
            [project.optional-dependencies]
            build = ["build", "hatchling"]
            static-analysis = ["autopep8", "ruff"]
        """,
            "requirements-github-actions.txt": "smokeshow\n",
            "yt_dlp/__init__.py": "",
        },
    )
    groups = {d.name: d.group for d in find_manifests(root).declared}
    assert set(groups.values()) == {DEV}
    assert _codes(analyze(collect(root), _guess_env())) == {}


def test_dev_declared_but_installed_by_a_runtime_dependency_is_transitive(
    tmp_path: Path, site: Path
) -> None:
    # fastapi 0.115.6 imports anyio (installed by starlette), declared in requirements-tests.txt
    root = write(
        tmp_path,
        {
            "requirements.txt": "starlette\n",
            "requirements-tests.txt": "anyio\n",
            "app/__init__.py": "import anyio\nimport starlette\n",
        },
    )
    make_dist(site, "starlette", {"starlette/__init__.py": 10}, requires=("anyio",))
    make_dist(site, "anyio", {"anyio/__init__.py": 10})
    assert _codes(analyze(collect(root), _env(site))) == {"anyio": "JT903"}


def test_transitive_attributed_to_the_nearest_declared_package(tmp_path: Path, site: Path) -> None:
    # fastapi: pydantic_core was said to be installed "because fastapi-cli requires it"
    root = write(
        tmp_path,
        {
            "requirements.txt": "pydantic\naaa-cli\n",
            "app.py": "import aaa_cli, pydantic, pydantic_core\n",
        },
    )
    make_dist(site, "aaa-cli", {"aaa_cli/__init__.py": 1}, requires=("mid",))
    make_dist(site, "mid", {"mid/__init__.py": 1}, requires=("pydantic",))
    make_dist(site, "pydantic", {"pydantic/__init__.py": 1}, requires=("pydantic-core",))
    make_dist(site, "pydantic-core", {"pydantic_core/__init__.py": 1})
    report = analyze(collect(root), _env(site))
    (item,) = report.items
    assert item.code == "JT903" and "because pydantic requires it" in item.reason


def test_vcs_url_in_code_is_not_a_database_driver(tmp_path: Path) -> None:
    # ultralytics 8.3.50: "git+https://github.com/ultralytics/CLIP.git" -> missing "https"
    root = write(
        tmp_path,
        {
            "app.py": 'REQ = "git+https://github.com/ultralytics/CLIP.git"\n'
            'OTHER = "hg+ssh://hg.example.com/repo"\n',
        },
    )
    assert _codes(analyze(collect(root), _guess_env())) == {}


def test_py_prefixed_distribution_guess() -> None:
    # ultralytics declares py-cpuinfo and imports cpuinfo
    assert "cpuinfo" in imports_for_dist("py-cpuinfo")


def test_vendored_copies_import_optional_dependencies(tmp_path: Path) -> None:
    # datasette 0.65.1 vendors pint, whose numpy/dask/matplotlib imports are guarded upstream
    root = write(
        tmp_path,
        {
            "datasette/__init__.py": "",
            "datasette/vendored/pint/compat.py": "import numpy\n",
            "datasette/app.py": "import click\n",
        },
    )
    kinds = {i.module: i.kind for i in scan_imports(root).imports}
    assert kinds == {"numpy": KIND_OPTIONAL, "click": "import"}


def test_python2_file_imports_still_count_as_used(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "requirements.txt": "requests\nsix\n",
            "old.py": 'print "hi"\nimport requests, os.path as p; import six\nexec "x"\n',
        },
    )
    report = analyze(collect(root), _guess_env())
    assert _codes(report) == {}
    assert len(report.errors) == 1 and report.errors[0].line == 1


def test_poetry_path_dependency_and_platform_marker(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pyproject.toml": """
            [tool.poetry]
            name = "poetry-app"
            [tool.poetry.dependencies]
            python = "^3.10"
            locallib = {path = "../locallib", develop = true}
            pywin32 = {version = "^306", platform = "win32"}
            uvloop = {version = "*", markers = "sys_platform != 'win32'"}
        """,
            "app/main.py": "import locallib\nimport uvloop\n",
        },
    )
    assert _codes(analyze(collect(root), _guess_env())) == {}


def test_url_requirement_shown_by_its_name(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "setup.cfg": """
            [options]
            install_requires =
                pkg @ git+https://github.com/org/pkg.git#egg=pkg
                git+https://github.com/org/other.git#egg=Other_Lib  # comment
        """,
            "app.py": "",
        },
    )
    names = sorted(i.name for i in analyze(collect(root), _guess_env()).items)
    assert names == ["other-lib", "pkg"]


def test_dynamic_dependencies_from_requirement_files(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pyproject.toml": """
            [project]
            name = "x"
            dynamic = ["dependencies", "optional-dependencies"]
            [tool.setuptools.dynamic]
            dependencies = {file = ["reqs/base.txt"]}
            optional-dependencies.test = {file = "reqs/test.txt"}
            [tool.hatch.metadata.hooks.requirements_txt]
            files = ["reqs/more.txt", "requirements.txt"]
        """,
            "reqs/base.txt": "httpx\n",
            "reqs/test.txt": "pytest\n",
            "reqs/more.txt": "rich\n",
            "requirements.txt": "click\n",
        },
    )
    declared = sorted((d.name, d.group) for d in find_manifests(root).declared)
    assert declared == [("click", RUNTIME), ("httpx", RUNTIME), ("pytest", DEV), ("rich", RUNTIME)]


def test_optional_dependency_used_through_its_parent(tmp_path: Path, site: Path) -> None:
    # newspaper3k 0.2.8 calls node.cssselect(...): lxml loads cssselect (its extra)
    root = write(
        tmp_path,
        {
            "requirements.txt": "lxml\ncssselect\nopenpyxl\nbrotli\n",
            "app.py": """
            import lxml.html
            def select(node, css):
                return node.cssselect(css)
            ENGINE = "openpyxl"
        """,
        },
    )
    make_dist(
        site,
        "lxml",
        {"lxml/__init__.py": 1},
        requires=(
            'cssselect>=0.7; extra == "cssselect"',
            'openpyxl; extra == "excel"',
            'brotli; extra == "fast"',
        ),
    )
    make_dist(site, "cssselect", {"cssselect/__init__.py": 1})
    make_dist(site, "openpyxl", {"openpyxl/__init__.py": 1})
    make_dist(site, "brotli", {"brotli.py": 1})
    report = analyze(collect(root), _env(site))
    assert _codes(report) == {"brotli": "JT901"}
    assert "lxml (extra 'fast') lists it as an optional dependency" in report.items[0].reason
    assert "`.cssselect`" in report.used["cssselect"][0]


def test_symlink_loop_and_namespace_scan_terminate(tmp_path: Path) -> None:
    root = write(tmp_path, {"ns/mod.py": "import requests\n"})
    (root / "ns" / "loop").symlink_to(root)
    (root / "ns" / "a").symlink_to(root / "ns" / "b")
    (root / "ns" / "b").symlink_to(root / "ns" / "a")
    scan = scan_imports(root)
    assert [i.module for i in scan.imports] == ["requests"]
    assert scan.is_first_party("ns.mod") and not scan.is_first_party("requests")


def test_requirements_with_byte_order_marks(tmp_path: Path) -> None:
    # ``pip freeze > requirements.txt`` in PowerShell writes UTF-16; editors add UTF-8 BOMs
    (tmp_path / "requirements.txt").write_bytes("requests==2.0\r\nflask\r\n".encode("utf-16"))
    (tmp_path / "requirements-prod.txt").write_bytes(b"\xef\xbb\xbfgunicorn\n")
    (tmp_path / "setup.cfg").write_bytes(
        b"\xef\xbb\xbf[metadata]\nname = x\n[options]\ninstall_requires =\n    click\n"
    )
    manifests = find_manifests(tmp_path)
    assert sorted(d.name for d in manifests.declared) == ["click", "flask", "gunicorn", "requests"]
    assert not manifests.errors


def test_write_leaves_files_that_are_not_utf8_to_a_human(tmp_path: Path) -> None:
    from jettison.deps.fix import plan_writes

    (tmp_path / "requirements.txt").write_bytes(b"# caf\xe9\nrequests\nflask\n")
    (tmp_path / "app.py").write_text("import requests\n")
    plan = plan_writes(analyze(collect(tmp_path), _guess_env()).items)
    assert plan.edits == []
    assert plan.manual == [
        f"{tmp_path / 'requirements.txt'}:3: remove 'flask' by hand (the file is not UTF-8)"
    ]


def test_package_used_through_a_wrapper_module_named_after_it(tmp_path: Path) -> None:
    # ultralytics 8.3.50: tensorboard is only reached as torch.utils.tensorboard
    root = write(
        tmp_path,
        {
            "requirements.txt": "torch\ntensorboard\nkeras\n",
            "app.py": """
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                SummaryWriter = None
        """,
        },
    )
    report = analyze(collect(root), _guess_env())
    assert _codes(report) == {"keras": "JT901"}
    assert "torch.utils.tensorboard" in report.used["tensorboard"][0]


def test_programs_started_by_compose_and_supervisord_are_used(tmp_path: Path) -> None:
    # bookwyrm: gunicorn only in docker-compose.yml's `command`, flower as `celery flower`;
    # a supervisord program runs uwsgi; none of them is imported by the code
    root = write(
        tmp_path,
        {
            "requirements.txt": "gunicorn\nflower\nuwsgi\ncelery\nrq\n",
            "app.py": "import celery\n",
            "docker-compose.yml": """
            services:
              web:
                build: .
                command: gunicorn app.wsgi:application --threads=8
              monitor:
                build: .
                command: ["celery", "-A", "app", "flower", "--url_prefix=flower"]
        """,
            "deploy/supervisord.conf": """
            [program:web]
            command = uwsgi --ini /etc/uwsgi.ini
        """,
        },
    )
    assert _codes(analyze(collect(root), _guess_env())) == {"rq": "JT901"}


def test_namespace_distributions_guess_their_dotted_package(tmp_path: Path) -> None:
    # bookwyrm imports opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.grpc...
    assert "opentelemetry.sdk" in imports_for_dist("opentelemetry-sdk")
    root = write(
        tmp_path,
        {
            "requirements.txt": "opentelemetry-api\nopentelemetry-sdk\n"
            "opentelemetry-exporter-otlp-proto-grpc\nopentelemetry-instrumentation-django\n",
            "telemetry.py": """
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace import TracerProvider
        """,
        },
    )
    codes = _codes(analyze(collect(root), _guess_env()))
    assert codes == {"opentelemetry-instrumentation-django": "JT901"}


def test_cookiecutter_django_apps_start_scripts_and_hashers_are_uses(tmp_path: Path) -> None:
    # antenna (cookiecutter-django): INSTALLED_APPS is a sum of *_APPS lists, gunicorn is
    # started by `compose/production/django/start` (a bash script without a suffix), and
    # PASSWORD_HASHERS names Argon2, which argon2-cffi implements
    root = write(
        tmp_path,
        {
            "requirements.txt": "django\ndjango-crispy-forms\ngunicorn\nargon2-cffi\nrq\n",
            "config/settings.py": """
            DJANGO_APPS = ["django.contrib.auth"]
            THIRD_PARTY_APPS = ["crispy_forms"]
            INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS
            PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        """,
            "compose/production/django/start": """
            #!/bin/bash
            set -o errexit
            exec gunicorn config.wsgi --bind 0.0.0.0:5000
        """,
        },
    )
    assert _codes(analyze(collect(root), _guess_env())) == {"rq": "JT901"}
