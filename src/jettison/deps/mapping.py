"""Fallback knowledge, used only where real metadata is missing.

Real ``RECORD``/``top_level.txt``/``entry_points.txt`` always win; these tables answer when a
package is declared but not installed anywhere jettison can read, and every answer they give
is reported as a guess. Users extend the import table with ``[tool.jettison] import-map``.
"""

from __future__ import annotations

import sys

from packaging.utils import canonicalize_name

# import name -> distribution, for the common cases where they differ
IMPORT_TO_DIST: dict[str, str] = {
    "yaml": "PyYAML",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "jose": "python-jose",
    "multipart": "python-multipart",
    "magic": "python-magic",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "MySQLdb": "mysqlclient",
    "psycopg2": "psycopg2-binary",
    "google.protobuf": "protobuf",
    "attr": "attrs",
    "git": "GitPython",
    "kafka": "kafka-python",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "skimage": "scikit-image",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "slugify": "python-slugify",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "telegram": "python-telegram-bot",
    "ldap": "python-ldap",
    "Levenshtein": "python-Levenshtein",
    "fitz": "PyMuPDF",
    "win32api": "pywin32",
    "win32con": "pywin32",
    "win32file": "pywin32",
    "win32event": "pywin32",
    "win32gui": "pywin32",
    "win32process": "pywin32",
    "win32service": "pywin32",
    "win32serviceutil": "pywin32",
    "win32clipboard": "pywin32",
    "win32pipe": "pywin32",
    "win32security": "pywin32",
    "win32print": "pywin32",
    "win32ui": "pywin32",
    "win32pdh": "pywin32",
    "win32job": "pywin32",
    "win32net": "pywin32",
    "win32timezone": "pywin32",
    "win32crypt": "pywin32",
    "win32cred": "pywin32",
    "win32profile": "pywin32",
    "win32ts": "pywin32",
    "winerror": "pywin32",
    "pywintypes": "pywin32",
    "pythoncom": "pywin32",
    "win32com": "pywin32",
    "win32comext": "pywin32",
    "_win32typing": "pywin32",
    "grpc": "grpcio",
    "faiss": "faiss-cpu",
    "lxml": "lxml",
    "rest_framework": "djangorestframework",
    "corsheaders": "django-cors-headers",
    "django_filters": "django-filter",
    "debug_toolbar": "django-debug-toolbar",
    "storages": "django-storages",
    "environ": "django-environ",
    "pkg_resources": "setuptools",
    "ruamel": "ruamel.yaml",
    "typing_extensions": "typing-extensions",
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "azure.storage.blob": "azure-storage-blob",
    "markdown": "Markdown",
    "prometheus_client": "prometheus-client",
    "websocket": "websocket-client",
    "nacl": "PyNaCl",
    "snappy": "python-snappy",
    "igraph": "python-igraph",
    "tensorflow": "tensorflow",
    "torch": "torch",
    "sentry_sdk": "sentry-sdk",
    "pydantic_settings": "pydantic-settings",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "IPython": "ipython",
    "pymysql": "PyMySQL",
    "Bio": "biopython",
    "umap": "umap-learn",
    "hydra": "hydra-core",
    "ffmpeg": "ffmpeg-python",
    "opentelemetry": "opentelemetry-api",
    "sass": "libsass",
    "bidi": "python-bidi",
    "tidylib": "pytidylib",
    "compressor": "django-compressor",
    "oauth2_provider": "django-oauth-toolkit",
    "imagekit": "django-imagekit",
    "argon2": "argon2-cffi",
}

# console scripts of common servers and tools -> distribution (fallback for RECORD/entry points)
SCRIPT_TO_DIST: dict[str, str] = {
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
    "celery": "celery",
    "alembic": "alembic",
    "flask": "Flask",
    "django-admin": "Django",
    "uwsgi": "uWSGI",
    "waitress-serve": "waitress",
    "streamlit": "streamlit",
    "jupyter": "jupyter-core",
    "jupyter-lab": "jupyterlab",
    "jupyter-notebook": "notebook",
    "ipython": "ipython",
    "pytest": "pytest",
    "py.test": "pytest",
    "black": "black",
    "flake8": "flake8",
    "mypy": "mypy",
    "ruff": "ruff",
    "dramatiq": "dramatiq",
    "rq": "rq",
    "huey_consumer": "huey",
    "scrapy": "Scrapy",
    "mlflow": "mlflow",
    "ray": "ray",
    "airflow": "apache-airflow",
    "fastapi": "fastapi-cli",
    "gradio": "gradio",
    "locust": "locust",
    "supervisord": "supervisor",
    "honcho": "honcho",
    "dbt": "dbt-core",
    "prefect": "prefect",
    "dagster": "dagster",
    "faust": "faust-streaming",
    "granian": "granian",
    "pserve": "pyramid",
    "twistd": "Twisted",
    "sanic": "sanic",
}

# distributions that only developers need; in a runtime image they are dead weight
DEV_ONLY: frozenset[str] = frozenset(
    canonicalize_name(n)
    for n in (
        "pytest",
        "pytest-cov",
        "pytest-mock",
        "pytest-asyncio",
        "pytest-xdist",
        "pytest-django",
        "coverage",
        "tox",
        "nox",
        "black",
        "isort",
        "flake8",
        "pylint",
        "ruff",
        "mypy",
        "pre-commit",
        "ipython",
        "ipykernel",
        "jupyter",
        "jupyterlab",
        "notebook",
        "jupyter-core",
        "nbconvert",
        "bandit",
        "sphinx",
        "mkdocs",
        "mkdocs-material",
        "hypothesis",
        "faker",
        "factory-boy",
        "responses",
        "freezegun",
        "pyright",
        "pdbpp",
        "ipdb",
        "debugpy",
        "twine",
        "build",
        "wheel",
        "setuptools-scm",
        "hatchling",
        "hatch-vcs",
        "flit-core",
        "poetry-core",
        "pdm-backend",
        "maturin",
        "pip-tools",
        "autopep8",
        "yapf",
        "pycodestyle",
        "pydocstyle",
        "deptry",
        "vulture",
        "line-profiler",
        "memory-profiler",
        "snakeviz",
    )
)

# always present in a Python environment; never "unused" or "undeclared"
TOOLING: frozenset[str] = frozenset({"pip", "setuptools", "wheel", "distribute", "uv"})

# entry-point groups whose plugins are loaded by another distribution without an import
PLUGIN_GROUP_OWNERS: dict[str, str] = {
    "pytest11": "pytest",
    "flake8.extension": "flake8",
    "flake8.report": "flake8",
    "sqlalchemy.dialects": "sqlalchemy",
    "celery.commands": "celery",
    "opentelemetry_instrumentor": "opentelemetry-instrumentation",
    "mkdocs.plugins": "mkdocs",
    "sphinx.html_themes": "sphinx",
    "paste.app_factory": "pastedeploy",
    "jupyter_client.kernel_provisioners": "jupyter-client",
    "markdown.extensions": "markdown",
}

STDLIB: frozenset[str] = frozenset(sys.stdlib_module_names) | {"__future__"}


def dist_for_import(
    module: str, extra: dict[str, str] | None = None, builtin: bool = True
) -> str | None:
    """The fallback guess for an import name, most specific prefix first."""
    table = {**(IMPORT_TO_DIST if builtin else {}), **(extra or {})}
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        hit = table.get(".".join(parts[:i]))
        if hit:
            return hit
    return None


def imports_for_dist(dist: str, extra: dict[str, str] | None = None) -> set[str]:
    """Guessed import names of a distribution that is declared but not installed."""
    want = canonicalize_name(dist)
    table = {**IMPORT_TO_DIST, **(extra or {})}
    names = {imp for imp, d in table.items() if canonicalize_name(d) == want}
    # psycopg2-binary, opencv-python-headless ...: same modules as their main variant
    for suffix in ("-binary", "-headless", "-contrib-python", "-cpu", "-gpu"):
        if want.endswith(suffix):
            base = want[: -len(suffix)]
            names |= {imp for imp, d in table.items() if canonicalize_name(d) == base}
    guess = want.replace("-", "_")
    names.add(guess)
    if guess.startswith("python_"):
        names.add(guess[len("python_") :])
    if guess.startswith("py_") and len(guess) > 4:
        names.add(guess[3:])  # py-cpuinfo -> cpuinfo
    elif guess.startswith("py") and len(guess) > 4:
        names.add(guess[2:])
    if guess.startswith("django_"):
        names.add(guess[len("django_") :])
    if "." in dist:
        names.add(dist.replace("-", "_"))
    if "-" in want:
        # namespace packages: opentelemetry-sdk -> opentelemetry.sdk, google-cloud-storage ->
        # google.cloud.storage, zope-interface -> zope.interface
        names.add(want.replace("-", "."))
    return names
