"""The shared fixture projects of ``examples/deps-fixtures/`` against their hand-checked truth.

The benchmark (``benchmarks/deps_vs_deptry.py``) runs the same projects with the real packages
installed from PyPI; here each project gets fake site-packages written in the real formats
(the module files, ``Requires-Dist`` and entry points of the pinned versions), so the check
runs offline.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from jettison.deps import analyze, collect
from jettison.deps.metadata import environment_from_sites

from .conftest import make_dist

FIXTURES = Path(__file__).resolve().parents[3] / "examples" / "deps-fixtures"

_SCRIPT = "[console_scripts]\n{} = {}\n"
# distribution -> (module files, Requires-Dist, entry_points.txt), as the pinned wheels have them
DISTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "jaraco.functools": (("jaraco/functools/__init__.py",), ("more-itertools",), ""),
    "jaraco.context": (
        ("jaraco/context/__init__.py",),
        ('backports.tarfile ; python_version < "3.12"',),
        "",
    ),
    "jaraco.classes": (("jaraco/classes/properties.py",), ("more-itertools",), ""),
    "more-itertools": (("more_itertools/__init__.py",), (), ""),
    "backports.tarfile": (("backports/tarfile/__init__.py",), (), ""),
    "six": (("six.py",), (), ""),
    "idna": (("idna/__init__.py",), (), ""),
    "tomli": (("tomli/__init__.py",), (), ""),
    "typing-extensions": (("typing_extensions.py",), (), ""),
    "SQLAlchemy": (("sqlalchemy/__init__.py",), (), ""),
    "PyMySQL": (("pymysql/__init__.py",), (), ""),
    "pg8000": (("pg8000/__init__.py",), ("python-dateutil>=2.8.2", "scramp>=1.4.5"), ""),
    "scramp": (("scramp/__init__.py",), (), ""),
    "sqlalchemy-cockroachdb": (
        ("sqlalchemy_cockroachdb/__init__.py",),
        ("SQLAlchemy",),
        "[sqlalchemy.dialects]\n"
        "cockroachdb = sqlalchemy_cockroachdb.psycopg2:CockroachDBDialect_psycopg2\n",
    ),
    "redis": (("redis/__init__.py",), (), ""),
    "aiomysql": (("aiomysql/__init__.py",), ("PyMySQL>=1.0",), ""),
    "gunicorn": (
        ("gunicorn/__init__.py",),
        ("packaging",),
        _SCRIPT.format("gunicorn", "gunicorn.app.wsgiapp:run"),
    ),
    "packaging": (("packaging/__init__.py",), (), ""),
    "uvicorn": (("uvicorn/__init__.py", "uvicorn/workers.py"), ("click>=7.0", "h11>=0.8"), ""),
    "click": (("click/__init__.py",), (), ""),
    "h11": (("h11/__init__.py",), (), ""),
    "python-dotenv": (("dotenv/__init__.py",), (), _SCRIPT.format("dotenv", "dotenv.__main__:cli")),
    "Markdown": (("markdown/__init__.py", "markdown/__main__.py"), (), ""),
    "waitress": (
        ("waitress/__init__.py",),
        (),
        _SCRIPT.format("waitress-serve", "waitress.runner:run"),
    ),
    "PyYAML": (("yaml/__init__.py", "_yaml/__init__.py"), (), ""),
    "python-dateutil": (("dateutil/__init__.py",), ("six>=1.5",), ""),
    "PyJWT": (("jwt/__init__.py",), (), ""),
    "beautifulsoup4": (("bs4/__init__.py",), ("soupsieve>1.2",), ""),
    "soupsieve": (("soupsieve/__init__.py",), (), ""),
    "attrs": (("attr/__init__.py", "attrs/__init__.py"), (), ""),
    "python-slugify": (("slugify/__init__.py",), ("text-unidecode>=1.3",), ""),
    "text-unidecode": (("text_unidecode/__init__.py",), (), ""),
    "requests": (
        ("requests/__init__.py",),
        ("charset_normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1", "certifi>=2017.4.17"),
        "",
    ),
    "charset-normalizer": (("charset_normalizer/__init__.py",), (), ""),
    "urllib3": (("urllib3/__init__.py",), (), ""),
    "certifi": (("certifi/__init__.py",), (), ""),
}

# what pip installs for each fixture (its declared packages and their dependencies)
INSTALLED: dict[str, tuple[str, ...]] = {
    "namespace-packages": (
        "jaraco.functools",
        "jaraco.context",
        "jaraco.classes",
        "more-itertools",
        "backports.tarfile",
    ),
    "lazy-imports": ("six", "idna", "tomli", "typing-extensions"),
    "dialect-strings": (
        "SQLAlchemy",
        "PyMySQL",
        "pg8000",
        "scramp",
        "python-dateutil",
        "six",
        "sqlalchemy-cockroachdb",
        "redis",
        "aiomysql",
    ),
    "console-scripts": (
        "gunicorn",
        "packaging",
        "uvicorn",
        "click",
        "h11",
        "python-dotenv",
        "Markdown",
        "waitress",
    ),
    "name-mismatches": (
        "PyYAML",
        "python-dateutil",
        "six",
        "python-dotenv",
        "PyJWT",
        "beautifulsoup4",
        "soupsieve",
        "attrs",
        "python-slugify",
        "text-unidecode",
    ),
    "transitive-only": (
        "requests",
        "charset-normalizer",
        "idna",
        "urllib3",
        "certifi",
        "six",
    ),
    "src-layout": ("click", "attrs", "six"),
}


def test_every_fixture_has_a_truth_and_an_install_list() -> None:
    cases = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    truths = {p.name.removesuffix(".expected.toml") for p in FIXTURES.glob("*.expected.toml")}
    assert cases == truths == set(INSTALLED)


@pytest.mark.parametrize("case", sorted(INSTALLED))
def test_fixture_matches_its_truth(case: str, site: Path) -> None:
    truth = tomllib.loads((FIXTURES / f"{case}.expected.toml").read_text(encoding="utf-8"))
    for name in INSTALLED[case]:
        files, requires, entry_points = DISTS[name]
        make_dist(
            site, name, dict.fromkeys(files, 10), requires=requires, entry_points=entry_points
        )
    report = analyze(collect(FIXTURES / case), environment_from_sites([site], "fixture venv"))
    codes = {canonicalize_name(i.name): i.code for i in report.items}
    unused = {n for n, c in codes.items() if c in ("JT901", "JT905")}
    missing = {n for n, c in codes.items() if c in ("JT902", "JT906")}
    assert unused == {canonicalize_name(n) for n in truth["unused"]}
    assert missing == {canonicalize_name(n) for n in truth["missing"]}
    # the hand-checked reason of every declared package is written down
    declared = {canonicalize_name(d.name) for d in collect(FIXTURES / case).manifests.declared}
    assert declared <= {canonicalize_name(n) for n in truth["why"]}
    assert not report.errors
    if case == "transitive-only":
        assert codes == {
            "six": "JT901",
            "urllib3": "JT904",
            "idna": "JT904",
            "charset-normalizer": "JT903",
        }
    if case == "lazy-imports":
        assert codes == {"typing-extensions": "JT905"}  # TYPE_CHECKING only; orjson optional
