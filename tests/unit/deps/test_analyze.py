"""The analysis on fixture projects against fake site-packages written in the real formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from jettison.deps import analyze, collect
from jettison.deps.metadata import Environment, environment_from_sites

from .conftest import make_dist, write


def _env(site: Path) -> Environment:
    return environment_from_sites([site], "test venv")


@pytest.fixture
def web_site(site: Path) -> Path:
    make_dist(site, "PyYAML", {"yaml/__init__.py": 1000, "_yaml/__init__.py": 10})
    make_dist(site, "fastapi", {"fastapi/__init__.py": 500}, requires=("starlette>=0.40",))
    make_dist(site, "starlette", {"starlette/__init__.py": 300}, requires=("anyio",))
    make_dist(site, "anyio", {"anyio/__init__.py": 200})
    make_dist(
        site,
        "gunicorn",
        {"gunicorn/__init__.py": 400},
        entry_points="[console_scripts]\ngunicorn = gunicorn.app:run\n",
    )
    make_dist(
        site,
        "uvicorn",
        {"uvicorn/__init__.py": 100, "uvicorn/workers.py": 50},
        requires=("click>=7", 'uvloop ; extra == "standard"'),
    )
    make_dist(site, "click", {"click/__init__.py": 100})
    make_dist(
        site,
        "psycopg2-binary",
        {"psycopg2/__init__.py": 3000, "psycopg2_binary.libs/libpq.so": 5000},
    )
    make_dist(site, "redis", {"redis/__init__.py": 700})
    make_dist(site, "matplotlib", {"matplotlib/__init__.py": 30000}, requires=("pillow", "numpy"))
    make_dist(site, "pillow", {"PIL/__init__.py": 15000})
    make_dist(site, "numpy", {"numpy/__init__.py": 40000})
    make_dist(site, "pytest", {"pytest/__init__.py": 2000}, requires=("pluggy",))
    make_dist(site, "pluggy", {"pluggy/__init__.py": 100})
    make_dist(
        site,
        "pytest-cov",
        {"pytest_cov/__init__.py": 100},
        entry_points="[pytest11]\npytest_cov = pytest_cov.plugin\n",
    )
    make_dist(site, "google-cloud-storage", {"google/cloud/storage/__init__.py": 900})
    make_dist(site, "protobuf", {"google/protobuf/__init__.py": 800})
    make_dist(
        site,
        "snowflake-sqlalchemy",
        {"snowflake/sqlalchemy/__init__.py": 90},
        entry_points="[sqlalchemy.dialects]\nsnowflake = snowflake.sqlalchemy:dialect\n",
    )
    make_dist(site, "SQLAlchemy", {"sqlalchemy/__init__.py": 5000})
    # old-style metadata without RECORD: top_level.txt decides
    make_dist(site, "python-dateutil", {}, record=False, top_level="dateutil\n")
    return site


def _codes(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {i.name: i.code for i in report.items}


def test_tricky_web_project(tmp_path: Path, web_site: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": """
            fastapi
            starlette
            gunicorn
            uvicorn
            psycopg2-binary
            redis
            matplotlib
            pytest
            pytest-cov
            google-cloud-storage
            protobuf
            SQLAlchemy
            snowflake-sqlalchemy
            python-dateutil
        """,
            "Dockerfile": """
            FROM python:3.11-slim
            COPY . .
            RUN pip install -r requirements.txt
            CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]
        """,
            "app/__init__.py": "",
            "app/main.py": """
            import click
            from fastapi import FastAPI
            from google.cloud import storage
            from sqlalchemy import create_engine
            from dateutil import parser
            engine = create_engine("postgresql+psycopg2://u:p@db/x")
            warehouse = create_engine("snowflake://acct/db")
            BROKER = "redis://cache:6379/0"
            app = FastAPI()
        """,
            "tests/test_main.py": "import pytest\n",
        },
    )
    report = analyze(collect(root), _env(web_site))
    codes = _codes(report)
    # used without an import: console script, worker class, URL drivers, dialect plugin
    for used in (
        "gunicorn",
        "uvicorn",
        "psycopg2-binary",
        "redis",
        "snowflake-sqlalchemy",
        "google-cloud-storage",
        "python-dateutil",
        "SQLAlchemy",
        "fastapi",
    ):
        assert used not in codes, used
    assert codes["starlette"] == "JT904"  # only needed by fastapi
    assert codes["matplotlib"] == "JT901"
    assert codes["protobuf"] == "JT901"  # google.cloud.storage does not claim google.protobuf
    assert codes["pytest"] == "JT905" and codes["pytest-cov"] == "JT905"
    assert codes["click"] == "JT903"  # imported, installed only because uvicorn requires it
    mpl = next(i for i in report.items if i.name == "matplotlib")
    assert mpl.size_bytes == 30000
    # pillow and numpy leave with it: nothing else needs them
    assert mpl.freed_bytes == 30000 + 15000 + 40000
    assert sorted(mpl.exclusive) == ["numpy", "pillow"]
    assert not report.errors


def test_numpy_kept_when_used_elsewhere(tmp_path: Path, web_site: Path) -> None:
    root = write(
        tmp_path / "p", {"requirements.txt": "matplotlib\nnumpy\n", "main.py": "import numpy\n"}
    )
    report = analyze(collect(root), _env(web_site))
    mpl = report.items[0]
    assert (mpl.name, mpl.code) == ("matplotlib", "JT901")
    assert mpl.exclusive == ["pillow"] and mpl.freed_bytes == 45000
    assert report.removable_bytes == 45000


def test_missing_and_guessed_without_metadata(tmp_path: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": "PyYAML\nopencv-python-headless\n",
            "main.py": "import yaml, cv2\nimport bs4\n",
        },
    )
    report = analyze(collect(root), Environment({}, "nothing", exact=False))
    codes = _codes(report)
    # declared packages matched by the fallback table, not reported unused
    assert "PyYAML" not in codes and "opencv-python-headless" not in codes
    assert codes["beautifulsoup4"] == "JT902"
    assert all(i.guessed for i in report.items)
    assert any("--resolve" in n for n in report.notes)


def test_optional_imports_not_missing_type_checking_is_dev(tmp_path: Path, web_site: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": "redis\n",
            "main.py": """
            from typing import TYPE_CHECKING
            try:
                import ujson
            except ImportError:
                ujson = None
            if TYPE_CHECKING:
                import redis
        """,
        },
    )
    codes = _codes(analyze(collect(root), _env(web_site)))
    assert codes == {"redis": "JT905"}  # used only for type checking: not at run time


def test_dev_dependency_imported_at_runtime(tmp_path: Path, web_site: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": "fastapi\n",
            "requirements-dev.txt": "pytest\n",
            "main.py": "import fastapi\nimport pytest\n",
        },
    )
    codes = _codes(analyze(collect(root), _env(web_site)))
    assert codes == {"pytest": "JT906"}


def test_django_settings_and_python_m(tmp_path: Path, site: Path) -> None:
    make_dist(site, "Django", {"django/__init__.py": 100})
    make_dist(site, "djangorestframework", {"rest_framework/__init__.py": 100})
    make_dist(site, "django-cors-headers", {"corsheaders/__init__.py": 100})
    make_dist(site, "psycopg", {"psycopg/__init__.py": 100})
    make_dist(site, "whitenoise", {"whitenoise/__init__.py": 100})
    make_dist(site, "celery", {"celery/__init__.py": 100})
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": "Django\ndjangorestframework\ndjango-cors-headers\npsycopg\n"
            "whitenoise\ncelery\ndjango-extensions\n",
            "Dockerfile": "FROM python:3.11\nCMD python -m celery -A proj worker\n",
            "proj/settings.py": """
            INSTALLED_APPS = ["django.contrib.admin", "rest_framework", "corsheaders",
                              "django_extensions"]
            MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
        """,
        },
    )
    report = analyze(collect(root), _env(site))
    # django-extensions is not installed: its module is guessed from its name and matched
    assert _codes(report) == {}


def test_unparsable_file_reported_analysis_continues(tmp_path: Path, web_site: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": "redis\nmatplotlib\n",
            "bad.py": "import redis\nif:\n",
            "ok.py": "import redis\n",
        },
    )
    report = analyze(collect(root), _env(web_site))
    assert _codes(report) == {"matplotlib": "JT901"}
    assert [e.line for e in report.errors] == [2]
