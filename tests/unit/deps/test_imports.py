"""Import extraction: all scopes, kinds, dynamic literals, relative imports, notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jettison.deps.imports import (
    KIND_DYNAMIC,
    KIND_IMPORT,
    KIND_OPTIONAL,
    KIND_TYPE_CHECKING,
    scan_imports,
)

from .conftest import write


def _kinds(root: Path) -> dict[str, str]:
    return {i.module: i.kind for i in scan_imports(root).imports}


def test_all_scopes_and_kinds(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "app.py": """
        import os
        import requests
        from typing import TYPE_CHECKING
        import importlib as il

        if TYPE_CHECKING:
            from boto3 import Session

        try:
            import ujson as json
        except ImportError:
            json = None

        def lazy():
            import numpy
            mod = il.import_module("pandas")
            return __import__("scipy.stats")

        class C:
            def m(self):
                from sqlalchemy.orm import Session
    """
        },
    )
    kinds = _kinds(root)
    assert kinds["requests"] == KIND_IMPORT
    assert kinds["boto3.Session"] == KIND_TYPE_CHECKING
    assert kinds["ujson"] == KIND_OPTIONAL
    assert kinds["numpy"] == KIND_IMPORT
    assert kinds["pandas"] == KIND_DYNAMIC
    assert kinds["scipy.stats"] == KIND_DYNAMIC
    assert kinds["sqlalchemy.orm.Session"] == KIND_IMPORT


def test_relative_imports_and_first_party_layouts(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "src/mypkg/__init__.py": "from . import util\nfrom .sub.x import y\n",
            "src/mypkg/util.py": "",
            "nsdir/mod.py": "import helpers\n",  # PEP 420 namespace package at the root
            "nsdir/helpers.py": "",  # a script's sibling module
            "flat.py": "import mypkg, nsdir.mod\n",
        },
    )
    result = scan_imports(root)
    assert {"mypkg", "nsdir", "flat", "helpers"} <= result.first_party
    # relative imports never appear as dependencies
    assert not any(i.module.startswith(".") for i in result.imports)


def test_dev_files_marked(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "tests/test_x.py": "import pytest\n",
            "app.py": "import flask\n",
            "conftest.py": "import hypothesis\n",
        },
    )
    dev = {i.module: i.dev for i in scan_imports(root).imports}
    assert dev == {"pytest": True, "flask": False, "hypothesis": True}


def test_notebook_cells_and_magics(tmp_path: Path) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["import notcode\n"]},
            {
                "cell_type": "code",
                "source": ["%matplotlib inline\n", "!pip install x\n", "import seaborn as sns\n"],
            },
            {"cell_type": "code", "source": "from sklearn import svm\n"},
        ]
    }
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    result = scan_imports(tmp_path)
    found = {i.module: (i.line, i.dev) for i in result.imports}
    # line = the cell number; notebooks are exploration, not runtime code
    assert found == {"seaborn": (2, True), "sklearn.svm": (3, True)}
    assert not result.errors


def test_syntax_error_reported_with_line_and_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": "import ok\ndef broken(:\n", "good.py": "import yaml\n"})
    result = scan_imports(tmp_path)
    assert [i.module for i in result.imports] == ["yaml"]
    assert len(result.errors) == 1
    assert result.errors[0].line == 2 and result.errors[0].path.endswith("bad.py")


def test_virtualenvs_and_caches_skipped(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "venv2/pyvenv.cfg": "",
            "venv2/lib/x.py": "import secretdep\n",
            "node_modules/a.py": "import alsono\n",
            "main.py": "import yes\n",
        },
    )
    assert [i.module for i in scan_imports(tmp_path).imports] == ["yes"]


def test_settings_and_strings_collected(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "settings.py": """
        INSTALLED_APPS = ["django.contrib.admin", "rest_framework", "corsheaders"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
    """
        },
    )
    result = scan_imports(tmp_path)
    values = {(n, v) for n, v, _, _ in result.settings}
    assert ("INSTALLED_APPS", "rest_framework") in values
    assert ("DATABASES", "django.db.backends.postgresql") in values


def test_scan_pauses_the_collector_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's syntax trees hold no cycles: collections during the scan only walk them
    (a fifth of the scan on a 1,150-file project)."""
    import gc

    from jettison.deps import imports

    (tmp_path / "a.py").write_text("import yaml\n")
    seen: list[bool] = []
    real = imports.scan_file
    monkeypatch.setattr(imports, "scan_file", lambda *a: (seen.append(gc.isenabled()), real(*a))[1])
    was = gc.isenabled()
    try:
        for before in (True, False):
            (gc.enable if before else gc.disable)()
            result = imports.scan_imports(tmp_path)
            assert [i.module for i in result.imports] == ["yaml"]
            assert gc.isenabled() is before
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False]
